import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing
import XDSCEnvoy

@testable import XDSCProxy

/// The pending-requests and retries counters (Envoy's resource manager: `canCreate` is
/// `count < max`).
@Suite struct CircuitBreakersTests {
    @Test func defaultsAreEnvoys() {
        let b = CircuitBreakers()
        #expect(b.maxPendingRequests == 1024 && b.maxRetries == 3)
    }

    @Test func limitsAdmitUpToTheMaximumAndFreeOnEnd() {
        var b = CircuitBreakers(maxPendingRequests: 1, maxRetries: 2)
        let admitted = [b.beginPending(), b.beginPending()]
        #expect(admitted == [true, false])
        b.endPending()
        let again = b.beginPending()
        #expect(again)
        let retries = [b.beginRetry(), b.beginRetry(), b.beginRetry()]
        #expect(retries == [true, true, false])
        b.endRetry()
        b.endRetry()
        b.endRetry()
        #expect(b.retries == 0)
        var none = CircuitBreakers(maxPendingRequests: 0, maxRetries: 0)
        let refused = [none.beginPending(), none.beginRetry()]
        #expect(refused == [false, false])
    }

    static func targets(_ settings: ClusterSettings) -> UpstreamTargets {
        let e = ProxyEndpoint(host: "h", port: 1)
        return UpstreamTargets(["c": [.init(endpoint: e, host: "127.0.0.1", port: 1)]], settings: ["c": settings])
    }

    static func admitted(_ t: UpstreamTargets, _ n: Int, _ priority: RoutingPriority) -> Int {
        let random = RandomSource(seed: 1)
        var out = 0
        for _ in 0..<n {
            if case .target = t.next(at: t.positions("c"), random: random, priority: priority) { out += 1 }
        }
        return out
    }

    @Test func eachPriorityCountsItsOwnRequests() {
        let t = Self.targets(ClusterSettings(maxRequests: 1, highPriority: CircuitBreakerThresholds(maxRequests: 2)))
        // DEFAULT's one in flight does not count against HIGH's two, nor the reverse.
        #expect(Self.admitted(t, 3, .default) == 1)
        #expect(Self.admitted(t, 3, .high) == 2)
        t.ended(at: t.positions("c"), 0, .high)
        #expect(Self.admitted(t, 2, .default) == 0)
        #expect(Self.admitted(t, 2, .high) == 1)
    }

