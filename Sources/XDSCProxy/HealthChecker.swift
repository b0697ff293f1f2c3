import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import XDSCEnvoy

/// One endpoint's health as Envoy's active health checking keeps it
/// (`ActiveHealthCheckSession` in health_checker_impl.cc): unhealthy until its first check
/// passes; a passing check makes an unhealthy endpoint healthy at once the first time, else
/// after `healthy_threshold` passes in a row; a wrong status makes it unhealthy at once, a
/// network failure (refused, reset, timeout) or a retriable status after `unhealthy_threshold`
/// in a row (`setUnhealthy`: only a non-network, non-retriable failure is immediate).
struct HealthCheckSession: Equatable {
    /// What one check gave.
    enum Result {
        /// An expected status (200, or `expected_statuses`).
        case success
        /// Another status.
        case activeFailure
        /// A status of `retriable_statuses` (not expected): counted like a network failure.
        case retriableFailure
        /// No response within the timeout.
        case networkFailure
    }

    let healthyThreshold: Int
    let unhealthyThreshold: Int
    /// Whether the endpoint takes traffic (`FAILED_ACTIVE_HC` cleared).
    private(set) var healthy = false
    private var firstCheck = true
    private var successes = 0
    private var failures = 0

    init(healthyThreshold: Int, unhealthyThreshold: Int) {
        self.healthyThreshold = max(healthyThreshold, 1)
        self.unhealthyThreshold = max(unhealthyThreshold, 1)
    }

    mutating func record(_ result: Result) {
        switch result {
        case .success:
            failures = 0
            successes += 1
            if !healthy && (firstCheck || successes >= healthyThreshold) { healthy = true }
        case .activeFailure, .retriableFailure, .networkFailure:
            successes = 0
            failures += 1
            if healthy && (result == .activeFailure || failures >= unhealthyThreshold) { healthy = false }
        }
        firstCheck = false
    }
}

/// Runs the health check of every cluster that has one (its first), every `interval`, each
/// within `timeout`, and tells the load balancer which endpoints are healthy: HTTP (a `GET`
/// of the check's path with the cluster name as host and `user-agent: Envoy/HC`, over
/// HTTP/1.1 or HTTP/2 as `codec_client_type` says), TCP (connect, `send`, wait for
/// `receive`) and gRPC (`grpc.health.v1.Health/Check`); `HealthProbe` sends one.
final class HealthChecker: Sendable {
    /// The user agent of Envoy's health checks (the mocks recognise it).
    static let userAgent = "Envoy/HC"

    private let eventLoop: EventLoop
    private let targets: UpstreamTargets
    private let checks: [(cluster: String, check: HealthCheck)]
    private let sessions = NIOLockedValueBox([String: HealthCheckSession]())
    /// Each session's kept connection (`reuse_connection`).
    private let kept = NIOLockedValueBox([String: HealthProbe.KeptConnection]())
    private let stopped = NIOLockedValueBox(false)

    /// With `mocks` a TCP check that waits for `receive` bytes is not run (the mocks speak
    /// HTTP; `ProxyConfiguration.startWarnings` says so): those endpoints stay healthy.
    init(eventLoop: EventLoop, targets: UpstreamTargets, settings: [String: ClusterSettings], order: [String], mocks: Bool = false) {
        self.eventLoop = eventLoop
        self.targets = targets
        self.checks = order.compactMap { name -> (cluster: String, check: HealthCheck)? in
            guard let check = settings[name]?.healthCheck else { return nil }
            if mocks, case .tcp = check.kind, !check.tcpReceive.isEmpty { return nil }
            return (name, check)
        }
    }

    /// Starts every check; the future completes when each endpoint has had its first
    /// result (Envoy warms a cluster up on its first round of checks).
    func start() -> EventLoopFuture<Void> {
        var firsts: [EventLoopFuture<Void>] = []
        for (cluster, check) in checks {
            for (i, target) in (targets.targets[cluster] ?? []).enumerated() {
                let key = "\(cluster) \(i)"
                sessions.withLockedValue {
                    $0[key] = HealthCheckSession(
                        healthyThreshold: Int(check.healthyThreshold), unhealthyThreshold: Int(check.unhealthyThreshold))
                }
                kept.withLockedValue { $0[key] = HealthProbe.KeptConnection() }
                targets.setHealthy(cluster, i, false)
                let first = eventLoop.makePromise(of: Void.self)
                firsts.append(first.futureResult)
                run(cluster: cluster, index: i, target: target, check: check, first: first)
            }
        }
        return EventLoopFuture.andAllSucceed(firsts, on: eventLoop)
    }

    /// No further checks are scheduled, and the kept connections are closed.
    func stop() {
        stopped.withLockedValue { $0 = true }
        for k in kept.withLockedValue({ Array($0.values) }) { k.close() }
    }

    private func run(cluster: String, index: Int, target: UpstreamTargets.Target, check: HealthCheck, first: EventLoopPromise<Void>?) {
        let key = "\(cluster) \(index)"
        let connection = kept.withLockedValue { $0[key] }
        guard !stopped.withLockedValue({ $0 }) else {
            // A check that was in flight at `stop` may have kept its connection.
            connection?.close()
            first?.succeed(())
            return
        }
        HealthProbe.run(check, target: target, cluster: cluster, eventLoop: eventLoop, kept: connection).whenSuccess { [self] outcome in
            let healthy = self.sessions.withLockedValue { all -> Bool in
                all[key]?.record(outcome)
                return all[key]?.healthy ?? false
            }
            self.targets.setHealthy(cluster, index, healthy)
            first?.succeed(())
            let interval = TimeAmount.nanoseconds(max(check.interval.nanoseconds, 1_000_000))
            self.eventLoop.scheduleTask(in: interval) {
                self.run(cluster: cluster, index: index, target: target, check: check, first: nil)
            }
        }
    }
}
