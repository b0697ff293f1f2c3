import NIOCore
import NIOSSL
import NIOTLS

/// Sits behind the TLS client of an upstream connection until its handshake is done, as
/// Envoy's upstream connection is not `Connected` before (`SslSocket::onSuccess`): holds the
/// request bytes written meanwhile, checks the certificate's SANs (`CertificateCheck`) once
/// the handshake completes, then lets the bytes through and leaves the pipeline. A handshake
/// that fails, in BoringSSL or in the check, fails the connection with
/// `UpstreamFailure.transportFailure` and Envoy's transport failure reason (the router's
/// 503 body names it); nothing written reaches the upstream.
final class UpstreamTLSHandshakeHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias InboundOut = NIOAny
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    enum State {
        /// Before the handshake completes: the writes held back, and whether a flush was asked for.
        case handshaking([(NIOAny, EventLoopPromise<Void>?)], flushed: Bool)
        /// The certificate passed; the held writes went on.
        case verified
        /// The handshake failed or the connection closed first.
        case failed
    }

    private var state = State.handshaking([], flushed: false)
    private let check: CertificateCheck
    private let verified: EventLoopPromise<Void>?
    private let presentedSANs: (ChannelHandlerContext) -> [PresentedSAN]

    /// `verified` succeeds when requests may go, and fails with the connection's failure;
    /// `presentedSANs` reads the peer certificate (by default from the pipeline's TLS handler).
    init(
        check: CertificateCheck, verified: EventLoopPromise<Void>? = nil,
        presentedSANs: @escaping (ChannelHandlerContext) -> [PresentedSAN] = UpstreamTLSHandshakeHandler.peerSANs
    ) {
        self.check = check
        self.verified = verified
        self.presentedSANs = presentedSANs
    }

    /// The SANs of the certificate the TLS handler in front of `context` received.
    static func peerSANs(_ context: ChannelHandlerContext) -> [PresentedSAN] {
        guard let tls = try? context.pipeline.syncOperations.handler(type: NIOSSLHandler.self), let leaf = tls.peerCertificate else {
            return []
        }
        return PresentedSAN.of(leaf)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case .handshakeCompleted? = event as? TLSUserEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        switch state {
        case .handshaking(let held, let flushed):
            if !check.isEmpty, let detail = check.failure(presentedSANs(context)) {
                fail(context: context, .transportFailure(TransportFailureReason.certificateCheck(detail)))
                return
            }
            state = .verified
            context.fireUserInboundEventTriggered(event)
            for (data, promise) in held { context.write(data, promise: promise) }
            if flushed { context.flush() }
            verified?.succeed(())
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        case .verified:
            context.fireUserInboundEventTriggered(event)
        case .failed:
            break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        switch state {
        case .handshaking:
            guard let tls = error as? NIOSSLError, case .handshakeFailed = tls else {
                context.fireErrorCaught(error)
                return
            }
            fail(context: context, TransportFailureReason.of(tls).map(UpstreamFailure.transportFailure) ?? .connectionFailure)
        case .verified:
            context.fireErrorCaught(error)
        case .failed:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .handshaking(let held, _) = state {
            state = .failed
            for (_, promise) in held { promise?.fail(ChannelError.ioOnClosedChannel) }
            verified?.fail(UpstreamFailure.connectionFailure)
        }
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // Removed before the handshake finished (the connect failed, or the pipeline went):
        // nothing is left waiting.
        if case .handshaking(let held, _) = state {
            state = .failed
            for (_, promise) in held { promise?.fail(ChannelError.ioOnClosedChannel) }
            verified?.fail(UpstreamFailure.connectionFailure)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch state {
        case .handshaking(var held, let flushed):
            held.append((data, promise))
            state = .handshaking(held, flushed: flushed)
        case .verified:
            context.write(data, promise: promise)
        case .failed:
            promise?.fail(ChannelError.ioOnClosedChannel)
        }
    }

    func flush(context: ChannelHandlerContext) {
        switch state {
        case .handshaking(let held, _): state = .handshaking(held, flushed: true)
        case .verified: context.flush()
        case .failed: break
        }
    }

    /// The connection fails: the held writes are dropped, the handlers behind learn why, and
    /// the connection closes.
    private func fail(context: ChannelHandlerContext, _ failure: UpstreamFailure) {
        guard case .handshaking(let held, _) = state else { return }
        state = .failed
        for (_, promise) in held { promise?.fail(failure) }
        verified?.fail(failure)
        context.fireErrorCaught(failure)
        context.close(promise: nil)
    }
}
