import XDSCEnvoy
import XDSCRequest

/// How the router retries (`RetryStateImpl`, retry_state_impl.cc).
struct RetryPlan {
    var retryOn: Set<String> = []
    var numRetries = 0
    var retriableStatusCodes: Set<Int> = []
    /// `retriable_headers`, and a name-only matcher per `x-envoy-retriable-header-names` entry.
    var retriableHeaders: [HeaderMatcher] = []
    /// `retry_back_off`: the base and the cap of the exponential back-off, in nanoseconds
    /// (nil: the runtime default, 25 ms, and ten times the base).
    var baseInterval: Int64?
    var maxInterval: Int64?
    /// `rate_limited_retry_back_off`: the reset headers read from a retried response, and the
    /// longest interval taken from them (in milliseconds; Envoy's default 300 s).
    var resetHeaders: [RateLimitedRetryBackOff.ResetHeader] = []
    var resetMaxInterval: UInt64 = 300_000
    /// `retry_host_predicate` has `previous_hosts`: a retry re-picks an endpoint an earlier
    /// attempt went to (previous_hosts.h `shouldSelectAnotherHost`).
    var avoidsPreviousHosts = false
    /// `host_selection_retry_max_attempts` (Envoy's 1; a value that is not 0 is kept as a
    /// uint32, `RetryPolicyImpl`): a retry's picks after the first, at most.
    var hostSelectionAttempts: UInt32 = 1
    /// `per_try_idle_timeout`, in nanoseconds (nil or 0: none).
    var perTryIdleTimeout: Int64?

    init() {}

    /// Whether any retry condition is on (`RetryStateImpl::enabled`): the router then keeps the
    /// request body to send again.
    var enabled: Bool { !retryOn.isEmpty }

    /// The route policy alone (`RetryPolicyImpl`, config_impl.cc: `retry_on` is parsed as
    /// both the HTTP and the gRPC conditions).
    init(_ p: RetryPolicy) {
        retryOn = Set(p.retryOn.flatMap { $0.split(separator: ",").map { Self.trimmed($0) } })
        numRetries = Int(p.numRetries ?? 1)
        retriableStatusCodes = Set(p.retriableStatusCodes.map(Int.init))
        retriableHeaders = p.retriableHeaders
        if let b = p.backOff {
            // Sub-millisecond intervals are rounded up to 1 ms (`RetryPolicyImpl`).
            let base = max(b.baseInterval.milliseconds, 1)
            baseInterval = base * 1_000_000
            maxInterval = b.maxInterval.map { max($0.milliseconds, 1) * 1_000_000 }
        }
        if let r = p.rateLimitedBackOff {
            resetHeaders = r.resetHeaders
            if let m = r.maxInterval { resetMaxInterval = UInt64(max(m.milliseconds, 0)) }
        }
        avoidsPreviousHosts = p.retryHostPredicates.contains(.previousHosts)
        if let n = p.hostSelectionRetryMaxAttempts, n != 0 { hostSelectionAttempts = UInt32(truncatingIfNeeded: n) }
        // `PROTOBUF_GET_MS_OR_DEFAULT(..., per_try_idle_timeout, 0)`: 0 is no timer.
        if let t = p.perTryIdleTimeout, t.milliseconds > 0 { perTryIdleTimeout = t.milliseconds * 1_000_000 }
    }

    /// How many endpoints a retry's pick may try (`LoadBalancerBase::chooseHost`:
    /// `hostSelectionRetryCount() + 1`, the router's count being
    /// `host_selection_retry_max_attempts` on a retry). A first attempt has no previous host
    /// to avoid, so it takes its first pick. Capped at 1000 picks: Envoy would pick up to 2^32
    /// times, which a simulation cannot wait for.
    var retryPicks: Int { min(Int(hostSelectionAttempts) + 1, 1000) }

