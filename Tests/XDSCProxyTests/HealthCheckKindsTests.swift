import NIOCore
import NIOEmbedded
import NIOPosix
import NIOTLS
import Testing
import XDSCEnvoy
import XDSCJSON
import XDSCRequest
import XDSCRouteEngine

@testable import XDSCProxy

/// A TCP server on loopback that answers each chunk it reads with `reply(chunk)` (nil: no
/// answer), for TCP health checks.
final class TCPTestServer: Sendable {
    final class Answer: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let reply: @Sendable (String) -> String?
        init(_ reply: @escaping @Sendable (String) -> String?) { self.reply = reply }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if let r = reply(String(buffer: unwrapInboundIn(data))) {
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: r)), promise: nil)
            }
        }
    }

    let channel: Channel
    var port: Int { channel.localAddress?.port ?? 0 }

    init(reply: @escaping @Sendable (String) -> String?) async throws {
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { ch in ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(Answer(reply)) } }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func close() async { try? await channel.close() }
}

/// The TCP health check's state machine on an `EmbeddedChannel`.
@Suite struct TCPHealthCheckHandlerTests {
    static func channel(send: String, receive: [String], afterHandshake: Bool = false) throws -> (
        EmbeddedChannel, EventLoopFuture<HealthCheckSession.Result>
    ) {
        let loop = EmbeddedEventLoop()
        let result = loop.makePromise(of: HealthCheckSession.Result.self)
        let channel = EmbeddedChannel(
            handler: TCPHealthCheckHandler(
                send: Array(send.utf8), receive: receive.map { Array($0.utf8) }, afterHandshake: afterHandshake, result: result),
            loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, result.futureResult)
    }

    @Test func sendsThenPassesWhenEveryPayloadArrivedInOrder() throws {
        let (channel, result) = try Self.channel(send: "PING", receive: ["PO", "NG"])
        #expect(try channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "PING"))
        try channel.writeInbound(ByteBuffer(string: "xxP"))
        try channel.writeInbound(ByteBuffer(string: "Oyy"))
        #expect(channel.isActive)
        try channel.writeInbound(ByteBuffer(string: "NG"))
        #expect(try result.wait() == .success)
        #expect(!channel.isActive)
    }

    @Test func payloadsOutOfOrderDoNotPass() throws {
        let (channel, result) = try Self.channel(send: "", receive: ["NG", "PO"])
        try channel.writeInbound(ByteBuffer(string: "PONG"))
        #expect(channel.isActive)
        // The prober's timeout closes the connection: a network failure.
        channel.pipeline.fireChannelInactive()
        #expect(try result.wait() == .networkFailure)
    }

    @Test func withoutReceivePayloadsTheConnectIsEnough() throws {
        let (channel, result) = try Self.channel(send: "hello", receive: [])
        #expect(try channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "hello"))
        #expect(try result.wait() == .success)
    }

    @Test func overTLSTheCheckStartsAfterTheHandshake() throws {
        let (channel, result) = try Self.channel(send: "PING", receive: ["PONG"], afterHandshake: true)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        channel.pipeline.fireUserInboundEventTriggered(TLSUserEvent.handshakeCompleted(negotiatedProtocol: nil))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "PING"))
        try channel.writeInbound(ByteBuffer(string: "PONG"))
        #expect(try result.wait() == .success)
    }

    @Test func withReuseAPassingCheckLeavesTheConnectionForTheNext() throws {
        let loop = EmbeddedEventLoop()
        let first = loop.makePromise(of: HealthCheckSession.Result.self)
        let handler = TCPHealthCheckHandler(
            send: Array("PING".utf8), receive: [Array("PONG".utf8)], afterHandshake: false, reuse: true, result: first)
        let channel = EmbeddedChannel(handler: handler, loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        #expect(try channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "PING"))
        try channel.writeInbound(ByteBuffer(string: "PONG"))
        #expect(try first.futureResult.wait() == .success)
        #expect(channel.isActive && handler.isIdle)
        // The next check writes `send` again and matches on fresh bytes only.
        let second = loop.makePromise(of: HealthCheckSession.Result.self)
        let context = try channel.pipeline.syncOperations.context(handler: handler)
        #expect(handler.restart(context: context, result: second))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "PING"))
        try channel.writeInbound(ByteBuffer(string: "PO"))
        #expect(!handler.isIdle)
        // The connection closing mid-check is a network failure; an idle one only ends.
        channel.pipeline.fireChannelInactive()
        #expect(try second.futureResult.wait() == .networkFailure)
        let third = loop.makePromise(of: HealthCheckSession.Result.self)
        #expect(!handler.restart(context: context, result: third))
        third.succeed(.success)
        _ = try? channel.finish()
    }

    @Test func anEarlyCloseIsANetworkFailure() throws {
        let (channel, result) = try Self.channel(send: "PING", receive: ["PONG"])
        channel.pipeline.fireChannelInactive()
        #expect(try result.wait() == .networkFailure)
        // Later bytes change nothing.
        try? channel.writeInbound(ByteBuffer(string: "PONG"))
    }
}

