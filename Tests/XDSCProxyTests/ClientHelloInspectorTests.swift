import NIOCore
import NIOEmbedded
import NIOSSL
import Testing

@testable import XDSCProxy

/// The `tls_inspector` stand-in on an `EmbeddedChannel`, fed a real ClientHello (written by
/// NIOSSL's client handler) in pieces, plain-text bytes, and an oversized hello.
@Suite struct ClientHelloInspectorTests {
    /// The bytes NIOSSL's client sends first for `sni` and `alpn`.
    static func clientHello(sni: String?, alpn: [String]) throws -> ByteBuffer {
        var c = TLSConfiguration.makeClientConfiguration()
        c.certificateVerification = .none
        c.applicationProtocols = alpn
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            try NIOSSLClientHandler(context: NIOSSLContext(configuration: c), serverHostname: sni))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 443)).wait()
        var hello = channel.allocator.buffer(capacity: 0)
        while var b = try channel.readOutbound(as: ByteBuffer.self) { hello.writeBuffer(&b) }
        _ = try? channel.finish()
        return hello
    }

    /// Feeds `chunks` to an inspector; the facts it handed over, and what reached the handler behind it.
    static func run(_ chunks: [ByteBuffer]) throws -> (facts: ConnectionFacts?, passed: ByteBuffer?, open: Bool) {
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8443)).wait()
        let seen = Box()
        try channel.pipeline.syncOperations.addHandler(ClientHelloInspector { facts, _ in seen.facts = facts })
        for c in chunks { try channel.writeInbound(c) }
        var passed: ByteBuffer?
        while var b = try channel.readInbound(as: ByteBuffer.self) {
            if passed == nil { passed = b } else { passed!.writeBuffer(&b) }
        }
        return (seen.facts, passed, channel.isActive)
    }

    final class Box { var facts: ConnectionFacts? }

    @Test func aClientHelloGivesTLSWithItsSNIAndALPN() throws {
        let hello = try Self.clientHello(sni: "API.Example.com", alpn: ["h2", "http/1.1"])
        // In three pieces: the record header split, then the rest.
        var rest = hello
        let a = rest.readSlice(length: 3)!
        let b = rest.readSlice(length: 40)!
        let r = try Self.run([a, b, rest])
        #expect(
            r.facts == ConnectionFacts(transportProtocol: "tls", serverName: "api.example.com", applicationProtocols: ["h2", "http/1.1"]))
        // Every byte goes on, in order, once the facts are known.
        #expect(r.passed == hello)
    }

    @Test func aHelloWithoutSNI() throws {
        let r = try Self.run([try Self.clientHello(sni: nil, alpn: [])])
        #expect(r.facts == ConnectionFacts(transportProtocol: "tls", serverName: "", applicationProtocols: []))
    }

    @Test func plainTextIsRawBuffer() throws {
        let bytes = ByteBuffer(string: "GET / HTTP/1.1\r\nhost: a\r\n\r\n")
        let r = try Self.run([bytes])
        #expect(r.facts == .uninspected)
        #expect(r.passed == bytes)
    }

    @Test func anIncompleteHelloWaits() throws {
        var hello = try Self.clientHello(sni: "a.example.com", alpn: [])
        let r = try Self.run([hello.readSlice(length: 20)!])
        #expect(r.facts == nil)
        #expect(r.passed == nil)
        #expect(r.open)
    }

    @Test func anOversizedHelloClosesTheConnection() throws {
        // A handshake record header announcing a 16 KiB record, repeated past 64 KiB, never a whole hello.
        var bytes = ByteBuffer()
        bytes.writeBytes([22, 3, 1, 0x40, 0x00, 1, 0x01, 0x00, 0x00])
        bytes.writeBytes([UInt8](repeating: 0, count: 0x4000 - 4))
        for _ in 0..<4 {
            bytes.writeBytes([22, 3, 1, 0x40, 0x00])
            bytes.writeBytes([UInt8](repeating: 0, count: 0x4000))
        }
        #expect(ClientHelloInspector.inspect(bytes) == .tooLarge)
        let r = try Self.run([bytes])
        #expect(r.facts == nil)
        #expect(!r.open)
    }

    @Test func noMatchingChainClosesTheConnection() throws {
        let channel = EmbeddedChannel()
        struct NoChain: Error {}
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8443)).wait()
        try channel.pipeline.syncOperations.addHandler(ClientHelloInspector { _, _ in throw NoChain() })
        #expect(channel.isActive)
        try channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\n\r\n"))
        #expect(!channel.isActive)
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
    }
}
