import XDSCEnvoy

/// One cluster's outlier detection as Envoy's `DetectorImpl` runs it
/// (source/common/upstream/outlier_detection_impl.cc, Envoy 1.38): consecutive 5xx, gateway
/// failures and local-origin failures eject an endpoint at once; success rate and failure
/// percentage are judged every `interval` over the last interval's requests. An ejected
/// endpoint comes back at the first interval tick after `min(base_ejection_time * backoff,
/// max_ejection_time) + jitter`; `backoff` grows by one per ejection and shrinks by one per
/// interval spent un-ejected. Time is monotonic nanoseconds; the interval timer is run
/// lazily (`advance`), tick by tick, before each event, which gives the same ejections as a
/// timer would since nothing happens between two events. Deterministic: the enforcement and
/// jitter draws come from the caller's seeded source, and only when the outcome is not fixed
/// (an enforcement of 0 or 100 %, no jitter) so a configuration without them draws nothing.
struct OutlierDetector {
    /// The settings with Envoy's defaults applied (outlier_detection_impl.h `DEFAULT_*`).
    struct Settings: Equatable {
        var interval: Int64 = 10_000_000_000
        var baseEjectionTime: Int64 = 30_000_000_000
        var maxEjectionTime: Int64 = 300_000_000_000
        var maxEjectionTimeJitter: Int64 = 0
        var consecutive5xx: UInt64 = 5
        var consecutiveGatewayFailure: UInt64 = 5
        var consecutiveLocalOriginFailure: UInt64 = 5
        var maxEjectionPercent: UInt64 = 10
        var enforcingConsecutive5xx: UInt64 = 100
        var enforcingConsecutiveGatewayFailure: UInt64 = 0
        var enforcingConsecutiveLocalOriginFailure: UInt64 = 100
        var enforcingSuccessRate: UInt64 = 100
        var enforcingLocalOriginSuccessRate: UInt64 = 100
        var enforcingFailurePercentage: UInt64 = 0
        var enforcingFailurePercentageLocalOrigin: UInt64 = 0
        var successRateMinimumHosts: UInt64 = 5
        var successRateRequestVolume: UInt64 = 100
        var successRateStdevFactor: UInt64 = 1900
        var failurePercentageThreshold: UInt64 = 85
        var failurePercentageMinimumHosts: UInt64 = 5
        var failurePercentageRequestVolume: UInt64 = 50
        var splitExternalLocalOriginErrors = false
        var alwaysEjectOneHost = false
        var successfulActiveHealthCheckUnejectHost = true

        init() {}

