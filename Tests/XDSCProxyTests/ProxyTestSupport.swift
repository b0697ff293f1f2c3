import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing
import XDSCDiagnostics
import XDSCEnvoy
import XDSCEnvoyReader
import XDSCJSON
import XDSCRouteEngine

@testable import XDSCProxy

/// A response as the test client read it off the wire.
struct WireResponse {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: String

    func header(_ name: String) -> String? { headers.first { $0.name == name.lowercased() }?.value }

    /// The mock's echo, parsed.
    var echo: JSON? { try? JSON.parse(body) }
}

/// Collects every byte until the peer closes, and tells waiters when the bytes so far
/// contain a text (``whenRead(_:on:)``).
final class CollectHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private var bytes: [UInt8] = []
    private let promise: EventLoopPromise<[UInt8]>
    private var waiters: [(text: String, promise: EventLoopPromise<Void>)] = []
    private var closed = false

    init(promise: EventLoopPromise<[UInt8]>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var b = unwrapInboundIn(data)
        bytes += b.readBytes(length: b.readableBytes) ?? []
        let text = String(decoding: bytes, as: UTF8.self)
        waiters.removeAll { w in
            guard text.contains(w.text) else { return false }
            w.promise.succeed()
            return true
        }
    }

    /// Succeeds once the bytes read contain `text`; fails when the connection closes first.
    /// Called on the channel's event loop.
    func whenRead(_ text: String, on eventLoop: EventLoop) -> EventLoopFuture<Void> {
        if String(decoding: bytes, as: UTF8.self).contains(text) { return eventLoop.makeSucceededVoidFuture() }
        if closed { return eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel) }
        let p = eventLoop.makePromise(of: Void.self)
        waiters.append((text, p))
        return p.futureResult
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        for w in waiters { w.promise.fail(ChannelError.ioOnClosedChannel) }
        waiters = []
        promise.succeed(bytes)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
}

enum TestClient {
    /// Writes `chunks` (with `pause` between them) and reads until the server closes or
    /// `timeout` passes; returns every byte read.
    static func exchange(port: Int, _ chunks: [String], pause: TimeAmount = .zero, timeout: TimeAmount = .seconds(5)) async throws -> String
    {
        let (channel, promise) = try await open(port: port)
        let killer = channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        for (i, c) in chunks.enumerated() {
            if i > 0 && pause > .zero { try await Task.sleep(nanoseconds: UInt64(pause.nanoseconds)) }
            try? await channel.writeAndFlush(channel.allocator.buffer(string: c))
        }
        let bytes = try await promise.futureResult.get()
        killer.cancel()
        return String(decoding: bytes, as: UTF8.self)
    }

    /// What a conversation read, and whether the server closed the connection (rather than
    /// the client's timeout).
    struct Conversation {
        var text: String
        var serverClosed: Bool
    }

    /// Writes each step's text, then, when it has an `until`, waits for the server's bytes to
    /// contain it before the next step: the order on the wire is the test's, however slow the
    /// machine. Reads until the server closes or `timeout` passes.
    static func converse(port: Int, _ steps: [(send: String, until: String?)], timeout: TimeAmount = .seconds(10)) async throws
        -> Conversation
    {
        let (channel, promise) = try await open(port: port)
        let timedOut = NIOLockedValueBox(false)
        let killer = channel.eventLoop.scheduleTask(in: timeout) {
            timedOut.withLockedValue { $0 = true }
            channel.close(promise: nil)
        }
        for step in steps {
            try? await channel.writeAndFlush(channel.allocator.buffer(string: step.send))
            guard let until = step.until else { continue }
            let seen = channel.eventLoop.flatSubmit { () -> EventLoopFuture<Void> in
                guard let handler = try? channel.pipeline.syncOperations.handler(type: CollectHandler.self) else {
                    return channel.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
                }
                return handler.whenRead(until, on: channel.eventLoop)
            }
            // A connection closed first ends the conversation; the caller checks what was read.
            guard (try? await seen.get()) != nil else { break }
        }
        let bytes = try await promise.futureResult.get()
        killer.cancel()
        return Conversation(text: String(decoding: bytes, as: UTF8.self), serverClosed: !timedOut.withLockedValue { $0 })
    }

