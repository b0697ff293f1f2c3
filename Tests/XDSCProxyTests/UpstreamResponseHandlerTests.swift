import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
import XDSCJSON
import XDSCRouteEngine

@testable import XDSCProxy

/// The state machine of the upstream response collector on an `EmbeddedChannel` (no sockets).
@Suite struct UpstreamResponseHandlerTests {
    @Test func completesWithTheWholeResponse() throws {
        let channel = EmbeddedChannel()
        let promise = channel.eventLoop.makePromise(of: UpstreamResponse.self)
        try channel.pipeline.syncOperations.addHandler(UpstreamResponseHandler(promise: promise))
        try channel.writeInbound(HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .continue)))
        try channel.writeInbound(HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .created)))
        try channel.writeInbound(HTTPClientResponsePart.body(ByteBuffer(string: "ok")))
        try channel.writeInbound(HTTPClientResponsePart.end(nil))
        let r = try promise.futureResult.wait()
        #expect(r.status == 201)
        #expect(String(buffer: r.body) == "ok")
    }

    @Test func aCloseBeforeTheEndIsAConnectionTermination() throws {
        let channel = EmbeddedChannel()
        let promise = channel.eventLoop.makePromise(of: UpstreamResponse.self)
        try channel.pipeline.syncOperations.addHandler(UpstreamResponseHandler(promise: promise))
        try channel.writeInbound(HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
        try channel.close().wait()
        #expect(throws: UpstreamFailure.connectionTermination) { try promise.futureResult.wait() }
    }

    @Test func aBodyInSeveralReadsArrivesWhole() throws {
        let channel = EmbeddedChannel()
        let promise = channel.eventLoop.makePromise(of: UpstreamResponse.self)
        try channel.pipeline.syncOperations.addHandler(UpstreamResponseHandler(promise: promise))
        try channel.writeInbound(HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
        let parts = (0..<5).map { String(repeating: Character(String($0)), count: 1000) }
        for p in parts { try channel.writeInbound(HTTPClientResponsePart.body(ByteBuffer(string: p))) }
        try channel.writeInbound(HTTPClientResponsePart.end(nil))
        #expect(String(buffer: try promise.futureResult.wait().body) == parts.joined())
    }
}
