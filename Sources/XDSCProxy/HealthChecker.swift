import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import XDSCEnvoy

/// One endpoint's health as Envoy's active health checking keeps it
/// (`ActiveHealthCheckSession` in health_checker_impl.cc): unhealthy until its first check
/// passes; a passing check makes an unhealthy endpoint healthy at once the first time, else
/// after `healthy_threshold` passes in a row; a wrong status makes it unhealthy at once, a
/// network failure (refused, reset, timeout) after `unhealthy_threshold` in a row.
struct HealthCheckSession: Equatable {
    /// What one check gave.
    enum Result {
        /// The expected status (200).
        case success
        /// Another status.
        case activeFailure
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
        case .activeFailure, .networkFailure:
            successes = 0
            failures += 1
            if healthy && (result == .activeFailure || failures >= unhealthyThreshold) { healthy = false }
        }
        firstCheck = false
    }
}

/// Runs the HTTP health checks of every cluster that has one: a `GET` of the check's path
/// with the cluster name as host and `user-agent: Envoy/HC`, every `interval`, each within
/// `timeout`, and tells the load balancer which endpoints are healthy.
final class HealthChecker: Sendable {
    /// The user agent of Envoy's health checks (the mocks recognise it).
    static let userAgent = "Envoy/HC"

    private let eventLoop: EventLoop
    private let targets: UpstreamTargets
    private let checks: [(cluster: String, check: HealthCheck)]
    private let sessions = NIOLockedValueBox([String: HealthCheckSession]())
    private let stopped = NIOLockedValueBox(false)

    init(eventLoop: EventLoop, targets: UpstreamTargets, settings: [String: ClusterSettings], order: [String]) {
        self.eventLoop = eventLoop
        self.targets = targets
        self.checks = order.compactMap { name in settings[name]?.healthCheck.map { (name, $0) } }
    }

    /// Starts every check; the future completes when each endpoint has had its first
    /// result (Envoy warms a cluster up on its first round of checks).
    func start() -> EventLoopFuture<Void> {
        var firsts: [EventLoopFuture<Void>] = []
        for (cluster, check) in checks {
            guard case .http(let path, _) = check.kind else { continue }
            for (i, target) in (targets.targets[cluster] ?? []).enumerated() {
                let key = "\(cluster) \(i)"
                sessions.withLockedValue {
                    $0[key] = HealthCheckSession(
                        healthyThreshold: Int(check.healthyThreshold), unhealthyThreshold: Int(check.unhealthyThreshold))
                }
                targets.setHealthy(cluster, i, false)
                let first = eventLoop.makePromise(of: Void.self)
                firsts.append(first.futureResult)
                run(cluster: cluster, index: i, target: target, path: path, check: check, first: first)
            }
        }
        return EventLoopFuture.andAllSucceed(firsts, on: eventLoop)
    }

    /// No further checks are scheduled.
    func stop() { stopped.withLockedValue { $0 = true } }

    private func run(
        cluster: String, index: Int, target: UpstreamTargets.Target, path: String, check: HealthCheck, first: EventLoopPromise<Void>?
    ) {
        guard !stopped.withLockedValue({ $0 }) else {
            first?.succeed(())
            return
        }
        probe(host: target.host, port: target.port, tls: target.tls, path: path, cluster: cluster, timeout: check.timeout).whenSuccess {
            [self] outcome in
            let key = "\(cluster) \(index)"
            let healthy = self.sessions.withLockedValue { all -> Bool in
                all[key]?.record(outcome)
                return all[key]?.healthy ?? false
            }
            self.targets.setHealthy(cluster, index, healthy)
            first?.succeed(())
            let interval = TimeAmount.nanoseconds(max(check.interval.nanoseconds, 1_000_000))
            self.eventLoop.scheduleTask(in: interval) {
                self.run(cluster: cluster, index: index, target: target, path: path, check: check, first: nil)
            }
        }
    }

    /// One check; never fails, the result says how it went.
    private func probe(host: String, port: Int, tls: UpstreamTLS?, path: String, cluster: String, timeout: EnvoyDuration)
        -> EventLoopFuture<HealthCheckSession.Result>
    {
        let limit = TimeAmount.nanoseconds(max(timeout.nanoseconds, 1_000_000))
        let response = eventLoop.makePromise(of: UpstreamResponse.self)
        ClientBootstrap(group: eventLoop)
            .connectTimeout(limit)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Checks go over the cluster's transport socket, TLS included.
                    try tls.map { try channel.pipeline.syncOperations.addHandler(UpstreamTLS.handler($0)) }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(UpstreamResponseHandler(promise: response))
                }
            }
            .connect(host: host, port: port)
            .whenComplete { result in
                switch result {
                case .failure: response.fail(UpstreamFailure.connectionFailure)
                case .success(let channel):
                    // The timeout closes the connection, which fails the response.
                    let timer = channel.eventLoop.scheduleTask(in: limit) { channel.close(promise: nil) }
                    response.futureResult.whenComplete { _ in
                        timer.cancel()
                        channel.close(promise: nil)
                    }
                    var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
                    head.headers.add(name: "host", value: cluster)
                    head.headers.add(name: "user-agent", value: Self.userAgent)
                    head.headers.add(name: "connection", value: "close")
                    channel.write(HTTPClientRequestPart.head(head), promise: nil)
                    channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
                }
            }
        return response.futureResult.map { $0.status == 200 ? .success : .activeFailure }.recover { _ in .networkFailure }
    }
}
