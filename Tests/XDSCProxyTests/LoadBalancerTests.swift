import NIOCore
import NIOEmbedded
import Testing
import XDSCEnvoy

@testable import XDSCProxy

/// Endpoint picking as pure state (load_balancer_impl.cc): policies, weights, panic, the
/// `max_requests` breaker.
@Suite struct LoadBalancerTests {
    static func picks(_ lb: inout LoadBalancer, _ n: Int, seed: UInt64 = 1) -> [Int] {
        let random = RandomSource(seed: seed)
        return (0..<n).compactMap { _ in lb.pick(random: random.next) }
    }

    @Test func roundRobinCyclesInOrder() {
        var lb = LoadBalancer(weights: [1, 1, 1], policy: .roundRobin)
        #expect(Self.picks(&lb, 7) == [0, 1, 2, 0, 1, 2, 0])
    }

    /// `previous_hosts` (`LoadBalancerBase::chooseHost`): a pick of an endpoint tried before is
    /// made again, up to `picks` picks, and the last is kept when all are rejected.
    @Test func aRejectedPickIsMadeAgainWithinThePicksAllowed() {
        let random = RandomSource(seed: 1)
        var lb = LoadBalancer(weights: [1, 1, 1], policy: .roundRobin)
        #expect(lb.pick(random: random.next, avoiding: [0], picks: 2) == 1)
        // Round robin is at 2 now; 2 and 0 rejected, the third pick (1) is taken.
        #expect(lb.pick(random: random.next, avoiding: [2, 0], picks: 3) == 1)
        // Every pick rejected: the last one stands.
        #expect(lb.pick(random: random.next, avoiding: [0, 1, 2], picks: 2) == 0)
        // RING_HASH re-picks further round the ring with the same hash: another endpoint.
        var ring = LoadBalancer(weights: [1, 1], policy: .ringHash)
        let home = ring.pick(random: random.next, hash: 42)
        let retry = ring.pick(random: random.next, hash: 42, avoiding: [home!], picks: 20)
        #expect(home != nil && retry != nil && retry != home)
    }

    @Test func weightsShareRequestsSmoothly() {
        var lb = LoadBalancer(weights: [3, 1], policy: .roundRobin)
        let p = Self.picks(&lb, 8)
        #expect(p.filter { $0 == 0 }.count == 6)
        #expect(p.filter { $0 == 1 }.count == 2)
        // Smooth: the light endpoint is not left to the end.
        #expect(p.prefix(4).contains(1))
    }

    @Test func randomIgnoresWeightsAndRepeatsWithTheSeed() {
        var a = LoadBalancer(weights: [100, 1], policy: .random)
        var b = LoadBalancer(weights: [100, 1], policy: .random)
        let pa = Self.picks(&a, 200, seed: 42)
        #expect(pa == Self.picks(&b, 200, seed: 42))
        let ones = pa.filter { $0 == 1 }.count
        #expect(ones > 60 && ones < 140)
    }

    @Test func leastRequestPrefersTheIdleEndpoint() {
        var lb = LoadBalancer(weights: [1, 1], policy: .leastRequest)
        for _ in 0..<5 { lb.started(0) }
        let p = Self.picks(&lb, 200)
        // Two samples: the busy endpoint wins only when both samples are it (1 in 4).
        #expect(p.filter { $0 == 1 }.count > 120)
        lb.ended(0)
        #expect(lb.active == [4, 0])
    }

    @Test func unhealthyEndpointsGetNoTrafficUntilPanic() {
        var lb = LoadBalancer(weights: [1, 1, 1], policy: .roundRobin)
        lb.healthy = [false, true, true]
        #expect(!Self.picks(&lb, 6).contains(0))
        // One healthy of three is below the 50% panic threshold: every endpoint is used.
        lb.healthy = [false, false, true]
        #expect(Set(Self.picks(&lb, 6)) == [0, 1, 2])
    }

