import Testing
import XDSCEnvoy

@testable import XDSCProxy

/// The outlier detector on a fake clock (outlier_detection_impl.cc's rules).
@Suite struct OutlierDetectorTests {
    static let second: Int64 = 1_000_000_000

    static func settings(_ edit: (inout OutlierDetection) -> Void = { _ in }) -> OutlierDetector.Settings {
        var o = OutlierDetection(consecutive5xx: 3, interval: .seconds(1), baseEjectionTime: .seconds(10), maxEjectionPercent: 50)
        edit(&o)
        return OutlierDetector.Settings(o)
    }

    static func noDraw() -> UInt64 {
        Issue.record("unexpected random draw")
        return 0
    }

    @Test func defaultsAreEnvoys() {
        let s = OutlierDetector.Settings(OutlierDetection())
        #expect(s.consecutive5xx == 5 && s.consecutiveGatewayFailure == 5 && s.maxEjectionPercent == 10)
        #expect(s.interval == 10 * Self.second && s.baseEjectionTime == 30 * Self.second && s.maxEjectionTime == 300 * Self.second)
        #expect(s.enforcingConsecutive5xx == 100 && s.enforcingConsecutiveGatewayFailure == 0 && s.enforcingFailurePercentage == 0)
        // max_ejection_time defaults to the larger of 300 s and base_ejection_time.
        #expect(OutlierDetector.Settings(OutlierDetection(baseEjectionTime: .seconds(400))).maxEjectionTime == 400 * Self.second)
    }

    @Test func consecutive5xxEjectsAndASuccessResets() {
        var d = OutlierDetector(Self.settings(), hosts: 2, now: 0)
        d.record(.status(500), host: 0, now: 1, random: Self.noDraw)
        d.record(.status(503), host: 0, now: 2, random: Self.noDraw)
        d.record(.status(200), host: 0, now: 3, random: Self.noDraw)
        d.record(.status(500), host: 0, now: 4, random: Self.noDraw)
        d.record(.status(500), host: 0, now: 5, random: Self.noDraw)
        #expect(d.ejected == [false, false])
        let changed = d.record(.status(502), host: 0, now: 6, random: Self.noDraw)
        #expect(changed)
        #expect(d.ejected == [true, false])
        #expect(d.reasons[0] == .consecutive5xx)
        // A connect failure counts as a 503 without the split.
        for t in 7...9 { d.record(.connectFailed, host: 1, now: Int64(t), random: Self.noDraw) }
        // 100 * 2 / 2 hosts is over max_ejection_percent 50: not ejected.
        #expect(d.ejected == [true, false])
    }

    @Test func maxEjectionPercentCountsTheHostBeingEjected() {
        // Envoy 1.38 ejects while 100 * (ejected + 1) / hosts <= max_ejection_percent, so with
        // 2 hosts and 10 % nothing is ejected unless always_eject_one_host is set.
        var d = OutlierDetector(Self.settings { $0.maxEjectionPercent = 10 }, hosts: 2, now: 0)
        for t in 1...3 { d.record(.status(500), host: 0, now: Int64(t), random: Self.noDraw) }
        #expect(d.ejected == [false, false])
        var one = OutlierDetector(
            Self.settings {
                $0.maxEjectionPercent = 10
                $0.alwaysEjectOneHost = true
            }, hosts: 2, now: 0)
        for t in 1...3 { one.record(.status(500), host: 0, now: Int64(t), random: Self.noDraw) }
        #expect(one.ejected == [true, false])
        for t in 4...6 { one.record(.status(500), host: 1, now: Int64(t), random: Self.noDraw) }
        #expect(one.ejected == [true, false])
    }

