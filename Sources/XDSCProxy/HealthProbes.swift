import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import XDSCEnvoy

/// One active health check of one endpoint, as Envoy's checkers send it
/// (health_checker_impl.cc), with the cluster's transport socket (TLS included). An HTTP/1.1
/// check with `reuse_connection` (the default) keeps its keep-alive connection for the
/// session's next check, closing it on a timeout or a response that ends it (`shouldClose`);
/// an HTTP/2 or gRPC check keeps its HTTP/2 connection (a gRPC timeout resets the stream
/// only, `GrpcActiveHealthCheckSession::onTimeout`), a TCP check with `receive` payloads its
/// connection once they matched (`TcpActiveHealthCheckSession::onData`); without
/// `reuse_connection`, and for a connect-only TCP check, each check is a new connection,
/// closed afterwards:
///
/// - HTTP: `GET` of the path, `host` the cluster name, `user-agent: Envoy/HC`; over HTTP/1.1,
///   or HTTP/2 (h2c with prior knowledge, or h2 over TLS) with `codec_client_type: HTTP2`;
///   `host` replaces the cluster name. 200 (or a status of `expected_statuses`) passes, one of
///   `retriable_statuses` is a retriable failure, another status an active failure
///   (`HttpStatusChecker`, `healthCheckResult`).
/// - TCP: connect, write `send`; with no `receive` that passes, else the bytes read must
///   contain each `receive` payload in order (`TcpHealthCheckMatcher::match`).
/// - gRPC: `POST /grpc.health.v1.Health/Check` over HTTP/2 with a `HealthCheckRequest` for
///   `service_name`, `:authority` the check's `authority` or the cluster name; passes when
///   the response is 200 and gRPC, its `HealthCheckResponse` says `SERVING` and `grpc-status`
///   is 0 (`isHealthCheckSucceeded`); otherwise an active failure.
///
/// A connection that fails, closes early or does not answer within `timeout` is a network
/// failure. The future never fails.
enum HealthProbe {
    /// The `:path` of the gRPC health check.
    static let grpcPath = "/grpc.health.v1.Health/Check"

