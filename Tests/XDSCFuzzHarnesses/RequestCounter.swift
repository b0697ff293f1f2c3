import NIOCore
import NIOHTTP1

/// Sits right behind the request decoder and records what it produced: the method of each
/// request head and how many requests ended.
final class RequestCounter: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    private(set) var methods: [String] = []
    private(set) var ends = 0

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): methods.append(head.method.rawValue)
        case .end: ends += 1
        case .body: break
        }
        context.fireChannelRead(data)
    }
}
