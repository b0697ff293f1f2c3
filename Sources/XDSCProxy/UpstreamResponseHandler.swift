import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOSSL
import XDSCRequest

/// A response from an upstream, fully buffered.
struct UpstreamResponse {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: ByteBuffer
    /// The trailers (HTTP/2: gRPC's `grpc-status` and `grpc-message`), names lower-case.
    var trailers: [HTTPHeader] = []
    /// The connection can carry another request (HTTP/1.1 keep-alive); the handler has
    /// left its pipeline and the channel is open.
    var reusable = false
}

/// Why an upstream attempt produced no response (Envoy's reset reasons).
enum UpstreamFailure: Error, Equatable {
    /// The connect failed (`connection failure`).
    case connectionFailure
    /// The connection closed before a complete response (`connection termination`).
    case connectionTermination
    /// The response did not parse (`protocol error`, answered 502).
    case protocolError
    /// The per-try timeout fired.
    case perTryTimeout
    /// The TLS handshake failed (`connection failure`), with Envoy's transport failure reason.
    case transportFailure(String)
    /// The HTTP/2 upstream reset the stream with REFUSED_STREAM (`remote refused stream reset`).
    case refusedStream

    /// The reset reason in Envoy's local-reply body.
    var reason: String {
        switch self {
        case .connectionFailure: "connection failure"
        case .connectionTermination: "connection termination"
        case .protocolError: "protocol error"
        case .perTryTimeout: "per try timeout"
        case .transportFailure(let reason): "connection failure, transport failure reason: \(reason)"
        case .refusedStream: "remote refused stream reset"
        }
    }
}

/// One upstream exchange at a time on a client connection: collects the response to the
/// request written on it and completes the promise; anything else fails it. On a keep-alive
/// connection it stays in the pipeline while the connection is pooled (`idle`), and the next
/// request's exchange takes it over with ``expect(_:)``.
final class UpstreamResponseHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    enum State {
        case waitingForHead
        case receiving(HTTPResponseHead, ByteBuffer)
        /// The response was complete and the connection can carry another request: pooled.
        case idle
        case done
    }

    private var state = State.waitingForHead
    /// The body of a response without one (never written to: the first chunk replaces it).
    private static let emptyBody = ByteBufferAllocator().buffer(capacity: 0)
    private var promise: EventLoopPromise<UpstreamResponse>
    /// The request asked for an upgrade: a 101 is the response, and the connection stays open.
    private let upgrade: Bool
    /// Runs on each response head and body part of the exchange in progress (the per-try idle
    /// timer); dropped when the exchange ends.
    var onActivity: (() -> Void)?
    /// Responses completed on this connection (`max_requests_per_connection`).
    private(set) var exchanges = 0

    /// The cluster's `idle_timeout`: a pooled connection idle for this long is closed
    /// (codec_client.cc `onIdleTimeout`); nil: never.
    private let idleTimeout: TimeAmount?
    private var idleClose: Scheduled<Void>?

    init(promise: EventLoopPromise<UpstreamResponse>, upgrade: Bool = false, idleTimeout: TimeAmount? = nil) {
        self.promise = promise
        self.upgrade = upgrade
        self.idleTimeout = idleTimeout
    }

    /// The next exchange on the pooled connection; false unless the connection is idle.
    func expect(_ promise: EventLoopPromise<UpstreamResponse>) -> Bool {
        guard case .idle = state else { return false }
        idleClose?.cancel()
        idleClose = nil
        self.promise = promise
        state = .waitingForHead
        return true
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        onActivity?()
        switch (state, unwrapInboundIn(data)) {
        case (.waitingForHead, .head(let head)):
            if upgrade && head.status.code == 101 {
                // Answered at its `.end`, after which the decoder parses nothing more.
                state = .receiving(head, Self.emptyBody)
                return
            }
            // 1xx interim responses are not forwarded (Envoy drops 100-continue by default).
            if head.status.code >= 100 && head.status.code < 200 { return }
            state = .receiving(head, Self.emptyBody)
        case (.receiving(let head, var body), .body(var chunk)):
            // The first chunk is kept as it is; later ones are appended to a buffer the state
            // no longer shares (so the append does not copy the whole body).
            if body.readableBytes == 0 {
                body = chunk
            } else {
                state = .done
                body.writeBuffer(&chunk)
            }
            state = .receiving(head, body)
        case (.receiving(let head, let body), .end(let trailers)):
            state = .done
            onActivity = nil
            exchanges += 1
            let upgraded = upgrade && head.status.code == 101
            let reusable = !upgrade && head.isKeepAlive
            var response = UpstreamResponse(
                status: Int(head.status.code), headers: head.headers.map { ($0.name.asciiLowercased, $0.value) }, body: body)
            response.reusable = reusable
            response.trailers = trailers.map { t in t.map { HTTPHeader($0.name.lowercased(), $0.value) } } ?? []
            // A keep-alive connection goes back to the pool with this handler idle; an accepted
            // upgrade is handed to a tunnel; anything else is closed.
            if reusable {
                state = .idle
                if let idleTimeout {
                    let channel = context.channel
                    idleClose = context.eventLoop.assumeIsolated().scheduleTask(in: idleTimeout) { channel.close(promise: nil) }
                }
            } else if !upgraded {
                context.close(promise: nil)
            }
            promise.succeed(response)
        case (.done, _), (.idle, _):
            // Nothing is expected: what an idle pooled connection receives is dropped.
            break
        case (.waitingForHead, _), (.receiving, .head):
            fail(context: context, .protocolError)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleClose?.cancel()
        idleClose = nil
        switch state {
        case .waitingForHead, .receiving: fail(context: context, .connectionTermination)
        case .idle, .done: break
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        switch state {
        case .waitingForHead, .receiving:
            // A failed TLS handshake is a failed connect, as in Envoy (the connection is up only
            // once the handshake is done).
            let refused = (error as? NIOHTTP2Errors.StreamClosed)?.errorCode == .refusedStream
            let failure =
                error as? UpstreamFailure
                ?? (refused
                    ? .refusedStream
                    : error is HTTPParserError ? .protocolError : error is NIOSSLError ? .connectionFailure : .connectionTermination)
            fail(context: context, failure)
        case .idle, .done: break
        }
    }

    private func fail(context: ChannelHandlerContext, _ f: UpstreamFailure) {
        state = .done
        onActivity = nil
        promise.fail(f)
        context.close(promise: nil)
    }
}
