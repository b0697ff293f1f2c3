import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import XDSCEnvoy
import XDSCRequest

#if canImport(Glibc)
    import Glibc
#endif

/// The request as it goes upstream (HTTP/1.1).
struct UpstreamRequest {
    var method: HTTPMethod
    var uri: String
    var headers: HTTPHeaders
    var body: ByteBuffer
}

/// Where a cluster's requests go: each configured endpoint with the address actually
/// dialled (the endpoint itself, or its mock), picked by the cluster's load balancer within
/// its circuit breaker.
final class UpstreamTargets: Sendable {
    struct Target: Sendable {
        var endpoint: ProxyEndpoint
        var host: String
        var port: Int
        /// The cluster's TLS, dialled with `--upstreams real` (nil for mocks and plain clusters).
        var tls: UpstreamTLS? = nil
        /// The route's priority: its connections are pooled (and limited) apart.
        var priority = RoutingPriority.default
        /// The cluster's `max_requests_per_connection` (0: no limit).
        var maxRequestsPerConnection = 0
        /// The cluster's upstream `idle_timeout` for kept-alive HTTP/1.1 connections, when the
        /// cluster sets one (nil: none; Envoy's default hour is not armed, which would cost a
        /// timer per pooled request).
        var idleTimeout: TimeAmount? = nil
        /// The number of the target's ``Address`` (set by ``UpstreamTargets``): targets with
        /// the same number share pooled connections.
        fileprivate(set) var address = 0
    }

    /// The outcome of picking an endpoint.
    enum Pick {
        case target(Target, index: Int)
        /// No endpoint at all (503 `no healthy upstream`).
        case noHealthy
        /// `max_requests` are in flight (503 overflow).
        case overflow
    }

    let targets: [String: [Target]]
    /// Each cluster's position in `lists`, `speaksHTTP2` and the balancers (one lookup per pick).
    private let positions: [String: Int]
    private let lists: [[Target]]
    /// `max_requests` by `limitIndex` (cluster position and priority).
    private let maxRequests: [Int]
    private let speaksHTTP2: [Bool]
    /// Idle keep-alive upstream connections by address (Envoy's HTTP/1 connection pool).
    private let idle = NIOLockedValueBox([PoolKey: [Channel]]())
    private let balancers: NIOLockedValueBox<[LoadBalancer]>
    /// The pending-requests and retries breakers (CircuitBreakers.swift), by `limitIndex`.
    private let breakers: NIOLockedValueBox<[CircuitBreakers]>
    /// Whether each cluster has outlier detection (reports skip the lock otherwise).
    let detecting: [Bool]
    /// `max_connections` (CircuitBreakers.swift), by `limitIndex`.
    let connectionLimits: NIOLockedValueBox<ConnectionLimits>
    let limitsConnections: Bool
    /// Requests waiting under `max_connections` (a released connection skips the lock when none).
    let connectionWaiters = Atomic<Int>(0)
    /// Each cluster's `http2_protocol_options.max_concurrent_streams` (HTTP2UpstreamPool.swift).
    let http2StreamLimits: [Int]
    /// The HTTP/2 connections of the clusters that speak HTTP/2 upstream.
    let http2 = HTTP2UpstreamPool()

    /// Where a pooled connection goes: the address (``Target/address``) and the priority.
    private struct PoolKey: Hashable {
        var address: Int
        var priority: RoutingPriority
        init(_ t: Target) {
            address = t.address
            priority = t.priority
        }
    }

    /// What makes two targets' connections interchangeable: the address and, for TLS, the SNI
    /// and the cluster's context. Numbered once at start, so a pool lookup hashes two integers.
    private struct Address: Hashable {
        var host: String
        var port: Int
        var tlsConnection: String?
        var tlsContext: ObjectIdentifier?
        init(_ t: Target) {
            host = t.host
            port = t.port
            tlsConnection = t.tls?.connectionKey
            tlsContext = t.tls?.clientContext.map { ObjectIdentifier($0) }
        }
    }

    init(_ targets: [String: [Target]], settings: [String: ClusterSettings] = [:]) {
        // Each target carries its cluster's connection limits (the pools read them).
        var targets = targets
        var addresses: [Address: Int] = [:]
        for (name, list) in targets.sorted(by: { $0.key < $1.key }) {
            let s = settings[name] ?? ClusterSettings()
            let idle = s.idleTimeout ?? .zero
            targets[name] = list.map { t in
                var t = t
                t.maxRequestsPerConnection = Int(s.maxRequestsPerConnection ?? 0)
                t.idleTimeout = idle > .zero ? idle.timeAmount : nil
                let a = Address(t)
                t.address = addresses[a] ?? addresses.count
                addresses[a] = t.address
                return t
            }
        }
        self.targets = targets
        var positions: [String: Int] = [:]
        var lists: [[Target]] = []
        var maxRequests: [Int] = []
        var speaksHTTP2: [Bool] = []
        var balancers: [LoadBalancer] = []
        var breakers: [CircuitBreakers] = []
        for (name, list) in targets.sorted(by: { $0.key < $1.key }) {
            positions[name] = lists.count
            lists.append(list)
            let s = settings[name] ?? ClusterSettings()
            speaksHTTP2.append(s.http2)
            balancers.append(LoadBalancer(list, s, now: Self.now()))
            // One set of counters per priority, in `limitIndex` order.
            for priority in RoutingPriority.allCases {
                let t = s.thresholds(priority)
                maxRequests.append(Int(t.maxRequests ?? ClusterSettings.defaultMaxRequests))
                breakers.append(CircuitBreakers(maxPendingRequests: t.maxPendingRequests, maxRetries: t.maxRetries))
            }
        }
        self.positions = positions
        self.lists = lists
        self.maxRequests = maxRequests
        self.speaksHTTP2 = speaksHTTP2
        self.balancers = NIOLockedValueBox(balancers)
        self.breakers = NIOLockedValueBox(breakers)
        self.detecting = balancers.map { $0.outlier != nil }
        // Every cluster counts its connections, against Envoy's 1024 when the thresholds are silent.
        let limits = targets.keys.sorted().flatMap { name in
            RoutingPriority.allCases.map { p in
                Int((settings[name] ?? ClusterSettings()).thresholds(p).maxConnections ?? ClusterSettings.defaultMaxConnections)
            }
        }
        self.connectionLimits = NIOLockedValueBox(ConnectionLimits(limits: limits))
        self.limitsConnections = !limits.isEmpty
        self.http2StreamLimits = targets.keys.sorted().map { name in
            Int(settings[name]?.http2MaxConcurrentStreams ?? ClusterSettings.defaultHTTP2MaxConcurrentStreams)
        }
    }

