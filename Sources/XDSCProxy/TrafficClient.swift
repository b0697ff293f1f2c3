import NIOCore
import NIOHTTP1
import NIOPosix

/// Sends one HTTP/1.1 request over a new loopback connection and reads the response
/// (`xdsc test traffic`).
public enum TrafficClient {
    /// Sends `method target` with `host` and `headers` (plus `content-length` when there is a
    /// body, and `connection: close`) to `address:port`; fails after `timeout`.
    public static func send(
        address: String, port: Int, method: String, target: String, host: String, headers: [MockHeader], body: String,
        timeout: Duration = .seconds(60)
    ) async throws -> ClientResponse {
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.next().makePromise(of: ClientResponse.self)
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    try ch.pipeline.syncOperations.addHTTPClientHandlers()
                    try ch.pipeline.syncOperations.addHandler(ClientResponseHandler(promise: promise))
                }
            }
            .connect(host: address, port: port).get()
        let killer = channel.eventLoop.scheduleTask(in: timeout.timeAmount) {
            promise.fail(ClientError(description: "no response within \(timeout)"))
            channel.close(promise: nil)
        }
        var h = HTTPHeaders()
        h.add(name: "host", value: host)
        for x in headers { h.add(name: x.name, value: x.value) }
        if !body.isEmpty || ["POST", "PUT", "PATCH"].contains(method) { h.add(name: "content-length", value: String(body.utf8.count)) }
        h.add(name: "connection", value: "close")
        let head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: target, headers: h)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if !body.isEmpty { channel.write(HTTPClientRequestPart.body(.byteBuffer(channel.allocator.buffer(string: body))), promise: nil) }
        try? await channel.writeAndFlush(HTTPClientRequestPart.end(nil))
        defer { killer.cancel() }
        return try await promise.futureResult.get()
    }
}
