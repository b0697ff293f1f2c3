import NIOCore

/// One side of an upgraded connection (a websocket after `101 Switching Protocols`): every
/// byte read is written to the other side's channel, and a close on either side closes
/// both, as Envoy's upgrade path passes the stream through untouched. The connection
/// manager's stream timer (`max_stream_duration`) goes on running for an upgraded stream:
/// with `closingIn` the tunnel is closed when it expires (`onStreamMaxDurationReached` finds
/// the response started, so the stream is reset: both connections close).
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
    /// What is left of the stream's duration when this side is added (nil: no timer).
    private let closingIn: TimeAmount?
    private var deadline: Scheduled<Void>?
    private var flushScheduled = false

    private init(closingIn: TimeAmount? = nil) {
        self.closingIn = closingIn
    }

    /// Two handlers that relay to each other; both must be on the same event loop. The
    /// first closes the tunnel `closingIn` after it is added, when given.
    static func pair(closingIn: TimeAmount? = nil) -> (TunnelHandler, TunnelHandler) {
        let a = TunnelHandler(closingIn: closingIn)
        let b = TunnelHandler()
        a.partner = b
        b.partner = a
        return (a, b)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        switch state {
        case .detached:
            state = .relaying(context)
            if let closingIn {
                deadline = context.eventLoop.assumeIsolated().scheduleTask(in: max(.zero, closingIn)) { [self] in
                    self.shutDown()
                }
            }
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

    /// Bytes from the partner go out on this side, flushed by the partner's read completing.
    /// Bytes handed over outside a read (what the upstream sent right behind its 101, passed
    /// on when the response decoder leaves) have no read completion to follow: a flush is
    /// scheduled for them, so they do not wait for the next read or die with a close.
    private func relay(_ data: NIOAny) {
        guard case .relaying(let context) = state else { return }
        context.write(data, promise: nil)
        guard !flushScheduled else { return }
        flushScheduled = true
        context.eventLoop.assumeIsolated().execute { [self] in
            self.flushScheduled = false
            self.flushRelayed()
        }
    }

    private func flushRelayed() {
        guard case .relaying(let context) = state else { return }
        context.flush()
    }

    /// Closes this side and then the partner; the pair's reference cycle ends here.
    private func shutDown() {
        deadline?.cancel()
        deadline = nil
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
