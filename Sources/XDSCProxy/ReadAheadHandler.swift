import NIOCore
import NIOHTTP1

/// Keeps a downstream HTTP/1.1 connection reading while its one request is answered.
///
/// NIO's pipelining handler, behind this one, holds back the channel's `read()` from a
/// request's end until its response's end, so the socket leaves the event loop's read set
/// after every request and joins it again after every response: two `epoll_ctl` calls per
/// request on a keep-alive connection that does not pipeline (nearly every client). Here the
/// read is asked for once the request is complete, as long as nothing further has arrived
/// (the pipelining handler has nothing buffered): the socket stays in the read set and a
/// request costs no `epoll_ctl`. Once a pipelined request does arrive, nothing is asked for,
/// and the pipelining handler's hold on reads bounds what it buffers as before (one read's
/// worth at most). The pipelining handler still orders and delivers every request part and
/// error: this handler only observes them, and only adds reads.
///
/// Sits between the request decoder and the pipelining handler, where it sees the request
/// parts as decoded and the response parts as written.
final class ReadAheadHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    enum State {
        /// No complete request waits for its response: the pipelining handler lets reads through.
        case reading
        /// `unanswered` complete requests wait for their responses; `partial` when parts of a
        /// further request arrived after them. The pipelining handler's buffer is empty exactly
        /// when one request waits and nothing arrived after it.
        case answering(unanswered: Int, partial: Bool)
        /// Something this count does not follow happened (a response ended before its request,
        /// a parse error, a half-close, quiescing): no read is added any more, NIO's handler
        /// alone decides, as without this handler.
        case passive
    }

    private(set) var state = State.reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (state, unwrapInboundIn(data)) {
        case (.reading, .end): state = .answering(unanswered: 1, partial: false)
        case (.reading, .head), (.reading, .body): break
        case (.answering(let n, _), .end): state = .answering(unanswered: n + 1, partial: false)
        case (.answering(let n, _), .head), (.answering(let n, _), .body): state = .answering(unanswered: n, partial: true)
        case (.passive, _): break
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
        // After the handlers behind have seen the read complete (a response may have been
        // written meanwhile): the request still waits, alone.
        if case .answering(unanswered: 1, partial: false) = state { context.read() }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        state = .passive
        context.fireErrorCaught(error)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // A half-close or quiescing is buffered or acted on by the pipelining handler.
        if event is ChannelShouldQuiesceEvent || event as? ChannelEvent == .inputClosed { state = .passive }
        context.fireUserInboundEventTriggered(event)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            switch state {
            // With `partial`, the pipelining handler now delivers the request in progress and lets reads through.
            case .answering(unanswered: 1, _): state = .reading
            case .answering(let n, let partial): state = .answering(unanswered: n - 1, partial: partial)
            case .reading: state = .passive
            case .passive: break
            }
        }
        context.write(data, promise: promise)
    }
}
