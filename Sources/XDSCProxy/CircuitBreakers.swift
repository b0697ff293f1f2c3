import NIOCore
import XDSCEnvoy

/// One cluster's DEFAULT-priority circuit breakers beside `max_requests` (which the load
/// balancer counts): `max_pending_requests`, the requests waiting for a new upstream
/// connection (Envoy's `ConnPoolImplBase::newStreamImpl` refuses a stream with
/// `PoolFailureReason::Overflow` when no ready connection exists and the pending count is at
/// the limit), and `max_retries`, the retries outstanding in the cluster
/// (`RetryStateImpl::shouldRetry`: a retry over the limit is not made, `RetryStatus::NoOverflow`,
/// and the router passes on what the last attempt gave).
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
    /// The pending-requests breaker of `cluster` admits a new-connection attempt.
    func beginPending(_ cluster: String) -> Bool { withBreakers(cluster) { $0.beginPending() } ?? true }

    /// A new-connection attempt of `cluster` is no longer pending.
    func endPending(_ cluster: String) { withBreakers(cluster) { $0.endPending() } }

    /// The retries breaker of `cluster` admits one more retry.
    func beginRetry(_ cluster: String) -> Bool { withBreakers(cluster) { $0.beginRetry() } ?? true }

    /// A retry of `cluster` is over.
    func endRetry(_ cluster: String) { withBreakers(cluster) { $0.endRetry() } }

    /// Records what an attempt to endpoint `index` of `cluster` gave (outlier detection).
    func report(_ cluster: String, _ index: Int, _ event: OutlierDetector.Event, random: RandomSource) {
        withDetectingBalancer(cluster) { lb in
            guard lb.outlier != nil else { return }
            if lb.outlier!.record(event, host: index, now: Self.now(), random: random.next) { lb.ejected = lb.outlier!.ejected }
        }
    }

    /// Monotonic nanoseconds, the outlier detector's clock.
    static func now() -> Int64 { Int64(truncatingIfNeeded: NIODeadline.now().uptimeNanoseconds) }
}