    /// A cluster's position.
    func positions(_ cluster: String) -> Int? { positions[cluster] }

    /// Whether the cluster exists.
    func has(_ cluster: String) -> Bool { targets[cluster] != nil }

    /// Whether the cluster at position `c` sends its requests upstream over HTTP/2.
    /// The `at:` calls take a cluster's position (``positions(_:)``; nil: an unknown cluster):
    /// a forward looks its cluster's name up once, not at each step of each request.
    func usesHTTP2(at c: Int?) -> Bool { c.map { speaksHTTP2[$0] } ?? false }

    /// The next endpoint of the cluster at position `c`; the pick counts as a request in flight
    /// until ``ended(at:_:_:)``.
    /// RING_HASH and MAGLEV clusters look `hash` up (the route's hash policy); `priority`
    /// chooses the `max_requests` counted against.
    /// `avoiding` and `picks`: the endpoints a retry host predicate rejects and the picks allowed
    /// (``LoadBalancer/pick(random:hash:avoiding:picks:)``).
    func next(
        at c: Int?, random: RandomSource, hash: UInt64? = nil, priority: RoutingPriority = .default, avoiding: [Int] = [], picks: Int = 1
    ) -> Pick {
        guard let c, !lists[c].isEmpty else { return .noHealthy }
        let maxRequests = self.maxRequests[Self.limitIndex(c, priority)]
        return balancers.withLockedValue { all -> Pick in
            // The connection pool refuses a stream over the priority's `max_requests`.
            if all[c].requests(priority) >= maxRequests { return .overflow }
            if all[c].outlier != nil { all[c].outlier!.advance(to: Self.now(), random: random.next) }
            guard let i = all[c].pick(random: random.next, hash: hash, avoiding: avoiding, picks: picks) else { return .noHealthy }
            all[c].started(i, priority)
            return .target(lists[c][i], index: i)
        }
    }

    /// The request to endpoint `index` of the cluster at position `c` at `priority` is no
    /// longer in flight.
    func ended(at c: Int?, _ index: Int, _ priority: RoutingPriority = .default) {
        guard let c else { return }
        balancers.withLockedValue { $0[c].ended(index, priority) }
    }

    /// Runs `body` on the load balancer of the cluster at position `c` under its lock, if it
    /// detects outliers.
    func withDetectingBalancer(at c: Int?, _ body: (inout LoadBalancer) -> Void) {
        guard let c, detecting[c] else { return }
        balancers.withLockedValue { body(&$0[c]) }
    }

    /// Runs `body` on the breakers of `cluster` at `priority` under their lock; nil for an
    /// unknown cluster.
    @discardableResult
    func withBreakers<T>(_ cluster: String, _ priority: RoutingPriority = .default, _ body: (inout CircuitBreakers) -> T) -> T? {
        guard let c = positions[cluster] else { return nil }
        return breakers.withLockedValue { body(&$0[Self.limitIndex(c, priority)]) }
    }

    /// An idle open connection to `target`, if the pool has one.
    func pooledConnection(_ target: Target) -> Channel? {
        idle.withLockedValue { all in
            let key = PoolKey(target)
            while let c = all[key]?.popLast() {
                if c.isActive { return c }
            }
            return nil
        }
    }

    /// Keeps `channel` for the next request to `target` (at most 64 per target). A connection
    /// that carried the cluster's `max_requests_per_connection` is closed instead (Envoy drains
    /// it: conn_pool_base.cc `onStreamClosed`, `remaining_streams_`).
    func release(_ channel: Channel, to target: Target) {
        if target.maxRequestsPerConnection > 0,
            let h = try? channel.pipeline.syncOperations.handler(type: UpstreamResponseHandler.self),
            h.exchanges >= target.maxRequestsPerConnection
        {
            channel.close(promise: nil)
            return
        }
        if handToWaiter(channel, target) { return }
        let kept = idle.withLockedValue { all -> Bool in
            let key = PoolKey(target)
            guard all[key, default: []].count < 64 else { return false }
            all[key, default: []].append(channel)
            return true
        }
        if !kept { channel.close(promise: nil) }
    }