        /// `DetectorConfig`: unset fields take the defaults; `max_ejection_time` defaults to
        /// the larger of 300 s and `base_ejection_time`.
        init(_ o: OutlierDetection) {
            func ns(_ d: EnvoyDuration?, _ fallback: Int64) -> Int64 { d.map { $0.nanoseconds / 1_000_000 * 1_000_000 } ?? fallback }
            func n(_ v: UInt32?, _ fallback: UInt64) -> UInt64 { v.map(UInt64.init) ?? fallback }
            interval = max(ns(o.interval, interval), 1_000_000)
            baseEjectionTime = ns(o.baseEjectionTime, baseEjectionTime)
            maxEjectionTime = ns(o.maxEjectionTime, max(maxEjectionTime, baseEjectionTime))
            maxEjectionTimeJitter = ns(o.maxEjectionTimeJitter, 0)
            consecutive5xx = n(o.consecutive5xx, consecutive5xx)
            consecutiveGatewayFailure = n(o.consecutiveGatewayFailure, consecutiveGatewayFailure)
            consecutiveLocalOriginFailure = n(o.consecutiveLocalOriginFailure, consecutiveLocalOriginFailure)
            maxEjectionPercent = n(o.maxEjectionPercent, maxEjectionPercent)
            enforcingConsecutive5xx = n(o.enforcingConsecutive5xx, enforcingConsecutive5xx)
            enforcingConsecutiveGatewayFailure = n(o.enforcingConsecutiveGatewayFailure, enforcingConsecutiveGatewayFailure)
            enforcingConsecutiveLocalOriginFailure = n(o.enforcingConsecutiveLocalOriginFailure, enforcingConsecutiveLocalOriginFailure)
            enforcingSuccessRate = n(o.enforcingSuccessRate, enforcingSuccessRate)
            enforcingLocalOriginSuccessRate = n(o.enforcingLocalOriginSuccessRate, enforcingLocalOriginSuccessRate)
            enforcingFailurePercentage = n(o.enforcingFailurePercentage, enforcingFailurePercentage)
            enforcingFailurePercentageLocalOrigin = n(o.enforcingFailurePercentageLocalOrigin, enforcingFailurePercentageLocalOrigin)
            successRateMinimumHosts = n(o.successRateMinimumHosts, successRateMinimumHosts)
            successRateRequestVolume = n(o.successRateRequestVolume, successRateRequestVolume)
            successRateStdevFactor = n(o.successRateStdevFactor, successRateStdevFactor)
            failurePercentageThreshold = n(o.failurePercentageThreshold, failurePercentageThreshold)
            failurePercentageMinimumHosts = n(o.failurePercentageMinimumHosts, failurePercentageMinimumHosts)
            failurePercentageRequestVolume = n(o.failurePercentageRequestVolume, failurePercentageRequestVolume)
            splitExternalLocalOriginErrors = o.splitExternalLocalOriginErrors ?? false
            alwaysEjectOneHost = o.alwaysEjectOneHost ?? false
            successfulActiveHealthCheckUnejectHost = o.successfulActiveHealthCheckUnejectHost ?? true
        }
    }

    /// What an attempt told the detector (`Outlier::Result` and `putHttpResponseCode`).
    enum Event: Equatable {
        /// Response headers with this status.
        case status(Int)
        /// The attempt has its connection (`LOCAL_ORIGIN_CONNECT_SUCCESS`, upstream_request.cc
        /// `onPoolReady`), also for a stream the upstream then resets.
        case connectSuccess
        /// Connect failure or reset (`LOCAL_ORIGIN_CONNECT_FAILED`): router.cc
        /// `Filter::onUpstreamReset` reports every reset but an overflow this way, an HTTP/2
        /// REFUSED_STREAM and a protocol error included.
        case connectFailed
        /// The per-try or global timeout (`LOCAL_ORIGIN_TIMEOUT` with the timeout's 504).
        case timeout
    }

    /// Why an endpoint was ejected (`OutlierEjectionType`).
    enum Ejection: String, Equatable {
        case consecutive5xx = "CONSECUTIVE_5XX"
        case consecutiveGatewayFailure = "CONSECUTIVE_GATEWAY_FAILURE"
        case consecutiveLocalOriginFailure = "CONSECUTIVE_LOCAL_ORIGIN_FAILURE"
        case successRate = "SUCCESS_RATE"
        case successRateLocalOrigin = "SUCCESS_RATE_LOCAL_ORIGIN"
        case failurePercentage = "FAILURE_PERCENTAGE"
        case failurePercentageLocalOrigin = "FAILURE_PERCENTAGE_LOCAL_ORIGIN"
    }

    /// `SuccessRateAccumulator`: the interval being written and the one before it.
    private struct Buckets {
        var total: UInt64 = 0
        var success: UInt64 = 0
        var backupTotal: UInt64 = 0
        var backupSuccess: UInt64 = 0

        mutating func swap() {
            (backupTotal, backupSuccess) = (total, success)
            (total, success) = (0, 0)
        }

        /// The last interval's success rate (percent) and volume; nil without requests.
        var rateAndVolume: (rate: Double, volume: UInt64)? {
            backupTotal == 0 ? nil : (Double(backupSuccess) * 100 / Double(backupTotal), backupTotal)
        }
    }

    /// `DetectorHostMonitorImpl`.
    private struct Monitor {
        var consecutive5xx: UInt64 = 0
        var consecutiveGatewayFailure: UInt64 = 0
        var consecutiveLocalOriginFailure: UInt64 = 0
        var numEjections = 0
        var backoff: Int64 = 0
        var lastEjection: Int64?
        var lastUnejection: Int64?
        var jitter: Int64 = 0
        var external = Buckets()
        var local = Buckets()