    /// Runs one check; `kept` holds the session's connection between HTTP/1.1 checks
    /// (`reuse_connection`; nil: a new connection, closed afterwards).
    static func run(
        _ check: HealthCheck, target: UpstreamTargets.Target, cluster: String, eventLoop: EventLoop, kept: KeptConnection? = nil
    ) -> EventLoopFuture<HealthCheckSession.Result> {
        let limit = TimeAmount.nanoseconds(max(check.timeout.nanoseconds, 1_000_000))
        switch check.kind {
        case .http(_, .http1):
            return http1(
                target: target, head: head(check, cluster: cluster), limit: limit, eventLoop: eventLoop,
                kept: check.reuseConnection ? kept : nil
            ).map { httpResult($0, check) }
        case .http(_, .http2):
            return http2(
                target: target, head: head(check, cluster: cluster), body: nil, limit: limit, eventLoop: eventLoop,
                kept: check.reuseConnection ? kept : nil
            ).map { r in
                guard let r else { return .networkFailure }
                return httpResult(r.status, check)
            }
        case .grpc(let service):
            var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: grpcPath)
            head.headers.add(name: "host", value: check.grpcAuthority ?? cluster)
            head.headers.add(name: "content-type", value: "application/grpc")
            head.headers.add(name: "te", value: "trailers")
            head.headers.add(name: "user-agent", value: HealthChecker.userAgent)
            let body = GRPCHealth.requestFrame(service: service)
            return http2(
                target: target, head: head, body: body, limit: limit, eventLoop: eventLoop, kept: check.reuseConnection ? kept : nil,
                keepOnTimeout: true
            ).map { r in
                guard let r else { return .networkFailure }
                return GRPCHealth.isServing(r) ? .success : .activeFailure
            }
        case .tcp:
            return tcp(
                target: target, send: check.tcpSend?.bytes ?? [], receive: check.tcpReceive.compactMap(\.bytes), limit: limit,
                eventLoop: eventLoop, kept: check.reuseConnection ? kept : nil)
        }
    }

    /// The request head of an HTTP check (`HttpActiveHealthCheckSession::onInterval`): `GET`
    /// of the path, host the check's `host` or the cluster name, Envoy's user agent.
    static func head(_ check: HealthCheck, cluster: String) -> HTTPRequestHead {
        guard case .http(let path, _) = check.kind else { return HTTPRequestHead(version: .http1_1, method: .GET, uri: "/") }
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
        head.headers.add(name: "host", value: check.httpHost ?? cluster)
        head.headers.add(name: "user-agent", value: HealthChecker.userAgent)
        return head
    }

    /// What an HTTP check's status gives (`HttpStatusChecker`, 200 only by default); nil (no
    /// response) is a network failure.
    static func httpResult(_ status: Int?, _ check: HealthCheck) -> HealthCheckSession.Result {
        guard let status else { return .networkFailure }
        let expected = check.expectedStatuses.isEmpty ? [200..<201] : check.expectedStatuses
        if expected.contains(where: { $0.contains(status) }) { return .success }
        return check.retriableStatuses.contains { $0.contains(status) } ? .retriableFailure : .activeFailure
    }

    /// A health-check session's open connection, kept between its checks
    /// (`reuse_connection`): HTTP/1.1 or TCP in `channel`, HTTP/2 and gRPC in `http2`.
    final class KeptConnection: Sendable {
        let channel = NIOLockedValueBox<Channel?>(nil)
        let http2 = NIOLockedValueBox<HTTP2UpstreamPool.Connection?>(nil)
        init() {}

        /// The kept HTTP/1.1 or TCP connection, no longer kept.
        func takeChannel() -> Channel? {
            channel.withLockedValue { c in
                defer { c = nil }
                return c
            }
        }

        /// The kept HTTP/2 connection, no longer kept.
        func takeHTTP2() -> HTTP2UpstreamPool.Connection? {
            http2.withLockedValue { c in
                defer { c = nil }
                return c
            }
        }

        /// Closes what is kept.
        func close() {
            takeChannel()?.close(promise: nil)
            takeHTTP2()?.channel.close(promise: nil)
        }
    }

    /// An HTTP/1.1 request of `head`; the status, or nil when none came. With `kept`, the
    /// connection left there by the previous check is used when still open and idle, and a
    /// keep-alive one is left there afterwards.
    private static func http1(
        target: UpstreamTargets.Target, head: HTTPRequestHead, limit: TimeAmount, eventLoop: EventLoop, kept: KeptConnection? = nil
    ) -> EventLoopFuture<Int?> {
        let response = eventLoop.makePromise(of: UpstreamResponse.self)
        let send = { (channel: Channel) in
            // The timeout closes the connection, which fails the response.
            let timer = channel.eventLoop.scheduleTask(in: limit) { channel.close(promise: nil) }
            response.futureResult.whenComplete { result in
                timer.cancel()
                if let kept, case .success(let r) = result, r.reusable, channel.isActive {
                    kept.channel.withLockedValue { $0 = channel }
                } else {
                    channel.close(promise: nil)
                }
            }
            var head = head
            if kept == nil { head.headers.add(name: "connection", value: "close") }
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        }
        if let channel = kept?.takeChannel() {
            if channel.isActive, channel.eventLoop.inEventLoop,
                let handler = try? channel.pipeline.syncOperations.handler(type: UpstreamResponseHandler.self), handler.expect(response)
            {
                send(channel)
                return response.futureResult.map { Optional($0.status) }.recover { _ in nil }
            }
            channel.close(promise: nil)
        }
        ClientBootstrap(group: eventLoop)
            .connectTimeout(limit)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Checks go over the cluster's transport socket, TLS included.
                    try target.tls.map { try UpstreamTLS.addHandlers($0, to: channel.pipeline.syncOperations) }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(UpstreamResponseHandler(promise: response))
                }
            }
            .connect(host: target.host, port: target.port)
            .whenComplete { result in
                switch result {
                case .failure: response.fail(UpstreamFailure.connectionFailure)
                case .success(let channel): send(channel)
                }
            }
        return response.futureResult.map { Optional($0.status) }.recover { _ in nil }
    }

    /// One request on a new HTTP/2 connection, or with `kept` on the session's connection
    /// left by the previous check; nil when no response came (a network failure). With
    /// `kept` the connection stays open after an answer (`shouldClose` is false while
    /// `reuse_connection`), and with `keepOnTimeout` (gRPC: `onTimeout` resets the stream
    /// only) after a timeout too; otherwise it is closed.
    private static func http2(
        target: UpstreamTargets.Target, head: HTTPRequestHead, body: ByteBuffer?, limit: TimeAmount, eventLoop: EventLoop,
        kept: KeptConnection? = nil, keepOnTimeout: Bool = false
    ) -> EventLoopFuture<UpstreamResponse?> {
        let response = eventLoop.makePromise(of: UpstreamResponse.self)
        // The limit covers the connect, the TLS handshake and the answer.
        let timer = eventLoop.scheduleTask(in: limit) { response.fail(UpstreamFailure.perTryTimeout) }
        response.futureResult.whenComplete { _ in timer.cancel() }
        let previous = kept?.takeHTTP2()
        let connection: EventLoopFuture<HTTP2UpstreamPool.Connection>
        if let previous, previous.channel.isActive {
            connection = eventLoop.makeSucceededFuture(previous)
        } else {
            previous?.channel.close(promise: nil)
            connection = HTTP2UpstreamPool.connect(target, eventLoop: eventLoop, connectTimeout: limit)
        }
        connection.whenComplete { result in
            switch result {
            case .failure: response.fail(UpstreamFailure.connectionFailure)
            case .success(let connection):
                let opened = HTTP2UpstreamPool.stream(
                    on: connection, httpProtocol: target.tls == nil ? .http : .https, responsePromise: response)
                response.futureResult.whenComplete { outcome in
                    let keep: Bool
                    switch outcome {
                    case .success: keep = kept != nil
                    case .failure(let error): keep = kept != nil && keepOnTimeout && (error as? UpstreamFailure) == .perTryTimeout
                    }
                    guard keep, connection.channel.isActive, let kept else {
                        connection.channel.close(promise: nil)
                        return
                    }
                    // A stream still open (a timed-out one) is reset; the connection stays.
                    opened.whenSuccess { $0.close(promise: nil) }
                    kept.http2.withLockedValue { $0 = connection }
                }
                opened.whenComplete { opened in
                    switch opened {
                    case .failure: response.fail(UpstreamFailure.connectionFailure)
                    case .success(let stream):
                        var head = head
                        if let body { head.headers.add(name: "content-length", value: String(body.readableBytes)) }
                        stream.write(HTTPClientRequestPart.head(head), promise: nil)
                        if let body { stream.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil) }
                        stream.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
                    }
                }
            }
        }
        return response.futureResult.map { Optional($0) }.recover { _ in nil }
    }

    /// A TCP check: `send` once connected (after the TLS handshake, if any), then `receive`.
    /// With `kept` a check that passed leaves its connection there (it had `receive`
    /// payloads), and the next check writes `send` on it instead of connecting.
    private static func tcp(
        target: UpstreamTargets.Target, send: [UInt8], receive: [[UInt8]], limit: TimeAmount, eventLoop: EventLoop,
        kept: KeptConnection? = nil
    ) -> EventLoopFuture<HealthCheckSession.Result> {
        let result = eventLoop.makePromise(of: HealthCheckSession.Result.self)
        // The check's connection and its timeout, set once connected; the result (registered
        // first, so it is handled before the caller hears of it) keeps or closes it.
        let connection = NIOLockedValueBox<(channel: Channel, timer: Scheduled<Void>)?>(nil)
        result.futureResult.whenComplete { _ in
            guard let (channel, timer) = connection.withLockedValue({ $0 }) else { return }
            timer.cancel()
            let idle = (try? channel.pipeline.syncOperations.handler(type: TCPHealthCheckHandler.self))?.isIdle ?? false
            if let kept, idle, channel.isActive {
                kept.channel.withLockedValue { $0 = channel }
            } else {
                channel.close(promise: nil)
            }
        }
        let watch = { @Sendable (channel: Channel) in
            // The timeout (from the connect on, as Envoy's timer starts at `onInterval`) closes
            // the connection, which the handler counts as a network failure.
            let timer = channel.eventLoop.scheduleTask(in: limit) { channel.close(promise: nil) }
            connection.withLockedValue { $0 = (channel, timer) }
        }
        if let channel = kept?.takeChannel() {
            if channel.isActive, channel.eventLoop.inEventLoop,
                let handler = try? channel.pipeline.syncOperations.handler(type: TCPHealthCheckHandler.self),
                let context = try? channel.pipeline.syncOperations.context(handler: handler),
                handler.restart(context: context, result: result)
            {
                watch(channel)
                return result.futureResult
            }
            channel.close(promise: nil)
        }
        ClientBootstrap(group: eventLoop)
            .connectTimeout(limit)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try target.tls.map { try UpstreamTLS.addHandlers($0, to: channel.pipeline.syncOperations) }
                    try channel.pipeline.syncOperations.addHandler(
                        TCPHealthCheckHandler(
                            send: send, receive: receive, afterHandshake: target.tls != nil, reuse: kept != nil, result: result))
                    // Known before any byte is read (the connect's own callbacks may come after).
                    watch(channel)
                }
            }
            .connect(host: target.host, port: target.port)
            .whenFailure { _ in result.succeed(.networkFailure) }
        return result.futureResult
    }
}

