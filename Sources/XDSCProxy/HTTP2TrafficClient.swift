import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix

/// The HTTP/2 side of `TrafficClient`: a new loopback connection speaking h2c with prior
/// knowledge (the preface at once, as `curl --http2-prior-knowledge` does) and one stream on
/// it, which reads the response with the proxy's own upstream response handler (trailers
/// included).
enum HTTP2TrafficClient {
    /// The connection and its stream; `promise` gets the stream's response.
    static func stream(address: String, port: Int, promise: EventLoopPromise<UpstreamResponse>) async throws -> (
        connection: Channel, stream: Channel
    ) {
        let connection = try await ClientBootstrap(group: promise.futureResult.eventLoop)
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    // The server opens no streams (no push); any it tries are closed.
                    _ = try ch.pipeline.syncOperations.configureHTTP2Pipeline(
                        mode: .client, connectionConfiguration: .init(), streamConfiguration: .init()
                    ) { $0.close() }
                }
            }
            .connect(host: address, port: port).get()
        do {
            let stream = try await connection.eventLoop.flatSubmit {
                do {
                    let multiplexer = try connection.pipeline.syncOperations.handler(type: NIOHTTP2Handler.self).syncMultiplexer()
                    return multiplexer.createStreamChannel { s in
                        s.eventLoop.makeCompletedFuture {
                            try s.pipeline.syncOperations.addHandler(HTTP2FramePayloadToHTTP1ClientCodec(httpProtocol: .http))
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