        /// No request counted in either interval and no backoff left.
        var quiet: Bool {
            backoff == 0 && external.total == 0 && external.backupTotal == 0 && local.total == 0 && local.backupTotal == 0
        }
    }

    let settings: Settings
    /// Whether each endpoint is ejected (`FAILED_OUTLIER_CHECK`).
    private(set) var ejected: [Bool]
    /// Why each endpoint was last ejected.
    private(set) var reasons: [Ejection?]
    private var monitors: [Monitor]
    private var activeEjections = 0

    /// Whether any endpoint is ejected.
    var anyEjected: Bool { activeEjections > 0 }
    /// When the next interval tick is due.
    private var nextTick: Int64

    /// A detector for `hosts` endpoints whose interval timer starts at `now`.
    init(_ settings: Settings, hosts: Int, now: Int64) {
        self.settings = settings
        ejected = Array(repeating: false, count: hosts)
        reasons = Array(repeating: nil, count: hosts)
        monitors = Array(repeating: Monitor(), count: hosts)
        nextTick = now + settings.interval
    }

    /// Endpoint `host`'s number of ejections so far.
    func ejections(_ host: Int) -> Int { monitors[host].numEjections }

    /// Records what an attempt to `host` gave at `now`; true when an endpoint's ejection changed.
    @discardableResult
    mutating func record(_ event: Event, host: Int, now: Int64, random: () -> UInt64) -> Bool {
        let before = ejected
        advance(to: now, random: random)
        guard monitors.indices.contains(host) else { return ejected != before }
        if settings.splitExternalLocalOriginErrors {
            // `putResultWithLocalExternalSplit`; responses still go to `putHttpResponseCode`.
            switch event {
            case .status(let code): putHTTPCode(code, host: host, now: now, random: random)
            case .connectSuccess: localOriginNoFailure(host)
            case .connectFailed, .timeout: localOriginFailure(host, now: now, random: random)
            }
        } else {
            // `putResultNoLocalExternalSplit`: local failures count as the codes they map to.
            switch event {
            case .status(let code): putHTTPCode(code, host: host, now: now, random: random)
            case .connectSuccess: break
            case .connectFailed: putHTTPCode(503, host: host, now: now, random: random)
            case .timeout: putHTTPCode(504, host: host, now: now, random: random)
            }
        }
        return ejected != before
    }

    /// An active health check passed for `host` (`successful_active_health_check_uneject_host`).
    @discardableResult
    mutating func healthCheckPassed(host: Int, now: Int64) -> Bool {
        guard settings.successfulActiveHealthCheckUnejectHost, ejected.indices.contains(host), ejected[host] else { return false }
        uneject(host, now: now)
        return true
    }

    /// Runs every interval tick due by `now` (`onIntervalTimer`); true when an ejection changed.
    @discardableResult
    mutating func advance(to now: Int64, random: () -> UInt64) -> Bool {
        let before = ejected
        while nextTick <= now {
            // Nothing ejected, counted or backed off: the ticks up to `now` change nothing.
            if activeEjections == 0 && monitors.allSatisfy(\.quiet) { nextTick += (now - nextTick) / settings.interval * settings.interval }
            tick(at: nextTick, random: random)
            nextTick += settings.interval
        }
        return ejected != before
    }

    // MARK: - DetectorHostMonitorImpl

    private mutating func putHTTPCode(_ code: Int, host: Int, now: Int64, random: () -> UInt64) {
        monitors[host].external.total += 1
        guard (500...599).contains(code) else {
            monitors[host].external.success += 1
            monitors[host].consecutive5xx = 0
            monitors[host].consecutiveGatewayFailure = 0
            return
        }
        if (502...504).contains(code) {
            monitors[host].consecutiveGatewayFailure += 1
            if monitors[host].consecutiveGatewayFailure == settings.consecutiveGatewayFailure {
                consecutiveError(host, .consecutiveGatewayFailure, now: now, random: random)
            }
        } else {
            monitors[host].consecutiveGatewayFailure = 0
        }
        monitors[host].consecutive5xx += 1
        if monitors[host].consecutive5xx == settings.consecutive5xx {
            consecutiveError(host, .consecutive5xx, now: now, random: random)
        }
    }

