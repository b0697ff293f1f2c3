import NIOCore
import NIOEmbedded
import NIOHTTP1
import XDSCDiagnostics
import XDSCEnvoyReader
import XDSCProxy
import XDSCRouteEngine

/// Harness 5: the proxy's downstream request handling (`DownstreamPipeline`: decoder,
/// pipelining, protocol errors, limits, routing, filters, local replies) on an
/// `EmbeddedChannel`, fed the fuzzer's bytes as the wire.
///
/// Input: the first byte picks how the rest is cut into reads (1, 2, 3, 7, 16, 64 bytes or
/// whole), so framing is tried across read boundaries; the rest is the wire. After the last
/// read the loop's clock moves on past every fault delay.
///
/// A wire that starts with the HTTP/2 preface (`PRI * HTTP/2`) is served by the HTTP/2
/// handlers (`DownstreamPipeline.configureHTTP2`, as `codec_type: AUTO` would pick them); its
/// invariants: no crash or hang, no error escapes, the bytes written back are whole HTTP/2
/// frames starting with the server's SETTINGS, a `GOAWAY` is followed by the close, and the
/// listener still answers the HTTP/1.1 health check afterwards.
///
/// Invariants: no crash or hang; the bytes written back are whole HTTP/1.1 responses and
/// nothing else (strict framing, `WireResponseParser`); only the last response may say
/// `connection: close`, and after it the connection is closed; on a connection still open,
/// every request the decoder finished got exactly one response; on a closed one, no more
/// responses than requests begun plus the one error reply; and afterwards a new connection
/// to the same listener still answers `GET /healthz` with 200 `ok`.
public enum ProxyHarness {
    /// Small limits, so that short inputs reach the 431 and 413 replies.
    static let options: ProxyOptions = {
        var o = ProxyOptions()
        o.seed = 1
        o.maxRequestHeaderBytes = 400
        o.maxRequestBodyBytes = 64
        return o
    }()

    /// The listener every input talks to (one for the whole run, as one server serves many
    /// connections).
    static let listener = DownstreamPipeline(
        serving: ProxyListener(name: "fuzz", port: 0, engine: RouteEngine(ProxyHarnessTable.configuration)), options: options)

    static let readSizes = [1, 2, 3, 7, 16, 64, Int.max]

    /// Runs the harness; a violation stops the process (libFuzzer reports it).
    public static func run(_ bytes: [UInt8]) { trap(violation(bytes)) }

    /// The first broken invariant for `bytes`, or nil.
    public static func violation(_ bytes: [UInt8]) -> Violation? {
        let size = readSizes[Int(bytes.first ?? 0) % readSizes.count]
        let wire = Array(bytes.dropFirst())
        let http2 = wire.starts(with: http2Prefix)
        let connection: Connection
        do { connection = try Connection(http2: http2) } catch { return "cannot set up the connection: \(error)" }
        var offset = 0
        while offset < wire.count && connection.channel.isActive {
            let end = wire.count - offset <= size ? wire.count : offset + size
            if let v = connection.write(wire[offset..<end]) { return v }
            offset = end
        }
        connection.channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        if let v = http2 ? checkHTTP2(connection) : check(connection) { return v }
        connection.finish()
        return healthCheck()
    }

    /// The invariants on what one connection wrote back.
    static func check(_ connection: Connection) -> Violation? {
        let closed = !connection.channel.isActive
        let out = connection.output()
        let methods = connection.counter.methods
        let responses: [WireResponse]
        switch WireResponseParser.parse(out, methods: methods, closed: closed) {
        case .success(let r): responses = r
        case .failure(let e): return "\(e.message) in \(show(out))"
        }
        if let i = responses.dropLast().firstIndex(where: \.closes) {
            return "response #\(i) says `connection: close` but response #\(i + 1) follows"
        }
        if responses.last?.closes == true && !closed { return "the connection stays open after `connection: close`" }
        if !closed && responses.count != connection.counter.ends {
            return "open connection: \(connection.counter.ends) requests ended, \(responses.count) responses"
        }
        if closed && responses.count > methods.count + 1 {
            return "closed connection: \(methods.count) requests begun, \(responses.count) responses"
        }
        return nil
    }

    /// `Http2::CLIENT_MAGIC_PREFIX`.
    static let http2Prefix = Array("PRI * HTTP/2".utf8)

    /// The invariants on what one HTTP/2 connection wrote back: whole frames, SETTINGS first,
    /// closed after a GOAWAY.
    static func checkHTTP2(_ connection: Connection) -> Violation? {
        let out = connection.output()
        var types: [UInt8] = []
        var i = 0
        while i + 9 <= out.count {
            let length = Int(out[i]) << 16 | Int(out[i + 1]) << 8 | Int(out[i + 2])
            guard i + 9 + length <= out.count else { break }
            types.append(out[i + 3])
            i += 9 + length
        }
        if i != out.count { return "the bytes written back end in a partial HTTP/2 frame: \(show(out))" }
        if let first = types.first, first != 4 { return "the first frame written back is type \(first), not SETTINGS" }
        if types.contains(7) && connection.channel.isActive { return "the connection stays open after GOAWAY" }
        return nil
    }

    /// A well-formed request on a new connection is still answered.
    static func healthCheck() -> Violation? {
        guard let connection = try? Connection() else { return "cannot set up the health-check connection" }
        defer { connection.finish() }
        if let v = connection.write(Array("GET /healthz HTTP/1.1\r\nhost: api.example.com\r\n\r\n".utf8)[...]) { return v }
        let out = connection.output()
        guard case .success(let r) = WireResponseParser.parse(out, methods: ["GET"], closed: false), r.count == 1,
            r[0].status == 200, r[0].body == Array("ok".utf8)
        else { return "the listener no longer answers GET /healthz: \(show(out))" }
        return nil
    }

    static func show(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.prefix(600), as: UTF8.self).debugDescription
    }

    /// One downstream connection on an `EmbeddedChannel`, with a `RequestCounter` behind the
    /// decoder.
    final class Connection {
        let channel = EmbeddedChannel()
        let counter = RequestCounter()

        /// HTTP/1.1 handlers, or with `http2` the HTTP/2 ones (the counter then sees nothing).
        init(http2: Bool = false) throws {
            let sync = channel.pipeline.syncOperations
            if http2 {
                try listener.configureHTTP2(channel: channel)
            } else {
                try listener.configure(sync)
                let decoder = try sync.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
                try sync.addHandler(counter, position: .after(decoder))
            }
            try channel.connect(to: SocketAddress(ipAddress: "192.0.2.1", port: 40000)).wait()
        }

        /// Writes one read's worth of bytes and runs what it scheduled.
        func write(_ bytes: ArraySlice<UInt8>) -> Violation? {
            do {
                try channel.writeInbound(channel.allocator.buffer(bytes: bytes))
            } catch {
                // The handlers consume every error; one that reaches the end of the pipeline escaped.
                return "an error escaped the pipeline: \(error)"
            }
            channel.embeddedEventLoop.run()
            return nil
        }

        /// Every byte written back so far.
        func output() -> [UInt8] {
            var out: [UInt8] = []
            while let part = try? channel.readOutbound(as: IOData.self) {
                guard case .byteBuffer(var b) = part else { continue }
                out += b.readBytes(length: b.readableBytes) ?? []
            }
            return out
        }

        /// Closes the connection as a peer going away does.
        func finish() {
            _ = try? channel.finish(acceptAlreadyClosed: true)
        }
    }
}
