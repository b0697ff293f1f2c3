import NIOCore
import NIOHTTP1

/// The HTTP/1.1 side of a downstream connection between NIO's request decoder and the
/// downstream handler: one request at a time, parse errors answered, each response encoded
/// into one buffer and one write.
///
/// - **Pipelining.** Request parts are handed on until a request is complete. While its
///   response is being produced, whatever arrives (a pipelined request, a parse error, a
///   half-close) waits here, in order, and is handed on when the response ends. Reads go on
///   while nothing waits, so a keep-alive connection that does not pipeline (nearly every
///   client) stays in the event loop's read set and costs no `epoll_ctl` per request; once
///   something waits, reads are held until it has been handed on, which bounds what waits
///   to one read's worth.
/// - **Parse errors** (garbage, ambiguous framing such as Content-Length with
///   Transfer-Encoding or two different Content-Lengths, obs-fold, oversized headers) are
///   answered as Envoy's HTTP/1 codec does: 400 (431 for headers over the limit) with
///   `connection: close`, then the connection closes. A response already half-written is
///   only closed. After a response saying `connection: close` nothing more is read or answered.
/// - **Responses** are framed as NIO's response encoder frames them
///   (`correctlyFrameTransportHeaders`): a 1xx, 204 or 304 (or a 2xx to CONNECT) loses
///   `content-length` and `transfer-encoding`; with `content-length` any `transfer-encoding`
///   goes; without either the body is sent chunked. A response to HEAD carries no body. An
///   interim head (`100 Continue`) is written at once, as a message of its own. The
///   head, a body up to ``coalescedBodyBytes`` and the end go out as one buffer when the
///   response ends (or at a flush before it), where NIO's encoder writes each part apart.
final class DownstreamHTTP1Codec: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = IOData

    enum State: Equatable {
        /// Between requests: the next part is handed on.
        case idle
        /// A request's head was handed on and its end has not been; `answered` when its whole
        /// response went out already (an early reply).
        case receiving(answered: Bool)
        /// A complete request waits for its response: what arrives now waits here.
        case answering
        /// An error reply, or a response saying `connection: close`, is out: the rest of the
        /// input gets no answer.
        case closing
    }

    /// What arrived while a response was being produced.
    enum Waiting {
        case part(HTTPServerRequestPart)
        case error(Error)
        case halfClose
    }

    /// A body up to this size is copied behind the head into one buffer; a larger one is
    /// written as it is, after the head.
    static let coalescedBodyBytes = 16 * 1024

    private(set) var state = State.idle
    private var waiting = CircularBuffer<Waiting>(initialCapacity: 0)
    /// A `read()` held back while something waits.
    private var readHeld = false
    /// The request being answered is a HEAD (its response carries no body) or a CONNECT (a 2xx
    /// to it has no framing headers either).
    private var answeringHEAD = false
    private var answeringCONNECT = false

    /// The response being written: its bytes not yet written and how its body is framed.
    private struct Response {
        var bytes: ByteBuffer
        var chunked: Bool
        var suppressBody: Bool
        var closes: Bool
    }

    private var response: Response?

    // MARK: - Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch state {
        case .closing:
            return
        case .answering:
            waiting.append(.part(unwrapInboundIn(data)))
        case .idle, .receiving:
            handOn(unwrapInboundIn(data), context: context)
        }
    }

    private func handOn(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            state = .receiving(answered: false)
            answeringHEAD = head.method == .HEAD
            answeringCONNECT = head.method == .CONNECT
        case .body:
            break
        case .end:
            state = state == .receiving(answered: true) ? .idle : .answering
        }
        context.fireChannelRead(wrapInboundOut(part))
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard error is HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        switch state {
        case .answering:
            // Answered after the response in progress, as the request it stands for.
            waiting.append(.error(error))
        case .idle, .receiving:
            answer(error, context: context)
        case .closing:
            // The connection is closing: no second reply.
            context.fireErrorCaught(error)
        }
    }

    /// A parse error's reply (or, with a response half-written, only the close); the handlers
    /// behind hear of the error, so an exchange in flight is cancelled.
    private func answer(_ error: Error, context: ChannelHandlerContext) {
        state = .closing
        waiting.removeAll()
        if response != nil {
            response = nil
            context.close(promise: nil)
        } else {
            let overflow = (error as? HTTPParserError) == .headerOverflow
            let bytes = context.channel.allocator.buffer(
                staticString: overflow
                    ? "HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\nconnection: close\r\nserver: envoy\r\n\r\n"
                    : "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\nserver: envoy\r\n\r\n")
            context.writeAndFlush(wrapOutboundOut(.byteBuffer(bytes))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
        context.fireErrorCaught(error)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if !waiting.isEmpty, event as? ChannelEvent == .inputClosed {
            waiting.append(.halfClose)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        waiting.removeAll()
        context.fireChannelInactive()
    }

    /// The response ended: what waited is handed on, up to the next complete request.
    private func responseEnded(closes: Bool, context: ChannelHandlerContext) {
        if closes {
            state = .closing
            waiting.removeAll()
            return
        }
        switch state {
        case .answering: state = .idle
        case .receiving(answered: false): state = .receiving(answered: true)
        case .idle, .receiving(answered: true), .closing: return
        }
        while state != .answering && state != .closing, let next = waiting.popFirst() {
            switch next {
            case .part(let part): handOn(part, context: context)
            case .error(let error): answer(error, context: context)
            case .halfClose: context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
            }
        }
        if waiting.isEmpty && readHeld && state != .closing {
            readHeld = false
            context.read()
        }
    }

    // MARK: - Outbound

    func read(context: ChannelHandlerContext) {
        if waiting.isEmpty {
            context.read()
        } else {
            readHeld = true
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head):
            if head.status.code / 100 == 1 && head.status != .switchingProtocols {
                // An interim response (`100 Continue`) is a whole message ahead of the response.
                context.write(wrapOutboundOut(.byteBuffer(start(head, allocator: context.channel.allocator).bytes)), promise: promise)
                return
            }
            response = start(head, allocator: context.channel.allocator)
            if promise != nil { writeBuffered(context: context, promise: promise) }
        case .body(let body):
            guard var r = response else {
                context.write(wrapOutboundOut(body), promise: promise)
                return
            }
            if r.suppressBody {
                // Nothing is written: the head and end still make a whole body-less response.
                promise?.fail(NIOHTTPResponseEncoderError.responseBodyNotAllowed)
                return
            }
            let n = body.readableBytes
            guard n > 0 else {
                if promise != nil { writeBuffered(context: context, promise: promise) }
                return
            }
            response = nil
            if r.chunked {
                r.bytes.writeString(String(n, radix: 16))
                r.bytes.writeStaticString("\r\n")
            }
            if case .byteBuffer(let b) = body, n <= Self.coalescedBodyBytes {
                r.bytes.writeImmutableBuffer(b)
                if r.chunked { r.bytes.writeStaticString("\r\n") }
                response = r
                if promise != nil { writeBuffered(context: context, promise: promise) }
            } else {
                context.write(wrapOutboundOut(.byteBuffer(r.bytes)), promise: nil)
                r.bytes = context.channel.allocator.buffer(capacity: 0)
                if r.chunked {
                    r.bytes.writeStaticString("\r\n")
                    context.write(wrapOutboundOut(body), promise: nil)
                    response = r
                    if promise != nil { writeBuffered(context: context, promise: promise) }
                } else {
                    response = r
                    context.write(wrapOutboundOut(body), promise: promise)
                }
            }
        case .end(let trailers):
            guard var r = response else {
                context.write(wrapOutboundOut(.byteBuffer(context.channel.allocator.buffer(capacity: 0))), promise: promise)
                responseEnded(closes: false, context: context)
                return
            }
            response = nil
            if r.chunked {
                if let trailers {
                    r.bytes.writeStaticString("0\r\n")
                    Self.write(trailers.map { ($0.name, $0.value) }, into: &r.bytes)
                } else {
                    r.bytes.writeStaticString("0\r\n\r\n")
                }
            }
            context.write(wrapOutboundOut(.byteBuffer(r.bytes)), promise: promise)
            responseEnded(closes: r.closes, context: context)
        }
    }

    func flush(context: ChannelHandlerContext) {
        if let r = response, r.bytes.readableBytes > 0 { writeBuffered(context: context, promise: nil) }
        context.flush()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if let r = response, r.bytes.readableBytes > 0 { context.write(wrapOutboundOut(.byteBuffer(r.bytes)), promise: nil) }
        response = nil
        if readHeld { context.read() }
    }

    /// Writes what the response has buffered so far (a caller waits on `promise`).
    private func writeBuffered(context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        guard var r = response else { return }
        context.write(wrapOutboundOut(.byteBuffer(r.bytes)), promise: promise)
        r.bytes = context.channel.allocator.buffer(capacity: 0)
        response = r
    }

    /// A response's head, framed, in a buffer with room for a small body behind it.
    private func start(_ head: HTTPResponseHead, allocator: ByteBufferAllocator) -> Response {
        var hasLength = false
        var hasEncoding = false
        var closes = false
        var size = 0
        for (name, value) in head.headers {
            size += name.utf8.count + value.utf8.count + 4
            // Only names of these lengths are looked at closer.
            switch name.utf8.count {
            case 14: hasLength = hasLength || Self.equalsIgnoringCase(name, "content-length")
            case 17: hasEncoding = hasEncoding || Self.equalsIgnoringCase(name, "transfer-encoding")
            case 10: closes = closes || (Self.equalsIgnoringCase(name, "connection") && Self.equalsIgnoringCase(value, "close"))
            default: break
            }
        }
        // A 2xx to CONNECT opens a tunnel: no body and no framing (RFC 9110 9.3.6); any other
        // answer to it is an ordinary response (a 404 from the router, say), framed as usual.
        let tunnel = answeringCONNECT && (200..<300).contains(head.status.code)
        let bodyless = tunnel || !head.status.mayHaveResponseBody
        // Which framing headers are written: with no body neither; with a length only it; else chunked.
        let chunked = !bodyless && !hasLength && head.version.major == 1 && head.version.minor >= 1
        let dropLength = bodyless && hasLength
        let dropEncoding = hasEncoding && (bodyless || hasLength || chunked)
        let code = head.status.code
        let reason = head.status.reasonPhrase
        // `HTTP/1.1 ` and a three-digit code (longer ones are written apart), a space, the reason, CRLF;
        // the headers; `transfer-encoding: chunked` CRLF; the blank line.
        let line = 9 + 3 + 1 + reason.utf8.count + 2
        var bytes = allocator.buffer(capacity: line + size + 28 + 2 + 64)
        if head.version == .http1_1 && (100...999).contains(code) {
            bytes.writeWithUnsafeMutableBytes(minimumWritableBytes: line) { raw in
                var w = HeadWriter(base: raw.baseAddress!, capacity: raw.count)
                w.literal("HTTP/1.1 ")
                w.threeDigits(Int(code))
                w.literal(" ")
                w.put(reason)
                w.literal("\r\n")
                return w.at
            }
        } else {
            bytes.writeString("HTTP/\(head.version.major).\(head.version.minor) \(code) \(reason)\r\n")
        }
        bytes.writeWithUnsafeMutableBytes(minimumWritableBytes: size + 28 + 2) { raw in
            var w = HeadWriter(base: raw.baseAddress!, capacity: raw.count)
            for (name, value) in head.headers {
                if dropLength && name.utf8.count == 14 && Self.equalsIgnoringCase(name, "content-length") { continue }
                if dropEncoding && name.utf8.count == 17 && Self.equalsIgnoringCase(name, "transfer-encoding") { continue }
                w.field(name, value)
            }
            if chunked { w.literal("transfer-encoding: chunked\r\n") }
            w.literal("\r\n")
            return w.at
        }
        return Response(bytes: bytes, chunked: chunked && !answeringHEAD, suppressBody: answeringHEAD || tunnel, closes: closes)
    }

    /// Header lines and the blank line after them (trailers).
    static func write(_ fields: [(String, String)], into bytes: inout ByteBuffer) {
        var size = 2
        for (name, value) in fields { size += name.utf8.count + value.utf8.count + 4 }
        bytes.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw in
            var w = HeadWriter(base: raw.baseAddress!, capacity: raw.count)
            for (name, value) in fields { w.field(name, value) }
            w.literal("\r\n")
            return w.at
        }
    }

    /// ASCII case-insensitive equality with a lower-case literal.
    static func equalsIgnoringCase(_ s: String, _ lower: StaticString) -> Bool {
        var s = s
        return s.withUTF8 { b in
            guard b.count == lower.utf8CodeUnitCount else { return false }
            let l = lower.utf8Start
            for i in 0..<b.count where (b[i] &- 0x41 < 26 ? b[i] | 0x20 : b[i]) != l[i] { return false }
            return true
        }
    }
}
