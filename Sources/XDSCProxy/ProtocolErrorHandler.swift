import NIOCore
import NIOHTTP1

/// Answers a request that does not parse (garbage, ambiguous framing such as
/// Content-Length with Transfer-Encoding or two different Content-Lengths, obs-fold,
/// oversized headers) as Envoy's HTTP/1 codec does: 400 (431 for headers over the
/// limit) with `connection: close`, then closes. Sits where NIO's own protocol error
/// handler would, after the pipelining handler.
final class ProtocolErrorHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    enum State {
        /// No response is being written.
        case idle
        /// A response head went out and its end has not; `closes` when it says
        /// `connection: close`.
        case responding(closes: Bool)
        /// The error reply, or a response saying `connection: close`, is out: the
        /// connection is closing and bytes still in the read buffer get no answer.
        case closing
    }

    private var state = State.idle

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        switch state {
        case .idle:
            state = .closing
            let status: HTTPResponseStatus = parserError == .headerOverflow ? .requestHeaderFieldsTooLarge : .badRequest
            var headers = HTTPHeaders()
            headers.add(name: "content-length", value: "0")
            headers.add(name: "connection", value: "close")
            headers.add(name: "server", value: "envoy")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        case .responding:
            // A response is half-written: the only honest answer is to close.
            state = .closing
            context.close(promise: nil)
        case .closing:
            break
        }
        // Tell the handlers behind us, so an in-flight exchange is cancelled.
        context.fireErrorCaught(error)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch (state, unwrapOutboundIn(data)) {
        case (.idle, .head(let head)):
            // Most responses have no `connection` header: no list of its values is built for them.
            let closes = head.headers.contains(name: "connection") && head.headers["connection"].contains { $0.lowercased() == "close" }
            state = .responding(closes: closes)
        case (.responding(let closes), .end): state = closes ? .closing : .idle
        case (.closing, _), (.idle, _), (.responding, _): break
        }
        context.write(data, promise: promise)
    }
}
