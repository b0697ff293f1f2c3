import NIOCore

/// Envoy's `tls_inspector` listener filter: reads a new connection's first bytes until it
/// knows whether they are a TLS ClientHello, with which SNI and ALPN protocols, hands those
/// facts to `decide` (which adds the chosen filter chain's handlers behind it), passes the
/// bytes on and removes itself. Bytes that are not a ClientHello are `raw_buffer`; a
/// ClientHello over 64 KiB (`max_client_hello_size`) or nothing decisive within the
/// listener-filter timeout (15 s, `listener_filters_timeout`) closes the connection.
final class ClientHelloInspector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// `max_client_hello_size`'s default.
    static let maxClientHelloBytes = 64 * 1024

    enum State {
        /// Bytes so far (none yet, or not enough to decide).
        case inspecting(ByteBuffer?)
        /// The facts were handed over (or the connection is being closed).
        case done
    }

    /// What the bytes so far show.
    enum Inspection: Equatable {
        case needMore
        case facts(ConnectionFacts)
        /// Larger than `maxClientHelloBytes` without a whole ClientHello.
        case tooLarge
    }

    private var state = State.inspecting(nil)
    private let timeout: TimeAmount
    private let decide: (ConnectionFacts, ChannelHandlerContext) throws -> Void
    private var timer: Scheduled<Void>?

    /// An inspector that hands the facts to `decide` (on the event loop, before the bytes go on).
    init(timeout: TimeAmount = .seconds(15), decide: @escaping (ConnectionFacts, ChannelHandlerContext) throws -> Void) {
        self.timeout = timeout
        self.decide = decide
    }

    func handlerAdded(context: ChannelHandlerContext) {
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            guard case .inspecting = self.state else { return }
            self.state = .done
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        switch state {
        case .done:
            // Only until the removal completes.
            context.fireChannelRead(data)
        case .inspecting(var buffered):
            if buffered == nil {
                buffered = chunk
            } else {
                buffered!.writeBuffer(&chunk)
            }
            switch Self.inspect(buffered!) {
            case .needMore:
                state = .inspecting(buffered)
            case .tooLarge:
                state = .done
                context.close(promise: nil)
            case .facts(let facts):
                state = .done
                do {
                    try decide(facts, context)
                } catch {
                    // No filter chain for the connection: Envoy closes it.
                    context.close(promise: nil)
                    return
                }
                context.fireChannelRead(wrapInboundOut(buffered!))
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        state = .done
        timer?.cancel()
        context.fireChannelInactive()
    }

    // MARK: - The ClientHello

    /// What `bytes` (a connection's first bytes) show.
    static func inspect(_ bytes: ByteBuffer) -> Inspection {
        var records = bytes
        var handshake: [UInt8] = []
        while true {
            guard let type: UInt8 = records.getInteger(at: records.readerIndex) else { return .needMore }
            // A TLS handshake record (22) of version 3.x, else not TLS.
            guard type == 22 else { return .facts(.uninspected) }
            guard records.readableBytes >= 5 else { return .needMore }
            let major: UInt8 = records.getInteger(at: records.readerIndex + 1)!
            let length: UInt16 = records.getInteger(at: records.readerIndex + 3)!
            guard major == 3 else { return .facts(.uninspected) }
            guard records.readableBytes >= 5 + Int(length) else {
                return bytes.readableBytes > maxClientHelloBytes ? .tooLarge : .needMore
            }
            records.moveReaderIndex(forwardBy: 5)
            handshake += records.readBytes(length: Int(length))!
            if handshake.count >= 4 {
                guard handshake[0] == 1 else { return .facts(.uninspected) }
                let bodyLength = Int(handshake[1]) << 16 | Int(handshake[2]) << 8 | Int(handshake[3])
                if bodyLength > maxClientHelloBytes { return .tooLarge }
                if handshake.count >= 4 + bodyLength {
                    return .facts(clientHello(handshake[4..<(4 + bodyLength)]) ?? .uninspected)
                }
            }
            if bytes.readableBytes > maxClientHelloBytes { return .tooLarge }
        }
    }

    /// The SNI and ALPN of a ClientHello body; nil when it does not parse (not TLS for the
    /// chain match, as the inspector's parse failure).
    static func clientHello(_ body: ArraySlice<UInt8>) -> ConnectionFacts? {
        var r = Reader(bytes: body)
        guard r.skip(2 + 32), r.skipVector(lengthBytes: 1), r.skipVector(lengthBytes: 2), r.skipVector(lengthBytes: 1) else {
            return nil
        }
        var facts = ConnectionFacts(transportProtocol: "tls", serverName: "", applicationProtocols: [])
        guard r.remaining > 0 else { return facts }
        guard var extensions = r.vector(lengthBytes: 2) else { return nil }
        while extensions.remaining > 0 {
            guard let type = extensions.integer(2), var data = extensions.vector(lengthBytes: 2) else { return nil }
            switch type {
            case 0:  // server_name: a list of (type, name); the host_name (0) entry.
                guard var list = data.vector(lengthBytes: 2) else { return nil }
                while list.remaining > 0 {
                    guard let nameType = list.integer(1), let name = list.vector(lengthBytes: 2) else { return nil }
                    if nameType == 0 { facts.serverName = String(decoding: name.bytes, as: UTF8.self).lowercased() }
                }
            case 16:  // application_layer_protocol_negotiation
                guard var list = data.vector(lengthBytes: 2) else { return nil }
                while list.remaining > 0 {
                    guard let p = list.vector(lengthBytes: 1) else { return nil }
                    facts.applicationProtocols.append(String(decoding: p.bytes, as: UTF8.self))
                }
            default:
                break
            }
        }
        return facts
    }

    /// Big-endian reads over a slice.
    struct Reader {
        var bytes: ArraySlice<UInt8>
        var remaining: Int { bytes.count }

        mutating func skip(_ n: Int) -> Bool {
            guard bytes.count >= n else { return false }
            bytes = bytes.dropFirst(n)
            return true
        }

        mutating func integer(_ width: Int) -> Int? {
            guard bytes.count >= width else { return nil }
            let value = bytes.prefix(width).reduce(0) { $0 << 8 | Int($1) }
            bytes = bytes.dropFirst(width)
            return value
        }

        mutating func vector(lengthBytes: Int) -> Reader? {
            guard let n = integer(lengthBytes), bytes.count >= n else { return nil }
            let v = Reader(bytes: bytes.prefix(n))
            bytes = bytes.dropFirst(n)
            return v
        }

        mutating func skipVector(lengthBytes: Int) -> Bool { vector(lengthBytes: lengthBytes) != nil }
    }
}