    private mutating func localOriginFailure(_ host: Int, now: Int64, random: () -> UInt64) {
        monitors[host].local.total += 1
        monitors[host].consecutiveLocalOriginFailure += 1
        if monitors[host].consecutiveLocalOriginFailure == settings.consecutiveLocalOriginFailure {
            consecutiveError(host, .consecutiveLocalOriginFailure, now: now, random: random)
        }
    }

    private mutating func localOriginNoFailure(_ host: Int) {
        monitors[host].local.total += 1
        monitors[host].local.success += 1
        monitors[host].consecutiveLocalOriginFailure = 0
    }

    // MARK: - DetectorImpl

    /// `onConsecutiveErrorWorker`: an ejected endpoint is left alone (its counter is not
    /// reset either); otherwise it is ejected if allowed and the counter starts again.
    private mutating func consecutiveError(_ host: Int, _ type: Ejection, now: Int64, random: () -> UInt64) {
        guard !ejected[host] else { return }
        eject(host, type, now: now, random: random)
        switch type {
        case .consecutive5xx: monitors[host].consecutive5xx = 0
        case .consecutiveGatewayFailure: monitors[host].consecutiveGatewayFailure = 0
        case .consecutiveLocalOriginFailure: monitors[host].consecutiveLocalOriginFailure = 0
        default: break
        }
    }

    /// `ejectHost`: allowed while the ejected share, this endpoint included, stays within
    /// `max_ejection_percent` (or, with `always_eject_one_host`, when none is ejected), then
    /// enforced with the type's percentage.
    private mutating func eject(_ host: Int, _ type: Ejection, now: Int64, random: () -> UInt64) {
        let maxPercent = Double(min(settings.maxEjectionPercent, 100))
        let share = 100.0 * Double(activeEjections + 1) / Double(monitors.count)
        var allowed = share <= maxPercent
        if settings.alwaysEjectOneHost { allowed = activeEjections == 0 || allowed }
        guard allowed, Self.enabled(enforcing(type), random: random) else { return }
        activeEjections += 1
        ejected[host] = true
        reasons[host] = type
        monitors[host].numEjections += 1
        monitors[host].lastEjection = now
        let jitterMax = settings.maxEjectionTimeJitter / 1_000_000
        monitors[host].jitter = jitterMax > 0 ? Int64(random() % UInt64(jitterMax + 1)) * 1_000_000 : 0
        if monitors[host].backoff * settings.baseEjectionTime < settings.maxEjectionTime + settings.baseEjectionTime {
            monitors[host].backoff += 1
        }
    }

    /// `unejectHost`: the consecutive counters start again.
    private mutating func uneject(_ host: Int, now: Int64) {
        activeEjections -= 1
        ejected[host] = false
        monitors[host].consecutive5xx = 0
        monitors[host].consecutiveGatewayFailure = 0
        monitors[host].consecutiveLocalOriginFailure = 0
        monitors[host].lastUnejection = now
    }

    private func enforcing(_ type: Ejection) -> UInt64 {
        switch type {
        case .consecutive5xx: settings.enforcingConsecutive5xx
        case .consecutiveGatewayFailure: settings.enforcingConsecutiveGatewayFailure
        case .consecutiveLocalOriginFailure: settings.enforcingConsecutiveLocalOriginFailure
        case .successRate: settings.enforcingSuccessRate
        case .successRateLocalOrigin: settings.enforcingLocalOriginSuccessRate
        case .failurePercentage: settings.enforcingFailurePercentage
        case .failurePercentageLocalOrigin: settings.enforcingFailurePercentageLocalOrigin
        }
    }