    @Test func unejectionWaitsForTheTickAfterTheEjectionTimeAndBacksOff() {
        var d = OutlierDetector(Self.settings(), hosts: 2, now: 0)
        let t0 = Self.second / 2
        for k in 0..<3 { d.record(.status(500), host: 0, now: t0 + Int64(k), random: Self.noDraw) }
        #expect(d.ejected[0])
        // Ejected at 0.5 s for 10 s: still out at the 10 s tick, back at the 11 s tick.
        d.advance(to: 10 * Self.second, random: Self.noDraw)
        #expect(d.ejected[0])
        d.advance(to: 11 * Self.second, random: Self.noDraw)
        #expect(!d.ejected[0])
        // Ejected again before an interval passed (the backoff did not shrink): 2 * 10 s.
        let t1 = 11 * Self.second + Self.second / 2
        for k in 0..<3 { d.record(.status(500), host: 0, now: t1 + Int64(k), random: Self.noDraw) }
        #expect(d.ejected[0] && d.ejections(0) == 2)
        d.advance(to: 31 * Self.second, random: Self.noDraw)
        #expect(d.ejected[0])
        d.advance(to: 32 * Self.second, random: Self.noDraw)
        #expect(!d.ejected[0])
        // Three quiet intervals later the backoff is back to 0: the next ejection is 10 s again.
        let t2 = 35 * Self.second + Self.second / 2
        d.advance(to: t2, random: Self.noDraw)
        for k in 0..<3 { d.record(.status(500), host: 0, now: t2 + Int64(k), random: Self.noDraw) }
        #expect(d.ejected[0])
        d.advance(to: 45 * Self.second, random: Self.noDraw)
        #expect(d.ejected[0])
        d.advance(to: 46 * Self.second, random: Self.noDraw)
        #expect(!d.ejected[0])
    }

    @Test func maxEjectionTimeCapsTheBackoff() {
        var d = OutlierDetector(Self.settings { $0.maxEjectionTime = .seconds(15) }, hosts: 2, now: 0)
        var now: Int64 = 1
        for _ in 0..<4 {
            for _ in 0..<3 {
                d.record(.status(500), host: 0, now: now, random: Self.noDraw)
                now += 1
            }
            #expect(d.ejected[0])
            let ejectedAt = now
            while d.ejected[0] {
                now += Self.second
                d.advance(to: now, random: Self.noDraw)
            }
            #expect(now - ejectedAt <= 16 * Self.second)
        }
        #expect(d.ejections(0) == 4)
    }

    @Test func gatewayFailuresNeedTheirEnforcement() {
        // consecutive_gateway_failure is detected but enforced at 0 % by default.
        var d = OutlierDetector(
            Self.settings {
                $0.consecutive5xx = 100
                $0.consecutiveGatewayFailure = 2
            }, hosts: 2, now: 0)
        for t in 1...4 { d.record(.status(503), host: 0, now: Int64(t), random: Self.noDraw) }
        #expect(!d.ejected[0])
        var e = OutlierDetector(
            Self.settings {
                $0.consecutive5xx = 100
                $0.consecutiveGatewayFailure = 2
                $0.enforcingConsecutiveGatewayFailure = 100
            }, hosts: 2, now: 0)
        e.record(.status(504), host: 0, now: 1, random: Self.noDraw)
        e.record(.timeout, host: 0, now: 2, random: Self.noDraw)
        #expect(e.ejected[0] && e.reasons[0] == .consecutiveGatewayFailure)
        // A 500 breaks a run of gateway failures.
        var f = OutlierDetector(e.settings, hosts: 2, now: 0)
        f.record(.status(502), host: 1, now: 1, random: Self.noDraw)
        f.record(.status(500), host: 1, now: 2, random: Self.noDraw)
        f.record(.status(502), host: 1, now: 3, random: Self.noDraw)
        #expect(!f.ejected[1])
    }

    @Test func partialEnforcementDrawsFromTheSeed() {
        let s = Self.settings { $0.enforcingConsecutive5xx = 50 }
        var high = OutlierDetector(s, hosts: 2, now: 0)
        for t in 1...3 { high.record(.status(500), host: 0, now: Int64(t), random: { 73 }) }
        #expect(!high.ejected[0])
        var low = OutlierDetector(s, hosts: 2, now: 0)
        for t in 1...3 { low.record(.status(500), host: 0, now: Int64(t), random: { 149 }) }
        #expect(low.ejected[0])
    }

    @Test func localOriginFailuresCountOnlyWithTheSplit() {
        var d = OutlierDetector(
            Self.settings {
                $0.consecutive5xx = 100
                $0.splitExternalLocalOriginErrors = true
                $0.consecutiveLocalOriginFailure = 2
            }, hosts: 2, now: 0)
        d.record(.connectFailed, host: 0, now: 1, random: Self.noDraw)
        d.record(.connectSuccess, host: 0, now: 2, random: Self.noDraw)
        d.record(.timeout, host: 0, now: 3, random: Self.noDraw)
        #expect(!d.ejected[0])
        d.record(.connectFailed, host: 0, now: 4, random: Self.noDraw)
        #expect(d.ejected[0] && d.reasons[0] == .consecutiveLocalOriginFailure)
    }