    /// Marks endpoint `index` of `cluster` healthy or not (active health checking).
    func setHealthy(_ cluster: String, _ index: Int, _ healthy: Bool) {
        guard let c = positions[cluster] else { return }
        balancers.withLockedValue { all in
            guard all[c].healthy.indices.contains(index) else { return }
            all[c].healthy[index] = healthy
            // `successful_active_health_check_uneject_host`.
            if healthy { all[c].outlier?.healthCheckPassed(host: index, now: Self.now()) }
        }
    }
}

/// What a forward hands its owner: the upstream response as it streams in (router.cc
/// `onUpstreamHeaders`, `onUpstreamData`, `onUpstreamTrailers`), or how the forward ended
/// otherwise. `end`, `reset`, `upgraded` and `localReply` are the last event.
enum ExchangeEvent {
    /// The response head, not retried: it goes downstream now (`encodeHeaders`).
    case head(status: Int, headers: [(name: String, value: String)], attempts: Int)
    /// A part of the body (`encodeData`).
    case body(ByteBuffer)
    /// The upstream's read burst ended: what was written can be flushed.
    case flush
    /// The response ended, with its trailers (`encodeTrailers`, or the last data).
    case end(trailers: [HTTPHeader])
    /// The response started downstream and cannot be completed (the upstream reset or closed,
    /// the route timeout, the per-try idle timeout, the stream duration): the downstream stream
    /// is reset, as `sendLocalReply` does once response headers were sent
    /// (conn_manager_impl.cc, "prior headers have already been sent").
    case reset
    /// The upstream accepted an upgrade (101): the connection is handed over open.
    case upgraded(status: Int, headers: [(name: String, value: String)], Channel)
    /// The router's local reply (no response went downstream).
    case localReply(status: Int, body: String, flag: String)

    /// Whether this is the exchange's last event.
    var ends: Bool {
        switch self {
        case .head, .body, .flush: false
        case .end, .reset, .upgraded, .localReply: true
        }
    }
}

/// One forwarded request: attempts with retries and back-off, the per-try and global
/// timeouts, the request body sent as it arrives, and the response streamed to its owner as it
/// arrives. The exchange starts at the request's head, as Envoy's router opens its upstream
/// request at the headers (`decodeHeaders`); the body follows with ``requestBody(_:)`` and
/// ``requestEnd()`` (router.cc `decodeData`, `onRequestComplete`). While a retry is possible the
/// body is kept to send again, up to the buffer limit; past it retries are given up. The retry decision and the
/// outlier report are made at the response head (router.cc `onUpstreamHeaders`); a response
/// not retried is forwarded at once, and after that nothing is retried. Confined to its event
/// loop; the receiver of its attempts' response parts; ends exactly once.
final class ForwardExchange: UpstreamResponseReceiver {
    enum State {
        case idle
        /// An attempt awaits its response head (on the channel, once it has one).
        case attempting(Channel?)
        case backingOff(Scheduled<Void>)
        /// The response head went to the owner; the rest comes on the channel.
        case responding(Channel?)
        case finished
    }

    private var state = State.idle
    /// The request body kept: all of it while a retry may resend it, else only what no attempt
    /// has sent yet (the attempt in flight is connecting).
    private var held: ByteBuffer
    /// When the downstream request ended (`onRequestComplete`); nil while its body is arriving.
    private(set) var requestCompleted: NIODeadline?
    /// The body outgrew the buffer limit while retries were possible: retries are given up
    /// (router.cc `decodeData`, `retry_or_shadow_abandoned`).
    private var retriesAbandoned = false
    /// The most request body kept for retries (the connection buffer limit, 1 MiB by default).
    private let bufferLimit: Int
    /// The connection the attempt in flight's request went out on, which takes the rest of the
    /// body as it arrives; nil while connecting or between attempts.
    private var sending: Channel?
    /// The attempt in flight goes over HTTP/2 (parts are `HTTPClientRequestPart`s).
    private var sendingHTTP2 = false
    /// The downstream is asked to stop sending (the upstream connection is not writable, or
    /// the body kept while connecting is over the limit) or to go on (Envoy's watermarks).
    private var downstreamPaused = false
    private var pauseDownstream: ((Bool) -> Void)?
    /// The endpoint of the attempt in flight (counted by the load balancer and the circuit breaker).
    private var inFlight: Int?
    /// Where the attempt in flight goes (its connection returns to that target's pool).
    private var currentTarget: UpstreamTargets.Target?
    /// Attempts started so far (`x-envoy-attempt-count`).
    private(set) var attempts = 0
    private var globalTimer: DeadlineQueue.Timer?
    private var perTryTimer: Scheduled<Void>?
    private let eventLoop: EventLoop
    /// The request's head (its body is in ``held``).
    private let request: UpstreamRequest
    private let cluster: String
    /// The cluster's position in ``targets`` (looked up once; nil: no such cluster).
    private let position: Int?
    private let targets: UpstreamTargets
    private let plan: RetryPlan
    private let timeout: TimeAmount?
    private let perTryTimeout: TimeAmount?
    private let options: ProxyOptions
    private let random: RandomSource
    /// `include_request_attempt_count`: each attempt carries `x-envoy-attempt-count`.
    private let attemptCountHeader: Bool
    /// The request asks for an upgrade (websocket): a 101 hands the connection over.
    private let upgrade: Bool
    /// The route's hash policy result, for RING_HASH and MAGLEV clusters.
    private let hash: UInt64?
    /// The route's priority: the circuit breakers and connection pools of the cluster used.
    private let priority: RoutingPriority
    /// A retry of this request counts against the cluster's `max_retries` (`resetRetry`).
    private var holdsRetry = false
    /// A retried attempt's connection whose response ended with its head, until its end comes.
    private var discarded: (channel: Channel, target: UpstreamTargets.Target)?
    /// The exponential back-offs so far (each doubles the next one's range).
    private var exponentialBackOffs = 0
    /// The endpoints of the attempts so far, under `previous_hosts` (`onHostAttempted`).
    private var attemptedHosts: [Int] = []
    /// `per_try_idle_timeout`: armed when the request is written, again on each response part.
    private var idleTimer: Scheduled<Void>?
    /// Where the route timeout is queued (the downstream connection's); nil: a task of its own.
    private let deadlines: DeadlineQueue?
    /// Where the events go (a plain callback: no promise, future and callback list per
    /// request on the hot path); dropped after the last one.
    private var sink: ((ExchangeEvent) -> Void)?

