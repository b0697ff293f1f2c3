import NIOCore
import NIOEmbedded
import NIOSSL
import NIOTLS
import Testing
import XDSCEnvoy

@testable import XDSCProxy

/// The handshake check behind an upstream TLS client, on an `EmbeddedChannel` (the peer's
/// SANs are given instead of read from a TLS handler).
@Suite struct UpstreamTLSHandshakeHandlerTests {
    static let presented = [PresentedSAN(type: .dns, value: "*.example.com"), PresentedSAN(type: .ipAddress, value: "127.0.0.1")]

    /// A connected channel with the handler checking `check`; `verified` is made on its loop.
    static func channel(_ check: CertificateCheck) throws -> (EmbeddedChannel, EventLoopPromise<Void>) {
        let loop = EmbeddedEventLoop()
        let verified = loop.makePromise(of: Void.self)
        let channel = EmbeddedChannel(
            handler: UpstreamTLSHandshakeHandler(check: check, verified: verified) { _ in presented }, loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, verified)
    }

    @Test func writesWaitForTheHandshakeThenGoOnAndTheHandlerLeaves() throws {
        // `users.example.com` is covered by the wildcard SAN.
        let (channel, verified) = try Self.channel(CertificateCheck(matchers: [SubjectAltNameMatcher(.dns, .exact("users.example.com"))]))
        channel.writeAndFlush(ByteBuffer(string: "GET / HTTP/1.1\r\n\r\n"), promise: nil)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        channel.pipeline.fireUserInboundEventTriggered(TLSUserEvent.handshakeCompleted(negotiatedProtocol: "http/1.1"))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "GET / HTTP/1.1\r\n\r\n"))
        try verified.futureResult.wait()
        #expect(throws: ChannelPipelineError.self) { try channel.pipeline.syncOperations.handler(type: UpstreamTLSHandshakeHandler.self) }
        #expect(channel.isActive)
    }

    @Test func aCertificateWithoutAMatchingSANFailsTheConnection() throws {
        let (channel, verified) = try Self.channel(CertificateCheck(matchers: [SubjectAltNameMatcher(.dns, .exact("users.internal"))]))
        channel.write(ByteBuffer(string: "secret"), promise: nil)
        let held = channel.writeAndFlush(ByteBuffer(string: "more"))
        channel.pipeline.fireUserInboundEventTriggered(TLSUserEvent.handshakeCompleted(negotiatedProtocol: nil))
        let expected = UpstreamFailure.transportFailure(
            "TLS_error:|268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:verify cert failed: SAN matcher:TLS_error_end")
        #expect(throws: expected) { try channel.throwIfErrorCaught() }
        // Nothing written before the failure reaches the upstream.
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        #expect(!channel.isActive)
        #expect(throws: expected) { try held.wait() }
        #expect(throws: expected) { try verified.futureResult.wait() }
    }

    @Test func theVerifiedPromiseFailsWithTheFailure() throws {
        let loop = EmbeddedEventLoop()
        let verified = loop.makePromise(of: Void.self)
        let channel = EmbeddedChannel(loop: loop)
        try channel.pipeline.syncOperations.addHandler(
            UpstreamTLSHandshakeHandler(check: CertificateCheck(verifySubjectAltNames: ["shop.other.org"]), verified: verified) { _ in
                Self.presented
            })
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        channel.pipeline.fireUserInboundEventTriggered(TLSUserEvent.handshakeCompleted(negotiatedProtocol: "h2"))
        #expect(throws: UpstreamFailure.self) { try verified.futureResult.wait() }
        #expect(throws: UpstreamFailure.self) { try channel.throwIfErrorCaught() }
    }

    @Test func aHandshakeErrorWithoutBoringSSLErrorsIsAConnectionFailure() throws {
        let (channel, verified) = try Self.channel(CertificateCheck())
        channel.pipeline.fireErrorCaught(NIOSSLError.handshakeFailed(.sslError([])))
        #expect(throws: UpstreamFailure.connectionFailure) { try channel.throwIfErrorCaught() }
        #expect(!channel.isActive)
        #expect(throws: UpstreamFailure.connectionFailure) { try verified.futureResult.wait() }
    }

    @Test func otherErrorsPassThrough() throws {
        let (channel, verified) = try Self.channel(CertificateCheck())
        channel.pipeline.fireErrorCaught(ChannelError.connectTimeout(.seconds(1)))
        #expect(throws: ChannelError.self) { try channel.throwIfErrorCaught() }
        #expect(channel.isActive)
        verified.succeed(())
    }

    @Test func aCloseBeforeTheHandshakeFailsTheHeldWritesAndThePromise() throws {
        let loop = EmbeddedEventLoop()
        let verified = loop.makePromise(of: Void.self)
        let channel = EmbeddedChannel(loop: loop)
        try channel.pipeline.syncOperations.addHandler(
            UpstreamTLSHandshakeHandler(check: CertificateCheck(), verified: verified) { _ in [] })
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let held = channel.writeAndFlush(ByteBuffer(string: "x"))
        channel.pipeline.fireChannelInactive()
        #expect(throws: UpstreamFailure.connectionFailure) { try verified.futureResult.wait() }
        #expect(throws: ChannelError.ioOnClosedChannel) { try held.wait() }
    }

    @Test func writesAfterTheHandshakeGoStraightOn() throws {
        let (channel, _) = try Self.channel(CertificateCheck())
        channel.pipeline.fireUserInboundEventTriggered(TLSUserEvent.handshakeCompleted(negotiatedProtocol: nil))
        channel.writeAndFlush(ByteBuffer(string: "after"), promise: nil)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "after"))
    }
}
