import NIOCore
import Synchronization
import XDSCEnvoy

/// One cluster's circuit breakers of one priority beside `max_requests` (which the load
/// balancer counts): `max_pending_requests`, the requests waiting for a new upstream
/// connection (Envoy's `ConnPoolImplBase::newStreamImpl` refuses a stream with
/// `PoolFailureReason::Overflow` when no ready connection exists and the pending count is at
/// the limit), and `max_retries`, the retries outstanding in the cluster
/// (`RetryStateImpl::shouldRetry`: a retry over the limit is not made, `RetryStatus::NoOverflow`,
/// and the router passes on what the last attempt gave). A cluster has one per
/// `RoutingPriority`, each with its own counters (`ClusterInfoImpl::ResourceManagers`,
/// upstream_impl.cc: a `ResourceManagerImpl` per priority, each loaded with the defaults
/// 1024 / 1024 / 1024 / 3 unless thresholds name that priority).
struct CircuitBreakers: Equatable {
    let maxPendingRequests: Int
    let maxRetries: Int
    /// Attempts waiting for their connection.
    private(set) var pending = 0
    /// Retries scheduled and not yet answered.
    private(set) var retries = 0

    init(maxPendingRequests: UInt32? = nil, maxRetries: UInt32? = nil) {
        self.maxPendingRequests = Int(maxPendingRequests ?? ClusterSettings.defaultMaxPendingRequests)
        self.maxRetries = Int(maxRetries ?? ClusterSettings.defaultMaxRetries)
    }

    /// A request starts waiting for a connection; false (overflow) at the limit.
    mutating func beginPending() -> Bool {
        guard pending < maxPendingRequests else { return false }
        pending += 1
        return true
    }

    /// The connection it waited for is up (or failed).
    mutating func endPending() { pending = max(0, pending - 1) }

    /// A retry is scheduled; false (`NoOverflow`) at the limit.
    mutating func beginRetry() -> Bool {
        guard retries < maxRetries else { return false }
        retries += 1
        return true
    }

    /// The retry's outcome arrived or the request ended (`resetRetry`).
    mutating func endRetry() { retries = max(0, retries - 1) }
}

extension UpstreamTargets {
    /// The pending-requests breaker of `cluster` at `priority` admits a new-connection attempt.
    func beginPending(_ cluster: String, _ priority: RoutingPriority = .default) -> Bool {
        withBreakers(cluster, priority) { $0.beginPending() } ?? true
    }

    /// A new-connection attempt of `cluster` at `priority` is no longer pending.
    func endPending(_ cluster: String, _ priority: RoutingPriority = .default) { withBreakers(cluster, priority) { $0.endPending() } }

    /// The retries breaker of `cluster` at `priority` admits one more retry.
    func beginRetry(_ cluster: String, _ priority: RoutingPriority = .default) -> Bool {
        withBreakers(cluster, priority) { $0.beginRetry() } ?? true
    }

    /// A retry of `cluster` at `priority` is over.
    func endRetry(_ cluster: String, _ priority: RoutingPriority = .default) { withBreakers(cluster, priority) { $0.endRetry() } }

    /// Records what an attempt to endpoint `index` of the cluster at position `c` gave (outlier detection).
    func report(at c: Int?, _ index: Int, _ event: OutlierDetector.Event, random: RandomSource) {
        withDetectingBalancer(at: c) { lb in
            lb.outlier?.record(event, host: index, now: Self.now(), random: random.next)
        }
    }

    /// Monotonic nanoseconds, the outlier detector's clock.
    static func now() -> Int64 { Int64(truncatingIfNeeded: NIODeadline.now().uptimeNanoseconds) }
}

/// `max_connections` per cluster and priority (Envoy's 1024 when the thresholds do not set
/// it, `ResourceManagerImpl`): the cluster's open upstream connections of that priority,
/// connecting ones included (Envoy counts an `ActiveClient` from its creation). At the limit
/// an HTTP/1.1 request that finds no idle connection waits, pending, for the next connection
/// its endpoint releases, unless the endpoint's pool (one per endpoint and priority) has none
/// open at all, when one is made anyway (conn_pool_base.cc `tryCreateNewConnection`); a
/// closed connection lets the first waiter connect. An HTTP/2 pool asks ``admitHTTP2(_:force:)``
/// before it dials another connection (HTTP2UpstreamPool.swift).
struct ConnectionLimits {
    /// What a request that needs a connection does.
    enum Admission {
        case connect
        /// Wait: the promise gives a released connection, or nil to connect after all.
        case wait(EventLoopFuture<Channel?>)
    }

