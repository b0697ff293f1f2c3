import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
import XDSCJSON
import XDSCRouteEngine

@testable import XDSCProxy

/// The state machine of the downstream connection on an `EmbeddedChannel` (no sockets).
@Suite struct DownstreamHandlerTests {
    static func handler(options: ProxyOptions = ProxyOptions()) throws -> DownstreamHandler {
        DownstreamHandler(
            listener: ListenerContext(
                name: "l", engine: RouteEngine(try Fixtures.routeConfiguration(Fixtures.table)), targets: UpstreamTargets([:]),
                options: options, random: RandomSource(seed: 1), buckets: RateLimitBuckets()))
    }

    static func request(_ channel: EmbeddedChannel, _ path: String, host: String = "api.example.com") throws {
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
        head.headers.add(name: "host", value: host)
        try channel.writeInbound(HTTPServerRequestPart.head(head))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
    }

    @Test func answersADirectResponseAndStaysOpen() throws {
        let channel = try connected(try Self.handler())
        try Self.request(channel, "/healthz")
        guard case .head(let head) = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            Issue.record("no head")
            return
        }
        #expect(head.status == .ok)
        #expect(head.headers["server"] == ["envoy"])
        #expect(channel.isActive)
    }

    @Test func anUnknownClusterIsAnswered503() throws {
        let channel = try connected(try Self.handler())
        try Self.request(channel, "/missing")
        guard case .head(let head) = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            Issue.record("no head")
            return
        }
        #expect(head.status == .serviceUnavailable)
    }

    @Test func headersOverTheLimitAre431AndClose() throws {
        var options = ProxyOptions()
        options.maxRequestHeaderBytes = 64
        let channel = try connected(try Self.handler(options: options))
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")
        head.headers.add(name: "x-long", value: String(repeating: "a", count: 80))
        try channel.writeInbound(HTTPServerRequestPart.head(head))
        guard case .head(let response) = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            Issue.record("no head")
            return
        }
        #expect(response.status.code == 431)
        _ = try channel.readOutbound(as: HTTPServerResponsePart.self)
        #expect(!channel.isActive)
    }

    /// Fuzz harness `proxy` (`regression-head-413-body`): the 413 (and 408) reply to a
    /// `HEAD` request carried its body, which the client reads as the next response.
    @Test func aRejectedHeadRequestGetsNoBody() throws {
        let channel = try connected(try Self.handler())
        var head = HTTPRequestHead(version: .http1_1, method: .HEAD, uri: "/")
        head.headers.add(name: "content-length", value: String(2 << 20))
        try channel.writeInbound(HTTPServerRequestPart.head(head))
        guard case .head(let response) = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            Issue.record("no head")
            return
        }
        #expect(response.status.code == 413)
        guard case .end = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            Issue.record("a body follows the head")
            return
        }
    }

    @Test func aPartialRequestTimesOutWith408() throws {
        var options = ProxyOptions()
        options.clientIdleTimeout = .seconds(1)
        let channel = try connected(try Self.handler(options: options))
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/")
        head.headers.add(name: "content-length", value: "5")
        try channel.writeInbound(HTTPServerRequestPart.head(head))
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        guard case .head(let response) = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            Issue.record("no head")
            return
        }
        #expect(response.status.code == 408)
    }

    @Test func theClientTimerCountsFromTheLastIdleTime() throws {
        var options = ProxyOptions()
        options.clientIdleTimeout = .seconds(1)
        let channel = try connected(try Self.handler(options: options))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(600))
        // A request at 0.6 s: the connection is idle again from then, not from 0 s.
        try Self.request(channel, "/healthz")
        while try channel.readOutbound(as: HTTPServerResponsePart.self) != nil {}
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(600))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(500))
        #expect(!channel.isActive)
    }
}
