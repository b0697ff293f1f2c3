import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
import XDSCJSON
import XDSCRouteEngine

@testable import XDSCProxy

/// The state machine of the downstream connection on an `EmbeddedChannel` (no sockets).
@Suite struct DownstreamHandlerTests {
    /// The fixture table (or `table`), with cluster `users` at an address nothing is dialled at
    /// (the tests here never forward a request upstream).
    static func handler(options: ProxyOptions = ProxyOptions(), table: String = Fixtures.table) throws -> DownstreamHandler {
        let users = UpstreamTargets.Target(endpoint: ProxyEndpoint(host: "192.0.2.1", port: 9), host: "192.0.2.1", port: 9)
        return DownstreamHandler(
            listener: ListenerContext(
                name: "l", engine: RouteEngine(try Fixtures.routeConfiguration(table)),
                targets: UpstreamTargets(["users": [users]]), options: options, random: RandomSource(seed: 1), buckets: RateLimitBuckets()))
    }

    /// A table whose one route forwards to `users` behind a minute's fault delay (`extra`: more
    /// of its route action): a request to it is routed at its head and then waits in the
    /// filter, so nothing is dialled (an exchange, started at the router, would need sockets).
    static func delayedTable(_ extra: String = "") -> String {
        """
        {"name": "t", "virtual_hosts": [{"name": "v", "domains": ["*"], "routes": [
          {"match": {"prefix": "/"}, "route": {"cluster": "users"\(extra)}, "typed_per_filter_config": {
            "envoy.filters.http.fault": {"@type": "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault",
              "delay": {"fixed_delay": "60s", "percentage": {"numerator": 100}}}}}]}]}
        """
    }

    /// The next response part written, which must be a head.
    static func responseHead(_ channel: EmbeddedChannel) throws -> HTTPResponseHead? {
        guard case .head(let head) = try channel.readOutbound(as: HTTPServerResponsePart.self) else { return nil }
        return head
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

    /// Fuzz harness `proxy` (`regression-head-413-body`): the reply that rejects a `HEAD`
    /// request (then a 413, now the 408 of a body that stops) carried its body, which the
    /// client reads as the next response.
    @Test func aRejectedHeadRequestGetsNoBody() throws {
        var options = ProxyOptions()
        options.clientIdleTimeout = .seconds(1)
        let channel = try connected(try Self.handler(options: options, table: Self.delayedTable()))
        var head = HTTPRequestHead(version: .http1_1, method: .HEAD, uri: "/")
        head.headers.add(name: "content-length", value: "5")
        try channel.writeInbound(HTTPServerRequestPart.head(head))
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        guard case .head(let response) = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            Issue.record("no head")
            return
        }
        #expect(response.status.code == 408)
        guard case .end = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            Issue.record("a body follows the head")
            return
        }
    }

    @Test func aPartialRequestTimesOutWith408() throws {
        var options = ProxyOptions()
        options.clientIdleTimeout = .seconds(1)
        let channel = try connected(try Self.handler(options: options, table: Self.delayedTable()))
        // A route that forwards after a delay, so nothing is answered at the head.
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/")
        head.headers.add(name: "host", value: "api.example.com")
        head.headers.add(name: "content-length", value: "5")
        try channel.writeInbound(HTTPServerRequestPart.head(head))
        #expect(try channel.readOutbound(as: HTTPServerResponsePart.self) == nil)
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

    /// Envoy routes at the headers: a direct response goes out before the body has arrived,
    /// and, the request being incomplete, ends the HTTP/1 connection (`connection: close`).
    @Test func aLocalReplyGoesOutAtTheHeadAndCloses() throws {
        let channel = try connected(try Self.handler())
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/healthz")
        head.headers.add(name: "host", value: "api.example.com")
        head.headers.add(name: "content-length", value: "5")
        try channel.writeInbound(HTTPServerRequestPart.head(head))
        let response = try #require(try Self.responseHead(channel))
        #expect(response.status == .ok)
        #expect(response.headers["connection"] == ["close"])
        while try channel.readOutbound(as: HTTPServerResponsePart.self) != nil {}
        #expect(!channel.isActive)
    }

    /// A complete request to the same route keeps the connection.
    @Test func aLocalReplyToACompleteRequestKeepsTheConnection() throws {
        let channel = try connected(try Self.handler())
        try Self.request(channel, "/healthz")
        let response = try #require(try Self.responseHead(channel))
        #expect(response.headers["connection"].isEmpty)
        while try channel.readOutbound(as: HTTPServerResponsePart.self) != nil {}
        #expect(channel.isActive)
    }

    /// `expect: 100-continue` gets `100 Continue` at once (`proxy_100_continue` unset), for a
    /// route that forwards as for one that answers locally.
    @Test func expectContinueIsAnsweredAtTheHead() throws {
        for (table, path) in [(Self.delayedTable(), "/"), (Fixtures.table, "/healthz")] {
            let channel = try connected(try Self.handler(table: table))
            var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path)
            head.headers.add(name: "host", value: "api.example.com")
            head.headers.add(name: "content-length", value: "5")
            head.headers.add(name: "expect", value: "100-Continue")
            try channel.writeInbound(HTTPServerRequestPart.head(head))
            #expect(try Self.responseHead(channel)?.status == .continue)
        }
    }

    /// A route's `max_stream_duration` counts from the head: a body still arriving when it
    /// fires gets 408 (`maybeRequestTimeoutCode`) and the connection ends.
    @Test func theStreamDurationWhileTheBodyArrivesIs408() throws {
        let table = Self.delayedTable(#", "max_stream_duration": {"max_stream_duration": "1s"}"#)
        let channel = try connected(try Self.handler(table: table))
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/")
        head.headers.add(name: "host", value: "api.example.com")
        head.headers.add(name: "content-length", value: "5")
        try channel.writeInbound(HTTPServerRequestPart.head(head))
        try channel.writeInbound(HTTPServerRequestPart.body(ByteBuffer(string: "ab")))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(900))
        #expect(try channel.readOutbound(as: HTTPServerResponsePart.self) == nil)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(200))
        let response = try #require(try Self.responseHead(channel))
        #expect(response.status.code == 408)
        guard case .body(.byteBuffer(let body)) = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            Issue.record("no body")
            return
        }
        #expect(String(buffer: body) == "downstream duration timeout")
        while try channel.readOutbound(as: HTTPServerResponsePart.self) != nil {}
        #expect(!channel.isActive)
    }
}
