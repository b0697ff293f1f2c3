import NIOConcurrencyHelpers
import NIOCore
import XDSCEnvoy
import XDSCJSON
import XDSCRouteEngine

/// The per-route HTTP filters the proxy executes before the router: local rate limiting
/// (`local_ratelimit.cc`) and fault injection (`fault_filter.cc`), from the
/// `typed_per_filter_config` the engine says applies.
enum FilterStep {
    /// Go on to the router.
    case proceed
    /// The filter answers itself.
    case reply(status: Int, body: String)
    /// Wait, then go on.
    case delay(TimeAmount)
}

/// The token buckets of the local rate limiter, one per configuration (keyed by where it is
/// written), filled lazily as time passes.
final class RateLimitBuckets: Sendable {
    private struct Bucket {
        var tokens: Int64
        var lastFill: NIODeadline
    }

    private let buckets = NIOLockedValueBox([String: Bucket]())

    /// Takes a token from the bucket at `key`; false when it is empty.
    func take(key: String, maxTokens: Int64, tokensPerFill: Int64, fillInterval: TimeAmount, now: NIODeadline) -> Bool {
        buckets.withLockedValue { all in
            var b = all[key] ?? Bucket(tokens: maxTokens, lastFill: now)
            if fillInterval.nanoseconds > 0 {
                let fills = (now - b.lastFill).nanoseconds / fillInterval.nanoseconds
                if fills > 0 {
                    b.tokens = min(maxTokens, b.tokens + fills * tokensPerFill)
                    b.lastFill = b.lastFill + .nanoseconds(fills * fillInterval.nanoseconds)
                }
            }
            let allowed = b.tokens > 0
            if allowed { b.tokens -= 1 }
            all[key] = b
            return allowed
        }
    }
}

enum FilterSimulation {
    static let rateLimitFilter = "envoy.filters.http.local_ratelimit"
    static let faultFilter = "envoy.filters.http.fault"

    /// The filters in HTTP filter order (rate limit before fault, as xdsc emits them); the
    /// first that answers or delays wins for this pass.
    static func steps(_ d: RouteDecision, buckets: RateLimitBuckets, random: RandomSource, now: NIODeadline) -> [FilterStep] {
        var out: [FilterStep] = []
        if let rl = d.filterConfigs.first(where: { $0.filter == rateLimitFilter }) {
            out.append(rateLimit(rl, buckets: buckets, random: random, now: now))
        }
        if let f = d.filterConfigs.first(where: { $0.filter == faultFilter }) {
            out += fault(f.config, random: random)
        }
        return out
    }

    /// `FractionalPercent` / `RuntimeFractionalPercent.default_value`: drawn on the request's
    /// random source. Absent means `absent`.
    static func percent(_ json: JSON?, random: RandomSource, absent: Bool) -> Bool {
        guard let json else { return absent }
        let value = json["default_value"] ?? json
        let numerator = UInt64(max(value["numerator"]?.intValue ?? 0, 0))
        let denominator: UInt64 =
            switch value["denominator"]?.stringValue {
            case "TEN_THOUSAND": 10_000
            case "MILLION": 1_000_000
            default: 100
            }
        return random.next() % denominator < numerator
    }

    static func rateLimit(_ c: AppliedFilterConfig, buckets: RateLimitBuckets, random: RandomSource, now: NIODeadline) -> FilterStep {
        let config = c.config
        // Without `filter_enabled` the filter is off (0%), local_ratelimit.cc `enabled()`.
        guard percent(config["filter_enabled"], random: random, absent: false), let bucket = config["token_bucket"] else { return .proceed }
        let maxTokens = bucket["max_tokens"]?.intValue ?? 0
        let perFill = bucket["tokens_per_fill"]?.intValue ?? 1
        let interval = bucket["fill_interval"].flatMap { EnvoyDuration(json: $0) }.map { TimeAmount.nanoseconds($0.nanoseconds) } ?? .zero
        let allowed = buckets.take(key: c.origin.path, maxTokens: maxTokens, tokensPerFill: perFill, fillInterval: interval, now: now)
        if allowed { return .proceed }
        guard percent(config["filter_enforced"], random: random, absent: false) else { return .proceed }
        let status = Int(config["status"]?["code"]?.intValue ?? 429)
        return .reply(status: status, body: "local_rate_limited")
    }

    static func fault(_ config: JSON, random: RandomSource) -> [FilterStep] {
        var out: [FilterStep] = []
        if let delay = config["delay"], percent(delay["percentage"], random: random, absent: true),
            let d = delay["fixed_delay"].flatMap({ EnvoyDuration(json: $0) })
        {
            out.append(.delay(.nanoseconds(d.nanoseconds)))
        }
        if let abort = config["abort"], percent(abort["percentage"], random: random, absent: true),
            let status = abort["http_status"]?.intValue
        {
            out.append(.reply(status: Int(status), body: "fault filter abort"))
        }
        return out
    }
}
