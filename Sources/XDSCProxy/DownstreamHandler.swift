import NIOCore
import NIOHTTP1
import XDSCEnvoy
import XDSCRequest
import XDSCRouteEngine

#if canImport(Glibc)
    import Glibc
#endif

/// What a downstream connection needs from its server.
struct ListenerContext: Sendable {
    var name: String
    var engine: RouteEngine?
    var targets: UpstreamTargets
    var options: ProxyOptions
    var random: RandomSource
    var buckets: RateLimitBuckets
    /// The connection manager's HTTP filters (the CORS filter acts only when listed).
    var httpFilters: Set<HTTPFilterKind> = Set(HTTPFilterKind.allCases)
    /// The connection manager's enabled `upgrade_configs`.
    var upgradeTypes: [String] = []
    /// The filter chain serves TLS: requests are `https` (`x-forwarded-proto`, `:scheme`).
    var tls = false
    /// The connection manager's `codec_type`.
    var codecType: HttpConnectionManager.CodecType = .auto
    /// `http2_protocol_options.max_concurrent_streams`; nil is Envoy's default.
    var http2MaxConcurrentStreams: UInt32?
    /// `x-forwarded-for`, internal requests and the control headers (`use_remote_address`, ...).
    var addressing = ClientAddressing()
    /// `http_protocol_options.accept_http_10`: HTTP/1.0 requests are served, else answered 426.
    var acceptHTTP10 = false
}