    /// `request` carries the body so far; `complete`: that is all of it (else ``requestBody(_:)``
    /// and ``requestEnd()`` follow). `bufferLimit`: the route's limit on the body kept for
    /// retries (router.cc `calculateEffectiveBufferLimit`); nil: the connection's
    /// (`options.maxRequestBodyBytes`).
    init(
        eventLoop: EventLoop, request: UpstreamRequest, complete: Bool = true, cluster: String, targets: UpstreamTargets, plan: RetryPlan,
        timeout: TimeAmount?, perTryTimeout: TimeAmount?, options: ProxyOptions, random: RandomSource, attemptCountHeader: Bool = false,
        upgrade: Bool = false, hash: UInt64? = nil, deadlines: DeadlineQueue? = nil, priority: RoutingPriority = .default,
        bufferLimit: UInt64? = nil
    ) {
        var head = request
        self.held = head.body
        head.body = ByteBuffer()
        self.requestCompleted = complete ? .now() : nil
        self.bufferLimit = bufferLimit.map { Int(clamping: $0) } ?? options.maxRequestBodyBytes
        self.hash = hash
        self.priority = priority
        self.deadlines = deadlines
        self.attemptCountHeader = attemptCountHeader
        self.upgrade = upgrade
        self.eventLoop = eventLoop
        self.request = head
        self.cluster = cluster
        self.position = targets.positions(cluster)
        self.targets = targets
        self.plan = plan
        self.timeout = timeout
        self.perTryTimeout = perTryTimeout
        self.options = options
        self.random = random
        // The body that came with the head already counts (`decodeData` sees it first).
        if plan.enabled && held.readableBytes > self.bufferLimit { retriesAbandoned = true }
    }

    /// Sends the exchange's events to `body`, on the event loop, until the last one. Set before ``start()``.
    func onEvent(_ body: @escaping (ExchangeEvent) -> Void) {
        sink = body
    }

    /// Hands `event` on; after the last one the sink is dropped (it usually captures this exchange).
    private func emit(_ event: ExchangeEvent) {
        guard let body = sink else { return }
        if event.ends { sink = nil }
        body(event)
    }

    /// The response head went to the owner (a local reply is no longer possible).
    var responding: Bool {
        if case .responding = state { return true }
        return false
    }

    /// Asks the downstream to stop sending the request body (`true`) or to go on; set before ``start()``.
    func onPauseDownstream(_ body: @escaping (Bool) -> Void) {
        pauseDownstream = body
    }

    func start() {
        if requestCompleted != nil { armRouteTimeout() }
        attempt()
    }

    /// The route timeout runs from the end of the request (router.cc `onRequestComplete`). An
    /// upgrade's 101 is waited for under it too (504), as in Envoy since 1.36
    /// (`setupRouteTimeoutForWebsocketUpgrade`, disarmed by the 101).
    private func armRouteTimeout() {
        guard let timeout else { return }
        let expire = { [self] in self.routeTimeout() }
        globalTimer = deadlines?.schedule(in: timeout, expire) ?? .scheduled(eventLoop.assumeIsolated().scheduleTask(in: timeout, expire))
    }

    /// Whether a retry may resend the body (`retry_state_->enabled()`), which is then kept.
    private var buffering: Bool { plan.enabled && !retriesAbandoned }

    /// A part of the request body (router.cc `decodeData`): sent on the attempt's connection if
    /// it is up, and kept while a retry may need it. Over the buffer limit retries are given up;
    /// if no attempt is in flight then (a retry is backing off), the request ends with 507.
    func requestBody(_ chunk: ByteBuffer) {
        guard requestCompleted == nil else { return }
        if case .finished = state { return }
        if buffering && held.readableBytes + chunk.readableBytes > bufferLimit {
            retriesAbandoned = true
            switch state {
            case .idle, .backingOff, .finished:
                finish(.localReply(status: 507, body: "exceeded request buffer limit while retrying upstream", flag: "RBL"))
                return
            case .attempting, .responding:
                // What was kept went out with the attempt's head; only an attempt still
                // connecting needs it.
                if sending != nil { held.clear() }
            }
        }
        if let channel = sending { send(.body(chunk), on: channel) }
        if buffering || sending == nil {
            var chunk = chunk
            held.writeBuffer(&chunk)
        }
        // Connecting, with more kept than the limit: the downstream waits.
        if sending == nil && !buffering && held.readableBytes > bufferLimit { setDownstreamPaused(true) }
    }

