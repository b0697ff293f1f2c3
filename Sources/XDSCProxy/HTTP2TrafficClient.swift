import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix

/// The HTTP/2 side of `TrafficClient`: a new loopback connection speaking h2c with prior
/// knowledge (the preface at once, as `curl --http2-prior-knowledge` does), or h2 over TLS
/// with `h2` offered in ALPN (as `curl --http2` to an `https://` URL), and one stream on it,
/// which reads the response with the proxy's own upstream response handler (trailers
/// included).
enum HTTP2TrafficClient {
    /// The connection and its stream; `promise` gets the stream's response.
    static func stream(address: String, port: Int, tls: ClientTLS? = nil, promise: EventLoopPromise<UpstreamResponse>) async throws
        -> (connection: Channel, stream: Channel)
    {
        let eventLoop = promise.futureResult.eventLoop
        // The stream is opened once the handshake is done, so a failed one is told apart.
        let handshake = tls.map { _ in eventLoop.makePromise(of: Void.self) }
        let connection: Channel
        do {
            connection = try await ClientBootstrap(group: eventLoop)
                .channelInitializer { ch in
                    ch.eventLoop.makeCompletedFuture {
                        if let tls {
                            try ch.pipeline.syncOperations.addHandler(try tls.handler(applicationProtocols: ["h2"]))
                            try ch.pipeline.syncOperations.addHandler(
                                UpstreamTLSHandshakeHandler(check: CertificateCheck(), verified: handshake))
                        }
                        // The server opens no streams (no push); any it tries are closed.
                        _ = try ch.pipeline.syncOperations.configureHTTP2Pipeline(
                            mode: .client, connectionConfiguration: .init(), streamConfiguration: .init()
                        ) { $0.close() }
                    }
                }
                .connect(host: address, port: port).get()
        } catch {
            handshake?.fail(error)
            throw error
        }
        do {
            if let handshake {
                do {
                    try await handshake.futureResult.get()
                } catch is UpstreamFailure {
                    throw ClientError(description: "the TLS handshake failed")
                }
            }
            let stream = try await connection.eventLoop.flatSubmit {
                do {
                    let multiplexer = try connection.pipeline.syncOperations.handler(type: NIOHTTP2Handler.self).syncMultiplexer()
                    return multiplexer.createStreamChannel { s in
                        s.eventLoop.makeCompletedFuture {
                            try s.pipeline.syncOperations.addHandler(
                                HTTP2FramePayloadToHTTP1ClientCodec(httpProtocol: tls == nil ? .http : .https))
                            try s.pipeline.syncOperations.addHandler(UpstreamResponseHandler(promise: promise))
                        }
                    }
                } catch {
                    return connection.eventLoop.makeFailedFuture(error)
                }
            }.get()
            return (connection, stream)
        } catch {
            try? await connection.close()
            throw error
        }
    }
}