/// The `grpc.health.v1` messages of the gRPC health check, in their protobuf wire form.
enum GRPCHealth {
    /// `HealthCheckResponse.ServingStatus.SERVING`.
    static let serving: UInt64 = 1
    /// `NOT_SERVING`.
    static let notServing: UInt64 = 2

    /// A gRPC frame (uncompressed, 4-byte big-endian length) holding `HealthCheckRequest`
    /// with `service` (field 1, a string; absent when nil, as Envoy leaves it unset).
    static func requestFrame(service: String?) -> ByteBuffer {
        var message: [UInt8] = []
        if let service {
            let bytes = Array(service.utf8)
            message.append(0x0A)
            message += varint(UInt64(bytes.count))
            message += bytes
        }
        return frame(message)
    }

    /// A frame of `HealthCheckResponse` with `status` (field 1, an enum).
    static func responseFrame(status: UInt64) -> ByteBuffer { frame([0x08] + varint(status)) }

    static func frame(_ message: [UInt8]) -> ByteBuffer {
        var b = ByteBuffer()
        b.writeInteger(UInt8(0))
        b.writeInteger(UInt32(message.count))
        b.writeBytes(message)
        return b
    }

    static func varint(_ value: UInt64) -> [UInt8] {
        var v = value
        var out: [UInt8] = []
        repeat {
            var byte = UInt8(v & 0x7F)
            v >>= 7
            if v != 0 { byte |= 0x80 }
            out.append(byte)
        } while v != 0
        return out
    }

