import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import XDSCProxy

/// An upstream that reads a request's head, then (if it `stalls`) stops reading until told to
/// go on; it answers 200 once the whole body (by `content-length`) is in, counting its bytes.
final class StalledUpstream: Sendable {
    let received = NIOLockedValueBox(0)
    let channel = NIOLockedValueBox<Channel?>(nil)

    /// Reading goes on.
    func resume() {
        guard let ch = channel.withLockedValue({ $0 }) else { return }
        ch.eventLoop.execute {
            ch.setOption(.autoRead, value: true).whenComplete { _ in ch.read() }
        }
    }
}

final class StalledUpstreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let upstream: StalledUpstream
    private let stalls: Bool
    private var head = ""
    private var length: Int?
    private var body = 0

    init(_ upstream: StalledUpstream, stalls: Bool = true) {
        self.upstream = upstream
        self.stalls = stalls
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if length == nil {
            head += buffer.readString(length: buffer.readableBytes) ?? ""
            guard let end = head.range(of: "\r\n\r\n") else { return }
            let lines = head[..<end.lowerBound].components(separatedBy: "\r\n")
            length =
                lines.first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            body = head[end.upperBound...].utf8.count
            // Reads stop here, with the body still to come.
            upstream.channel.withLockedValue { $0 = context.channel }
            if stalls { context.channel.setOption(.autoRead, value: false).whenComplete { _ in } }
        } else {
            body += buffer.readableBytes
        }
        upstream.received.withLockedValue { $0 = body }
        if let length, body >= length {
            let ok = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: ok)), promise: nil)
        }
    }
}

/// Backpressure on a request body (Envoy's watermarks: a full upstream connection stops the
/// reads of the downstream one): while the upstream does not read, the proxy does not read the
/// client either, so the body backs up to the client instead of into the proxy's memory.
@Suite(.timeLimit(.minutes(1)))
struct RequestBackpressureEndToEndTests {
    /// The body sent: ten times what the client gets written before it stalls on this
    /// machine's loopback (about 4 MiB: socket buffers and the proxy's read), small enough
    /// not to load the rest of the suite.
    static let total = 40 * 1024 * 1024

    /// Sends a request with a ``total``-byte body through the proxy on `port` as fast as the
    /// connection takes it, from a client with a small send buffer; after 1.5 s checks that the
    /// client is stuck well short of the end, then `resume()`s the stalled reader and checks the
    /// whole body went through and the answer is 200.
    static func sendWhileStalled(port: Int, stalledBy reader: String, resume: () -> Void) async throws {
        let (channel, all) = try await TestClient.open(port: port)
        try await channel.setOption(.socketOption(.so_sndbuf), value: 64 * 1024).get()
        let chunk = 1024 * 1024
        try await channel.writeAndFlush(
            channel.allocator.buffer(string: "PUT /up HTTP/1.1\r\nhost: a\r\nconnection: close\r\ncontent-length: \(total)\r\n\r\n"))
        let part = channel.allocator.buffer(repeating: UInt8(ascii: "z"), count: chunk)
        let written = NIOLockedValueBox(0)
        for _ in 0..<(total / chunk) {
            channel.write(part).whenSuccess { written.withLockedValue { $0 += chunk } }
        }
        channel.flush()
        try await Task.sleep(nanoseconds: 1_500_000_000)
        // What the kernel and the proxy hold is far less than the body: the client is stuck.
        let sent = written.withLockedValue { $0 }
        #expect(sent < total / 2, "the client wrote \(sent) of \(total) bytes while \(reader) read none")
        resume()
        let bytes = try await all.futureResult.get()
        #expect(TestClient.parse(String(decoding: bytes, as: UTF8.self)).status == 200)
        #expect(written.withLockedValue { $0 } == total)
    }

    @Test func aStalledUpstreamStopsTheClientsBody() async throws {
        let upstream = StalledUpstream()
        let table =
            #"{"name": "main", "virtual_hosts": [{"name": "s", "domains": ["*"], "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "svc"}}]}]}"#
        let stalled: @Sendable () -> ChannelHandler = { StalledUpstreamHandler(upstream) }
        try await Fixtures.withProxy(table: table, upstream: stalled, upstreamReceiveBuffer: 64 * 1024) { port in
            try await Self.sendWhileStalled(port: port, stalledBy: "the upstream") {
                // The upstream read only what came with the head.
                #expect(upstream.received.withLockedValue { $0 } < 1024 * 1024)
                upstream.resume()
            }
            #expect(upstream.received.withLockedValue { $0 } == Self.total)
        }
    }

    /// A mirror's upstream that stops reading stops the client too, while the body streams: the
    /// shadow stream joins the router's watermarks (router.cc `setWatermarkCallbacks`). The
    /// original request's upstream reads on and gets the whole body once the mirror does.
    @Test func aStalledMirrorStopsTheClientsBody() async throws {
        let mirror = StalledUpstream()
        let shadowServer = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelOption(.socketOption(.so_rcvbuf), value: 64 * 1024)
            .childChannelInitializer { ch in
                ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(StalledUpstreamHandler(mirror)) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { shadowServer.close(promise: nil) }
        let shadowPort = try #require(shadowServer.localAddress?.port)
        let main = StalledUpstream()
        let table = """
            {"name": "main", "virtual_hosts": [{"name": "s", "domains": ["*"], "routes": [{"match": {"prefix": "/"},
             "route": {"cluster": "svc", "request_mirror_policies": [{"cluster": "shadow"}]}}]}]}
            """
        let reading: @Sendable () -> ChannelHandler = { StalledUpstreamHandler(main, stalls: false) }
        func addShadow(_ config: inout ProxyConfiguration) {
            config.clusters["shadow"] = [ProxyEndpoint(host: "127.0.0.1", port: shadowPort)]
        }
        try await Fixtures.withProxy(table: table, upstream: reading, configure: addShadow) { port in
            try await Self.sendWhileStalled(port: port, stalledBy: "the mirror", resume: mirror.resume)
            #expect(main.received.withLockedValue { $0 } == Self.total)
        }
    }
}
