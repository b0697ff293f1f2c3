import Testing

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
}
