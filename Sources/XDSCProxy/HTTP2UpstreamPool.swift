import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import XDSCRequest

/// The upstream HTTP/2 connections: a pool per endpoint address, priority and TLS identity
/// (Envoy's pools are per host and priority, cluster_manager_impl.cc `httpConnPoolImpl`),
/// each request a stream of its own (`codec_client.cc`, `http2/conn_pool.cc`). Connections
/// are h2c with prior knowledge (the client preface is sent at once, without an upgrade), or
/// h2 over TLS for a cluster with a TLS transport socket (ALPN offers `h2`; the connection is
/// used once the handshake and its certificate check are done).
///
/// A connection carries at most its stream limit: the cluster's
/// `http2_protocol_options.max_concurrent_streams` (2147483647 by default), lowered to the
/// `SETTINGS_MAX_CONCURRENT_STREAMS` the upstream sends (``PeerSettingsHandler``; Envoy's
/// `ActiveClient` capacity, `onSettings`). A stream goes on the first connected connection with
/// room, else on a connecting one with room, else a new connection is dialled, within the
/// cluster's `max_connections` at the priority, which admits a pool's first connection
/// anyway (conn_pool_base.cc `tryCreateNewConnection`); over it the stream waits for a stream
/// of the pool to end, or a connection to close. A stream that is not on a connected
/// connection is pending (`max_pending_requests`, `newStreamImpl`). A connection that fails
/// or closes leaves the pool.
final class HTTP2UpstreamPool: Sendable {
    /// An open HTTP/2 connection.
    struct Connection: Sendable {
        var channel: Channel
        var multiplexer: NIOHTTP2Handler.StreamMultiplexer
    }

    /// Where one stream goes: a connection of a pool (its slot held until ``release(_:)``).
    struct Grant: Sendable {
        let key: String
        let client: Int
        let connection: EventLoopFuture<Connection>
        /// The connection was up when the stream got it (else the stream is pending).
        let connected: Bool
    }

    /// The outcome of asking for a stream.
    enum Reservation {
        case granted(Grant)
        /// No room and no new connection: completed with a slot, or nil to ask again.
        case waiting(EventLoopFuture<Grant?>)
        /// `max_pending_requests` refused the stream.
        case overflow
    }

    /// One connection of a pool (Envoy's `ActiveClient`).
    private struct Client {
        let id: Int
        let connection: EventLoopFuture<Connection>
        let configuredLimit: Int
        var connected = false
        var streams = 0
        var limit: Int
        /// Streams it may still open (`max_requests_per_connection`; Int.max: no limit). At 0
        /// it drains: no new stream, closed when its last one ends (`remaining_streams_`).
        var remaining = Int.max
        var hasRoom: Bool { streams < limit && remaining > 0 }
        var drained: Bool { remaining == 0 && streams == 0 }

        /// One more stream on it.
        mutating func open() {
            streams += 1
            if remaining != Int.max { remaining -= 1 }
        }
    }

    private struct Pools {
        var clients: [String: [Client]] = [:]
        var waiters: [String: [EventLoopPromise<Grant?>]] = [:]
        var nextID = 0
    }

    private let pools = NIOLockedValueBox(Pools())

    /// Where `target`'s streams go: one pool per address, priority and TLS identity.
    static func key(_ target: UpstreamTargets.Target) -> String {
        "\(target.host):\(target.port)" + (target.priority == .high ? "|high" : "") + (target.tls.map { "|" + $0.connectionKey } ?? "")
    }

