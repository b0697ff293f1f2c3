import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import Testing
import XDSCEnvoy
import XDSCRouteEngine

@testable import XDSCProxy

/// An h2c upstream that advertises `SETTINGS_MAX_CONCURRENT_STREAMS` and answers every
/// request 200 after `delay`, counting its connections.
final class LimitedH2Upstream: Sendable {
    let channel: Channel
    let connections = NIOLockedValueBox(0)

    init(maxConcurrentStreams: Int, delay: TimeAmount) async throws {
        let connections = self.connections
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { ch in
                connections.withLockedValue { $0 += 1 }
                return ch.eventLoop.makeCompletedFuture {
                    var configuration = NIOHTTP2Handler.ConnectionConfiguration()
                    configuration.initialSettings = [HTTP2Setting(parameter: .maxConcurrentStreams, value: maxConcurrentStreams)]
                    _ = try ch.pipeline.syncOperations.configureHTTP2Pipeline(
                        mode: .server, connectionConfiguration: configuration, streamConfiguration: .init()
                    ) { stream in
                        stream.eventLoop.makeCompletedFuture {
                            try stream.pipeline.syncOperations.addHandler(HTTP2FramePayloadToHTTP1ServerCodec())
                            try stream.pipeline.syncOperations.addHandler(DelayedOK(delay: delay))
                        }
                    }
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    var port: Int { channel.localAddress?.port ?? 0 }

    /// Answers 200 `ok` `delay` after the request ends.
    final class DelayedOK: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let delay: TimeAmount
        init(delay: TimeAmount) { self.delay = delay }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .end = unwrapInboundIn(data) else { return }
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
                let context = loopBound.value
                var head = HTTPResponseHead(version: .http1_1, status: .ok)
                head.headers.add(name: "content-length", value: "2")
                context.write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
                context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: "ok")))), promise: nil)
                context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
            }
        }
    }
}

/// Envoy's HTTP/2 connection pool: a connection carries at most its stream limit (the
/// cluster's `max_concurrent_streams`, lowered by the peer's SETTINGS); the pool opens
/// another within `max_connections` (http2/conn_pool.cc, conn_pool_base.cc).
@Suite struct HTTP2PoolEndToEndTests {
    static func configuration(_ settings: ClusterSettings, endpoint: ProxyEndpoint = ProxyEndpoint(host: "10.0.0.1", port: 80)) throws
        -> ProxyConfiguration
    {
        ProxyConfiguration(
            listeners: [
                ProxyListener(
                    name: "public", port: 0,
                    engine: RouteEngine(try Fixtures.routeConfiguration(UpstreamFeaturesEndToEndTests.priorityTable)))
            ],
            clusters: [("users", [endpoint])], settings: ["users": settings])
    }

    /// Sends `paths` at once; their statuses.
    static func concurrently(_ port: Int, _ paths: [String]) async throws -> [Int] {
        try await withThrowingTaskGroup(of: Int.self) { group in
            for p in paths { group.addTask { try await TestClient.request(port: port, p).status } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    @Test func aSecondConnectionOpensWhenTheFirstHasNoRoom() async throws {
        for (streams, expected) in [(UInt32?.none, 1), (1, 2), (2, 2)] {
            let config = try Self.configuration(ClusterSettings(http2: true, http2MaxConcurrentStreams: streams))
            try await Fixtures.withProxy(config) { server in
                let port = try #require(server.port(of: "public"))
                server.registry.setBehaviour(MockBehaviour(delay: .milliseconds(400)), for: "users")
                let statuses = try await Self.concurrently(port, streams == 2 ? ["/a", "/b", "/c"] : ["/a", "/b"])
                #expect(statuses.allSatisfy { $0 == 200 }, "\(statuses)")
                #expect(server.registry.connections == expected, "max_concurrent_streams \(String(describing: streams))")
            }
        }
    }

    @Test func maxConnectionsHoldsAStreamUntilAnotherEnds() async throws {
        // One stream a connection and one connection: the second request waits for the
        // first's stream to end, then goes on the same connection.
        let settings = ClusterSettings(http2: true, maxConnections: 1, http2MaxConcurrentStreams: 1)
        try await Fixtures.withProxy(try Self.configuration(settings)) { server in
            let port = try #require(server.port(of: "public"))
            server.registry.setBehaviour(MockBehaviour(delay: .milliseconds(300)), for: "users")
            let start = NIODeadline.now()
            let statuses = try await Self.concurrently(port, ["/a", "/b"])
            #expect(statuses == [200, 200])
            #expect(server.registry.connections == 1)
            #expect(NIODeadline.now() - start >= .milliseconds(600))
        }
    }

    @Test func theUpstreamsStreamLimitOpensAnotherConnection() async throws {
        // The upstream allows one stream a connection (its SETTINGS); the cluster sets nothing.
        let upstream = try await LimitedH2Upstream(maxConcurrentStreams: 1, delay: .milliseconds(400))
        var options = ProxyOptions()
        options.upstreams = .real
        let config = try Self.configuration(ClusterSettings(http2: true), endpoint: ProxyEndpoint(host: "127.0.0.1", port: upstream.port))
        try await Fixtures.withProxy(config, options: options) { server in
            let port = try #require(server.port(of: "public"))
            // The first connection is up, and its SETTINGS read, before the two at once.
            #expect(try await TestClient.request(port: port, "/warm").status == 200)
            #expect(upstream.connections.withLockedValue { $0 } == 1)
            let statuses = try await Self.concurrently(port, ["/a", "/b"])
            #expect(statuses == [200, 200])
            #expect(upstream.connections.withLockedValue { $0 } == 2)
        }
        try await upstream.channel.close()
    }
}
