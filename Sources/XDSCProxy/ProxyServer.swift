import NIOCore
import NIOHTTP1
import NIOPosix
import XDSCEnvoy
import XDSCRouteEngine

/// The running proxy: its listeners and upstream mocks, bound and serving.
public final class ProxyServer: Sendable {
    /// A bound listener.
    public struct BoundListener: Sendable, Equatable {
        /// The listener's name.
        public var name: String
        /// The address bound.
        public var host: String
        /// The port bound (the ephemeral one when 0 was asked for).
        public var port: Int
        /// Whether a filter chain serves TLS (printed as an `https://` address).
        public var tls = false
    }

    /// An upstream endpoint and the address requests for it go to.
    public struct BoundUpstream: Sendable, Equatable {
        /// The cluster (service).
        public var cluster: String
        /// The configured endpoint, `host:port`.
        public var endpoint: String
        /// The address dialled (a mock's ephemeral port with `--upstreams mock`).
        /// The host dialled.
        public var host: String
        /// The port dialled.
        public var port: Int
        /// Whether it is a built-in mock.
        public var mock: Bool
    }

    /// Listeners in configuration order.
    public let listeners: [BoundListener]
    /// Upstreams in configuration order.
    public let upstreams: [BoundUpstream]
    /// The mocks' behaviours and the requests they received.
    public let registry: MockRegistry
    private let channels: [Channel]
    private let group: MultiThreadedEventLoopGroup
    private let healthChecker: HealthChecker

    private init(
        listeners: [BoundListener], upstreams: [BoundUpstream], registry: MockRegistry, channels: [Channel],
        group: MultiThreadedEventLoopGroup, healthChecker: HealthChecker
    ) {
        self.healthChecker = healthChecker
        self.listeners = listeners
        self.upstreams = upstreams
        self.registry = registry
        self.channels = channels
        self.group = group
    }

    /// Binds the mocks (with `--upstreams mock`) and then every listener. One event-loop
    /// thread serves everything, so handler state never crosses threads.
    public static func start(_ config: ProxyConfiguration, options: ProxyOptions = ProxyOptions(), registry: MockRegistry = MockRegistry())
        async throws -> ProxyServer
    {
        var config = config
        if let error = config.loadTLS().first { throw error }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var channels: [Channel] = []
        do {
            var upstreams: [BoundUpstream] = []
            var targets: [String: [UpstreamTargets.Target]] = [:]
            for name in config.clusterOrder {
                var list: [UpstreamTargets.Target] = []
                for e in config.clusters[name] ?? [] {
                    switch options.upstreams {
                    case .real:
                        list.append(.init(endpoint: e, host: e.host, port: e.port, tls: config.clusterTLS[name]))
                        upstreams.append(BoundUpstream(cluster: name, endpoint: e.label, host: e.host, port: e.port, mock: false))
                    case .mock:
                        let label = e.label
                        let channel = try await ServerBootstrap(group: group)
                            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                            .childChannelInitializer { ch in
                                ch.eventLoop.makeCompletedFuture {
                                    try MockUpstreamPipeline.configure(ch, cluster: name, endpoint: label, registry: registry)
                                }
                            }
                            .bind(host: "127.0.0.1", port: 0).get()
                        channels.append(channel)
                        let port = channel.localAddress?.port ?? 0
                        list.append(.init(endpoint: e, host: "127.0.0.1", port: port))
                        upstreams.append(BoundUpstream(cluster: name, endpoint: label, host: "127.0.0.1", port: port, mock: true))
                    }
                }
                targets[name] = list
            }
            let shared = UpstreamTargets(targets, settings: config.clusterSettings)
            // Listeners open once every checked endpoint has had its first health check.
            let checker = HealthChecker(
                eventLoop: group.next(), targets: shared, settings: config.clusterSettings, order: config.clusterOrder,
                mocks: options.upstreams == .mock)
            try await checker.start().get()
            let random = RandomSource(seed: options.seed)
            let buckets = RateLimitBuckets()
            var bound: [BoundListener] = []
            for l in config.listeners {
                // The router's retry buffer is the connection's limit (`decoderBufferLimit`); 0 is none.
                var listenerOptions = options
                if let b = l.bufferLimit { listenerOptions.maxRequestBodyBytes = b == 0 ? Int.max : Int(b) }
                let connections = ListenerConnections(l) { [listenerOptions] chain in
                    DownstreamPipeline(
                        listener: ListenerContext(
                            name: l.name, engine: chain.engine, targets: shared, options: listenerOptions, random: random,
                            buckets: buckets,
                            httpFilters: chain.httpFilters, upgradeTypes: chain.upgradeTypes, tls: chain.serverContext != nil,
                            codecType: chain.codecType, http2MaxConcurrentStreams: chain.http2MaxConcurrentStreams,
                            addressing: chain.addressing, acceptHTTP10: chain.acceptHTTP10))
                }
                let port = options.portMap[l.name] ?? l.port
                let channel = try await ServerBootstrap(group: group)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .childChannelOption(.allowRemoteHalfClosure, value: false)
                    .childChannelInitializer { ch in
                        ch.eventLoop.makeCompletedFuture { try connections.configure(ch) }
                    }
                    .bind(host: options.listenHost, port: port).get()
                channels.append(channel)
                bound.append(
                    BoundListener(
                        name: l.name, host: options.listenHost, port: channel.localAddress?.port ?? port,
                        tls: l.allChains.contains { $0.serverContext != nil }))
            }
            return ProxyServer(
                listeners: bound, upstreams: upstreams, registry: registry, channels: channels, group: group, healthChecker: checker)
        } catch {
            for c in channels { try? await c.close() }
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// The bound port of a listener.
    public func port(of listener: String) -> Int? { listeners.first { $0.name == listener }?.port }

    /// Closes every listener and mock, then stops the event loop.
    public func shutdown() async {
        healthChecker.stop()
        for c in channels { try? await c.close() }
        try? await group.shutdownGracefully()
    }
}