    /// A loopback connection whose every byte read is collected until the server closes.
    static func open(port: Int) async throws -> (Channel, EventLoopPromise<[UInt8]>) {
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.next().makePromise(of: [UInt8].self)
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(CollectHandler(promise: promise)) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return (channel, promise)
    }

    /// One request with `connection: close`, parsed (the connection given up after `timeout`).
    static func request(
        port: Int, _ path: String, method: String = "GET", host: String = "example.com", headers: [(String, String)] = [],
        body: String = "",
        timeout: TimeAmount = .seconds(5)
    ) async throws -> WireResponse {
        var text = "\(method) \(path) HTTP/1.1\r\nhost: \(host)\r\nconnection: close\r\n"
        for (n, v) in headers { text += "\(n): \(v)\r\n" }
        if !body.isEmpty || method == "POST" { text += "content-length: \(body.utf8.count)\r\n" }
        text += "\r\n" + body
        return parse(try await exchange(port: port, [text], timeout: timeout))
    }

    /// Parses the first response of `raw` (content-length framing).
    static func parse(_ raw: String) -> WireResponse {
        guard let split = raw.range(of: "\r\n\r\n") else { return WireResponse(status: 0, headers: [], body: raw) }
        let lines = raw[..<split.lowerBound].components(separatedBy: "\r\n")
        let status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
        var headers: [(String, String)] = []
        for l in lines.dropFirst() {
            guard let colon = l.firstIndex(of: ":") else { continue }
            headers.append((l[..<colon].lowercased(), l[l.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        var body = String(raw[split.upperBound...])
        if let cl = headers.first(where: { $0.0 == "content-length" }).flatMap({ Int($0.1) }) { body = String(body.utf8.prefix(cl))! }
        return WireResponse(status: status, headers: headers, body: body)
    }
}

enum Fixtures {
    /// A route table from Envoy JSON, read by the Envoy reader.
    static func routeConfiguration(_ text: String) throws -> RouteConfiguration {
        let sink = DiagnosticSink()
        let read = EnvoyReader().read([(path: "table.json", bytes: Array(text.utf8))], into: sink)
        let errors = sink.all.filter { $0.severity == .error }
        guard errors.isEmpty, let table = read.config.routeConfigurations.first else {
            throw FixtureError(message: errors.map(\.message).joined(separator: "; "))
        }
        return table
    }

    struct FixtureError: Error { var message: String }

    /// The route table most proxy tests use.
    static let table = """
        {"name": "main", "virtual_hosts": [
          {"name": "api", "domains": ["api.example.com"],
           "request_headers_to_add": [{"header": {"key": "x-vhost", "value": "api"}}],
           "routes": [
            {"name": "health", "match": {"path": "/healthz"}, "direct_response": {"status": 200, "body": {"inline_string": "ok"}}},
            {"name": "legacy", "match": {"prefix": "/v1/"}, "redirect": {"prefix_rewrite": "/v2/", "response_code": "PERMANENT_REDIRECT"}},
            {"name": "split", "match": {"prefix": "/split"}, "route": {"weighted_clusters": {"clusters": [
               {"name": "users", "weight": 90}, {"name": "canary", "weight": 10}]}}},
            {"name": "rewrite", "match": {"prefix": "/old/"}, "route": {"cluster": "users", "prefix_rewrite": "/new/",
               "host_rewrite_literal": "users.internal"},
             "request_headers_to_add": [{"header": {"key": "x-route", "value": "rewrite"}}],
             "request_headers_to_remove": ["x-secret"],
             "response_headers_to_add": [{"header": {"key": "x-served-by", "value": "proxy"}}],
             "response_headers_to_remove": ["x-mock-endpoint"]},
            {"name": "retry", "match": {"prefix": "/retry"}, "route": {"cluster": "users",
               "retry_policy": {"retry_on": "5xx", "num_retries": 2}}},
            {"name": "per-try", "match": {"prefix": "/pertry"}, "route": {"cluster": "users", "timeout": "3s",
               "retry_policy": {"retry_on": "5xx", "num_retries": 1, "per_try_timeout": "0.1s"}}},
            {"name": "limited", "match": {"prefix": "/limited"}, "route": {"cluster": "users"}, "typed_per_filter_config": {
               "envoy.filters.http.local_ratelimit": {
                 "@type": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
                 "stat_prefix": "rl", "token_bucket": {"max_tokens": 2, "tokens_per_fill": 2, "fill_interval": "60s"},
                 "filter_enabled": {"default_value": {"numerator": 100}}, "filter_enforced": {"default_value": {"numerator": 100}}}}},
            {"name": "abort", "match": {"prefix": "/abort"}, "route": {"cluster": "users"}, "typed_per_filter_config": {
               "envoy.filters.http.fault": {"@type": "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault",
                 "abort": {"http_status": 418, "percentage": {"numerator": 100}}}}},
            {"name": "delayed", "match": {"prefix": "/delayed"}, "route": {"cluster": "users"}, "typed_per_filter_config": {
               "envoy.filters.http.fault": {"@type": "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault",
                 "delay": {"fixed_delay": "0.3s", "percentage": {"numerator": 100}}}}},
            {"name": "slow", "match": {"prefix": "/slow"}, "route": {"cluster": "users", "timeout": "0.2s"}},
            {"name": "empty", "match": {"prefix": "/empty"}, "route": {"cluster": "empty"}},
            {"name": "missing", "match": {"prefix": "/missing"}, "route": {"cluster": "nowhere"}},
            {"name": "users", "match": {"prefix": "/"}, "route": {"cluster": "users"}}
          ]}
        ]}
        """

    static func configuration(endpoints users: [ProxyEndpoint]? = nil) throws -> ProxyConfiguration {
        ProxyConfiguration(
            listeners: [ProxyListener(name: "public", port: 0, engine: RouteEngine(try routeConfiguration(table)))],
            clusters: [
                ("users", users ?? [ProxyEndpoint(host: "10.0.0.1", port: 8080), ProxyEndpoint(host: "10.0.0.2", port: 8080)]),
                ("canary", [ProxyEndpoint(host: "10.0.0.9", port: 8080)]),
                ("empty", []),
            ])
    }

    /// Starts the proxy, runs `body`, always shuts down.
    static func withProxy<T>(
        _ config: ProxyConfiguration? = nil, options: ProxyOptions = ProxyOptions(), _ body: (ProxyServer) async throws -> T
    ) async throws -> T {
        var options = options
        options.portMap["public"] = options.portMap["public"] ?? 0
        let server = try await ProxyServer.start(try config ?? configuration(), options: options)
        do {
            let out = try await body(server)
            await server.shutdown()
            return out
        } catch {
            await server.shutdown()
            throw error
        }
    }

    /// Runs `body` with the port of a proxy (`--upstreams real`) serving `table` on listener
    /// `public`, its cluster `svc` a raw loopback upstream whose connections each get the
    /// handler `upstream` makes (with a socket receive buffer of `upstreamReceiveBuffer`
    /// bytes when given); `configure` adjusts the configuration first.
    static func withProxy(
        table: String, upstream makeHandler: @escaping @Sendable () -> ChannelHandler, upstreamReceiveBuffer: Int? = nil,
        configure: (inout ProxyConfiguration) -> Void = { _ in }, _ body: (Int) async throws -> Void
    ) async throws {
        var bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        if let size = upstreamReceiveBuffer { bootstrap = bootstrap.childChannelOption(.socketOption(.so_rcvbuf), value: size) }
        let server =
            try await bootstrap
            .childChannelInitializer { ch in ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(makeHandler()) } }
            .bind(host: "127.0.0.1", port: 0).get()
        do {
            let port = try #require(server.localAddress?.port)
            var config = ProxyConfiguration(
                listeners: [ProxyListener(name: "public", port: 0, engine: RouteEngine(try routeConfiguration(table)))],
                clusters: [("svc", [ProxyEndpoint(host: "127.0.0.1", port: port)])])
            configure(&config)
            var options = ProxyOptions()
            options.upstreams = .real
            try await withProxy(config, options: options) { proxy in try await body(try #require(proxy.port(of: "public"))) }
        } catch {
            try? await server.close()
            throw error
        }
        try? await server.close()
    }
}

/// Counts the `read()` calls that reach it; put at the head of a pipeline it counts the reads
/// that would reach the socket.
final class ReadCounter: ChannelOutboundHandler {
    typealias OutboundIn = Any
    var reads = 0

    func read(context: ChannelHandlerContext) {
        reads += 1
        context.read()
    }
}