    /// The plan of a request whose finalised upstream headers are `headers`
    /// (`RetryStateImpl`'s constructor, which the router builds after
    /// `finalizeRequestHeaders`): `x-envoy-retry-on` and `x-envoy-retry-grpc-on` add to the
    /// policy's conditions; `retriable_request_headers` that none matches turn every
    /// condition off; once there is one, `x-envoy-max-retries` (when it parses as an
    /// unsigned integer) replaces the number of retries; `x-envoy-retriable-status-codes`
    /// adds the codes that parse and `x-envoy-retriable-header-names` a name-only matcher
    /// per name. Without a route policy a header condition retries once (the policy's
    /// default `num_retries`). Only internal requests keep these headers past
    /// `cleanInternalHeaders`, unless the route's own header mutations add them.
    init(_ p: RetryPolicy?, headers: HeaderMap) {
        if let p { self.init(p) } else { self.init() }
        let envoy = headers.hasEnvoyHeaders
        let retryOn = headers.envoyHeader("x-envoy-retry-on", present: envoy)
        let grpcOn = headers.envoyHeader("x-envoy-retry-grpc-on", present: envoy)
        if p == nil && (retryOn != nil || grpcOn != nil) { numRetries = 1 }
        // `StringUtil::splitToken(value, ",", false, true)`: no empty tokens, each trimmed.
        func add(_ value: String?, known: Set<String>) {
            for token in value?.split(separator: ",") ?? [] {
                let t = Self.trimmed(token)
                if !t.isEmpty && known.contains(t) { self.retryOn.insert(t) }
            }
        }
        add(retryOn, known: Self.headerConditions)
        add(grpcOn, known: Self.grpcConditions)
        if let request = p?.retriableRequestHeaders, !request.isEmpty,
            !request.contains(where: { $0.matches(headerValue: headers.get($0.name)) })
        {
            self.retryOn = []
        }
        if !self.retryOn.isEmpty, let v = headers.envoyHeader("x-envoy-max-retries", present: envoy),
            let n = HeaderMatcher.simpleAtoiUnsigned(v)
        {
            numRetries = Int(clamping: n)
        }
        if let codes = headers.envoyHeader("x-envoy-retriable-status-codes", present: envoy) {
            for token in codes.split(separator: ",", omittingEmptySubsequences: false) {
                if let n = HeaderMatcher.simpleAtoiUnsigned(String(token)), n <= UInt32.max { retriableStatusCodes.insert(Int(n)) }
            }
        }
        if let names = headers.envoyHeader("x-envoy-retriable-header-names", present: envoy) {
            // `splitToken(value, ",")` drops empty tokens; each name is stripped of ASCII
            // whitespace and lower-cased (`LowerCaseString`). An empty name matches nothing.
            for token in names.split(separator: ",") {
                let name = token.trimmingASCIIWhitespace.lowercased()
                if !name.isEmpty { retriableHeaders.append(HeaderMatcher(name: name, nil)) }
            }
        }
    }

    /// The `x-envoy-retry-on` values `parseRetryOn` knows; others are dropped.
    static let headerConditions: Set<String> = [
        "5xx", "gateway-error", "connect-failure", "envoy-ratelimited", "retriable-4xx", "refused-stream", "retriable-status-codes",
        "retriable-headers", "reset", "reset-before-request", "http3-post-connect-failure",
    ]

    /// The `x-envoy-retry-grpc-on` values `parseRetryGrpcOn` knows (a route's `retry_on` may
    /// hold them too).
    static let grpcConditions: Set<String> = ["cancelled", "deadline-exceeded", "internal", "resource-exhausted", "unavailable"]

    /// The conditions `retries(_:)` act on; the others are warned at start
    /// (`http3-post-connect-failure` needs an HTTP/3 upstream, which the proxy never has).
    static let executedConditions: Set<String> = Set([
        "5xx", "gateway-error", "connect-failure", "envoy-ratelimited", "retriable-4xx", "refused-stream", "retriable-status-codes",
        "retriable-headers", "reset", "reset-before-request",
    ]).union(grpcConditions)

    /// Request headers the router consumes: the retry ones (`RetryStateImpl::create`) and the
    /// timeout ones (`FilterUtility::finalTimeout`); they never go upstream.
    static let consumedHeaders: Set<String> = [
        "x-envoy-retry-on", "x-envoy-retry-grpc-on", "x-envoy-max-retries", "x-envoy-hedge-on-per-try-timeout",
        "x-envoy-retriable-header-names", "x-envoy-retriable-status-codes", "x-envoy-upstream-rq-per-try-timeout-ms",
        "x-envoy-upstream-rq-timeout-ms",
    ]

