import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
import XDSCJSON
import XDSCRouteEngine

@testable import XDSCProxy

/// An embedded channel with `handler`, connected so it is active.
func connected(_ handler: some ChannelHandler) throws -> EmbeddedChannel {
    let channel = EmbeddedChannel(handler: handler)
    try channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
    return channel
}

/// The state machine of the mock upstream on an `EmbeddedChannel` (no sockets).
@Suite struct MockUpstreamHandlerTests {
    @Test func echoesTheRequestAndRecordsIt() throws {
        let registry = MockRegistry()
        let channel = try connected(MockUpstreamHandler(cluster: "users", endpoint: "10.0.0.1:80", registry: registry))
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/a")
        head.headers.add(name: "host", value: "h")
        try channel.writeInbound(HTTPServerRequestPart.head(head))
        try channel.writeInbound(HTTPServerRequestPart.body(ByteBuffer(string: "xy")))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        guard case .head(let response) = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            Issue.record("no head")
            return
        }
        #expect(response.status == .ok)
        guard case .body(.byteBuffer(let body)) = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            Issue.record("no body")
            return
        }
        let echo = try JSON.parse(String(buffer: body))
        #expect(echo["path"]?.stringValue == "/a")
        #expect(echo["body"]?.stringValue == "xy")
        #expect(registry.received.map(\.host) == ["h"])
    }

    @Test func aBodyBeforeAHeadClosesTheConnection() throws {
        let channel = try connected(MockUpstreamHandler(cluster: "c", endpoint: "e", registry: MockRegistry()))
        try channel.writeInbound(HTTPServerRequestPart.body(ByteBuffer(string: "x")))
        #expect(!channel.isActive)
    }
}