    /// A reset after the connection was up (an HTTP/2 REFUSED_STREAM): the router reports the
    /// connect success first (upstream_request.cc `onPoolReady`), then the reset as a connect
    /// failure (router.cc `onUpstreamReset`). With the split the success clears the count each
    /// time; without it only the failure counts, as a 503.
    @Test func aResetAfterAConnectSuccessNeverAddsUpWithTheSplit() {
        var split = OutlierDetector(
            Self.settings {
                $0.consecutive5xx = 100
                $0.splitExternalLocalOriginErrors = true
                $0.consecutiveLocalOriginFailure = 2
            }, hosts: 2, now: 0)
        var plain = OutlierDetector(Self.settings { $0.consecutive5xx = 2 }, hosts: 2, now: 0)
        for t in 0..<5 {
            for event in [OutlierDetector.Event.connectSuccess, .connectFailed] {
                split.record(event, host: 0, now: Int64(t), random: Self.noDraw)
                if t < 2 { plain.record(event, host: 0, now: Int64(t), random: Self.noDraw) }
            }
        }
        #expect(!split.ejected[0])
        #expect(plain.ejected[0] && plain.reasons[0] == .consecutive5xx)
    }

    @Test func successRateEjectsTheOutlierAtTheInterval() {
        var d = OutlierDetector(
            Self.settings {
                $0.consecutive5xx = 1000
                $0.successRateMinimumHosts = 5
                $0.successRateRequestVolume = 10
            }, hosts: 6, now: 0)
        func interval(_ start: Int64, failing: (Int, Int) -> Bool, volume: (Int) -> Int = { _ in 10 }) {
            for h in 0..<6 {
                for k in 0..<volume(h) {
                    d.record(.status(failing(h, k) ? 500 : 200), host: h, now: start + Int64(h * 100 + k), random: Self.noDraw)
                }
            }
        }
        // Every rate 100: the threshold is the mean, nobody is below it.
        interval(0, failing: { _, _ in false })
        d.advance(to: Self.second, random: Self.noDraw)
        #expect(!d.ejected.contains(true))
        // Host 5 at 30 % but with 9 requests (under success_rate_request_volume) is not judged.
        interval(Self.second, failing: { h, k in h == 5 && k < 6 }, volume: { $0 == 5 ? 9 : 10 })
        d.advance(to: 2 * Self.second, random: Self.noDraw)
        #expect(!d.ejected.contains(true))
        // Host 4 at 40 % among five at 100 %: mean 90, stdev 22.4, threshold 47.5.
        interval(2 * Self.second, failing: { h, k in h == 4 && k < 6 })
        #expect(!d.ejected.contains(true))
        d.advance(to: 3 * Self.second, random: Self.noDraw)
        #expect(d.ejected == [false, false, false, false, true, false])
        #expect(d.reasons[4] == .successRate)
        #expect(OutlierDetector.successRateThreshold([50, 100, 100, 100, 100], sum: 450, stdevFactor: 1.9) == 52)
    }

    @Test func failurePercentageIsEnforcedOnlyWhenAsked() {
        let base = Self.settings {
            $0.consecutive5xx = 1000
            $0.enforcingSuccessRate = 0
            $0.failurePercentageMinimumHosts = 2
            $0.failurePercentageRequestVolume = 5
            $0.failurePercentageThreshold = 50
        }
        for enforcing in [UInt64(0), 100] {
            var s = base
            s.enforcingFailurePercentage = enforcing
            var d = OutlierDetector(s, hosts: 2, now: 0)
            for k in 0..<5 { d.record(.status(k < 3 ? 500 : 200), host: 0, now: Int64(k), random: Self.noDraw) }
            for k in 0..<5 { d.record(.status(200), host: 1, now: Int64(10 + k), random: Self.noDraw) }
            d.advance(to: Self.second, random: Self.noDraw)
            #expect(d.ejected == [enforcing == 100, false])
        }
    }

    @Test func activeHealthCheckPassUnejects() {
        var d = OutlierDetector(Self.settings(), hosts: 2, now: 0)
        for t in 1...3 { d.record(.status(500), host: 0, now: Int64(t), random: Self.noDraw) }
        let passed = d.healthCheckPassed(host: 0, now: 10)
        #expect(passed)
        #expect(d.ejected == [false, false])
        var off = OutlierDetector(Self.settings { $0.successfulActiveHealthCheckUnejectHost = false }, hosts: 2, now: 0)
        for t in 1...3 { off.record(.status(500), host: 0, now: Int64(t), random: Self.noDraw) }
        let ignored = off.healthCheckPassed(host: 0, now: 10)
        #expect(!ignored)
        #expect(off.ejected[0])
    }
}
