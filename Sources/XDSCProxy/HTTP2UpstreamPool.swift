import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix

/// The upstream HTTP/2 connections: one per endpoint address and priority, shared by every request to it,
/// each request a stream of its own (Envoy's HTTP/2 connection pool multiplexes on one
/// connection; `codec_client.cc`, `http2/conn_pool.cc`). Connections are h2c with prior
/// knowledge (the client preface is sent at once, without an upgrade), or h2 over TLS for a
/// cluster with a TLS transport socket (ALPN offers `h2`; the connection is used once the
/// handshake and its certificate check are done). A connection that
/// fails or closes is forgotten and the next request dials a new one; streams over the
/// peer's `max_concurrent_streams` wait in NIO's stream buffer until others end (Envoy would
/// open another connection within `max_connections`; it always admits a pool's first one,
/// conn_pool_base.cc `tryCreateNewConnection`, so the breaker never refuses the one used here).
/// A stream that finds its connection still being dialled is pending (`max_pending_requests`).
final class HTTP2UpstreamPool: Sendable {
    /// An open HTTP/2 connection.
    struct Connection: Sendable {
        var channel: Channel
        var multiplexer: NIOHTTP2Handler.StreamMultiplexer
    }

    private let connections = NIOLockedValueBox([String: EventLoopFuture<Connection>]())
    /// The keys whose connection is up.
    private let connected = NIOLockedValueBox(Set<String>())

    /// Where `target`'s streams go: one connection per address, priority and TLS identity.
    static func key(_ target: UpstreamTargets.Target) -> String {
        "\(target.host):\(target.port)" + (target.priority == .high ? "|high" : "") + (target.tls.map { "|" + $0.connectionKey } ?? "")
    }

    /// Whether a stream to `target` finds its connection up (else it waits for one: pending).
    func isConnected(_ target: UpstreamTargets.Target) -> Bool {
        let key = Self.key(target)
        return connected.withLockedValue { $0.contains(key) }
    }

    /// A new stream to `target` whose answer completes `responsePromise`; the connection is
    /// dialled first when there is none. Fails when no connection can be had.
    func openStream(
        to target: UpstreamTargets.Target, eventLoop: EventLoop, connectTimeout: TimeAmount,
        responsePromise: EventLoopPromise<UpstreamResponse>
    ) -> EventLoopFuture<Channel> {
        // One connection per endpoint and priority (Envoy's pools are per priority).
        let key = Self.key(target)
        let (connection, dialled) = connections.withLockedValue { all -> (EventLoopFuture<Connection>, Bool) in
            if let existing = all[key] { return (existing, false) }
            let new = Self.connect(target, eventLoop: eventLoop, connectTimeout: connectTimeout)
            all[key] = new
            return (new, true)
        }
        if dialled {
            let forget: @Sendable () -> Void = { [connections, connected] in
                let current = connections.withLockedValue { all -> Bool in
                    guard all[key] === connection else { return false }
                    all[key] = nil
                    return true
                }
                if current { connected.withLockedValue { _ = $0.remove(key) } }
            }
            connection.whenComplete { [connected] result in
                switch result {
                case .failure: forget()
                case .success(let c):
                    connected.withLockedValue { _ = $0.insert(key) }
                    c.channel.closeFuture.whenComplete { _ in forget() }
                }
            }
        }
        return connection.flatMap { Self.stream(on: $0, httpProtocol: .http, responsePromise: responsePromise) }
    }

    /// A new stream on `connection`, speaking HTTP/1 parts, whose answer completes `responsePromise`.
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
        _ sync: ChannelPipeline.SynchronousOperations, _ target: UpstreamTargets.Target, handshake: EventLoopPromise<Void>?
    ) throws {
        try target.tls.map { try UpstreamTLS.addHandlers($0, to: sync, verified: handshake) }
        // The upstream opens no streams of its own (no server push); any it tries are closed.
        _ = try sync.configureHTTP2Pipeline(mode: .client, connectionConfiguration: .init(), streamConfiguration: .init()) {
            $0.close()
        }
        try sync.addHandler(ConnectionErrorHandler())
    }

    /// Dials `target` and speaks HTTP/2 on it (over its TLS, once the handshake is done).
    /// Health checks dial the same way, on a connection of their own.
    static func connect(_ target: UpstreamTargets.Target, eventLoop: EventLoop, connectTimeout: TimeAmount)
        -> EventLoopFuture<Connection>
    {
        let handshake = target.tls.map { _ in eventLoop.makePromise(of: Void.self) }
        return ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try Self.configureClient(channel.pipeline.syncOperations, target, handshake: handshake)
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
