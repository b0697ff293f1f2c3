import NIOCore
import NIOHTTP1
import XDSCRequest

/// What goes on an upstream HTTP/1.1 connection: a request whose body is all at hand in one
/// part, or one whose body streams behind its head (Envoy's router forwards the body as it
/// arrives, `acceptDataFromRouter`).
enum UpstreamRequestPart {
    /// The whole request: head, body and end.
    case whole(UpstreamRequest)
    /// The head and the body so far; `.body` parts and an `.end` follow.
    case head(UpstreamRequest)
    case body(ByteBuffer)
    case end
}

/// Writes an upstream HTTP/1.1 request whose body is at hand as one buffer: the request line,
/// the headers and the body, in one write and one pass over the pipeline (NIO's request encoder
/// takes a head, a body and an end, each through the header validator and the decoder's write
/// observer). A streamed body goes out part by part behind its head, chunked unless it has a
/// `content-length`.
/// Frames the body as NIO's encoder does (`correctlyFrameTransportHeaders`): TRACE carries no
/// framing headers; with `content-length` any `transfer-encoding` goes; POST, PUT and PATCH
/// without a length are sent chunked; other methods are chunked only when they say so.
/// Refuses a request whose method, target or headers hold bytes that cannot be sent (NIO's
/// `NIOHTTPRequestHeadersValidator`: a CR or LF would split the request) with the validator's
/// error. Tells ``UpstreamResponseDecoder`` each request's method.
final class UpstreamRequestEncoder: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = UpstreamRequestPart
    typealias OutboundOut = ByteBuffer

    enum State {
        /// Requests are written as they come.
        case encoding
        /// A streamed request's head went out; its body parts follow (`chunked`: each as a chunk).
        case streaming(chunked: Bool)
        /// A request could not be sent: the connection is closing (its response handler closes
        /// it on the error), and nothing more goes out on it.
        case refused
    }

    private(set) var state = State.encoding
    private let decoder: UpstreamResponseDecoder?

    init(decoder: UpstreamResponseDecoder?) {
        self.decoder = decoder
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch state {
        case .refused:
            promise?.fail(HTTPParserError.invalidHeaderToken)
        case .encoding:
            let complete: Bool
            let request: UpstreamRequest
            switch unwrapOutboundIn(data) {
            case .whole(let r): (request, complete) = (r, true)
            case .head(let r): (request, complete) = (r, false)
            case .body, .end:
                // Only behind a streamed head.
                promise?.fail(ChannelError.inappropriateOperationForState)
                return
            }
            guard let (bytes, framing) = Self.encode(request, complete: complete, allocator: context.channel.allocator) else {
                state = .refused
                promise?.fail(HTTPParserError.invalidHeaderToken)
                context.fireErrorCaught(HTTPParserError.invalidHeaderToken)
                return
            }
            if !complete { state = .streaming(chunked: framing == .chunked) }
            decoder?.expectResponse(to: request.method)
            context.write(wrapOutboundOut(bytes), promise: promise)
        case .streaming(let chunked):
            switch unwrapOutboundIn(data) {
            case .body(let chunk):
                guard chunk.readableBytes > 0 else {
                    promise?.succeed(())
                    return
                }
                guard chunked else {
                    context.write(wrapOutboundOut(chunk), promise: promise)
                    return
                }
                var out = context.channel.allocator.buffer(capacity: chunk.readableBytes + 12)
                Self.writeChunk(chunk, to: &out)
                context.write(wrapOutboundOut(out), promise: promise)
            case .end:
                state = .encoding
                guard chunked else {
                    promise?.succeed(())
                    return
                }
                context.write(wrapOutboundOut(context.channel.allocator.buffer(staticString: "0\r\n\r\n")), promise: promise)
            case .whole, .head:
                // One request at a time on a connection.
                promise?.fail(ChannelError.inappropriateOperationForState)
            }
        }
    }

    /// One chunk of a chunked body: its size in hex, the bytes, CRLF.
    private static func writeChunk(_ chunk: ByteBuffer, to out: inout ByteBuffer) {
        out.writeString(String(chunk.readableBytes, radix: 16))
        out.writeStaticString("\r\n")
        out.writeImmutableBuffer(chunk)
        out.writeStaticString("\r\n")
    }

    /// How the body is delimited on the wire.
    enum Framing: Equatable {
        case contentLength
        case chunked
        case neither
    }

    /// The bytes of `request` (a whole request).
    static func encode(_ request: UpstreamRequest, allocator: ByteBufferAllocator) -> ByteBuffer? {
        encode(request, complete: true, allocator: allocator)?.bytes
    }

    /// The bytes of `request`, its end included when `complete` (else the head and the body so
    /// far), and its framing; nil when it cannot be sent.
    static func encode(_ request: UpstreamRequest, complete: Bool, allocator: ByteBufferAllocator) -> (
        bytes: ByteBuffer, framing: Framing
    )? {
        let method = request.method.rawValue
        var headers = request.headers
        let framing = frame(method: request.method, headers: &headers)
        // The request line's two spaces and ` HTTP/1.1\r\n`, the blank line; `: ` and CRLF per header.
        var head = method.utf8.count + request.uri.utf8.count + 14
        for (name, value) in headers { head += name.utf8.count + value.utf8.count + 4 }
        let body = request.body.readableBytes
        var out = allocator.buffer(capacity: head + (framing == .chunked ? body + 32 : body))
        // The head is checked and copied in one pass straight into the buffer (NIO's
        // `writeString` per piece costs more than the copy itself). Methods and header names
        // are tokens; an empty one goes through, as NIO's validator lets it.
        var valid = false
        out.writeWithUnsafeMutableBytes(minimumWritableBytes: head) { raw in
            var w = HeadWriter(base: raw.baseAddress!, capacity: raw.count)
            valid = w.put(method, HTTPToken.isTokenByte)
            w.literal(" ")
            valid = valid && w.put(request.uri, isTargetByte)
            w.literal(" HTTP/1.1\r\n")
            for (name, value) in headers where valid {
                valid = w.put(name, HTTPToken.isTokenByte)
                w.literal(": ")
                valid = valid && w.put(value, isValueByte)
                w.literal("\r\n")
            }
            w.literal("\r\n")
            assert(!valid || w.at == head, "request head measured wrong")
            return valid ? w.at : 0
        }
        guard valid else { return nil }
        switch framing {
        case .chunked:
            if body > 0 { writeChunk(request.body, to: &out) }
            if complete { out.writeStaticString("0\r\n\r\n") }
        case .contentLength, .neither:
            out.writeImmutableBuffer(request.body)
        }
        return (out, framing)
    }

    /// The framing headers NIO's encoder would send for `method` (`HTTPMethod.hasRequestBody`).
    static func frame(method: HTTPMethod, headers: inout HTTPHeaders) -> Framing {
        switch method {
        case .TRACE:
            headers.remove(name: "content-length")
            headers.remove(name: "transfer-encoding")
            return .neither
        default:
            if headers.contains(name: "content-length") {
                if headers.contains(name: "transfer-encoding") { headers.remove(name: "transfer-encoding") }
                return .contentLength
            }
            switch method {
            case .POST, .PUT, .PATCH:
                headers.replaceOrAdd(name: "transfer-encoding", value: "chunked")
                return .chunked
            default:
                return headers.first(name: "transfer-encoding") == "chunked" ? .chunked : .neither
            }
        }
    }

    /// A field-value byte NIO sends: no control character but HTAB (CR, LF and NUL above all).
    @inline(__always)
    static func isValueByte(_ b: UInt8) -> Bool {
        b == 0x09 || (b >= 0x20 && b != 0x7F)
    }

    /// A request-target byte NIO sends (RFC 9112: URI characters and `%`).
    @inline(__always)
    static func isTargetByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: ":"), UInt8(ascii: "/"),
            UInt8(ascii: "?"), UInt8(ascii: "#"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "@"), UInt8(ascii: "!"),
            UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "*"),
            UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="), UInt8(ascii: "%"):
            true
        default:
            false
        }
    }
}