/// The gRPC health messages in protobuf wire form.
@Suite struct GRPCHealthTests {
    @Test func theRequestCarriesTheServiceName() {
        #expect(Array(buffer: GRPCHealth.requestFrame(service: "users.v1")) == [0, 0, 0, 0, 10, 0x0A, 8] + Array("users.v1".utf8))
        #expect(Array(buffer: GRPCHealth.requestFrame(service: nil)) == [0, 0, 0, 0, 0])
    }

    @Test func theResponseStatusIsRead() {
        #expect(GRPCHealth.status(GRPCHealth.responseFrame(status: 1)) == 1)
        #expect(GRPCHealth.status(GRPCHealth.responseFrame(status: 2)) == 2)
        // No field is UNKNOWN; unknown fields are skipped; a compressed or truncated frame is invalid.
        #expect(GRPCHealth.status(GRPCHealth.frame([])) == 0)
        #expect(GRPCHealth.status(GRPCHealth.frame([0x12, 0x01, 0x41, 0x08, 0x01])) == 1)
        #expect(GRPCHealth.status(ByteBuffer(bytes: [1, 0, 0, 0, 2, 0x08, 0x01])) == nil)
        #expect(GRPCHealth.status(ByteBuffer(bytes: [0, 0, 0, 0, 5, 0x08])) == nil)
    }

    static func response(status: Int = 200, contentType: String = "application/grpc", grpcStatus: String? = "0", serving: UInt64 = 1)
        -> UpstreamResponse
    {
        var r = UpstreamResponse(status: status, headers: [("content-type", contentType)], body: GRPCHealth.responseFrame(status: serving))
        r.trailers = grpcStatus.map { [HTTPHeader("grpc-status", $0)] } ?? []
        return r
    }

    @Test func servingNeedsA200GRPCResponseWithStatusZero() {
        #expect(GRPCHealth.isServing(Self.response()))
        #expect(GRPCHealth.isServing(Self.response(contentType: "application/grpc+proto")))
        #expect(!GRPCHealth.isServing(Self.response(serving: 2)))
        #expect(!GRPCHealth.isServing(Self.response(status: 503)))
        #expect(!GRPCHealth.isServing(Self.response(contentType: "text/plain")))
        #expect(!GRPCHealth.isServing(Self.response(grpcStatus: "14")))
        #expect(!GRPCHealth.isServing(Self.response(grpcStatus: nil)))
    }
}

/// TCP, gRPC and HTTP/2 health checks over loopback sockets.
@Suite(.timeLimit(.minutes(1)))
struct HealthCheckKindsEndToEndTests {
    static func check(_ kind: HealthCheck.Kind, send: HealthCheckPayload? = nil, receive: [HealthCheckPayload] = []) -> HealthCheck {
        var c = HealthCheck(
            timeout: .milliseconds(500), interval: .milliseconds(100), unhealthyThreshold: 2, healthyThreshold: 2, kind: kind)
        c.tcpSend = send
        c.tcpReceive = receive
        return c
    }

    static func target(port: Int) -> UpstreamTargets.Target {
        UpstreamTargets.Target(endpoint: ProxyEndpoint(host: "127.0.0.1", port: port), host: "127.0.0.1", port: port)
    }