    /// `featureEnabled(key, percent)`: `random % 100 < percent`; no draw when fixed.
    static func enabled(_ percent: UInt64, random: () -> UInt64) -> Bool {
        if percent == 0 { return false }
        if percent >= 100 { return true }
        return random() % 100 < percent
    }

    /// `onIntervalTimer` at time `now`.
    private mutating func tick(at now: Int64, random: () -> UInt64) {
        for h in monitors.indices {
            // `checkHostForUneject`.
            if ejected[h], let last = monitors[h].lastEjection {
                let time = min(settings.baseEjectionTime * monitors[h].backoff, settings.maxEjectionTime) + monitors[h].jitter
                if time <= now - last { uneject(h, now: now) }
            }
            monitors[h].external.swap()
            monitors[h].local.swap()
        }
        successRateEjections(local: false, now: now, random: random)
        successRateEjections(local: true, now: now, random: random)
        for h in monitors.indices where !ejected[h] {
            if let last = monitors[h].lastUnejection, now - last >= settings.interval, monitors[h].backoff != 0 {
                monitors[h].backoff -= 1
            }
        }
    }

    /// `processSuccessRateEjections` for the external or the local-origin monitors. Envoy
    /// walks its hosts in hash-map order; this walks them in configuration order.
    private mutating func successRateEjections(local: Bool, now: Int64, random: () -> UInt64) {
        let s = settings
        guard monitors.count >= s.successRateMinimumHosts || monitors.count >= s.failurePercentageMinimumHosts else { return }
        var rates: [(host: Int, rate: Double)] = []
        var failures: [(host: Int, rate: Double)] = []
        var sum = 0.0
        for h in monitors.indices where !ejected[h] {
            guard let (rate, volume) = (local ? monitors[h].local : monitors[h].external).rateAndVolume else { continue }
            if volume >= s.successRateRequestVolume {
                rates.append((h, rate))
                sum += rate
            }
            if volume >= s.failurePercentageRequestVolume { failures.append((h, rate)) }
        }
        if !rates.isEmpty && rates.count >= s.successRateMinimumHosts {
            let threshold = Self.successRateThreshold(rates.map(\.rate), sum: sum, stdevFactor: Double(s.successRateStdevFactor) / 1000)
            for (h, rate) in rates where rate < threshold && !ejected[h] {
                eject(h, local ? .successRateLocalOrigin : .successRate, now: now, random: random)
            }
        }
        if !failures.isEmpty && failures.count >= s.failurePercentageMinimumHosts {
            for (h, rate) in failures where 100 - rate >= Double(s.failurePercentageThreshold) && !ejected[h] {
                eject(h, local ? .failurePercentageLocalOrigin : .failurePercentage, now: now, random: random)
            }
        }
    }

    /// `successRateEjectionThreshold`: mean minus `factor` population standard deviations.
    static func successRateThreshold(_ rates: [Double], sum: Double, stdevFactor: Double) -> Double {
        let mean = sum / Double(rates.count)
        let variance = rates.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(rates.count)
        return mean - stdevFactor * variance.squareRoot()
    }
}

extension LoadBalancer {
    /// The balancer of a cluster's targets: its policy, consistent-hashing table and outlier
    /// detection (whose interval starts at `now`).
    init(_ targets: [UpstreamTargets.Target], _ settings: ClusterSettings, now: Int64) {
        let hashing = ConsistentHashing(
            keys: targets.map { settings.useHostnameForHashing ? $0.endpoint.hostname : $0.endpoint.label }, policy: settings.lbPolicy,
            minimumRingSize: settings.ringHash?.minimumRingSize,
            maximumRingSize: settings.ringHash?.maximumRingSize, tableSize: settings.maglevTableSize,
            hashFunction: settings.ringHash?.hashFunction ?? .xxHash, balanceFactor: settings.hashBalanceFactor)
        self.init(weights: targets.map { UInt64($0.endpoint.weight) }, policy: settings.lbPolicy, hashing: hashing)
        outlier = settings.outlierDetection.map { OutlierDetector(OutlierDetector.Settings($0), hosts: targets.count, now: now) }
    }
}
