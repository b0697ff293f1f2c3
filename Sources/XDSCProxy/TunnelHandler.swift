import NIOCore

/// One side of an upgraded connection (a websocket after `101 Switching Protocols`): every
/// byte read is written to the other side's channel, and a close on either side closes
/// both, as Envoy's upgrade path passes the stream through untouched.
final class TunnelHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum State {
        /// Not in a pipeline yet.
        case detached
        /// In a pipeline, relaying to the partner.
        case relaying(ChannelHandlerContext)
        /// This side closed (or its partner did).
        case closed
    }

    private var state = State.detached
    private var partner: TunnelHandler?

    /// Two handlers that relay to each other; both must be on the same event loop.
    static func pair() -> (TunnelHandler, TunnelHandler) {
        let a = TunnelHandler()
        let b = TunnelHandler()
        a.partner = b
        b.partner = a
        return (a, b)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        switch state {
        case .detached: state = .relaying(context)
        case .relaying, .closed: context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch state {
        case .relaying: partner?.relay(data)
        case .detached, .closed: break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.flushRelayed()
    }

    func channelInactive(context: ChannelHandlerContext) {
        shutDown()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        shutDown()
    }

    /// Bytes from the partner go out on this side.
    private func relay(_ data: NIOAny) {
        guard case .relaying(let context) = state else { return }
        context.write(data, promise: nil)
    }

    private func flushRelayed() {
        guard case .relaying(let context) = state else { return }
        context.flush()
    }

    /// Closes this side and then the partner; the pair's reference cycle ends here.
    private func shutDown() {
        guard case .relaying(let context) = state else {
            state = .closed
            return
        }
        state = .closed
        context.close(promise: nil)
        let p = partner
        partner = nil
        p?.shutDown()
    }
}