    @Test func tcpChecksSendAndMatchTheAnswer() async throws {
        let server = try await TCPTestServer { $0 == "PING" ? "PONG" : "NOPE" }
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        // The checks that pass do so as soon as the answer is in: a long timeout costs them
        // nothing and keeps a loaded machine from failing them; the mismatch waits its 0.5 s.
        var ping = Self.check(.tcp, send: .text("50494e47"), receive: [.text("504f4e47")])
        ping.timeout = .seconds(10)
        let wrong = Self.check(.tcp, send: .text("50494e47"), receive: [.binary(Array("PANG".utf8))])
        var other = Self.check(.tcp, send: .binary(Array("ping".utf8)), receive: [.text("4e4f5045")])
        other.timeout = .seconds(10)
        let ok = try await HealthProbe.run(ping, target: Self.target(port: server.port), cluster: "c", eventLoop: loop).get()
        let mismatch = try await HealthProbe.run(wrong, target: Self.target(port: server.port), cluster: "c", eventLoop: loop).get()
        let nope = try await HealthProbe.run(other, target: Self.target(port: server.port), cluster: "c", eventLoop: loop).get()
        await server.close()
        let refused = try await HealthProbe.run(ping, target: Self.target(port: server.port), cluster: "c", eventLoop: loop).get()
        #expect(ok == .success)
        // An answer that never matches times out: a network failure, as in Envoy.
        #expect(mismatch == .networkFailure)
        #expect(nope == .success)
        #expect(refused == .networkFailure)
    }

    /// Three mocked endpoints of `users` checked by `check`, the second one failing it.
    static func failingSecond(_ check: HealthCheck) async throws -> (before: [String], after: [String]) {
        let registry = MockRegistry()
        registry.health.setStatus(503, cluster: "users", endpoint: "10.0.0.2:80")
        var options = ProxyOptions()
        options.portMap["public"] = 0
        let config = try LoadBalancingEndToEndTests.configuration(
            (1...3).map { ProxyEndpoint(host: "10.0.0.\($0)", port: 80) }, ClusterSettings(healthCheck: check))
        let server = try await ProxyServer.start(config, options: options, registry: registry)
        do {
            let before = try await LoadBalancingEndToEndTests.endpoints(server, 6)
            registry.health.setStatus(200, cluster: "users", endpoint: "10.0.0.2:80")
            try await Task.sleep(nanoseconds: 600_000_000)
            let after = try await LoadBalancingEndToEndTests.endpoints(server, 6)
            await server.shutdown()
            return (before, after)
        } catch {
            await server.shutdown()
            throw error
        }
    }

    @Test func statusesAreJudgedByTheExpectedAndRetriableRanges() {
        var c = Self.check(.http(path: "/healthz"))
        #expect(HealthProbe.httpResult(200, c) == .success)
        #expect(HealthProbe.httpResult(204, c) == .activeFailure)
        #expect(HealthProbe.httpResult(nil, c) == .networkFailure)
        // `expected_statuses` replaces the default 200 (which must then be listed to pass).
        c.expectedStatuses = [204..<206]
        c.retriableStatuses = [500..<504, 200..<201]
        #expect(HealthProbe.httpResult(204, c) == .success)
        #expect(HealthProbe.httpResult(205, c) == .success)
        #expect(HealthProbe.httpResult(206, c) == .activeFailure)
        #expect(HealthProbe.httpResult(200, c) == .retriableFailure)
        #expect(HealthProbe.httpResult(503, c) == .retriableFailure)
        #expect(HealthProbe.httpResult(504, c) == .activeFailure)
    }

    @Test func theCheckSendsItsHostOrTheClusterName() {
        var c = Self.check(.http(path: "/healthz"))
        #expect(HealthProbe.head(c, cluster: "users").headers["host"] == ["users"])
        c.httpHost = "health.internal"
        let head = HealthProbe.head(c, cluster: "users")
        #expect(head.uri == "/healthz" && head.method == .GET)
        #expect(head.headers["host"] == ["health.internal"] && head.headers["user-agent"] == ["Envoy/HC"])
    }

    @Test func anExpectedStatusKeepsTheEndpointIn() async throws {
        var check = Self.check(.http(path: "/healthz"))
        check.expectedStatuses = [200..<201, 503..<504]
        let (before, _) = try await Self.failingSecond(check)
        #expect(Set(before) == ["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"])
    }

