import NIOCore
import NIOHTTP2

/// Behind an upstream HTTP/2 connection's HTTP/2 handler, which passes the connection's own
/// frames on: reports each `SETTINGS_MAX_CONCURRENT_STREAMS` the upstream sends, so the pool
/// puts no more streams on the connection than the peer allows (Envoy's
/// `ActiveClient::onSettings`, http2/conn_pool.cc). Every frame goes on unchanged.
final class PeerSettingsHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame
    typealias InboundOut = HTTP2Frame

    enum State {
        /// No limit from the peer yet (the pool uses the configured one).
        case awaitingSettings
        /// The last limit the peer sent.
        case limited(Int)
        case closed
    }

    private(set) var state = State.awaitingSettings
    private let report: @Sendable (Int) -> Void

    init(maxConcurrentStreams report: @escaping @Sendable (Int) -> Void) {
        self.report = report
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        if case .settings(.settings(let settings)) = frame.payload,
            let limit = settings.last(where: { $0.parameter == .maxConcurrentStreams })?.value
        {
            switch state {
            case .awaitingSettings, .limited:
                state = .limited(limit)
                report(limit)
            case .closed:
                break
            }
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        state = .closed
        context.fireChannelInactive()
    }
}
