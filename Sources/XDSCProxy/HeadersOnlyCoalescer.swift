import NIOCore
import NIOHTTP2

/// On an HTTP/2 stream, below the HTTP/1-style codec: a response head followed by an end
/// without a body (`HEADERS`, then an empty `DATA` with END_STREAM) goes out as one
/// `HEADERS` frame with END_STREAM, as Envoy's codec encodes a headers-only response. A gRPC
/// trailers-only reply (a local reply to a gRPC request) must be that single frame, or
/// gRPC clients see a stream that ended without trailers.
final class HeadersOnlyCoalescer: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    enum State {
        /// Nothing held.
        case passing
        /// A `HEADERS` frame without END_STREAM, held until the next write or flush shows
        /// whether a body follows.
        case holding(HTTP2Frame.FramePayload.Headers, EventLoopPromise<Void>?)
    }

    private var state = State.passing

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let payload = unwrapOutboundIn(data)
        switch (state, payload) {
        case (.passing, .headers(let headers)) where !headers.endStream:
            state = .holding(headers, promise)
        case (.passing, _):
            context.write(data, promise: promise)
        case (.holding(var headers, let held), .data(let body)) where body.endStream && body.data.readableBytes == 0:
            state = .passing
            headers.endStream = true
            held?.futureResult.cascade(to: promise)
            context.write(wrapOutboundOut(.headers(headers)), promise: held ?? promise)
        case (.holding(let headers, let held), _):
            state = .passing
            context.write(wrapOutboundOut(.headers(headers)), promise: held)
            write(context: context, data: data, promise: promise)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // The stream closed before the held head could go out.
        dropHeld()
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        dropHeld()
        context.close(mode: mode, promise: promise)
    }

    private func dropHeld() {
        if case .holding(_, let held) = state {
            state = .passing
            held?.fail(ChannelError.ioOnClosedChannel)
        }
    }

    func flush(context: ChannelHandlerContext) {
        if case .holding(let headers, let held) = state {
            state = .passing
            context.write(wrapOutboundOut(.headers(headers)), promise: held)
        }
        context.flush()
    }
}
