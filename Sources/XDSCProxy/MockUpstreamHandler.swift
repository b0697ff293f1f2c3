import NIOCore
import NIOHTTP1
import NIOHTTP2
import XDSCJSON

/// A mock upstream server's connection: each request is recorded in the registry and
/// answered with a JSON echo of what arrived (or as the cluster's behaviour says).
final class MockUpstreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    enum State {
        case idle
        case receiving(HTTPRequestHead, ByteBuffer)
        /// The answer is scheduled or being written; the pipeline handler holds the next request.
        case answering
        case closed
    }

    private var state = State.idle
    private let cluster: String
    private let endpoint: String
    private let registry: MockRegistry

    init(cluster: String, endpoint: String, registry: MockRegistry) {
        self.cluster = cluster
        self.endpoint = endpoint
        self.registry = registry
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch (state, part) {
        case (.idle, .head(let head)):
            state = .receiving(head, context.channel.allocator.buffer(capacity: 0))
        case (.receiving(let head, var body), .body(var chunk)):
            body.writeBuffer(&chunk)
            state = .receiving(head, body)
        case (.receiving(let head, let body), .end):
            state = .answering
            answer(context: context, head: head, body: body)
        case (.closed, _):
            break
        case (.idle, _), (.receiving, .head), (.answering, _):
            state = .closed
            context.close(promise: nil)
        }
    }

    private func answer(context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer) {
        if head.headers.first(name: "user-agent") == HealthChecker.userAgent {
            answerHealthCheck(context: context, head: head)
            return
        }
        let received = ReceivedRequest(
            cluster: cluster, endpoint: endpoint, method: head.method.rawValue, path: head.uri,
            host: head.headers.first(name: "host") ?? "", headers: head.headers.map { ($0.name.lowercased(), $0.value) },
            body: String(buffer: body), protocol: head.version.major >= 2 ? "HTTP/2" : "HTTP/\(head.version.major).\(head.version.minor)")
        let reply = registry.record(received)
        let (status, delay, fixed) = (reply.status, reply.delay, reply.answer)
        let send = { [self] in
            guard case .answering = self.state else { return }
            if reply.reset {
                self.state = .closed
                // An HTTP/2 stream is reset with REFUSED_STREAM by the frame codec below this
                // handler; anything else (and an HTTP/1.1 connection) is closed.
                if reply.refuseStream,
                    let codec = try? context.pipeline.syncOperations.context(
                        handlerType: HTTP2FramePayloadToHTTP1ServerCodec.self)
                {
                    codec.writeAndFlush(NIOAny(HTTP2Frame.FramePayload.rstStream(.refusedStream)), promise: nil)
                } else {
                    context.close(promise: nil)
                }
                return
            }
            let text = fixed?.body ?? received.json.compactText() + "\n"
            var headers = HTTPHeaders()
            if let fixed {
                for h in fixed.headers { headers.add(name: h.name, value: h.value) }
            } else {
                headers.add(name: "content-type", value: "application/json")
            }
            headers.add(name: "content-length", value: String(text.utf8.count))
            headers.add(name: "x-mock-endpoint", value: self.endpoint)
            context.write(
                self.wrapOutboundOut(
                    .head(HTTPResponseHead(version: head.version, status: HTTPResponseStatus(statusCode: status), headers: headers))),
                promise: nil)
            context.write(self.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: text)))), promise: nil)
            context.writeAndFlush(self.wrapOutboundOut(.end(Self.trailers(fixed, request: head))), promise: nil)
            self.state = .idle
        }
        if delay > .zero {
            context.eventLoop.assumeIsolated().scheduleTask(in: delay.timeAmount) { send() }
        } else {
            send()
        }
    }

    /// The trailers of an answer: only over HTTP/2 (an HTTP/1.1 answer has a length, not
    /// chunks); a fixed answer's, else `grpc-status: 0` for a gRPC request.
    static func trailers(_ fixed: MockAnswer?, request head: HTTPRequestHead) -> HTTPHeaders? {
        guard head.version.major >= 2 else { return nil }
        if let fixed {
            return fixed.trailers.isEmpty ? nil : HTTPHeaders(fixed.trailers.map { ($0.name, $0.value) })
        }
        return GRPCLocalReply.isGRPC(head) ? HTTPHeaders([("grpc-status", "0")]) : nil
    }

    /// An active health check: the status the test set, empty body, not recorded. A gRPC
    /// check (`grpc.health.v1.Health/Check`) gets a 200 gRPC answer, `SERVING` when the status
    /// is 200 and `NOT_SERVING` otherwise.
    private func answerHealthCheck(context: ChannelHandlerContext, head: HTTPRequestHead) {
        let status = registry.health.answer(cluster: cluster, endpoint: endpoint)
        if head.uri == HealthProbe.grpcPath && head.version.major >= 2 {
            let body = GRPCHealth.responseFrame(status: status == 200 ? GRPCHealth.serving : GRPCHealth.notServing)
            let headers = HTTPHeaders([("content-type", "application/grpc"), ("content-length", String(body.readableBytes))])
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(HTTPHeaders([("grpc-status", "0")]))), promise: nil)
            state = .idle
            return
        }
        var headers = HTTPHeaders()
        headers.add(name: "content-length", value: "0")
        context.write(
            wrapOutboundOut(
                .head(HTTPResponseHead(version: head.version, status: HTTPResponseStatus(statusCode: status), headers: headers))),
            promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        state = .idle
    }

    func channelInactive(context: ChannelHandlerContext) {
        state = .closed
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        state = .closed
        context.close(promise: nil)
    }
}

extension Duration {
    /// The duration as NIO's `TimeAmount`.
    var timeAmount: TimeAmount {
        .nanoseconds(components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000)
    }
}