/// One downstream HTTP/1.1 connection, or one HTTP/2 stream (behind NIO's HTTP/2-to-HTTP/1
/// codec). Each request is routed at its head, as Envoy routes at the headers
/// (`ActiveStream::decodeHeaders`): the route engine decides, the filters before the router
/// run (CORS, rate limit, fault), and a local reply (no route, redirect, direct response,
/// 429, fault abort) goes out at once, before the body has arrived. A forward starts its
/// exchange at once too, as Envoy's router opens the upstream request at the headers, and the
/// body streams to it as it arrives (reads stop while the upstream cannot take more, Envoy's
/// watermarks). On HTTP/1.1 the codec in front of it (``DownstreamHTTP1Codec``) hands over one
/// request at a time.
final class DownstreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    enum State {
        /// Between requests, waiting for a head.
        case idle
        /// A head arrived; its body is arriving (kept in ``body`` until the router forwards it).
        case receiving(HTTPRequestHead, Step)
        /// The request is complete; its answer is being produced.
        case answering(HTTPRequestHead, Step)
        /// A reply that closes the connection has been sent (or the peer went away).
        case closed
    }

    /// Where a routed request is between its head and its answer.
    enum Step {
        /// The head is not routed yet (or is being routed). A request without a body is routed
        /// at its end, as Envoy's HTTP/1 codec raises such a head together with its end; over
        /// HTTP/2 a head is routed at its end or when the read it came in ends.
        case unrouted
        /// A filter before the router is at work (the fault filter's delay); the router's turn
        /// comes after it.
        case filtering(Routed)
        /// The exchange is in flight (while the request is `receiving`, its body streams to it).
        case forwarded(ForwardExchange)
    }

    /// A request routed at its head: what the steps after routing share (one object, so the
    /// decision is not copied into each step and callback).
    final class Routed {
        let head: HTTPRequestHead
        let decision: RouteDecision
        let engine: RouteEngine
        init(head: HTTPRequestHead, decision: RouteDecision, engine: RouteEngine) {
            self.head = head
            self.decision = decision
            self.engine = engine
        }
    }

    private var state = State.idle
    /// The body of the request in progress, as it arrives, until the router forwards it.
    private var body: ByteBuffer
    /// The shadows of the request in progress while its body streams (Envoy streams shadow
    /// requests alongside the original since 1.33, `streaming_shadow`).
    private var shadows: [ForwardExchange] = []
    /// What stops the connection's reads (autoRead off while it is not empty): the exchange or
    /// a shadow whose upstream cannot take more of the body (a shadow stream joins the router's
    /// watermarks, router.cc `setWatermarkCallbacks`), or this handler while more than the
    /// buffer limit waits for the router.
    private var pausedBy: Set<ObjectIdentifier> = []
    /// The CORS filter's response headers for the request in progress (its `encodeHeaders`
    /// runs on every response of the request).
    private var cors: [HTTPHeader] = []
    /// The connection manager's stream timer (`max_stream_duration`) of the request in progress.
    private var streamTimer: DeadlineQueue.Timer?
    private let listener: ListenerContext
    private var clientTimer: Scheduled<Void>?
    /// When the connection last became idle (the client timer counts from here).
    private var idleSince = NIODeadline.uptimeNanoseconds(0)
    /// When the request in progress began (its head arrived): the stream timer counts from here.
    private var streamStart = NIODeadline.uptimeNanoseconds(0)
    /// The `date` value and the second it is for.
    private var dateSecond: time_t = 0
    private var dateText = ""

    /// The body of a request without one (shared, so no request allocates an empty buffer).
    private let emptyBody: ByteBuffer
    /// The client's address and port (`%DOWNSTREAM_REMOTE_ADDRESS%`), read once per connection.
    private var remoteAddress: String?
    private var peerPort: Int?
    /// The address the connection was accepted on (appended to `x-forwarded-for` for a
    /// loopback client), read once per connection.
    private var localAddress: String?
    /// The current request's hash-policy result (RING_HASH and MAGLEV clusters).
    private var requestHash: UInt64?
    /// The route timeouts of this connection's requests, on one shared timer (made at the first forward).
    private var deadlines: DeadlineQueue?

    init(listener: ListenerContext) {
        self.listener = listener
        self.emptyBody = ByteBufferAllocator().buffer(capacity: 0)
        self.body = emptyBody
    }

    func handlerAdded(context: ChannelHandlerContext) {
        armClientTimer(context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (state, unwrapInboundIn(data)) {
        case (.idle, .head(var head)):
            if head.version.major < 2 && head.version != .http1_1 && !listener.acceptHTTP10 {
                // Envoy's HTTP/1 codec takes any other version for HTTP/1.0 and, without
                // `accept_http_10`, answers it 426 and closes (codec_impl.cc `checkProtocolVersion`,
                // `sendProtocolError`: a local reply with the status text as its body).
                reject(context: context, head: head, status: 426, body: "Upgrade Required")
                return
            }
            let size =
                head.method.rawValue.utf8.count + head.uri.utf8.count
                + head.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
            if size > listener.options.maxRequestHeaderBytes {
                // Envoy's HTTP/2 codec resets a stream over the limit (`saveHeader`); HTTP/1 answers 431.
                if head.version.major >= 2 {
                    state = .closed
                    context.close(promise: nil)
                    return
                }
                reject(context: context, head: head, status: 431, body: "")
                return
            }
            streamStart = context.eventLoop.now
            body = emptyBody
            cors = []
            continueIfExpected(context: context, head: &head)
            state = .receiving(head, .unrouted)
            if head.version.major < 2 && Self.hasBody(head) { route(context: context, head: head) }
        case (.receiving(_, .forwarded(let exchange)), .body(let chunk)):
            exchange.requestBody(chunk)
            for shadow in shadows { shadow.requestBody(chunk) }
        case (.receiving, .body(var chunk)):
            // The first chunk is kept as it is; only a body in several reads is copied together.
            if body.readableBytes == 0 {
                body = chunk
            } else {
                body.writeBuffer(&chunk)
            }
            // Waiting for the router (a fault delay): past the buffer limit, reading stops (the
            // fault filter's `StopIterationAndWatermark`).
            if body.readableBytes > listener.options.maxRequestBodyBytes { pauseReads(context, true, by: ObjectIdentifier(self)) }
        case (.receiving(let head, let step), .end):
            state = .answering(head, step)
            switch step {
            case .unrouted: route(context: context, head: head)
            case .forwarded(let exchange):
                exchange.requestEnd()
                for shadow in shadows { shadow.requestEnd() }
                shadows = []
            case .filtering: break
            }
        case (.closed, _):
            break
        case (.idle, .body), (.idle, .end), (.receiving, .head), (.answering, _):
            // The decoder and the codec never produce these; give up on the connection.
            state = .closed
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // HTTP/2: a head whose end did not come with it has a body (HTTP/1 heads without a
        // body always come with their end).
        if case .receiving(let head, .unrouted) = state, head.version.major >= 2 { route(context: context, head: head) }
        context.fireChannelReadComplete()
    }

    /// Whether an HTTP/1 request has a body: a `content-length` other than 0 or a
    /// `transfer-encoding` (`Utility::hasBody` of Envoy's HTTP/1 codec).
    static func hasBody(_ head: HTTPRequestHead) -> Bool {
        if head.headers.contains(name: "transfer-encoding") { return true }
        guard let length = head.headers.first(name: "content-length") else { return false }
        return length != "0"
    }

    /// `expect: 100-continue` (compared case-insensitively) is answered here with a
    /// `100 Continue` and removed, so the upstream does not see it: Envoy's connection manager
    /// does so before routing unless `proxy_100_continue` is set (`ActiveStream::decodeHeaders`).
    /// Over HTTP/2 the header is only removed.
    private func continueIfExpected(context: ChannelHandlerContext, head: inout HTTPRequestHead) {
        guard let expect = head.headers.first(name: "expect"), expect.lowercased() == "100-continue" else { return }
        head.headers.remove(name: "expect")
        guard head.version.major < 2 else { return }
        context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .continue))), promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        abandonExchange()
        clientTimer?.cancel()
        streamTimer?.cancel()
        deadlines?.stop()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // Parse errors were answered by the protocol error handler in front; anything else
        // ends this connection only.
        abandonExchange()
        context.close(promise: nil)
    }

    /// The connection is closed: the exchange in flight is cancelled (its events no longer
    /// reach a client), and so are the shadows of a request that never completed (Envoy's
    /// router cancels them in `onDestroy`).
    private func abandonExchange() {
        let previous = state
        state = .closed
        switch previous {
        case .receiving(_, .forwarded(let exchange)), .answering(_, .forwarded(let exchange)): exchange.cancel()
        case .idle, .receiving, .answering, .closed: break
        }
        for shadow in shadows { shadow.cancel() }
        shadows = []
    }

    /// `source` stops the connection's reads (`paused`) or no longer does; they go on (autoRead)
    /// when nothing stops them.
    private func pauseReads(_ context: ChannelHandlerContext, _ paused: Bool, by source: ObjectIdentifier) {
        let wasStopped = !pausedBy.isEmpty
        if paused { pausedBy.insert(source) } else { pausedBy.remove(source) }
        let stop = !pausedBy.isEmpty
        guard stop != wasStopped else { return }
        try? context.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: !stop)
    }

    /// `exchange` stops the connection's reads while its upstream cannot take more of the body.
    private func letPauseReads(_ exchange: ForwardExchange, _ context: ChannelHandlerContext) {
        let id = ObjectIdentifier(exchange)
        exchange.onPauseDownstream { [self] paused in self.pauseReads(context, paused, by: id) }
    }

    // MARK: - Slow clients

    /// A whole request (head and body) must arrive within the client timeout of the
    /// connection becoming idle. One timer serves many requests: when it fires early (the
    /// connection became idle again since it was set, or a request is being answered) it is
    /// set again for the rest of the time, so a request costs no timer of its own.
    private func armClientTimer(context: ChannelHandlerContext) {
        idleSince = context.eventLoop.now
        if clientTimer == nil { scheduleClientTimer(context: context, at: idleSince + listener.options.clientIdleTimeout.timeAmount) }
    }

    private func scheduleClientTimer(context: ChannelHandlerContext, at deadline: NIODeadline) {
        clientTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            self.clientTimer = nil
            let timeout = self.listener.options.clientIdleTimeout.timeAmount
            switch self.state {
            case .idle, .receiving:
                let deadline = self.idleSince + timeout
                if context.eventLoop.now < deadline {
                    self.scheduleClientTimer(context: context, at: deadline)
                    return
                }
                if case .receiving(let head, let step) = self.state {
                    // Envoy's stream idle timeout answers 408, or resets a stream whose response started.
                    if case .forwarded(let exchange) = step, exchange.responding {
                        self.abandonExchange()
                        context.close(promise: nil)
                        return
                    }
                    self.abandonExchange()
                    self.reject(context: context, head: head, status: 408, body: "stream timeout")
                } else {
                    self.state = .closed
                    context.close(promise: nil)
                }
            case .answering:
                // Checked again after the answer, which starts a new idle time.
                self.scheduleClientTimer(context: context, at: context.eventLoop.now + timeout)
            case .closed:
                break
            }
        }
    }

    // MARK: - Answering

    /// Routes a request (`receiving` or `answering`, with its head `unrouted`) and runs the
    /// filters before the router.
    private func route(context: ChannelHandlerContext, head: HTTPRequestHead) {
        let remote = remoteAddress ?? context.channel.remoteAddress?.ipAddress ?? "127.0.0.1"
        remoteAddress = remote
        let port = peerPort ?? context.channel.remoteAddress?.port ?? 0
        peerPort = port
        let local = localAddress ?? context.channel.localAddress?.ipAddress ?? "127.0.0.1"
        localAddress = local
        let request = RequestTranslation.envoyRequest(
            head, random: listener.random, remoteAddress: remote, peerPort: port, localAddress: local, tls: listener.tls,
            addressing: listener.addressing)
        guard let engine = listener.engine else {
            localRespond(context: context, head: head, status: 404, headers: RequestTranslation.localReplyHeaders(body: ""), body: "")
            return
        }
        // The decision is moved into `Routed` at the end, never copied (it is a large value).
        let d = engine.decide(request, trace: false)
        requestHash = d.hashPolicy.isEmpty ? nil : RequestHash.hash(d.hashPolicy, request: request)
        if let type = RequestTranslation.upgradeType(head),
            !RequestTranslation.upgradeAllowed(
                type, route: d.upgradeTypes, refusedByRoute: d.disabledUpgradeTypes, manager: listener.upgradeTypes)
        {
            // No upgrade filter chain for this type: 403 with an empty body (conn_manager_impl.cc).
            // The decoder reads nothing after an upgrade request, so the connection ends here.
            reject(context: context, head: head, status: 403, body: "")
            return
        }
        // The connection manager's stream timer (`refreshDurationTimeout`), from the stream's start.
        if let duration = d.streamDuration {
            streamTimer = routeDeadlines(context).schedule(in: .nanoseconds(max(0, duration.nanoseconds))) { [self] in
                self.streamDurationReached(context: context)
            }
        }
        if listener.httpFilters.contains(.cors) {
            let outcome = CorsSimulation.outcome(d.corsPolicies, method: request.method, headers: request.headers, random: listener.random)
            cors = outcome.responseHeaders
            if let preflight = outcome.preflight {
                respond(context: context, head: head, status: 200, headers: preflight + [HTTPHeader("content-length", "0")], body: "")
                return
            }
        }
        let steps = d.matched ? FilterSimulation.steps(d, buckets: listener.buckets, random: listener.random, now: .now()) : []
        runFilters(context: context, Routed(head: head, decision: d, engine: engine), steps[...])
    }

    /// The HTTP filters before the router: a reply ends the request, a delay waits first
    /// (while the body goes on arriving).
    private func runFilters(context: ChannelHandlerContext, _ routed: Routed, _ steps: ArraySlice<FilterStep>) {
        guard let step = steps.first else {
            router(context: context, routed)
            return
        }
        switch step {
        case .proceed:
            runFilters(context: context, routed, steps.dropFirst())
        case .reply(let status, let text):
            localReply(context: context, head: routed.head, status: status, body: text, engine: routed.engine, decision: routed.decision)
        case .delay(let wait):
            switch state {
            case .receiving(let head, _): state = .receiving(head, .filtering(routed))
            case .answering(let head, _): state = .answering(head, .filtering(routed))
            case .idle, .closed: return
            }
            context.eventLoop.assumeIsolated().scheduleTask(in: wait) { [self] in
                // Only while this request is still the one being filtered.
                switch self.state {
                case .receiving(_, .filtering(let r)), .answering(_, .filtering(let r)):
                    guard r === routed else { return }
                    self.runFilters(context: context, routed, steps.dropFirst())
                default:
                    return
                }
            }
        }
    }

    /// The router's turn: a local reply at once; a forward when the request is complete.
    private func router(context: ChannelHandlerContext, _ routed: Routed) {
        let d = routed.decision
        let head = routed.head
        switch d.outcome {
        case .noRoute:
            localRespond(context: context, head: head, status: 404, headers: RequestTranslation.localReplyHeaders(body: ""), body: "")
        case .redirect(let r), .tlsRedirect(let r):
            localRespond(
                context: context, head: head, status: r.status,
                headers: d.responseHeaders.entries
                    + [HTTPHeader("content-length", "0")].filter { _ in !d.responseHeaders.has("content-length") }, body: "")
        case .directResponse(let dr):
            var headers = d.responseHeaders
            if !headers.has("content-length") { headers.set("content-length", String(dr.body.utf8.count)) }
            localRespond(context: context, head: head, status: dr.status, headers: headers.entries, body: dr.body)
        case .forward(let f):
            guard listener.targets.has(f.cluster) else {
                localReply(context: context, head: head, status: f.clusterNotFoundStatus, body: "", engine: routed.engine, decision: d)
                return
            }
            switch state {
            case .receiving, .answering: forward(context: context, routed)
            case .idle, .closed: break
            }
        }
    }

    /// Starts the exchange of a request the router forwards, with the body so far; the rest
    /// streams to it as it arrives.
    private func forward(context: ChannelHandlerContext, _ routed: Routed) {
        let d = routed.decision
        let head = routed.head
        let engine = routed.engine
        guard case .forward(let f) = d.outcome else { return }
        let timeout = d.timeout.flatMap { $0.nanoseconds > 0 ? TimeAmount.nanoseconds($0.nanoseconds) : nil }
        // The engine's per-try timeout: dropped when not below the global one (router.cc `finalTimeout`).
        let perTry = d.perTryTimeout.flatMap { $0.nanoseconds > 0 ? TimeAmount.nanoseconds($0.nanoseconds) : nil }
        var complete = true
        if case .receiving = state { complete = false }
        let upstream = RequestTranslation.upstreamRequest(d, body: body, complete: complete)
        body = emptyBody
        let upgrade = RequestTranslation.upgradeType(head) != nil
        let exchange = ForwardExchange(
            eventLoop: context.eventLoop, request: upstream, complete: complete, cluster: f.cluster, targets: listener.targets,
            plan: RetryPlan(d.retryPolicy, headers: d.requestHeaders), timeout: timeout, perTryTimeout: perTry,
            options: listener.options, random: listener.random, attemptCountHeader: d.attemptCountInRequest, upgrade: upgrade,
            hash: requestHash, deadlines: routeDeadlines(context), priority: f.priority, bufferLimit: d.requestBodyBufferLimit)
        state = complete ? .answering(head, .forwarded(exchange)) : .receiving(head, .forwarded(exchange))
        // The router filter's `suppress_envoy_headers`: none of its response `x-envoy-*` headers.
        let suppress = engine.router.suppressEnvoyHeaders
        // Whether the connection goes on after the streamed response, as its head said.
        var keepAlive = true
        exchange.onEvent { [self] event in
            switch self.state {
            case .receiving, .answering: break
            case .idle, .closed: return
            }
            // The decision is read from `routed` (not captured as a copy).
            switch event {
            case .head(let status, let upstreamHeaders, _):
                // The response streams (router.cc `onUpstreamHeaders`, `onUpstreamData`): the head
                // now, with the upstream's `content-length` if it sent one (else the HTTP/1.1
                // codec chunks the body), `x-envoy-upstream-service-time` measured to here from
                // the request's end (none for a response before the request is complete).
                var headers = RequestTranslation.responseHeaders(
                    upstream: upstreamHeaders, engine: routed.engine, decision: routed.decision)
                if !suppress, let completed = exchange.requestCompleted {
                    let ms = (NIODeadline.now() - completed).nanoseconds / 1_000_000
                    headers.append(HTTPHeader("x-envoy-upstream-service-time", String(ms)))
                }
                keepAlive = self.writeHead(
                    context: context, head: head, status: status,
                    headers: Self.overwriting(headers, with: self.attemptCount(routed, exchange)))
                // Envoy's watermarks: a downstream that cannot take more stops the upstream's reads.
                if !context.channel.isWritable { exchange.downstreamWritable(false) }
            case .body(let chunk):
                if head.method != .HEAD { context.write(self.wrapOutboundOut(.body(.byteBuffer(chunk))), promise: nil) }
            case .flush:
                context.flush()
            case .end(let trailers):
                self.stopStreamTimer()
                self.endResponse(context: context, head: head, keepAlive: keepAlive, trailers: trailers)
            case .reset:
                // The response started and cannot be completed: the stream is reset, which on
                // HTTP/1.1 closes the connection mid-response (an HTTP/2 stream gets RST_STREAM).
                self.stopStreamTimer()
                self.state = .closed
                context.close(promise: nil)
            case .upgraded(_, let upstreamHeaders, let channel):
                var headers = RequestTranslation.responseHeaders(
                    upstream: upstreamHeaders, upgrade: true, engine: routed.engine, decision: routed.decision)
                if !suppress, let completed = exchange.requestCompleted {
                    let ms = (NIODeadline.now() - completed).nanoseconds / 1_000_000
                    headers.append(HTTPHeader("x-envoy-upstream-service-time", String(ms)))
                }
                // The stream timer goes on for the tunnel (`refreshDurationTimeout` knows no upgrades).
                let left = self.streamTimeLeft(routed.decision, context)
                self.tunnel(
                    context: context, upstream: channel, headers: Self.overwriting(headers, with: self.attemptCount(routed, exchange)),
                    closingIn: left)
            case .localReply(let status, _, ForwardExchange.streamDurationFlag):
                self.streamDurationReply(context: context, head: head, status: status)
            case .localReply(let status, let body, let flag):
                // A circuit-breaker overflow is marked `x-envoy-overloaded` (router.cc `onUpstreamAbort`).
                let overloaded = flag == "UO" && !suppress ? [HTTPHeader("x-envoy-overloaded", "true")] : []
                self.localReply(
                    context: context, head: head, status: status, body: body, engine: routed.engine, decision: routed.decision,
                    extra: overloaded + self.attemptCount(routed, exchange))
            }
        }
        // The upstream cannot take more of the body: reading stops until it can.
        letPauseReads(exchange, context)
        if !upgrade { mirror(context: context, decision: d, upstream: upstream, complete: complete, timeout: timeout) }
        // The body no longer waits for the router.
        pauseReads(context, false, by: ObjectIdentifier(self))
        exchange.start()
    }

    /// The stream timer is off (the response ended, or the stream did).
    private func stopStreamTimer() {
        streamTimer?.cancel()
        streamTimer = nil
    }

    /// `include_attempt_count_in_response`: set after the route's mutations, once an attempt was made.
    private func attemptCount(_ routed: Routed, _ exchange: ForwardExchange) -> [HTTPHeader] {
        routed.decision.attemptCountInResponse && exchange.attempts > 0
            ? [HTTPHeader("x-envoy-attempt-count", String(exchange.attempts))] : []
    }

    /// Backpressure on a streamed response: while the downstream cannot take more, the
    /// upstream is not read (Envoy's watermarks, `onAboveWriteBufferHighWatermark`).
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        switch state {
        case .receiving(_, .forwarded(let exchange)), .answering(_, .forwarded(let exchange)):
            exchange.downstreamWritable(context.channel.isWritable)
        case .idle, .receiving, .answering, .closed: break
        }
        context.fireChannelWritabilityChanged()
    }

    /// The stream timer fired (`onStreamMaxDurationReached`): a request still arriving is
    /// answered 408, an exchange in flight is ended (its status follows the same rule), a
    /// complete request still in a filter gets 504 (`maybeRequestTimeoutCode`).
    private func streamDurationReached(context: ChannelHandlerContext) {
        streamTimer = nil
        switch state {
        // An exchange in flight ends itself: 408 while the request is arriving, 504 after.
        case .receiving(_, .forwarded(let exchange)), .answering(_, .forwarded(let exchange)): exchange.expireStreamDuration()
        case .receiving(let head, _): streamDurationReply(context: context, head: head, status: 408)
        case .answering(let head, _): streamDurationReply(context: context, head: head, status: 504)
        case .idle, .closed: break
        }
    }

    /// The connection manager's local reply when the stream timer fires: gRPC
    /// DEADLINE_EXCEEDED for a gRPC request; the router's response mutations are not applied.
    private func streamDurationReply(context: ChannelHandlerContext, head: HTTPRequestHead, status: Int) {
        let body = "downstream duration timeout"
        let grpc = GRPCLocalReply.isGRPC(head) ? [HTTPHeader("grpc-status", "4")] : []
        localRespond(
            context: context, head: head, status: status, headers: RequestTranslation.localReplyHeaders(body: body) + grpc, body: body)
    }

    /// The connection's route-timeout queue.
    private func routeDeadlines(_ context: ChannelHandlerContext) -> DeadlineQueue {
        if let deadlines { return deadlines }
        let q = DeadlineQueue(eventLoop: context.eventLoop)
        deadlines = q
        return q
    }

    /// A router local reply after routing: the content headers, then the route's response mutations.
    private func localReply(
        context: ChannelHandlerContext, head: HTTPRequestHead, status: Int, body: String, engine: RouteEngine, decision: RouteDecision,
        extra: [HTTPHeader] = []
    ) {
        let headers = engine.finalizeResponseHeaders(RequestTranslation.localReplyHeaders(body: body), of: decision).entries
        localRespond(context: context, head: head, status: status, headers: Self.overwriting(headers, with: extra), body: body)
    }

    /// A local reply (`sendLocalReply`): to a gRPC request a trailers-only response; over
    /// HTTP/2 without `content-length` when it has no body, as Envoy's HTTP/2 codec sends it.
    private func localRespond(context: ChannelHandlerContext, head: HTTPRequestHead, status: Int, headers: [HTTPHeader], body: String) {
        if GRPCLocalReply.isGRPC(head) {
            let grpc = GRPCLocalReply.headers(status: status, body: body, headers: headers, head: head)
            respond(context: context, head: head, status: 200, headers: grpc, body: "")
            return
        }
        let h2Empty = head.version.major >= 2 && body.isEmpty
        respond(
            context: context, head: head, status: status, headers: h2Empty ? headers.filter { $0.name != "content-length" } : headers,
            body: body)
    }

    /// What is left of the route's `max_stream_duration` (nil: none), counted from the stream's start.
    private func streamTimeLeft(_ d: RouteDecision, _ context: ChannelHandlerContext) -> TimeAmount? {
        d.streamDuration.map { streamStart + .nanoseconds(max(0, $0.nanoseconds)) - context.eventLoop.now }
    }

    /// After a 101: the HTTP handlers leave both pipelines and a tunnel relays the bytes
    /// (Envoy passes an upgraded stream through). The 101 head is written raw, after the
    /// codec is gone, so the first frame cannot be parsed as HTTP.
    private func tunnel(context: ChannelHandlerContext, upstream: Channel, headers: [HTTPHeader], closingIn: TimeAmount? = nil) {
        clientTimer?.cancel()
        clientTimer = nil
        stopStreamTimer()
        state = .closed
        var h = RequestTranslation.appendingVia(headers.filter { $0.name != "server" && $0.name != "date" }, listener.addressing.via)
        h.append(HTTPHeader("date", date()))
        h.append(HTTPHeader("server", "envoy"))
        let (down, up) = TunnelHandler.pair(closingIn: closingIn)
        do {
            let sync = context.pipeline.syncOperations
            try sync.addHandler(down)
            _ = try sync.removeHandler(sync.handler(type: DownstreamHTTP1Codec.self))
            _ = try sync.removeHandler(sync.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self))
            let upstreamSync = upstream.pipeline.syncOperations
            try upstreamSync.addHandler(up)
            _ = try upstreamSync.removeHandler(upstreamSync.handler(type: UpstreamResponseHandler.self))
            _ = try upstreamSync.removeHandler(upstreamSync.handler(type: UpstreamRequestEncoder.self))
            // Last: bytes the upstream sent behind the 101 are forwarded to the tunnel.
            _ = try upstreamSync.removeHandler(upstreamSync.handler(type: ByteToMessageHandler<UpstreamResponseDecoder>.self))
        } catch {
            upstream.close(promise: nil)
            context.close(promise: nil)
            return
        }
        context.writeAndFlush(
            NIOAny(context.channel.allocator.buffer(string: RequestTranslation.switchingProtocolsHead(h))), promise: nil)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    /// Fire and forget: each shadow is an exchange of its own, without retries, within the
    /// route timeout; its answer is dropped and, once the request is complete, it outlives the
    /// downstream request. The body streams to the shadows as it does to the exchange.
    private func mirror(
        context: ChannelHandlerContext, decision d: RouteDecision, upstream: UpstreamRequest, complete: Bool, timeout: TimeAmount?
    ) {
        for shadow in RequestMirroring.shadows(d, upstream: upstream, exists: listener.targets.has) {
            // The router's buffer limit is the shadow stream's (`setBufferLimit`).
            let exchange = ForwardExchange(
                eventLoop: context.eventLoop, request: shadow.request, complete: complete, cluster: shadow.cluster,
                targets: listener.targets, plan: RetryPlan(),
                timeout: timeout, perTryTimeout: nil, options: listener.options, random: listener.random,
                bufferLimit: d.requestBodyBufferLimit)
            if !complete {
                shadows.append(exchange)
                // While the body streams, a shadow that cannot take more of it stops the client.
                letPauseReads(exchange, context)
            }
            // Its response is dropped part by part; kept alive by its own callback until it ends.
            exchange.onEvent { event in
                if event.ends { _ = exchange }
            }
            exchange.start()
        }
    }

    /// `headers` with each of `extra` set: in place when present, else appended (`setInline`).
    static func overwriting(_ headers: [HTTPHeader], with extra: [HTTPHeader]) -> [HTTPHeader] {
        var out = headers
        for e in extra {
            if let i = out.firstIndex(where: { $0.name == e.name }) {
                out[i] = e
                out = out.enumerated().filter { $0.offset == i || $0.element.name != e.name }.map(\.element)
            } else {
                out.append(e)
            }
        }
        return out
    }

    private func respond(context: ChannelHandlerContext, head: HTTPRequestHead, status: Int, headers: [HTTPHeader], body: String) {
        respond(context: context, head: head, status: status, headers: headers, body: context.channel.allocator.buffer(string: body))
    }

    /// A whole response: the head, the body, the end.
    private func respond(context: ChannelHandlerContext, head: HTTPRequestHead, status: Int, headers: [HTTPHeader], body: ByteBuffer) {
        stopStreamTimer()
        let keepAlive = writeHead(context: context, head: head, status: status, headers: headers)
        if body.readableBytes > 0 && head.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        endResponse(context: context, head: head, keepAlive: keepAlive, trailers: [])
    }

    /// Writes a response head (not flushed): the CORS filter's headers, `via`, `date`, `server`,
    /// and `connection: close` when the connection ends with the response. Returns whether it
    /// goes on after it.
    @discardableResult
    private func writeHead(context: ChannelHandlerContext, head: HTTPRequestHead, status: Int, headers: [HTTPHeader]) -> Bool {
        var headers = headers
        // The CORS filter's encodeHeaders runs on every response of the request, after the router.
        if !cors.isEmpty { headers = Self.overwriting(headers, with: cors) }
        // A response before the request is complete ends an HTTP/1 connection (Envoy's
        // `encodeHeaders` sets `connection: close` for `downstream_rq_response_before_rq_complete`);
        // over HTTP/2 the stream is reset after it.
        var complete = true
        if case .receiving = state { complete = false }
        // The connection manager's `via`, on every response it encodes (`mutateResponseHeaders`).
        headers = RequestTranslation.appendingVia(headers, listener.addressing.via)
        // Built as one array: the names are the engine's (lower-case ASCII), so NIO's per-`add`
        // checks have nothing to find.
        var fields: [(String, String)] = []
        fields.reserveCapacity(headers.count + 3)
        for e in headers where e.name.utf8.first != UInt8(ascii: ":") && e.name != "server" && e.name != "date" {
            fields.append((e.name, e.value))
        }
        fields.append(("date", date()))
        fields.append(("server", "envoy"))
        var h = HTTPHeaders(fields)
        var keepAlive = complete && Self.keepsAlive(head)
        // An HTTP/1.0 client cannot take a chunked body: a body without a length ends with the
        // connection (Envoy's HTTP/1 codec does not chunk for HTTP/1.0).
        if head.version == .http1_0 && head.method != .HEAD && HTTPResponseStatus(statusCode: status).mayHaveResponseBody
            && !h.contains(name: "content-length")
        {
            keepAlive = false
        }
        if !keepAlive && head.version.major < 2 { h.replaceOrAdd(name: "connection", value: "close") }
        let responseHead = HTTPResponseHead(
            version: Self.responseVersion(head), status: HTTPResponseStatus(statusCode: status), headers: h)
        context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
        return keepAlive
    }

    /// Ends the response written with ``writeHead(context:head:status:headers:)`` and flushes it:
    /// the connection goes idle for the next request, or closes.
    private func endResponse(context: ChannelHandlerContext, head: HTTPRequestHead, keepAlive: Bool, trailers: [HTTPHeader]) {
        // Trailers (gRPC's `grpc-status`) reach HTTP/2 clients; the HTTP/1 codec drops them
        // (`enable_trailers` is off by default).
        let end = head.version.major >= 2 && !trailers.isEmpty ? HTTPHeaders(trailers.map { ($0.name, $0.value) }) : nil
        if keepAlive {
            // Idle before the end goes out: the codec in front hands a pipelined request on
            // as soon as this response ends.
            state = .idle
            armClientTimer(context: context)
            context.writeAndFlush(wrapOutboundOut(.end(end)), promise: nil)
        } else {
            state = .closed
            context.writeAndFlush(wrapOutboundOut(.end(end))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    /// The version of the response line: HTTP/1.0 to an HTTP/1.0 request (served with
    /// `accept_http_10`), else HTTP/1.1 (an HTTP/2 stream's codec does not write one).
    private static func responseVersion(_ head: HTTPRequestHead) -> HTTPVersion {
        head.version == .http1_0 ? .http1_0 : .http1_1
    }

    /// Whether the connection can go on after the response to `head`, a complete request. The
    /// decoder reads nothing after an upgrade request: a declined upgrade closes.
    private static func keepsAlive(_ head: HTTPRequestHead) -> Bool {
        head.isKeepAlive && RequestTranslation.upgradeType(head) == nil
    }

    /// Answers and closes the connection (limits, timeouts): the rest of the request is not read.
    /// A `HEAD` request gets the headers only, as from every local reply.
    private func reject(context: ChannelHandlerContext, head: HTTPRequestHead, status: Int, body: String) {
        clientTimer?.cancel()
        stopStreamTimer()
        var h = HTTPHeaders()
        var status = status
        var body = body
        var headers = RequestTranslation.localReplyHeaders(body: body)
        if GRPCLocalReply.isGRPC(head) {
            headers = GRPCLocalReply.headers(status: status, body: body, headers: headers, head: head)
            (status, body) = (200, "")
        }
        for e in RequestTranslation.appendingVia(headers, listener.addressing.via) { h.add(name: e.name, value: e.value) }
        h.add(name: "date", value: date())
        h.add(name: "server", value: "envoy")
        h.add(name: "connection", value: "close")
        state = .closed
        let version = listener.acceptHTTP10 ? Self.responseVersion(head) : .http1_1
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: status), headers: h))),
            promise: nil)
        if !body.isEmpty && head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    /// The `date` header's value, formatted once per second of this connection.
    private func date() -> String {
        let now = time(nil)
        if now != dateSecond {
            dateSecond = now
            dateText = Self.httpDate(now)
        }
        return dateText
    }

    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// An IMF-fixdate.
    static func httpDate(_ t: time_t = time(nil)) -> String {
        var t = t
        var tmv = tm()
        gmtime_r(&t, &tmv)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return
            "\(days[Int(tmv.tm_wday)]), \(two(tmv.tm_mday)) \(months[Int(tmv.tm_mon)]) \(tmv.tm_year + 1900) \(two(tmv.tm_hour)):\(two(tmv.tm_min)):\(two(tmv.tm_sec)) GMT"
    }
}
