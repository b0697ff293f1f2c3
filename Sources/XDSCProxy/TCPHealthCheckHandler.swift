import NIOCore
import NIOTLS

/// One TCP health check on its connection (`TcpActiveHealthCheckSession`,
/// health_checker_impl.cc): once connected (after the TLS handshake when the cluster has
/// TLS) writes `send`; with no `receive` payloads the check passes at once, else it passes
/// when the bytes read so far contain every `receive` payload in order, each after the
/// previous one (`TcpHealthCheckMatcher::match`). A connection that closes first is a network
/// failure (the prober's timeout closes it too). Completes each check's `result` exactly once.
/// With `reuse` (`reuse_connection`, Envoy's default) a passing check with `receive` payloads
/// leaves the connection open, and the session's next check writes `send` on it again
/// (``restart(result:)``; the bytes read before are drained); a check without payloads closes
/// it, as Envoy does.
final class TCPHealthCheckHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum State {
        /// Not connected yet (or the TLS handshake is not done).
        case connecting
        /// `send` is written; the bytes read so far.
        case receiving(ByteBuffer)
        /// A check passed and the connection is kept for the next one.
        case idle
        /// The result is given.
        case done
    }

    private var state = State.connecting
    private let send: [UInt8]
    private let receive: [[UInt8]]
    private let afterHandshake: Bool
    private let reuse: Bool
    private var result: EventLoopPromise<HealthCheckSession.Result>

    /// With `afterHandshake` the check starts at the TLS handshake's completion, else when
    /// the connection is up.
    init(
        send: [UInt8], receive: [[UInt8]], afterHandshake: Bool, reuse: Bool = false, result: EventLoopPromise<HealthCheckSession.Result>
    ) {
        self.send = send
        self.receive = receive
        self.afterHandshake = afterHandshake
        self.reuse = reuse
        self.result = result
    }

    /// Whether the connection waits, open, for the session's next check.
    var isIdle: Bool {
        if case .idle = state { return true }
        return false
    }

    /// The session's next check on the kept connection: writes `send` again; false (nothing
    /// done) unless the connection is idle.
    func restart(context: ChannelHandlerContext, result: EventLoopPromise<HealthCheckSession.Result>) -> Bool {
        guard case .idle = state, context.channel.isActive else { return false }
        self.result = result
        state = .connecting
        start(context: context)
        return true
    }

    /// Whether `bytes` contain each of `segments` in order, each after the end of the one before.
    static func matches(_ segments: [[UInt8]], in bytes: ByteBufferView) -> Bool {
        let haystack = Array(bytes)
        var start = 0
        for segment in segments {
            guard let found = firstIndex(of: segment, in: haystack, from: start) else { return false }
            start = found + segment.count
        }
        return true
    }

    private static func firstIndex(of needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty else { return start <= haystack.count ? start : nil }
        guard haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        for i in start...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
        }
        return nil
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive && !afterHandshake { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        if !afterHandshake { start(context: context) }
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if afterHandshake, case .handshakeCompleted? = event as? TLSUserEvent { start(context: context) }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        switch state {
        case .receiving(var read):
            read.writeBuffer(&chunk)
            if Self.matches(receive, in: read.readableBytesView) {
                finish(context: context, .success)
            } else {
                state = .receiving(read)
            }
        case .connecting, .idle, .done:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        switch state {
        case .connecting, .receiving:
            state = .done
            result.succeed(.networkFailure)
        case .idle:
            state = .done
        case .done:
            break
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // The close that follows gives the network failure.
        context.close(promise: nil)
    }

    private func start(context: ChannelHandlerContext) {
        guard case .connecting = state else { return }
        state = .receiving(context.channel.allocator.buffer(capacity: 0))
        if !send.isEmpty { context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: send)), promise: nil) }
        if receive.isEmpty { finish(context: context, .success) }
    }

    private func finish(context: ChannelHandlerContext, _ outcome: HealthCheckSession.Result) {
        // `onData`: a match drains the buffer and, with `reuse_connection`, keeps the
        // connection; a connect-only check always closes it (`onEvent`, `Connected`).
        if reuse && !receive.isEmpty && outcome == .success {
            state = .idle
            result.succeed(outcome)
            return
        }
        state = .done
        result.succeed(outcome)
        context.close(promise: nil)
    }
}