    /// A slot for one stream to `target`. `admitPending` is asked when the stream would be
    /// pending (false: overflow), `mayConnect` before a new connection is dialled (its argument:
    /// the pool has none), and `closed` runs when a connection so dialled is gone.
    func reserve(
        _ target: UpstreamTargets.Target, eventLoop: EventLoop, connectTimeout: TimeAmount, streamLimit: Int,
        admitPending: () -> Bool, mayConnect: (Bool) -> Bool, closed: @escaping @Sendable () -> Void
    ) -> Reservation {
        let key = Self.key(target)
        let limit = max(1, streamLimit)
        var dialled: Client?
        let reservation = pools.withLockedValue { all -> Reservation in
            var list = all.clients[key] ?? []
            defer { all.clients[key] = list.isEmpty ? nil : list }
            if let i = list.firstIndex(where: { $0.connected && $0.hasRoom }) {
                list[i].open()
                return .granted(Grant(key: key, client: list[i].id, connection: list[i].connection, connected: true))
            }
            guard admitPending() else { return .overflow }
            if let i = list.firstIndex(where: { !$0.connected && $0.hasRoom }) {
                list[i].open()
                return .granted(Grant(key: key, client: list[i].id, connection: list[i].connection, connected: false))
            }
            guard mayConnect(list.isEmpty) else {
                let p = eventLoop.makePromise(of: Grant?.self)
                all.waiters[key, default: []].append(p)
                return .waiting(p.futureResult)
            }
            all.nextID += 1
            let id = all.nextID
            let settings: @Sendable (Int) -> Void = { [weak self] peer in self?.peerLimit(key, id, peer) }
            let connection = Self.connect(target, eventLoop: eventLoop, connectTimeout: connectTimeout, peerStreamLimit: settings)
            var client = Client(id: id, connection: connection, configuredLimit: limit, limit: limit)
            if target.maxRequestsPerConnection > 0 { client.remaining = target.maxRequestsPerConnection }
            client.open()
            list.append(client)
            dialled = client
            return .granted(Grant(key: key, client: id, connection: connection, connected: false))
        }
        if let dialled { watch(dialled, key, closed: closed) }
        return reservation
    }

    /// Follows a dialled connection: connected, then gone (or failed).
    private func watch(_ client: Client, _ key: String, closed: @escaping @Sendable () -> Void) {
        let id = client.id
        let gone: @Sendable () -> Void = { [weak self] in
            closed()
            self?.remove(key, id)
        }
        client.connection.whenComplete { [weak self] result in
            switch result {
            case .failure: gone()
            case .success(let c):
                let waiting = self?.update(key, id) { $0.connected = true } ?? []
                waiting.forEach { $0.succeed(nil) }
                c.channel.closeFuture.whenComplete { _ in gone() }
            }
        }
    }

    /// The stream that held `grant` ended: its slot goes to the first waiter, if any. A
    /// drained connection (`max_requests_per_connection` streams) is closed once its last
    /// stream ends; its waiters ask again when it is gone.
    func release(_ grant: Grant) {
        let (handed, drained) = pools.withLockedValue { all -> (EventLoopPromise<Grant?>?, Bool) in
            guard let i = all.clients[grant.key]?.firstIndex(where: { $0.id == grant.client }) else { return (nil, false) }
            let client = all.clients[grant.key]![i]
            if var w = all.waiters[grant.key], !w.isEmpty, client.streams <= client.limit, client.remaining > 0 {
                let first = w.removeFirst()
                all.waiters[grant.key] = w.isEmpty ? nil : w
                if client.remaining != Int.max { all.clients[grant.key]![i].remaining -= 1 }
                return (first, false)
            }
            all.clients[grant.key]![i].streams = max(0, client.streams - 1)
            return (nil, all.clients[grant.key]![i].drained)
        }
        handed?.succeed(grant)
        if drained { grant.connection.whenSuccess { $0.channel.close(promise: nil) } }
    }

    /// The upstream's `SETTINGS_MAX_CONCURRENT_STREAMS` for connection `id` (`onSettings`).
    private func peerLimit(_ key: String, _ id: Int, _ peer: Int) {
        let waiting = update(key, id) { $0.limit = max(1, min($0.configuredLimit, peer)) }
        waiting.forEach { $0.succeed(nil) }
    }

    /// Changes connection `id` of pool `key`; the waiters to wake when it has room after it.
    private func update(_ key: String, _ id: Int, _ change: (inout Client) -> Void) -> [EventLoopPromise<Grant?>] {
        pools.withLockedValue { all in
            guard let i = all.clients[key]?.firstIndex(where: { $0.id == id }) else { return [] }
            change(&all.clients[key]![i])
            guard all.clients[key]![i].hasRoom else { return [] }
            return all.waiters.removeValue(forKey: key) ?? []
        }
    }

