import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOSSL
import XDSCRequest

/// A response from an upstream, fully buffered (``UpstreamResponseCollector``).
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

/// What an upstream response handler hands the exchange it serves, part by part, as Envoy's
/// upstream request hands the router its response (router.cc `onUpstreamHeaders`,
/// `onUpstreamData`, `onUpstreamTrailers`, `onUpstreamComplete`, `onUpstreamReset`). `attempt`
/// is the token the exchange gave with itself: parts of an attempt it gave up on are ignored.
/// Each runs on the connection's event loop.
protocol UpstreamResponseReceiver: AnyObject {
    /// The response head (1xx interim responses are dropped; an accepted upgrade's 101 comes
    /// at its end, after which nothing more does), names lower-cased.
    func upstreamHead(_ attempt: Int, status: Int, headers: [(name: String, value: String)])
    /// A part of the body.
    func upstreamBody(_ attempt: Int, _ chunk: ByteBuffer)
    /// The connection's read burst ended with the response still in progress: what was
    /// written downstream can be flushed.
    func upstreamReadComplete(_ attempt: Int)
    /// The response ended, with its trailers (names lower-case). `reusable`: the connection can
    /// carry another request (HTTP/1.1 keep-alive); the handler is idle and the channel open.
    func upstreamEnd(_ attempt: Int, trailers: [HTTPHeader], reusable: Bool)
    /// The attempt produced no complete response.
    func upstreamFailed(_ attempt: Int, _ failure: UpstreamFailure)
    /// The connection can take more of the request (`writable`) or not (Envoy's upstream
    /// watermarks, which stop reading the downstream while a request body streams).
    func upstreamWritable(_ attempt: Int, _ writable: Bool)
}

extension UpstreamResponseReceiver {
    /// A receiver that sends no streamed request body does not care.
    func upstreamWritable(_ attempt: Int, _ writable: Bool) {}
}

/// Collects a whole response and completes a promise with it (health checks, the traffic
/// client, tests: the callers that want the response buffered).
final class UpstreamResponseCollector: UpstreamResponseReceiver {
    private let promise: EventLoopPromise<UpstreamResponse>
    private var response = UpstreamResponse(status: 0, headers: [], body: ByteBuffer())

    init(_ promise: EventLoopPromise<UpstreamResponse>) { self.promise = promise }

    func upstreamHead(_ attempt: Int, status: Int, headers: [(name: String, value: String)]) {
        response.status = status
        response.headers = headers
    }

    func upstreamBody(_ attempt: Int, _ chunk: ByteBuffer) {
        // The first chunk is kept as it is; later ones are appended.
        if response.body.readableBytes == 0 {
            response.body = chunk
        } else {
            var chunk = chunk
            response.body.writeBuffer(&chunk)
        }
    }

    func upstreamReadComplete(_ attempt: Int) {}

    func upstreamEnd(_ attempt: Int, trailers: [HTTPHeader], reusable: Bool) {
        response.trailers = trailers
        response.reusable = reusable
        promise.succeed(response)
    }

    func upstreamFailed(_ attempt: Int, _ failure: UpstreamFailure) { promise.fail(failure) }
}