    @Test func aPriorityWithoutThresholdsHasEnvoysDefaults() {
        // `ResourceManagers::load`: 1024 requests, 1024 pending, 3 retries for HIGH even though
        // DEFAULT's are lowered, and the same for DEFAULT when only HIGH is configured.
        let t = Self.targets(ClusterSettings(maxRequests: 0, maxPendingRequests: 0, maxRetries: 0))
        #expect(Self.admitted(t, 1, .default) == 0)
        #expect(Self.admitted(t, 1024, .high) == 1024)
        #expect(Self.admitted(t, 1, .high) == 0)
        #expect(!t.beginPending("c", .default) && !t.beginRetry("c", .default))
        #expect(t.beginPending("c", .high))
        #expect(
            [t.beginRetry("c", .high), t.beginRetry("c", .high), t.beginRetry("c", .high), t.beginRetry("c", .high)] == [
                true, true, true, false,
            ])
        let high = Self.targets(ClusterSettings(highPriority: CircuitBreakerThresholds(maxRequests: 0, maxRetries: 1)))
        #expect(Self.admitted(high, 1, .high) == 0)
        #expect([high.beginRetry("c", .default), high.beginRetry("c", .default), high.beginRetry("c", .default)] == [true, true, true])
        #expect([high.beginRetry("c", .high), high.beginRetry("c", .high)] == [true, false])
    }

    @Test func noCircuitBreakersMeansEnvoysDefaultsForBothPriorities() {
        let t = Self.targets(ClusterSettings())
        for p in RoutingPriority.allCases {
            #expect(Self.admitted(t, 1025, p) == 1024)
            #expect((0..<4).map { _ in t.beginRetry("c", p) } == [true, true, true, false])
        }
    }

    @Test func maxConnectionsIsCountedPerPriority() throws {
        var limits = ConnectionLimits(limits: [1, 1024])
        let loop = EmbeddedEventLoop()
        let a = UpstreamTargets.Target(endpoint: ProxyEndpoint(host: "h", port: 1), host: "127.0.0.1", port: 1)
        var high = a
        high.priority = .high
        // DEFAULT's limit of 1 holds the second DEFAULT connection back; the same endpoint at
        // HIGH is another pool (another address key) with a limit of its own (Envoy's 1024 here).
        guard case .connect = limits.admit(0, UpstreamTargets.address(a), eventLoop: loop) else {
            Issue.record("the first connection waits")
            return
        }
        guard case .wait = limits.admit(0, UpstreamTargets.address(a), eventLoop: loop) else {
            Issue.record("the second DEFAULT connection does not wait")
            return
        }
        #expect(UpstreamTargets.address(a) != UpstreamTargets.address(high))
        #expect(UpstreamTargets.limitIndex(3, .default) == 6 && UpstreamTargets.limitIndex(3, .high) == 7)
        guard case .connect = limits.admit(1, UpstreamTargets.address(high), eventLoop: loop) else {
            Issue.record("HIGH waits for DEFAULT's limit")
            return
        }
        _ = limits.closed(0, UpstreamTargets.address(a))?.succeed(nil)
        try loop.syncShutdownGracefully()
    }

    @Test func aReleasedConnectionGoesToAWaiterOfItsOwnPriority() throws {
        // Both priorities at their limit of 1 on one endpoint, a waiter at DEFAULT: a HIGH
        // connection released does not serve it (it is another pool); a DEFAULT one does.
        let loop = EmbeddedEventLoop()
        let e = ProxyEndpoint(host: "h", port: 1)
        let t = UpstreamTargets(
            ["c": [.init(endpoint: e, host: "127.0.0.1", port: 1)]],
            settings: ["c": ClusterSettings(maxConnections: 1, highPriority: CircuitBreakerThresholds(maxConnections: 1))])
        let low = try #require(t.targets["c"]?.first)
        var high = low
        high.priority = .high
        for target in [low, high] {
            guard case .connect = t.admitConnection("c", target, eventLoop: loop) else {
                Issue.record("the first connection of \(target.priority) waits")
                return
            }
        }
        guard case .wait(let released) = t.admitConnection("c", low, eventLoop: loop) else {
            Issue.record("the second DEFAULT connection does not wait")
            return
        }
        let got = NIOLockedValueBox<Channel?>(nil)
        released.whenSuccess { c in got.withLockedValue { $0 = c } }
        let highChannel = EmbeddedChannel(loop: loop)
        try highChannel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        #expect(!t.handToWaiter(highChannel, high))
        #expect(got.withLockedValue { $0 } == nil)
        let lowChannel = EmbeddedChannel(loop: loop)
        try lowChannel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        #expect(t.handToWaiter(lowChannel, low))
        #expect(got.withLockedValue { $0 } === lowChannel)
        _ = try? highChannel.finish()
        _ = try? lowChannel.finish()
    }

    @Test func connectionsAreCountedAgainstEnvoysDefaultWithoutCircuitBreakers() throws {
        // No thresholds: `max_connections` is Envoy's 1024 at both priorities, and counted.
        let loop = EmbeddedEventLoop()
        let endpoints = (0..<1025).map { i in
            UpstreamTargets.Target(endpoint: ProxyEndpoint(host: "h", port: i + 1), host: "127.0.0.1", port: i + 1)
        }
        let t = UpstreamTargets(["c": endpoints])
        #expect(t.connectionLimits.withLockedValue { $0.limits } == [1024, 1024])
        for target in endpoints.prefix(1024) {
            guard case .connect = t.admitConnection("c", target, eventLoop: loop) else {
                Issue.record("connection under 1024 waits")
                return
            }
        }
        #expect(t.connectionLimits.withLockedValue { $0.open } == [1024, 0])
        // At the limit a second connection to an endpoint that has one waits, a first one is
        // made anyway (its pool has none: `tryCreateNewConnection`).
        guard case .wait = t.admitConnection("c", endpoints[0], eventLoop: loop) else {
            Issue.record("the 1025th connection does not wait")
            return
        }
        guard case .connect = t.admitConnection("c", endpoints[1024], eventLoop: loop) else {
            Issue.record("a pool's first connection waits")
            return
        }
        #expect(t.connectionLimits.withLockedValue { $0.open } == [1025, 0])
        // A closed connection lets the waiter connect in its place.
        t.connectionOpened("c", endpoints[0], nil)
        #expect(t.connectionLimits.withLockedValue { $0.open } == [1025, 0])
        try loop.syncShutdownGracefully()
    }

    @Test func anHTTP2PoolDialsWithinMaxConnectionsOrWhenItHasNone() {
        var limits = ConnectionLimits(limits: [1, 1024])
        let admitted = [limits.admitHTTP2(0, force: true), limits.admitHTTP2(0, force: false), limits.admitHTTP2(0, force: true)]
        #expect(admitted == [true, false, true])
        #expect(limits.open == [2, 0])
        limits.closedHTTP2(0)
        limits.closedHTTP2(0)
        let again = limits.admitHTTP2(0, force: false)
        #expect(again)
    }
}
