import NIOCore
import NIOHTTP1
import NIOPosix
import XDSCEnvoy
import XDSCRequest

/// A response read off the wire by `TrafficClient`.
public struct ClientResponse: Sendable, Equatable {
    /// The status code.
    public var status: Int
    /// Headers in arrival order, names lower-case.
    public var headers: [HTTPHeader]
    /// The body, as UTF-8.
    public var body: String
    /// The trailers (an HTTP/2 response's, e.g. gRPC's `grpc-status`), names lower-case.
    public var trailers: [HTTPHeader]

    /// A response.
    public init(status: Int, headers: [HTTPHeader], body: String, trailers: [HTTPHeader] = []) {
        self.status = status
        self.headers = headers
        self.body = body
        self.trailers = trailers
    }

    /// The first value of a trailer.
    public func trailer(_ name: String) -> String? {
        let n = name.lowercased()
        return trailers.first { $0.name == n }?.value
    }

    /// The first value of a header.
    public func header(_ name: String) -> String? {
        let n = name.lowercased()
        return headers.first { $0.name == n }?.value
    }
}

/// Why a client exchange gave no response.
public struct ClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What happened, in words.
    public var description: String
}

/// Sends one request over a new loopback connection, HTTP/1.1 or HTTP/2 (h2c with prior
/// knowledge, or h2 over TLS by ALPN), and reads the response (`xdsc test traffic`), with the
/// proxy's own upstream response handler.
public enum TrafficClient {
    /// Sends `method target` with `host` and `headers` (plus `content-length` when there is a
    /// body, and over HTTP/1.1 `connection: close`) to `address:port`, over TLS when `tls`
    /// is given, over HTTP/2 when `http2`; fails after `timeout`.
    public static func send(
        address: String, port: Int, method: String, target: String, host: String, headers: [HTTPHeader], body: String,
        tls: ClientTLS? = nil, http2: Bool = false, timeout: Duration = .seconds(60)
    ) async throws -> ClientResponse {
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.next().makePromise(of: UpstreamResponse.self)
        let connection: Channel
        let channel: Channel
        do {
            if http2 {
                (connection, channel) = try await HTTP2TrafficClient.stream(address: address, port: port, tls: tls, promise: promise)
            } else {
                channel = try await ClientBootstrap(group: promise.futureResult.eventLoop)
                    .channelInitializer { ch in
                        ch.eventLoop.makeCompletedFuture {
                            if let tls { try ch.pipeline.syncOperations.addHandler(try tls.handler()) }
                            try ch.pipeline.syncOperations.addHTTPClientHandlers()
                            try ch.pipeline.syncOperations.addHandler(UpstreamResponseHandler(promise: promise))
                        }
                    }
                    .connect(host: address, port: port).get()
                connection = channel
            }
        } catch {
            // No connection, no response: the promise is settled here.
            promise.fail(error)
            throw error
        }
        defer { connection.close(promise: nil) }
        let killer = channel.eventLoop.scheduleTask(in: timeout.timeAmount) {
            promise.fail(UpstreamFailure.perTryTimeout)
            connection.close(promise: nil)
        }
        var h = HTTPHeaders()
        h.add(name: "host", value: host)
        for x in headers { h.add(name: x.name, value: x.value) }
        if !body.isEmpty || ["POST", "PUT", "PATCH"].contains(method) { h.add(name: "content-length", value: String(body.utf8.count)) }
        if !http2 { h.add(name: "connection", value: "close") }
        let head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: target, headers: h)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if !body.isEmpty { channel.write(HTTPClientRequestPart.body(.byteBuffer(channel.allocator.buffer(string: body))), promise: nil) }
        try? await channel.writeAndFlush(HTTPClientRequestPart.end(nil))
        defer { killer.cancel() }
        do {
            let r = try await promise.futureResult.get()
            return ClientResponse(
                status: r.status, headers: r.headers.map { HTTPHeader($0.name, $0.value) }, body: String(buffer: r.body),
                trailers: r.trailers)
        } catch let f as UpstreamFailure {
            let tlsFailed = tls != nil && f == .connectionFailure
            throw ClientError(
                description: f == .perTryTimeout
                    ? "no response within \(timeout)" : tlsFailed ? "the TLS handshake failed" : "no response: \(f.reason)")
        }
    }
}