    /// The `status` of the one `HealthCheckResponse` frame in `body`; nil when the body is
    /// not exactly one uncompressed frame holding a valid message (Envoy: `invalid
    /// grpc.health.v1 RPC payload`, `unexpected streaming`). A message without the field is
    /// `UNKNOWN` (0).
    static func status(_ body: ByteBuffer) -> UInt64? {
        var b = body
        guard let flags = b.readInteger(as: UInt8.self), flags == 0, let length = b.readInteger(as: UInt32.self),
            let message = b.readBytes(length: Int(length)), b.readableBytes == 0
        else { return nil }
        var status: UInt64 = 0
        var i = 0
        func readVarint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while i < message.count, shift < 64 {
                let byte = message[i]
                i += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
            return nil
        }
        while i < message.count {
            guard let key = readVarint() else { return nil }
            switch key & 0x7 {
            case 0:
                guard let v = readVarint() else { return nil }
                if key >> 3 == 1 { status = v }
            case 1: i += 8
            case 2:
                guard let n = readVarint(), i + Int(n) <= message.count else { return nil }
                i += Int(n)
            case 5: i += 4
            default: return nil
            }
            if i > message.count { return nil }
        }
        return status
    }

    /// `GrpcActiveHealthCheckSession`: a 200 gRPC response (`content-type: application/grpc`
    /// or `application/grpc+...`) whose message says `SERVING`, with `grpc-status` 0 (in the
    /// trailers, or the headers of a trailers-only response).
    static func isServing(_ r: UpstreamResponse) -> Bool {
        guard r.status == 200 else { return false }
        let contentType = r.headers.first { $0.name == "content-type" }?.value ?? ""
        guard contentType == "application/grpc" || contentType.hasPrefix("application/grpc+") else { return false }
        let grpcStatus = r.trailers.first { $0.name == "grpc-status" }?.value ?? r.headers.first { $0.name == "grpc-status" }?.value
        guard grpcStatus == "0" else { return false }
        return status(r.body) == serving
    }
}
