import NIOCore

/// The first handler of a connection whose connection manager has `codec_type: AUTO`:
/// reads until the bytes show whether the client speaks HTTP/2 with prior knowledge (the
/// connection preface) or HTTP/1.1, puts that protocol's handlers behind itself, hands them
/// the bytes read so far and leaves the pipeline (`ConnectionManagerUtility::autoCreateCodec`
/// and `determineNextProtocol`, conn_manager_utility.cc).
///
/// Envoy decides on the first read: HTTP/2 when it starts with `PRI * HTTP/2`, else HTTP/1.
/// This handler waits while the bytes are a proper prefix of that, so a preface split over
/// several reads is still seen; a client that sends nothing within the client timeout is
/// closed.
final class ProtocolDetectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// What the bytes showed.
    enum Detected: Equatable {
        case http1, http2
    }

    enum State {
        /// Bytes read so far, not enough to decide.
        case detecting(ByteBuffer)
        /// The protocol's handlers are in place; this handler is leaving.
        case decided
        /// The connection closed or timed out before a decision.
        case closed
    }

    /// `Http2::CLIENT_MAGIC_PREFIX`: the shortest part of the preface that tells the versions apart.
    static let prefix = Array("PRI * HTTP/2".utf8)

    private var state = State.detecting(ByteBuffer())
    private let timeout: TimeAmount
    private let configure: (Detected, Channel) throws -> Void
    private var timer: Scheduled<Void>?

    /// `configure` adds the handlers of the detected protocol after this one.
    init(timeout: TimeAmount, configure: @escaping (Detected, Channel) throws -> Void) {
        self.timeout = timeout
        self.configure = configure
    }

    /// The protocol `bytes` show, or nil while they are a proper prefix of the preface.
    static func detect(_ bytes: ByteBufferView) -> Detected? {
        for (i, b) in zip(0..<prefix.count, bytes) where prefix[i] != b { return .http1 }
        return bytes.count >= prefix.count ? .http2 : nil
    }

    func handlerAdded(context: ChannelHandlerContext) {
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            guard case .detecting = self.state else { return }
            self.state = .closed
            context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        switch state {
        case .detecting(var buffered):
            buffered.writeBuffer(&chunk)
            guard let detected = Self.detect(buffered.readableBytesView) else {
                state = .detecting(buffered)
                return
            }
            decide(context: context, detected, buffered: buffered)
        case .decided:
            // Bytes read after the decision, before this handler left: for the protocol's handlers.
            context.fireChannelRead(data)
        case .closed:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        if case .detecting = state { state = .closed }
        context.fireChannelInactive()
    }

    private func decide(context: ChannelHandlerContext, _ detected: Detected, buffered: ByteBuffer) {
        timer?.cancel()
        state = .decided
        do {
            try configure(detected, context.channel)
        } catch {
            state = .closed
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(wrapInboundOut(buffered))
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
