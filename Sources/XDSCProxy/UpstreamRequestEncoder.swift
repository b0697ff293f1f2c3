import NIOCore
import NIOHTTP1
import XDSCRequest

/// Writes each upstream HTTP/1.1 request as one buffer: the request line, the headers and
/// the body, in one write and one pass over the pipeline (NIO's request encoder takes a head,
/// a body and an end, each through the header validator and the decoder's write observer).
/// Frames the body as NIO's encoder does (`correctlyFrameTransportHeaders`): TRACE carries no
/// framing headers; with `content-length` any `transfer-encoding` goes; POST, PUT and PATCH
/// without a length are sent chunked; other methods are chunked only when they say so.
/// Refuses a request whose method, target or headers hold bytes that cannot be sent (NIO's
/// `NIOHTTPRequestHeadersValidator`: a CR or LF would split the request) with the validator's
/// error. Tells ``UpstreamResponseDecoder`` each request's method.
final class UpstreamRequestEncoder: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = UpstreamRequest
    typealias OutboundOut = ByteBuffer

    enum State {
        /// Requests are written as they come.
        case encoding
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
            let request = unwrapOutboundIn(data)
            guard let bytes = Self.encode(request, allocator: context.channel.allocator) else {
                state = .refused
                promise?.fail(HTTPParserError.invalidHeaderToken)
                context.fireErrorCaught(HTTPParserError.invalidHeaderToken)
                return
            }
            decoder?.expectResponse(to: request.method)
            context.write(wrapOutboundOut(bytes), promise: promise)
        }
    }

    /// How the body is delimited on the wire.
    enum Framing: Equatable {
        case contentLength
        case chunked
        case neither
    }

    /// The bytes of `request`; nil when it cannot be sent.
    static func encode(_ request: UpstreamRequest, allocator: ByteBufferAllocator) -> ByteBuffer? {
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
            if body > 0 {
                out.writeString(String(body, radix: 16))
                out.writeStaticString("\r\n")
                out.writeImmutableBuffer(request.body)
                out.writeStaticString("\r\n")
            }
            out.writeStaticString("0\r\n\r\n")
        case .contentLength, .neither:
            out.writeImmutableBuffer(request.body)
        }
        return out
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
