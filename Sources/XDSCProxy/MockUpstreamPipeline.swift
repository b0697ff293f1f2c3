import NIOCore
import NIOHTTP1
import NIOHTTP2

/// The handlers of a mock upstream's connections: a mock speaks whichever protocol the
/// proxy (or a health checker) opens with, HTTP/1.1 or h2c with prior knowledge, and records
/// the version each request came in.
enum MockUpstreamPipeline {
    /// Adds the protocol detector, then that protocol's handlers and the mock's handler
    /// (one per HTTP/2 stream).
    static func configure(_ channel: Channel, cluster: String, endpoint: String, registry: MockRegistry) throws {
        let detector = ProtocolDetectionHandler(timeout: .minutes(5)) { detected, channel in
            let sync = channel.pipeline.syncOperations
            switch detected {
            case .http1:
                try sync.configureHTTPServerPipeline()
                try sync.addHandler(MockUpstreamHandler(cluster: cluster, endpoint: endpoint, registry: registry))
            case .http2:
                _ = try sync.configureHTTP2Pipeline(mode: .server, connectionConfiguration: .init(), streamConfiguration: .init()) {
                    stream in
                    stream.eventLoop.makeCompletedFuture {
                        try stream.pipeline.syncOperations.addHandler(HTTP2FramePayloadToHTTP1ServerCodec())
                        try stream.pipeline.syncOperations.addHandler(
                            MockUpstreamHandler(cluster: cluster, endpoint: endpoint, registry: registry))
                    }
                }
                try sync.addHandler(ConnectionErrorHandler())
            }
        }
        registry.accepted()
        try channel.pipeline.syncOperations.addHandler(detector)
    }
}