    /// Connection `id` left pool `key`: its waiters ask again (they may dial now).
    private func remove(_ key: String, _ id: Int) {
        let waiting = pools.withLockedValue { all -> [EventLoopPromise<Grant?>] in
            all.clients[key]?.removeAll { $0.id == id }
            if all.clients[key]?.isEmpty == true { all.clients[key] = nil }
            return all.waiters.removeValue(forKey: key) ?? []
        }
        waiting.forEach { $0.succeed(nil) }
    }

    /// A new stream on `connection`, speaking HTTP/1 parts, whose response goes to `receiver`
    /// (attempt `attempt`) on the receiver's event loop: a pooled connection may live on another.
    static func stream(
        on connection: Connection, httpProtocol: HTTP2FramePayloadToHTTP1ClientCodec.HTTPProtocol,
        receiver: NIOLoopBound<UpstreamResponseReceiver>, receiverLoop: EventLoop, attempt: Int
    ) -> EventLoopFuture<Channel> {
        connection.multiplexer.createStreamChannel { stream in
            stream.eventLoop.makeCompletedFuture {
                let sync = stream.pipeline.syncOperations
                try sync.addHandler(HTTP2FramePayloadToHTTP1ClientCodec(httpProtocol: httpProtocol))
                let direct: UpstreamResponseReceiver =
                    stream.eventLoop === receiverLoop ? receiver.value : LoopHoppingReceiver(receiver, on: receiverLoop)
                try sync.addHandler(UpstreamResponseHandler(receiver: direct, attempt: attempt))
            }
        }
    }

    /// A new stream on `connection` whose whole response completes `responsePromise`.
    static func stream(
        on connection: Connection, httpProtocol: HTTP2FramePayloadToHTTP1ClientCodec.HTTPProtocol,
        responsePromise: EventLoopPromise<UpstreamResponse>
    ) -> EventLoopFuture<Channel> {
        connection.multiplexer.createStreamChannel { stream in
            stream.eventLoop.makeCompletedFuture {
                let sync = stream.pipeline.syncOperations
                try sync.addHandler(HTTP2FramePayloadToHTTP1ClientCodec(httpProtocol: httpProtocol))
                try sync.addHandler(UpstreamResponseHandler(promise: responsePromise))
            }
        }
    }

    /// An HTTP/2 client connection's handlers, behind the target's TLS (`handshake` is
    /// completed once the certificate checks pass).
    private static func configureClient(
        _ sync: ChannelPipeline.SynchronousOperations, _ target: UpstreamTargets.Target, handshake: EventLoopPromise<Void>?,
        peerStreamLimit: (@Sendable (Int) -> Void)?
    ) throws {
        try target.tls.map { try UpstreamTLS.addHandlers($0, to: sync, verified: handshake) }
        // The upstream opens no streams of its own (no server push); any it tries are closed.
        _ = try sync.configureHTTP2Pipeline(mode: .client, connectionConfiguration: .init(), streamConfiguration: .init()) {
            $0.close()
        }
        if let peerStreamLimit { try sync.addHandler(PeerSettingsHandler(maxConcurrentStreams: peerStreamLimit)) }
        try sync.addHandler(ConnectionErrorHandler())
    }

    /// Dials `target` and speaks HTTP/2 on it (over its TLS, once the handshake is done).
    /// Health checks dial the same way, on a connection of their own.
    static func connect(
        _ target: UpstreamTargets.Target, eventLoop: EventLoop, connectTimeout: TimeAmount,
        peerStreamLimit: (@Sendable (Int) -> Void)? = nil
    ) -> EventLoopFuture<Connection> {
        let handshake = target.tls.map { _ in eventLoop.makePromise(of: Void.self) }
        return ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try Self.configureClient(
                        channel.pipeline.syncOperations, target, handshake: handshake, peerStreamLimit: peerStreamLimit)
                }
            }
            .connect(host: target.host, port: target.port)
            .flatMapError { error in
                handshake?.fail(error)
                return eventLoop.makeFailedFuture(error)
            }
            .flatMap { channel in
                guard let handshake else { return eventLoop.makeSucceededFuture(channel) }
                return handshake.futureResult.map { channel }.flatMapErrorThrowing { error in
                    channel.close(promise: nil)
                    throw error
                }
            }
            .flatMapThrowing { channel in
                Connection(
                    channel: channel, multiplexer: try channel.pipeline.syncOperations.handler(type: NIOHTTP2Handler.self).syncMultiplexer()
                )
            }
    }
}