    /// Per cluster position and priority (`limitIndex`): the limit and the open connections.
    var limits: [Int]
    var open: [Int]
    /// Open connections and waiters per dialled address.
    var perAddress: [String: Int] = [:]
    var waiters: [String: [EventLoopPromise<Channel?>]] = [:]

    init(limits: [Int]) {
        self.limits = limits
        open = Array(repeating: 0, count: limits.count)
    }

    /// An HTTP/2 pool may dial one more connection for counters `c`: within the limit, or
    /// `force` (the pool has no connection at all); counted open when true.
    mutating func admitHTTP2(_ c: Int, force: Bool) -> Bool {
        guard open[c] < limits[c] || force else { return false }
        open[c] += 1
        return true
    }

    /// An HTTP/2 connection counted by ``admitHTTP2(_:force:)`` closed (or failed to connect).
    mutating func closedHTTP2(_ c: Int) { open[c] = max(0, open[c] - 1) }

    mutating func admit(_ c: Int, _ address: String, eventLoop: EventLoop) -> Admission {
        if open[c] < limits[c] || perAddress[address, default: 0] == 0 {
            open[c] += 1
            perAddress[address, default: 0] += 1
            return .connect
        }
        let p = eventLoop.makePromise(of: Channel?.self)
        waiters[address, default: []].append(p)
        return .wait(p.futureResult)
    }

    /// A connection of cluster `c` to `address` closed (or its connect failed): the first
    /// waiter may connect in its place.
    mutating func closed(_ c: Int, _ address: String) -> EventLoopPromise<Channel?>? {
        open[c] = max(0, open[c] - 1)
        perAddress[address] = max(0, perAddress[address, default: 0] - 1)
        guard var w = waiters[address], !w.isEmpty else { return nil }
        let first = w.removeFirst()
        waiters[address] = w.isEmpty ? nil : w
        open[c] += 1
        perAddress[address, default: 0] += 1
        return first
    }

    /// The first waiter for `address`, to be handed a released connection.
    mutating func waiter(_ address: String) -> EventLoopPromise<Channel?>? {
        guard var w = waiters[address], !w.isEmpty else { return nil }
        let first = w.removeFirst()
        waiters[address] = w.isEmpty ? nil : w
        return first
    }
}

extension UpstreamTargets {
    /// Whether a request of `cluster` to `target` (at the target's priority) may open a
    /// connection now, or must wait.
    func admitConnection(_ cluster: String, _ target: Target, eventLoop: EventLoop) -> ConnectionLimits.Admission {
        guard let c = positions(cluster), limitsConnections else { return .connect }
        let i = Self.limitIndex(c, target.priority)
        let admission = connectionLimits.withLockedValue { $0.admit(i, Self.address(target), eventLoop: eventLoop) }
        if case .wait = admission { connectionWaiters.add(1, ordering: .relaxed) }
        return admission
    }

    /// A connection of `cluster` to `target` is up: its close frees its slot. nil: the connect failed.
    func connectionOpened(_ cluster: String, _ target: Target, _ channel: Channel?) {
        guard let p = positions(cluster), limitsConnections else { return }
        let c = Self.limitIndex(p, target.priority)
        let address = Self.address(target)
        let free = { [self] in
            guard let waiter = self.connectionLimits.withLockedValue({ $0.closed(c, address) }) else { return }
            self.connectionWaiters.subtract(1, ordering: .relaxed)
            waiter.succeed(nil)
        }
        if let channel { channel.closeFuture.whenComplete { _ in free() } } else { free() }
    }

    /// Gives a released connection to a request waiting for one; false when none waits.
    func handToWaiter(_ channel: Channel, _ target: Target) -> Bool {
        guard limitsConnections, connectionWaiters.load(ordering: .relaxed) > 0, channel.isActive else { return false }
        guard let w = connectionLimits.withLockedValue({ $0.waiter(Self.address(target)) }) else { return false }
        connectionWaiters.subtract(1, ordering: .relaxed)
        w.succeed(channel)
        return true
    }

    /// The pool a connection belongs to: its address and priority (Envoy keeps a pool per
    /// endpoint and priority, cluster_manager_impl.cc `httpConnPoolImpl`).
    static func address(_ t: Target) -> String { "\(t.host) \(t.port) \(t.priority.index)" }

    /// Where the counters of cluster position `c` at `priority` are kept.
    static func limitIndex(_ c: Int, _ priority: RoutingPriority) -> Int { c * 2 + priority.index }
}
