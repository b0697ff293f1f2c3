import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import XDSCProxy

/// The state machine of `xdsc test traffic`'s client on an `EmbeddedChannel` (no sockets).
@Suite struct ClientResponseHandlerTests {
    static func channel() throws -> (EmbeddedChannel, EventLoopFuture<ClientResponse>) {
        let loop = EmbeddedEventLoop()
        let promise = loop.makePromise(of: ClientResponse.self)
        let channel = EmbeddedChannel(handler: ClientResponseHandler(promise: promise), loop: loop)
        try channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, promise.futureResult)
    }

    @Test func collectsOneResponseAndCloses() throws {
        let (channel, response) = try Self.channel()
        var head = HTTPResponseHead(version: .http1_1, status: .created)
        head.headers.add(name: "X-A", value: "b")
        try channel.writeInbound(HTTPClientResponsePart.head(head))
        try channel.writeInbound(HTTPClientResponsePart.body(ByteBuffer(string: "he")))
        try channel.writeInbound(HTTPClientResponsePart.body(ByteBuffer(string: "llo")))
        try channel.writeInbound(HTTPClientResponsePart.end(nil))
        let r = try response.wait()
        #expect(r == ClientResponse(status: 201, headers: [MockHeader("x-a", "b")], body: "hello"))
        #expect(!channel.isActive)
    }

    @Test func aCloseBeforeTheEndFails() throws {
        let (channel, response) = try Self.channel()
        try channel.writeInbound(HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
        try channel.close().wait()
        #expect(throws: ClientError(description: "the connection closed before a whole response")) { try response.wait() }
    }

    @Test func partsOutOfOrderFail() throws {
        let (channel, response) = try Self.channel()
        try channel.writeInbound(HTTPClientResponsePart.body(ByteBuffer(string: "x")))
        #expect(throws: ClientError(description: "the response is not HTTP/1.1")) { try response.wait() }
        #expect(!channel.isActive)
    }
}