    static func trimmed(_ s: Substring) -> String {
        String(s.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }

    /// `wouldRetryFromHeaders` on a response with only a status.
    func retries(status: Int) -> Bool { retries(status: status, headers: []) }

    /// `wouldRetryFromHeaders`: whether a response with `status` and `headers` (names
    /// lower-case) is retried. A response marked `x-envoy-ratelimited` (from an upstream
    /// Envoy) is retried only under `envoy-ratelimited`, whatever else matches. The gRPC
    /// conditions read `grpc-status` from the headers, so only a trailers-only response
    /// (headers ending the stream) is retried on its gRPC status: the router decides at the
    /// response headers, and a status in the trailers comes after them.
    func retries(status: Int, headers: [(name: String, value: String)]) -> Bool {
        if headers.contains(where: { $0.name == "x-envoy-ratelimited" }) { return retryOn.contains("envoy-ratelimited") }
        if retryOn.contains("5xx") && (500...599).contains(status) { return true }
        if retryOn.contains("gateway-error") && (502...504).contains(status) { return true }
        if retryOn.contains("retriable-4xx") && status == 409 { return true }
        if retryOn.contains("retriable-status-codes") && retriableStatusCodes.contains(status) { return true }
        if retryOn.contains("retriable-headers") && !retriableHeaders.isEmpty {
            // `HeaderData::matchesHeaders`: every value of the header joined with `,`.
            for m in retriableHeaders {
                let values = headers.filter { $0.name == m.name }.map(\.value)
                if m.matches(headerValue: values.isEmpty ? nil : values.joined(separator: ",")) { return true }
            }
        }
        if !retryOn.isDisjoint(with: Self.grpcConditions), let s = Self.grpcStatus(headers) {
            switch s {
            case 1: return retryOn.contains("cancelled")
            case 4: return retryOn.contains("deadline-exceeded")
            case 8: return retryOn.contains("resource-exhausted")
            case 13: return retryOn.contains("internal")
            case 14: return retryOn.contains("unavailable")
            default: return false
            }
        }
        return false
    }

    /// `Grpc::Common::getGrpcStatus`: the `grpc-status` header as a well-known code
    /// (0...16); nil when absent or empty, -1 (`InvalidCode`) when it does not parse or is
    /// above 16.
    static func grpcStatus(_ headers: [(name: String, value: String)]) -> Int? {
        guard let v = headers.first(where: { $0.name == "grpc-status" })?.value, !v.isEmpty else { return nil }
        guard let n = HeaderMatcher.simpleAtoiUnsigned(v), n <= 16 else { return -1 }
        return Int(n)
    }

    /// `wouldRetryFromReset` (and the per-try and per-try idle timeouts, which the router
    /// retries as a `LocalReset` after the request went upstream, router.cc
    /// `onPerTryTimeoutCommon`: under `5xx`, `gateway-error` and `reset`).
    /// `reset-before-request` retries a reset before any request byte went upstream: a
    /// failed connect (the proxy writes the request as soon as the stream is up).
    func retries(_ f: UpstreamFailure) -> Bool {
        switch f {
        case .perTryTimeout: return retryOn.contains("5xx") || retryOn.contains("gateway-error") || retryOn.contains("reset")
        case .connectionFailure, .transportFailure:
            return retryOn.contains("connect-failure") || retryOn.contains("reset-before-request") || retryOn.contains("5xx")
                || retryOn.contains("gateway-error") || retryOn.contains("reset")
        case .connectionTermination, .protocolError:
            return retryOn.contains("5xx") || retryOn.contains("gateway-error") || retryOn.contains("reset")
        case .refusedStream:
            return retryOn.contains("5xx") || retryOn.contains("gateway-error") || retryOn.contains("reset")
                || retryOn.contains("refused-stream")
        }
    }

    /// The wait before a retry, in nanoseconds. After a response retried on its headers, the
    /// first reset header that gives an interval above 1 ms and within the maximum sets it:
    /// `JitteredLowerBoundBackOffStrategy`, a random wait from the interval to 1.5 times it
    /// (`rateLimited`, true). Otherwise `JitteredExponentialBackOffStrategy`: a random wait
    /// below the base times 2^`step` (`step` counts the exponential back-offs before this
    /// one), capped at the maximum. `defaultBase` is the runtime's base (25 ms).
    func backOff(
        after response: [(name: String, value: String)]?, step: Int, defaultBase: Int64, random: UInt64, now: UInt64
    ) -> (wait: Int64, rateLimited: Bool) {
        if let response, let ms = resetInterval(response, now: now), ms > 1 {
            let wait = random % (ms >> 1) + ms
            return (Int64(clamping: wait.multipliedReportingOverflow(by: 1_000_000).partialValue), true)
        }
        let base = max(baseInterval ?? defaultBase, 1)
        let cap = max(maxInterval ?? base * 10, base)
        var interval = base
        for _ in 0..<min(step, 62) where interval < cap { interval = interval > cap / 2 ? cap : interval * 2 }
        return (Int64(random % UInt64(interval)), false)
    }

    /// `RetryStateImpl::parseResetInterval`: the first reset header whose first value gives
    /// an interval within `resetMaxInterval` (milliseconds). `SECONDS` is a number of seconds;
    /// `UNIX_TIMESTAMP` a time in seconds since the epoch, at or after `now` (seconds).
    func resetInterval(_ headers: [(name: String, value: String)], now: UInt64) -> UInt64? {
        for h in resetHeaders {
            guard let v = headers.first(where: { $0.name == h.name })?.value, let n = HeaderMatcher.simpleAtoiUnsigned(v) else {
                continue
            }
            let seconds: UInt64
            switch h.format {
            case .seconds: seconds = n
            case .unixTimestamp:
                guard n >= now else { continue }
                seconds = n - now
            }
            let (ms, overflow) = seconds.multipliedReportingOverflow(by: 1000)
            if !overflow && ms <= resetMaxInterval { return ms }
        }
        return nil
    }
}

extension Substring {
    /// Without ASCII whitespace at either end (`absl::StripAsciiWhitespace`).
    var trimmingASCIIWhitespace: String {
        let ws: Set<Character> = [" ", "\t", "\n", "\u{0B}", "\u{0C}", "\r"]
        guard let first = firstIndex(where: { !ws.contains($0) }), let last = lastIndex(where: { !ws.contains($0) }) else { return "" }
        return String(self[first...last])
    }
}