    /// The request ended (`onRequestComplete`): the end goes to the attempt in flight, the
    /// route timeout starts, and so do the per-try timers of an attempt whose connection is up.
    func requestEnd() {
        guard requestCompleted == nil else { return }
        requestCompleted = .now()
        if case .finished = state { return }
        if let channel = sending { send(.end, on: channel) }
        armRouteTimeout()
        if case .attempting(_?) = state { armTryTimers() }
        setDownstreamPaused(false)
    }

    /// A streamed request's part on the attempt's connection, flushed.
    private func send(_ part: UpstreamRequestPart, on channel: Channel) {
        guard sendingHTTP2 else {
            channel.writeAndFlush(part, promise: nil)
            return
        }
        switch part {
        case .body(let chunk): channel.writeAndFlush(HTTPClientRequestPart.body(.byteBuffer(chunk)), promise: nil)
        case .end: channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        case .whole, .head: break
        }
    }

    /// Writes the attempt's request on its connection: the head and the body kept, and the end
    /// if the request is complete. The request is made here, from ``request`` (one copy per attempt).
    private func writeRequest(on channel: Channel, http2: Bool) {
        var request = self.request
        // The router sets it on every attempt, retries included (router.cc).
        if attemptCountHeader { request.headers.replaceOrAdd(name: "x-envoy-attempt-count", value: String(attempts)) }
        request.body = held
        sending = channel
        sendingHTTP2 = http2
        // Without retries the body kept is on its way and need not be kept.
        if !buffering { held = ByteBuffer() }
        let complete = requestCompleted != nil
        if http2 {
            var head = HTTPRequestHead(version: .http1_1, method: request.method, uri: request.uri)
            head.headers = request.headers
            // HTTP/2 frames the body itself.
            head.headers.remove(name: "transfer-encoding")
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            if request.body.readableBytes > 0 { channel.write(HTTPClientRequestPart.body(.byteBuffer(request.body)), promise: nil) }
            if complete { channel.write(HTTPClientRequestPart.end(nil), promise: nil) }
            channel.flush()
        } else {
            // HTTP/1.1: a complete request in one write (UpstreamRequestEncoder).
            channel.writeAndFlush(complete ? UpstreamRequestPart.whole(request) : .head(request), promise: nil)
        }
        setDownstreamPaused(!channel.isWritable)
    }

    private func setDownstreamPaused(_ paused: Bool) {
        guard paused != downstreamPaused, requestCompleted == nil || !paused else { return }
        downstreamPaused = paused
        pauseDownstream?(paused)
    }

    /// The attempt's connection can take more of the body or not: the downstream is read or not.
    func upstreamWritable(_ attempt: Int, _ writable: Bool) {
        guard attempt == attempts, sending != nil, requestCompleted == nil else { return }
        setDownstreamPaused(!writable)
    }

    /// The route timeout (router.cc `onResponseTimeout`): an attempt still awaiting headers
    /// counts as a local-origin timeout and the client gets 504; once the response started
    /// downstream, the upstream stream and the downstream one are reset (`onUpstreamAbort`).
    private func routeTimeout() {
        switch state {
        case .responding: finish(.reset)
        case .attempting:
            report(.timeout)
            finish(.localReply(status: 504, body: "upstream request timeout", flag: "UT"))
        case .idle, .backingOff, .finished:
            finish(.localReply(status: 504, body: "upstream request timeout", flag: "UT"))
        }
    }

    /// Stops everything (the downstream went away).
    func cancel() {
        finish(.localReply(status: 503, body: "", flag: "DC"))
    }

    /// The connection manager's stream timer (`max_stream_duration`) expired: the attempt in
    /// flight is reset and the exchange ends with ``streamDurationFlag``. The status is
    /// `maybeRequestTimeoutCode` of whether the request is complete (conn_manager_impl.cc
    /// `onStreamMaxDurationReached`): 504 for a request the proxy has read in full, 408 for an
    /// upgrade, whose request never ends before the 101 (the HTTP/1 codec swallows an upgrade
    /// request's message complete, codec_impl.cc `onMessageCompleteImpl`). Once the response
    /// started downstream, its local reply is a reset of the stream (`sendLocalReply`).
    func expireStreamDuration() {
        if case .responding = state {
            finish(.reset)
            return
        }
        finish(
            .localReply(
                status: upgrade || requestCompleted == nil ? 408 : 504, body: "downstream duration timeout", flag: Self.streamDurationFlag))
    }

    /// The downstream can take more (`writable`) or not: the upstream's reads go on or are held
    /// back (Envoy's watermarks, `onDecoderFilterAboveWriteBufferHighWatermark`).
    func downstreamWritable(_ writable: Bool) {
        guard case .responding(let channel?) = state else { return }
        // A pooled HTTP/2 connection may be on another event loop.
        if channel.eventLoop.inEventLoop {
            Self.holdReads(on: channel, !writable)
        } else {
            channel.eventLoop.execute { Self.holdReads(on: channel, !writable) }
        }
    }

    /// ``UpstreamResponseHandler/holdReads(_:)`` of `channel`'s handler (on its event loop).
    private static func holdReads(on channel: Channel, _ hold: Bool) {
        (try? channel.pipeline.syncOperations.handler(type: UpstreamResponseHandler.self))?.holdReads(hold)
    }

    /// Marks the connection manager's `onStreamMaxDurationReached` local reply (not a router
    /// reply: the route's response mutations do not apply).
    static let streamDurationFlag = "stream-duration"

