import NIOCore

/// The first handler of an HTTP/1 connection: takes a first request line with no version
/// (HTTP/0.9, `GET /`) as Envoy's HTTP/1 parser does, then leaves the pipeline.
///
/// Envoy's default parser (Balsa) accepts a request line without a version (`isVersionValid`
/// allows an empty one) and ends the message there: an HTTP/0.9 request has no headers and no
/// body (quiche's `HTTPBalsaFrameTest.Http09`). The codec then takes it for HTTP/1.0 (it is not
/// HTTP/1.1, `isHttp11`): 426 without `accept_http_10`, else served as HTTP/1.0. NIO's parser
/// (llhttp) refuses such a line, so this handler rewrites it to `METHOD URI HTTP/1.0` and an
/// empty header block, which every later handler then treats exactly as HTTP/1.0.
///
/// Only the connection's first line is looked at (a request after it would find the connection
/// closed or answered 426 first, in Envoy as here). The bytes are held until the first line
/// feed, at most ``maximumLine`` bytes; a longer line goes on unchanged, for the decoder to
/// refuse.
final class HTTP09RequestLine: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    enum State {
        /// Bytes read so far, with no line feed among them.
        case reading(ByteBuffer)
        /// The first line was handed on; this handler is leaving.
        case done
    }

    /// The longest first line held back (Envoy's default `max_request_headers_kb` is 60).
    static let maximumLine = 60 * 1024

    private var state = State.reading(ByteBuffer())

    /// The method and the target of `line` (without its line feed, and without a carriage
    /// return before it) when it is an HTTP/0.9 request line: a method of token characters, a
    /// space, a target, and no version; nil otherwise.
    static func http09(_ line: ByteBufferView) -> (method: ByteBufferView.SubSequence, target: ByteBufferView.SubSequence)? {
        let words = line.split(separator: UInt8(ascii: " "))
        guard words.count == 2 else { return nil }
        // The method as Balsa checks its first character and the codec the rest: token characters.
        guard words[0].allSatisfy({ $0 > 0x20 && $0 < 0x7F && !"\"(),/:;<=>?@[\\]{}".utf8.contains($0) }) else { return nil }
        return (words[0], words[1])
    }

    /// `bytes` with an HTTP/0.9 first line rewritten to HTTP/1.0 (nil: it is not one).
    static func rewritten(_ bytes: ByteBuffer, lineFeedAt lf: Int) -> ByteBuffer? {
        let start = bytes.readerIndex
        var end = lf
        if end > start && bytes.getInteger(at: end - 1, as: UInt8.self) == UInt8(ascii: "\r") { end -= 1 }
        guard let line = bytes.viewBytes(at: start, length: end - start), let words = http09(line) else { return nil }
        // The method and the target, one space apart (the spaces around them as written do not matter).
        var out = ByteBuffer()
        out.reserveCapacity(bytes.readableBytes + 16)
        out.writeBytes(words.method)
        out.writeString(" ")
        out.writeBytes(words.target)
        out.writeString(" HTTP/1.0\r\n\r\n")
        if let rest = bytes.getSlice(at: lf + 1, length: bytes.writerIndex - lf - 1) {
            var rest = rest
            out.writeBuffer(&rest)
        }
        return out
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .reading(var held) = state else {
            context.fireChannelRead(data)
            return
        }
        var chunk = unwrapInboundIn(data)
        if held.readableBytes == 0 {
            held = chunk
        } else {
            held.writeBuffer(&chunk)
        }
        guard let lf = held.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if held.readableBytes > Self.maximumLine {
                handOn(held, context: context)
            } else {
                state = .reading(held)
            }
            return
        }
        handOn(Self.rewritten(held, lineFeedAt: lf) ?? held, context: context)
    }

    /// The connection ends (or half-closes) before a whole first line: what was read goes on first.
    func channelInactive(context: ChannelHandlerContext) {
        flushHeld(context: context)
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .inputClosed? = event as? ChannelEvent { flushHeld(context: context) }
        context.fireUserInboundEventTriggered(event)
    }

    private func flushHeld(context: ChannelHandlerContext) {
        guard case .reading(let held) = state else { return }
        state = .done
        if held.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(held)) }
    }

    private func handOn(_ bytes: ByteBuffer, context: ChannelHandlerContext) {
        state = .done
        context.fireChannelRead(wrapInboundOut(bytes))
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