extension UpstreamTargets {
    /// A stream of `cluster`'s request to `target` on the endpoint's HTTP/2 pool, its response
    /// going to `receiver` (attempt `attempt`, on `eventLoop`); nil when `max_pending_requests` refuses it. A stream that waits
    /// (for a connection being dialled, or for room) is pending until it is on a connected one.
    func openHTTP2Stream(
        _ cluster: String, _ target: Target, eventLoop: EventLoop, connectTimeout: TimeAmount,
        receiver: UpstreamResponseReceiver, attempt: Int
    ) -> EventLoopFuture<Channel>? {
        let bound = NIOLoopBound(receiver, eventLoop: eventLoop)
        guard let c = positions(cluster) else { return nil }
        let counters = Self.limitIndex(c, target.priority)
        let priority = target.priority
        let limits = connectionLimits
        let pool = http2
        let streamLimit = http2StreamLimits[c]
        @Sendable func reserve(_ admitPending: () -> Bool) -> HTTP2UpstreamPool.Reservation {
            pool.reserve(
                target, eventLoop: eventLoop, connectTimeout: connectTimeout, streamLimit: streamLimit,
                admitPending: admitPending, mayConnect: { empty in limits.withLockedValue { $0.admitHTTP2(counters, force: empty) } },
                closed: { limits.withLockedValue { $0.closedHTTP2(counters) } })
        }
        // Asks again after a wake-up without a slot (the stream is pending already).
        @Sendable func grant(_ r: HTTP2UpstreamPool.Reservation) -> EventLoopFuture<HTTP2UpstreamPool.Grant> {
            switch r {
            case .granted(let g): return eventLoop.makeSucceededFuture(g)
            case .overflow: return eventLoop.makeFailedFuture(UpstreamFailure.connectionFailure)
            case .waiting(let f):
                return f.flatMap { g in g.map { eventLoop.makeSucceededFuture($0) } ?? grant(reserve { true }) }
            }
        }
        var pending = false
        let first = reserve {
            pending = self.beginPending(cluster, priority)
            return pending
        }
        if case .overflow = first { return nil }
        let stream = grant(first).flatMap { g in
            let stream = g.connection.flatMap {
                HTTP2UpstreamPool.stream(on: $0, httpProtocol: .http, receiver: bound, receiverLoop: eventLoop, attempt: attempt)
            }
            stream.whenComplete { result in
                switch result {
                case .success(let s): s.closeFuture.whenComplete { _ in pool.release(g) }
                case .failure: pool.release(g)
                }
            }
            return stream
        }
        if pending { stream.whenComplete { [self] _ in self.endPending(cluster, priority) } }
        return stream
    }
}

/// Hands a stream's response parts to a receiver on another event loop, in order.
final class LoopHoppingReceiver: UpstreamResponseReceiver {
    private let target: NIOLoopBound<UpstreamResponseReceiver>
    private let loop: EventLoop

    init(_ target: NIOLoopBound<UpstreamResponseReceiver>, on loop: EventLoop) {
        self.target = target
        self.loop = loop
    }

    /// Runs `body` with the receiver on its event loop.
    private func hop(_ body: @escaping @Sendable (UpstreamResponseReceiver) -> Void) {
        let target = self.target
        loop.execute { body(target.value) }
    }

    func upstreamHead(_ attempt: Int, status: Int, headers: [(name: String, value: String)]) {
        hop { $0.upstreamHead(attempt, status: status, headers: headers) }
    }

    func upstreamBody(_ attempt: Int, _ chunk: ByteBuffer) { hop { $0.upstreamBody(attempt, chunk) } }

    func upstreamReadComplete(_ attempt: Int) { hop { $0.upstreamReadComplete(attempt) } }

    func upstreamEnd(_ attempt: Int, trailers: [HTTPHeader], reusable: Bool) {
        hop { $0.upstreamEnd(attempt, trailers: trailers, reusable: reusable) }
    }

    func upstreamFailed(_ attempt: Int, _ failure: UpstreamFailure) { hop { $0.upstreamFailed(attempt, failure) } }

    func upstreamWritable(_ attempt: Int, _ writable: Bool) { hop { $0.upstreamWritable(attempt, writable) } }
}