    @Test func maxRequestsOverflows() {
        let e = ProxyEndpoint(host: "h", port: 1)
        let targets = UpstreamTargets(
            ["c": [.init(endpoint: e, host: "127.0.0.1", port: 1)]], settings: ["c": ClusterSettings(maxRequests: 1)])
        let random = RandomSource(seed: 1)
        guard case .target(_, let i) = targets.next(at: targets.positions("c"), random: random) else {
            Issue.record("no target")
            return
        }
        guard case .overflow = targets.next(at: targets.positions("c"), random: random) else {
            Issue.record("no overflow")
            return
        }
        targets.ended(at: targets.positions("c"), i)
        guard case .target = targets.next(at: targets.positions("c"), random: random) else {
            Issue.record("no target after the first ended")
            return
        }
        guard case .noHealthy = targets.next(at: targets.positions("nowhere"), random: random) else {
            Issue.record("an unknown cluster has a target")
            return
        }
    }
}

/// Envoy's health transitions for one endpoint (health_checker_impl.cc).
@Suite struct HealthCheckSessionTests {
    @Test func firstPassIsEnoughThenTheThresholdsCount() {
        var s = HealthCheckSession(healthyThreshold: 2, unhealthyThreshold: 3)
        #expect(!s.healthy)
        s.record(.success)
        #expect(s.healthy)
        s.record(.networkFailure)
        s.record(.networkFailure)
        #expect(s.healthy)
        s.record(.networkFailure)
        #expect(!s.healthy)
        s.record(.success)
        #expect(!s.healthy)
        s.record(.success)
        #expect(s.healthy)
    }

    @Test func aRetriableStatusCountsLikeANetworkFailure() {
        // `setUnhealthy(type, retriable)`: only a non-network, non-retriable failure is immediate.
        var s = HealthCheckSession(healthyThreshold: 1, unhealthyThreshold: 3)
        s.record(.success)
        s.record(.retriableFailure)
        s.record(.networkFailure)
        #expect(s.healthy)
        s.record(.retriableFailure)
        #expect(!s.healthy)
        s.record(.success)
        s.record(.retriableFailure)
        s.record(.success)
        s.record(.retriableFailure)
        s.record(.retriableFailure)
        #expect(s.healthy)
    }

    @Test func aWrongStatusFailsAtOnce() {
        var s = HealthCheckSession(healthyThreshold: 1, unhealthyThreshold: 5)
        s.record(.success)
        s.record(.activeFailure)
        #expect(!s.healthy)
    }

    @Test func aFirstFailureKeepsTheEndpointOut() {
        var s = HealthCheckSession(healthyThreshold: 3, unhealthyThreshold: 1)
        s.record(.activeFailure)
        #expect(!s.healthy)
        s.record(.success)
        s.record(.success)
        #expect(!s.healthy)
        s.record(.success)
        #expect(s.healthy)
    }
}

/// The idle keep-alive connections of `UpstreamTargets` (the HTTP/1 connection pool).
@Suite struct ConnectionPoolTests {
    @Test func anIdleConnectionIsReusedAndAClosedOneSkipped() throws {
        let endpoints = [1, 2].map { UpstreamTargets.Target(endpoint: ProxyEndpoint(host: "h", port: $0), host: "127.0.0.1", port: $0) }
        let targets = UpstreamTargets(["c": endpoints])
        // The targets the pool numbered (a pick hands these out).
        let target = targets.targets["c"]![0]
        let other = targets.targets["c"]![1]
        let open = EmbeddedChannel()
        try open.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let closed = EmbeddedChannel()
        try closed.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        targets.release(open, to: target)
        targets.release(closed, to: target)
        try closed.close().wait()
        #expect(targets.pooledConnection(target) === open)
        #expect(targets.pooledConnection(target) == nil)
        targets.release(open, to: target)
        #expect(targets.pooledConnection(other) == nil)
    }
}
