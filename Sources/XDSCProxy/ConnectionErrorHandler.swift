import NIOCore

/// Last in an HTTP/2 connection's pipeline: a connection error (a bad preface, frames that
/// break the protocol) has been answered with `GOAWAY` by the HTTP/2 handler in front; this
/// closes the connection, as Envoy's codec does after a protocol error. Only that
/// connection ends; the listener goes on serving.
final class ConnectionErrorHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = Never

    enum State {
        case open
        case closing
    }

    private var state = State.open

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        switch state {
        case .open:
            state = .closing
            context.close(promise: nil)
        case .closing:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        state = .closing
        context.fireChannelInactive()
    }
}
