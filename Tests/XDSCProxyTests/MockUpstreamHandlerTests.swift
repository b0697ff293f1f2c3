import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
import XDSCEnvoy
import XDSCJSON
import XDSCRequest
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

/// A scripted behaviour's fixed answer replaces the echo once the failures are used up.
@Suite struct MockFixedAnswerTests {
    @Test func failsThenGivesTheFixedAnswer() throws {
        let registry = MockRegistry()
        registry.setBehaviour(
            MockBehaviour(
                failures: 1, failureStatus: 502, answer: MockAnswer(status: 201, headers: [HTTPHeader("x-k", "v")], body: "made")),
            for: "users")
        let channel = try connected(MockUpstreamHandler(cluster: "users", endpoint: "10.0.0.1:80", registry: registry))
        var statuses: [UInt] = []
        var bodies: [String] = []
        for _ in 0..<2 {
            try channel.writeInbound(HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")))
            try channel.writeInbound(HTTPServerRequestPart.end(nil))
            while let part = try channel.readOutbound(as: HTTPServerResponsePart.self) {
                switch part {
                case .head(let h):
                    statuses.append(h.status.code)
                    if h.status.code == 201 { #expect(h.headers["x-k"] == ["v"]) }
                case .body(.byteBuffer(let b)): bodies.append(String(buffer: b))
                default: break
                }
            }
        }
        #expect(statuses == [502, 201])
        #expect(bodies.last == "made")
        #expect(bodies.first?.hasPrefix("{") == true, "a failure still echoes")
    }
}
