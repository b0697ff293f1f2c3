import NIOCore
import NIOHTTP1

/// NIO's HTTP/1.1 response decoder (llhttp, strict framing), told of each request's method by
/// ``UpstreamRequestEncoder`` instead of by watching `HTTPClientRequestPart` writes: the
/// request goes out as one buffer, so there are no request parts to watch. The method is what
/// the decoder needs from the request (a response to `HEAD` has no body whatever its
/// `content-length` says).
final class UpstreamResponseDecoder: ByteToMessageDecoder {
    typealias InboundOut = HTTPClientResponsePart

    private let http: HTTPResponseDecoder

    init(leftOverBytesStrategy: RemoveAfterUpgradeStrategy = .dropBytes) {
        http = HTTPResponseDecoder(leftOverBytesStrategy: leftOverBytesStrategy)
    }

    /// The next response answers a request with `method`.
    func expectResponse(to method: HTTPMethod) {
        http.write(data: .head(HTTPRequestHead(version: .http1_1, method: method, uri: "")))
    }

    func decoderAdded(context: ChannelHandlerContext) { http.decoderAdded(context: context) }

    func decoderRemoved(context: ChannelHandlerContext) { http.decoderRemoved(context: context) }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        try http.decode(context: context, buffer: &buffer)
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try http.decodeLast(context: context, buffer: &buffer, seenEOF: seenEOF)
    }
}
