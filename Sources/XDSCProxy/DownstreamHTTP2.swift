import NIOCore
import NIOHTTP1
import NIOHTTP2

extension DownstreamPipeline {
    /// Envoy's default `max_concurrent_streams` (protocol.proto): 2^31 - 1.
    static let defaultMaxConcurrentStreams = 2_147_483_647

    /// Adds the handlers that serve `channel` as HTTP/2: after the preface was detected (h2c
    /// with prior knowledge), with `codec_type: HTTP2`, or after a TLS handshake whose ALPN
    /// chose `h2`. The connection handler advertises the listener's `max_concurrent_streams`;
    /// each stream gets the headers-only coalescer, NIO's HTTP/2-to-HTTP/1 codec and a
    /// downstream handler of its own, so a stream is served as an HTTP/1.1 request is (the
    /// codec turns `:authority` into `host` and drops the connection-specific headers of the
    /// response). A connection error answers `GOAWAY` and closes that connection only.
    public func configureHTTP2(channel: Channel) throws {
        let listener = self.listener
        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        connection.initialSettings = [
            HTTP2Setting(
                parameter: .maxConcurrentStreams,
                value: listener.http2MaxConcurrentStreams.map(Int.init) ?? Self.defaultMaxConcurrentStreams),
            // Above the request header limit, so that a stream over it is reset by its own
            // handler (as Envoy's codec resets it) instead of the decoder failing the connection.
            HTTP2Setting(parameter: .maxHeaderListSize, value: 2 * listener.options.maxRequestHeaderBytes),
        ]
        let sync = channel.pipeline.syncOperations
        _ = try sync.configureHTTP2Pipeline(mode: .server, connectionConfiguration: connection, streamConfiguration: .init()) { stream in
            stream.eventLoop.makeCompletedFuture {
                let streamSync = stream.pipeline.syncOperations
                try streamSync.addHandler(HeadersOnlyCoalescer())
                try streamSync.addHandler(HTTP2FramePayloadToHTTP1ServerCodec())
                try streamSync.addHandler(DownstreamHandler(listener: listener))
            }
        }
        try sync.addHandler(ConnectionErrorHandler())
    }

    /// Adds the handlers that serve a TLS connection once its handshake is done, as
    /// `ConnectionManagerUtility::autoCreateCodec` picks the codec: `codec_type: AUTO` speaks
    /// HTTP/2 when ALPN chose `h2`, HTTP/1.1 when it chose anything else, and without ALPN
    /// looks at the first bytes as on a plain-text connection (`determineNextProtocol`);
    /// `HTTP1` and `HTTP2` speak their version whatever ALPN chose.
    func configure(channel: Channel, negotiated: String?) throws {
        switch (listener.codecType, negotiated) {
        case (.auto, "h2"?), (.http3, "h2"?): try configureHTTP2(channel: channel)
        case (.auto, _?), (.http3, _?): try configure(channel.pipeline.syncOperations)
        default: try configure(channel: channel)
        }
    }

    /// `codec_type: AUTO`: a detector that serves HTTP/2 when the connection starts with the
    /// preface and HTTP/1.1 otherwise.
    func configureDetection(_ pipeline: ChannelPipeline.SynchronousOperations) throws {
        let handler = ProtocolDetectionHandler(timeout: listener.options.clientIdleTimeout.timeAmount) { [self] detected, channel in
            switch detected {
            case .http1: try self.configure(channel.pipeline.syncOperations)
            case .http2: try self.configureHTTP2(channel: channel)
            }
        }
        try pipeline.addHandler(handler)
    }
}