    private func attempt() {
        dropDiscarded()
        let target: UpstreamTargets.Target
        // Only a retry under `previous_hosts` has hosts to avoid, and with them picks to spare.
        switch targets.next(at: position, random: random, hash: hash, priority: priority, avoiding: attemptedHosts, picks: plan.retryPicks)
        {
        case .noHealthy:
            finish(.localReply(status: 503, body: "no healthy upstream", flag: "UH"))
            return
        case .overflow:
            // Never retried (`wouldRetryFromReset`); the router adds `x-envoy-overloaded`.
            finish(.localReply(status: 503, body: Self.resetBody("overflow"), flag: "UO"))
            return
        case .target(let t, let index):
            // The request's host can choose the SNI and the SANs checked (`auto_sni`).
            var t = t.forRequest(request.headers)
            t.priority = priority
            target = t
            inFlight = index
            currentTarget = target
            if plan.avoidsPreviousHosts { attemptedHosts.append(index) }
        }
        attempts += 1
        state = .attempting(nil)
        let attemptNumber = attempts
        let upgrade = self.upgrade
        let http2 = !upgrade && targets.usesHTTP2(at: position)
        let send = { [self] (channel: Channel) in
            guard self.attempts == attemptNumber, case .attempting = self.state else {
                channel.close(promise: nil)
                return
            }
            self.state = .attempting(channel)
            self.report(.connectSuccess)
            self.writeRequest(on: channel, http2: http2)
            // The per-try timers run from here once the request is complete, else from its end
            // (upstream_request.cc `onPoolReady`: `setupPerTryTimeout` or
            // `create_per_try_timeout_on_request_complete_`).
            if self.requestCompleted != nil { self.armTryTimers() }
        }
        if http2 {
            // A stream on the endpoint's HTTP/2 pool (HTTP2UpstreamPool.swift). Upgrades stay
            // on HTTP/1.1. Until its connection is up the stream is pending.
            guard
                let stream = targets.openHTTP2Stream(
                    cluster, target, eventLoop: eventLoop, connectTimeout: options.connectTimeout.timeAmount, receiver: self,
                    attempt: attemptNumber)
            else {
                refusePending()
                return
            }
            stream.assumeIsolated().whenComplete { [self] result in
                switch result {
                case .failure(let error): self.upstreamFailed(attemptNumber, error as? UpstreamFailure ?? .connectionFailure)
                case .success(let stream): send(stream)
                }
            }
        } else if !upgrade, let pooled = targets.pooledConnection(target) {
            reuse(pooled, attempt: attemptNumber, send: send)
        } else if targets.beginPending(cluster, priority) {
            switch targets.admitConnection(cluster, target, eventLoop: eventLoop) {
            case .connect: connect(target, upgrade: upgrade, attempt: attemptNumber, send: send)
            case .wait(let released):
                // `max_connections`: pending until the endpoint releases a connection.
                released.assumeIsolated().whenSuccess { [self] channel in
                    guard let channel else {
                        self.connect(target, upgrade: upgrade, attempt: attemptNumber, send: send)
                        return
                    }
                    self.targets.endPending(self.cluster, self.priority)
                    self.reuse(channel, attempt: attemptNumber, send: send)
                }
            }
        } else {
            refusePending()
        }
    }

    /// The attempt's per-try timeout and per-try idle timeout start (`setupPerTryTimeout`).
    private func armTryTimers() {
        let attemptNumber = attempts
        if let perTryTimeout {
            perTryTimer = eventLoop.assumeIsolated().scheduleTask(in: perTryTimeout) { [self] in
                // Ignored once the response started downstream (upstream_request.cc `onPerTryTimeout`).
                guard self.attempts == attemptNumber, case .attempting = self.state else { return }
                self.attemptFailed(.perTryTimeout)
            }
        }
        touchIdleTimer()
    }

    /// The per-try and per-try idle timers of the attempt are off.
    private func cancelTryTimers() {
        perTryTimer?.cancel()
        perTryTimer = nil
        idleTimer?.cancel()
        idleTimer = nil
    }