    @Test func reuseConnectionKeepsOneConnectionPerEndpoint() async throws {
        let kinds: [HealthCheck.Kind] = [.http(path: "/healthz"), .http(path: "/healthz", codec: .http2), .grpc(serviceName: nil)]
        for kind in kinds {
            for reuse in [true, false] { try await Self.checkReuse(kind, reuse) }
        }
    }

    static func checkReuse(_ kind: HealthCheck.Kind, _ reuse: Bool) async throws {
        do {
            let registry = MockRegistry()
            var options = ProxyOptions()
            options.portMap["public"] = 0
            var check = Self.check(kind)
            check.reuseConnection = reuse
            let config = try LoadBalancingEndToEndTests.configuration(
                [ProxyEndpoint(host: "10.0.0.1", port: 80)], ClusterSettings(healthCheck: check))
            let server = try await ProxyServer.start(config, options: options, registry: registry)
            try await Task.sleep(nanoseconds: 700_000_000)
            let checks = registry.health.checks(cluster: "users", endpoint: "10.0.0.1:80")
            let connections = registry.connections
            await server.shutdown()
            // Checks every 100 ms: several of them, on one kept connection or one each.
            #expect(checks >= 4, "\(kind)")
            if reuse { #expect(connections == 1, "\(kind)") } else { #expect(connections >= checks - 1, "\(kind)") }
        }
    }

    @Test func aTCPCheckWithPayloadsKeepsItsConnection() async throws {
        let server = try await TCPTestServer { _ in "PONG" }
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let target = Self.target(port: server.port)
        let ping = Self.check(.tcp, send: .binary(Array("PING".utf8)), receive: [.binary(Array("PONG".utf8))])
        let kept = HealthProbe.KeptConnection()
        var seen: [ObjectIdentifier] = []
        // On the checker's event loop, as the health checker runs its checks.
        for _ in 0..<3 {
            let r = try await loop.flatSubmit { HealthProbe.run(ping, target: target, cluster: "c", eventLoop: loop, kept: kept) }.get()
            #expect(r == .success)
            let channel = try #require(kept.channel.withLockedValue { $0 })
            seen.append(ObjectIdentifier(channel))
        }
        // The same connection each time (`reuse_connection`, the default).
        #expect(Set(seen).count == 1)
        // A connect-only check closes it (Envoy's `Connected` handling), as does `reuse_connection: false`.
        var noReuse = ping
        noReuse.reuseConnection = false
        for check in [Self.check(.tcp, send: .binary(Array("PING".utf8))), noReuse] {
            let fresh = HealthProbe.KeptConnection()
            let r = try await loop.flatSubmit { HealthProbe.run(check, target: target, cluster: "c", eventLoop: loop, kept: fresh) }.get()
            #expect(r == .success)
            #expect(fresh.channel.withLockedValue { $0 } == nil)
        }
        kept.close()
        await server.close()
    }

    @Test func grpcChecksAskTheHealthService() async throws {
        let (before, after) = try await Self.failingSecond(Self.check(.grpc(serviceName: "users.v1")))
        // NOT_SERVING takes the endpoint out (the others are SERVING, so no panic routing).
        #expect(Set(before) == ["10.0.0.1:80", "10.0.0.3:80"])
        #expect(after.contains("10.0.0.2:80"))
    }

    @Test func http2ChecksAreSentOverHTTP2() async throws {
        let (before, after) = try await Self.failingSecond(Self.check(.http(path: "/healthz", codec: .http2)))
        #expect(Set(before) == ["10.0.0.1:80", "10.0.0.3:80"])
        #expect(after.contains("10.0.0.2:80"))
    }

    @Test func tcpChecksWithPayloadsAreNotRunAgainstTheMocks() throws {
        var cluster = Cluster(name: "c")
        cluster.healthChecks = [Self.check(.tcp, send: .text("00"), receive: [.text("01")])]
        let config = ProxyConfiguration(listeners: [], clusters: [cluster])
        #expect(config.startWarnings(ProxyOptions()).contains { $0.contains("do not answer TCP health check payloads") })
        var real = ProxyOptions()
        real.upstreams = .real
        #expect(!config.startWarnings(real).contains { $0.contains("TCP health check") })
        #expect(config.unsimulated.isEmpty)
    }
}
