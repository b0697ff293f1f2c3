import NIOCore
import NIOHTTP1

/// The handlers that serve one listener's downstream connections, in order: the HTTP/0.9
/// request line's rewrite (first line only), NIO's request decoder, the HTTP/1.1 codec (pipelining, protocol error replies, response encoding) and the
/// downstream handler. One value serves every connection of its listener: they share its route engine,
/// rate-limit buckets and random source, as the connections of an Envoy listener do.
public struct DownstreamPipeline: Sendable {
    let listener: ListenerContext

    init(listener: ListenerContext) {
        self.listener = listener
    }

    /// A listener's connections with no upstream endpoints: a request routed to a cluster
    /// gets the cluster-not-found reply. Everything before the upstream (parsing, limits,
    /// routing, filters, local replies) is as `xdsc run` serves it; for fuzzing and tests on
    /// an `EmbeddedChannel`.
    public init(serving listener: ProxyListener, options: ProxyOptions = ProxyOptions()) {
        self.init(
            listener: ListenerContext(
                name: listener.name, engine: listener.engine, targets: UpstreamTargets([:]), options: options,
                random: RandomSource(seed: options.seed), buckets: RateLimitBuckets(), httpFilters: listener.httpFilters,
                upgradeTypes: listener.upgradeTypes, codecType: listener.codecType,
                http2MaxConcurrentStreams: listener.http2MaxConcurrentStreams,
                addressing: listener.chains[0].addressing, acceptHTTP10: listener.chains[0].acceptHTTP10))
    }

    /// Adds the handlers to a new connection's pipeline (on the connection's event loop), as
    /// the connection manager's `codec_type` says: HTTP/1.1, HTTP/2, or with AUTO whichever
    /// the client's first bytes show.
    public func configure(channel: Channel) throws {
        switch listener.codecType {
        case .http1: try configure(channel.pipeline.syncOperations)
        case .http2: try configureHTTP2(channel: channel)
        case .auto, .http3: try configureDetection(channel.pipeline.syncOperations)
        }
    }

    /// Adds the HTTP/1.1 handlers to a new connection's pipeline (on the connection's event loop).
    public func configure(_ pipeline: ChannelPipeline.SynchronousOperations) throws {
        try pipeline.addHandler(HTTP09RequestLine())
        try pipeline.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
        try pipeline.addHandler(DownstreamHTTP1Codec())
        try pipeline.addHandler(DownstreamHandler(listener: listener))
    }
}
