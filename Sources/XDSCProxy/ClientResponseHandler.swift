import NIOCore
import NIOHTTP1

/// A response read off the wire by `TrafficClient`.
public struct ClientResponse: Sendable, Equatable {
    /// The status code.
    public var status: Int
    /// Headers in arrival order, names lower-case.
    public var headers: [MockHeader]
    /// The body, as UTF-8.
    public var body: String

    /// A response.
    public init(status: Int, headers: [MockHeader], body: String) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of a header.
    public func header(_ name: String) -> String? {
        let n = name.lowercased()
        return headers.first { $0.name == n }?.value
    }
}

/// Why a client exchange gave no response.
public struct ClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What happened, in words.
    public var description: String
}

/// The client side of one exchange: collects one response and completes the promise with
/// it; the connection closing first fails it.
final class ClientResponseHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    enum State {
        case waiting
        case receiving(HTTPResponseHead, ByteBuffer)
        case done
    }

    private var state = State.waiting
    private let promise: EventLoopPromise<ClientResponse>

    init(promise: EventLoopPromise<ClientResponse>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (state, unwrapInboundIn(data)) {
        case (.waiting, .head(let head)):
            state = .receiving(head, context.channel.allocator.buffer(capacity: 0))
        case (.receiving(let head, var body), .body(var chunk)):
            body.writeBuffer(&chunk)
            state = .receiving(head, body)
        case (.receiving(let head, let body), .end):
            state = .done
            promise.succeed(
                ClientResponse(
                    status: Int(head.status.code), headers: head.headers.map { MockHeader($0.name.lowercased(), $0.value) },
                    body: String(buffer: body)))
            context.close(promise: nil)
        case (.done, _):
            break
        case (.waiting, _), (.receiving, .head):
            fail(context, "the response is not HTTP/1.1")
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        switch state {
        case .waiting, .receiving: fail(context, "the connection closed before a whole response")
        case .done: break
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        fail(context, "\(error)")
    }

    private func fail(_ context: ChannelHandlerContext, _ why: String) {
        if case .done = state { return }
        state = .done
        promise.fail(ClientError(description: why))
        context.close(promise: nil)
    }
}