/// One upstream exchange at a time on a client connection: hands the response to the request
/// written on it to its receiver as it arrives (head, body parts, end), or a failure. On a
/// keep-alive connection it stays in the pipeline while the connection is pooled (`idle`), and
/// the next request's exchange takes it over with ``expect(_:attempt:)``. While the receiver
/// cannot pass the response on (``holdReads(_:)``, the downstream is not writable) it holds
/// the channel's reads back, as Envoy's watermarks stop reading the upstream.
final class UpstreamResponseHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    // Outbound parts pass through untouched (only `read` is looked at).
    typealias OutboundIn = Any
    typealias OutboundOut = Any

    enum State {
        case waitingForHead
        /// An accepted upgrade's 101 until its end (the decoder parses nothing after it).
        case upgrading(status: Int, headers: [(name: String, value: String)])
        /// The head was handed on; `keepAlive`: the connection may carry another request.
        case receiving(keepAlive: Bool)
        /// The response was complete and the connection can carry another request: pooled.
        case idle
        case done
    }

    private(set) var state = State.waitingForHead
    private var receiver: UpstreamResponseReceiver?
    private var attempt: Int
    /// The request asked for an upgrade: a 101 is the response, and the connection stays open.
    private let upgrade: Bool
    /// Responses completed on this connection (`max_requests_per_connection`).
    private(set) var exchanges = 0
    /// Reads are held back (``holdReads(_:)``), and one was asked for meanwhile.
    private var readsHeld = false
    private var readPending = false
    private var context: ChannelHandlerContext?

    /// The cluster's `idle_timeout`: a pooled connection idle for this long is closed
    /// (codec_client.cc `onIdleTimeout`); nil: never.
    private let idleTimeout: TimeAmount?
    private var idleClose: Scheduled<Void>?

    init(receiver: UpstreamResponseReceiver, attempt: Int = 0, upgrade: Bool = false, idleTimeout: TimeAmount? = nil) {
        self.receiver = receiver
        self.attempt = attempt
        self.upgrade = upgrade
        self.idleTimeout = idleTimeout
    }

    /// A handler whose whole response completes `promise`.
    convenience init(promise: EventLoopPromise<UpstreamResponse>, upgrade: Bool = false, idleTimeout: TimeAmount? = nil) {
        self.init(receiver: UpstreamResponseCollector(promise), upgrade: upgrade, idleTimeout: idleTimeout)
    }

    /// The next exchange on the pooled connection; false unless the connection is idle.
    func expect(_ receiver: UpstreamResponseReceiver, attempt: Int) -> Bool {
        guard case .idle = state else { return false }
        idleClose?.cancel()
        idleClose = nil
        self.receiver = receiver
        self.attempt = attempt
        state = .waitingForHead
        return true
    }

    /// The next exchange on the pooled connection, its whole response completing `promise`.
    func expect(_ promise: EventLoopPromise<UpstreamResponse>) -> Bool {
        expect(UpstreamResponseCollector(promise), attempt: 0)
    }

    /// Holds the channel's reads back (`hold`) while a response is being received, or lets them
    /// go on. Once the response is over, reads always go on (a pooled connection must see its close).
    func holdReads(_ hold: Bool) {
        guard case .receiving = state else {
            readsHeld = false
            return
        }
        readsHeld = hold
        if !hold { readHeldBack() }
    }

    /// A read held back, if any, is made now.
    private func readHeldBack() {
        readsHeld = false
        if readPending, let context {
            readPending = false
            context.read()
        }
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        readHeldBack()
        self.context = nil
    }

    func read(context: ChannelHandlerContext) {
        if readsHeld {
            readPending = true
        } else {
            context.read()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (state, unwrapInboundIn(data)) {
        case (.waitingForHead, .head(let head)):
            let status = Int(head.status.code)
            // Built labelled: an unlabelled array would be cast element by element at run time.
            let headers = head.headers.map { (name: $0.name.asciiLowercased, value: $0.value) }
            if upgrade && status == 101 {
                // Handed on at its `.end`, after which the decoder parses nothing more.
                state = .upgrading(status: status, headers: headers)
                return
            }
            // 1xx interim responses are not forwarded (Envoy drops 100-continue by default).
            if status >= 100 && status < 200 { return }
            state = .receiving(keepAlive: !upgrade && head.isKeepAlive)
            receiver?.upstreamHead(attempt, status: status, headers: headers)
        case (.receiving, .body(let chunk)):
            receiver?.upstreamBody(attempt, chunk)
        case (.receiving(let keepAlive), .end(let trailers)):
            let receiver = self.receiver
            self.receiver = nil
            exchanges += 1
            readHeldBack()
            // A keep-alive connection goes back to the pool with this handler idle; anything
            // else is closed.
            if keepAlive {
                state = .idle
                if let idleTimeout {
                    let channel = context.channel
                    idleClose = context.eventLoop.assumeIsolated().scheduleTask(in: idleTimeout) { channel.close(promise: nil) }
                }
            } else {
                state = .done
                context.close(promise: nil)
            }
            receiver?.upstreamEnd(attempt, trailers: Self.lowerCased(trailers), reusable: keepAlive)
        case (.upgrading(let status, let headers), .end):
            // An accepted upgrade is handed to a tunnel, open.
            let receiver = self.receiver
            self.receiver = nil
            state = .done
            exchanges += 1
            receiver?.upstreamHead(attempt, status: status, headers: headers)
        case (.done, _), (.idle, _):
            // Nothing is expected: what an idle pooled connection receives is dropped.
            break
        case (.waitingForHead, _), (.receiving, .head), (.upgrading, _):
            fail(context: context, .protocolError)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if case .receiving = state { receiver?.upstreamReadComplete(attempt) }
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        receiver?.upstreamWritable(attempt, context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleClose?.cancel()
        idleClose = nil
        switch state {
        case .waitingForHead, .receiving, .upgrading: fail(context: context, .connectionTermination)
        case .idle, .done: break
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        switch state {
        case .waitingForHead, .receiving, .upgrading:
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
        let receiver = self.receiver
        self.receiver = nil
        context.close(promise: nil)
        receiver?.upstreamFailed(attempt, f)
    }

    /// Trailers with lower-case names (none: empty).
    private static func lowerCased(_ trailers: HTTPHeaders?) -> [HTTPHeader] {
        trailers.map { t in t.map { HTTPHeader($0.name.lowercased(), $0.value) } } ?? []
    }
}