    /// `per_try_idle_timeout` (upstream_request.cc `setupPerTryTimeout`, once the stream is up
    /// and the request complete; `resetPerTryIdleTimer` on each response headers and data):
    /// armed again, for the attempt in flight. Without a response part for that long the
    /// attempt ends as a per-try timeout (router.cc `onPerTryIdleTimeout`: 504 `upstream request
    /// timeout`, retried like one), or, once the response started downstream, both streams are
    /// reset (`onPerTryTimeoutCommon`: `maybeRetryReset` does not retry then, and the local reply
    /// becomes a reset).
    private func touchIdleTimer() {
        guard let idle = plan.perTryIdleTimeout else { return }
        idleTimer?.cancel()
        let attempt = attempts
        idleTimer = eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(idle)) { [self] in
            guard self.attempts == attempt else { return }
            switch self.state {
            case .attempting: self.attemptFailed(.perTryTimeout)
            case .responding:
                self.report(.timeout)
                self.finish(.reset)
            case .idle, .backingOff, .finished: break
            }
        }
    }

    /// `max_pending_requests`: the pool refuses the stream (overflow), which is neither retried
    /// nor held against the endpoint (router.cc `onUpstreamReset`).
    private func refusePending() {
        cancelTryTimers()
        finish(.localReply(status: 503, body: Self.resetBody("overflow"), flag: "UO"))
    }

    /// An attempt on a kept-alive connection: its response handler now answers this exchange
    /// and `send` writes the request; a connection that cannot take the attempt is closed and
    /// the attempt fails as a connection termination.
    private func reuse(_ channel: Channel, attempt: Int, send: (Channel) -> Void) {
        do {
            try takeOver(channel, attempt: attempt)
            send(channel)
        } catch {
            channel.close(promise: nil)
            upstreamFailed(attempt, .connectionTermination)
        }
    }

    /// Readies a released keep-alive connection for the next response: a pooled connection keeps
    /// its response handler between requests (one that has none yet gets one).
    private func takeOver(_ channel: Channel, attempt: Int) throws {
        let sync = channel.pipeline.syncOperations
        if let handler = try? sync.handler(type: UpstreamResponseHandler.self) {
            guard handler.expect(self, attempt: attempt) else { throw UpstreamFailure.connectionTermination }
        } else {
            try sync.addHandler(UpstreamResponseHandler(receiver: self, attempt: attempt))
        }
    }

    /// A new connection for an attempt; `send` writes the request once it is up.
    private func connect(_ target: UpstreamTargets.Target, upgrade: Bool, attempt: Int, send: @escaping (Channel) -> Void) {
        // The connection is on this exchange's event loop.
        let receiver = NIOLoopBound<UpstreamResponseReceiver>(self, eventLoop: eventLoop)
        // An event loop without sockets (a test's embedded one) cannot dial: a connect failure.
        guard let bootstrap = ClientBootstrap(validatingGroup: eventLoop) else {
            targets.endPending(cluster, priority)
            targets.connectionOpened(cluster, target, nil)
            upstreamFailed(attempt, .connectionFailure)
            return
        }
        bootstrap
            .connectTimeout(options.connectTimeout.timeAmount)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try target.tls.map { try UpstreamTLS.addHandlers($0, to: channel.pipeline.syncOperations) }
                    // After a 101 the bytes behind it belong to the tunnel.
                    let decoder = UpstreamResponseDecoder(leftOverBytesStrategy: upgrade ? .forwardBytes : .dropBytes)
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(UpstreamRequestEncoder(decoder: decoder))
                    try sync.addHandler(ByteToMessageHandler(decoder))
                    try sync.addHandler(
                        UpstreamResponseHandler(
                            receiver: receiver.value, attempt: attempt, upgrade: upgrade, idleTimeout: target.idleTimeout))
                }
            }
            .connect(host: target.host, port: target.port)
            .assumeIsolated()
            .whenComplete { [self] result in
                self.targets.endPending(self.cluster, self.priority)
                self.targets.connectionOpened(self.cluster, target, try? result.get())
                switch result {
                case .failure: self.upstreamFailed(attempt, .connectionFailure)
                case .success(let channel): send(channel)
                }
            }
    }

    // MARK: - The response (UpstreamResponseReceiver)

    /// The head decides (router.cc `onUpstreamHeaders`): the status goes to outlier detection
    /// (`putHttpResponseCode`), then a retry drops the response, resetting the upstream stream
    /// (`resetStream`: an HTTP/1.1 connection is closed, not pooled); otherwise the response is
    /// forwarded, and the per-try timeout no longer applies (`onPerTryTimeout`).
    func upstreamHead(_ attempt: Int, status: Int, headers: [(name: String, value: String)]) {
        guard attempt == attempts, case .attempting(let channel) = state else { return }
        report(.status(status))
        releaseRetry()
        perTryTimer?.cancel()
        perTryTimer = nil
        if upgrade && status == 101, let channel {
            state = .finished
            endAttempt()
            cancelTryTimers()
            globalTimer?.cancel()
            emit(.upgraded(status: status, headers: headers, channel))
            return
        }
        if !retriesAbandoned && plan.retries(status: status, headers: headers) && attempts <= plan.numRetries && takeRetry() {
            endAttempt()
            cancelTryTimers()
            state = .idle
            // The upstream stream is reset unless the response ends with its head and the
            // request was sent whole (router.cc: `resetStream` when `!end_stream ||
            // !encodeComplete()`): such an HTTP/1.1 connection is pooled at that end.
            if let channel, let target = currentTarget, requestCompleted != nil,
                Self.endsWithHead(status: status, headers: headers, head: request.method == .HEAD)
            {
                discarded = (channel, target)
            } else {
                channel?.close(promise: nil)
            }
            backOff(after: headers)
            return
        }
        state = .responding(channel)
        touchIdleTimer()
        emit(.head(status: status, headers: headers, attempts: attempts))
    }

    func upstreamBody(_ attempt: Int, _ chunk: ByteBuffer) {
        guard attempt == attempts, case .responding = state else { return }
        touchIdleTimer()
        emit(.body(chunk))
    }

    func upstreamReadComplete(_ attempt: Int) {
        dropDiscarded()
        guard attempt == attempts, case .responding = state else { return }
        emit(.flush)
    }

    /// The response is complete (`onUpstreamComplete`): a kept-alive connection goes back to the pool.
    func upstreamEnd(_ attempt: Int, trailers: [HTTPHeader], reusable: Bool) {
        guard attempt == attempts else { return }
        if let d = discarded {
            // The end of a retried response that had no body: its connection goes back to the pool.
            discarded = nil
            if reusable { targets.release(d.channel, to: d.target) }
            return
        }
        guard case .responding(let channel) = state else { return }
        state = .finished
        endAttempt()
        globalTimer?.cancel()
        cancelTryTimers()
        // The attempt no longer owns the connection: finishing does not close it. A response
        // that ends before the request does resets the upstream stream (`onUpstreamComplete`):
        // the rest of the body is not sent, and the connection is not used again.
        if requestCompleted == nil {
            channel?.close(promise: nil)
        } else if reusable, let channel, let target = currentTarget {
            targets.release(channel, to: target)
        }
        emit(.end(trailers: trailers))
    }

    /// A failure before the head is the attempt's (retried as its reset reason says); after it,
    /// the upstream reset the response under way (`onUpstreamReset`, reported as a connect
    /// failure): never retried, the downstream stream is reset.
    func upstreamFailed(_ attempt: Int, _ failure: UpstreamFailure) {
        guard attempt == attempts else { return }
        switch state {
        case .attempting: attemptFailed(failure)
        case .responding:
            report(.connectFailed)
            finish(.reset)
        case .idle, .backingOff, .finished: break
        }
    }

    private func attemptFailed(_ failure: UpstreamFailure) {
        guard case .attempting(let channel) = state else { return }
        report(failure == .perTryTimeout ? .timeout : .connectFailed)
        releaseRetry()
        endAttempt()
        cancelTryTimers()
        state = .idle
        channel?.close(promise: nil)
        if !retriesAbandoned && plan.retries(failure) && attempts <= plan.numRetries && takeRetry() {
            backOff()
            return
        }
        switch failure {
        case .perTryTimeout: finish(.localReply(status: 504, body: "upstream request timeout", flag: "UT"))
        case .protocolError: finish(.localReply(status: 502, body: Self.resetBody("protocol error"), flag: "UPE"))
        case .connectionFailure: finish(.localReply(status: 503, body: Self.resetBody("connection failure"), flag: "UF"))
        case .connectionTermination: finish(.localReply(status: 503, body: Self.resetBody("connection termination"), flag: "UC"))
        case .transportFailure: finish(.localReply(status: 503, body: Self.resetBody(failure.reason), flag: "UF"))
        case .refusedStream: finish(.localReply(status: 503, body: Self.resetBody(failure.reason), flag: "UR"))
        }
    }

    /// The router's body for a reset before the response headers (router.cc).
    static func resetBody(_ reason: String) -> String {
        "upstream connect error or disconnect/reset before headers. reset reason: \(reason)"
    }

    /// Tells the cluster's outlier detection what the attempt in flight gave.
    private func report(_ event: OutlierDetector.Event) {
        if let i = inFlight { targets.report(at: position, i, event, random: random) }
    }

    /// `max_retries` admits the retry (held until its outcome); false is `NoOverflow`.
    private func takeRetry() -> Bool {
        guard targets.beginRetry(cluster, priority) else { return false }
        holdsRetry = true
        return true
    }

    /// The retry held, if any, is over.
    private func releaseRetry() {
        if holdsRetry { targets.endRetry(cluster, priority) }
        holdsRetry = false
    }

    /// A retried response's connection whose end did not come in the read with its head is
    /// closed (a reset), as is one still held when the exchange goes on or ends.
    private func dropDiscarded() {
        discarded?.channel.close(promise: nil)
        discarded = nil
    }

    /// Whether a response ends with its head, as Envoy's HTTP/1 codec raises its headers with
    /// `end_stream` (codec_impl.cc `ClientConnectionImpl::cannotHaveBody`): the answer to a HEAD
    /// request, a 204 or a 304, or a final response with `content-length: 0` that is not chunked.
    static func endsWithHead(status: Int, headers: [(name: String, value: String)], head: Bool) -> Bool {
        if head || status == 204 || status == 304 { return true }
        guard status >= 200, headers.contains(where: { $0.name == "content-length" && $0.value == "0" }) else { return false }
        return !headers.contains { $0.name == "transfer-encoding" && $0.value.lowercased().contains("chunked") }
    }

    /// The attempt in flight is over for the load balancer and the circuit breaker.
    private func endAttempt() {
        if let i = inFlight { targets.ended(at: position, i, priority) }
        inFlight = nil
        sending = nil
    }

    /// The wait before the next attempt (`RetryPlan.backOff`): the exponential back-off, or
    /// after a retried response, the interval its reset headers ask for.
    private func backOff(after response: [(name: String, value: String)]? = nil) {
        let (wait, rateLimited) = plan.backOff(
            after: response, step: exponentialBackOffs, defaultBase: options.retryBackOffBase.timeAmount.nanoseconds,
            random: random.next(), now: UInt64(max(0, time(nil))))
        if !rateLimited { exponentialBackOffs += 1 }
        let task = eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(wait)) { [self] in
            guard case .backingOff = self.state else { return }
            self.attempt()
        }
        state = .backingOff(task)
    }

    /// Ends the exchange with `event` (a local reply, or a reset of a response under way): the
    /// attempt's connection is closed, the timers are off.
    private func finish(_ event: ExchangeEvent) {
        let previous = state
        // Finished first: closing the attempt's channel reports its failure synchronously.
        state = .finished
        switch previous {
        case .finished: return
        case .attempting(let channel), .responding(let channel): channel?.close(promise: nil)
        case .backingOff(let task): task.cancel()
        case .idle: break
        }
        dropDiscarded()
        endAttempt()
        releaseRetry()
        globalTimer?.cancel()
        cancelTryTimers()
        // A finished exchange holds no body back: it no longer stops the downstream.
        setDownstreamPaused(false)
        emit(event)
    }
}
