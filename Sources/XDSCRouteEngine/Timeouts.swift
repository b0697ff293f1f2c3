import XDSCEnvoy
import XDSCRequest

/// Where a forward's router timeout comes from (`FilterUtility::finalTimeout`, router.cc).
public enum TimeoutSource: Equatable, Sendable {
    /// No `timeout`: Envoy's 15 s (`DEFAULT_ROUTE_TIMEOUT_MS`).
    case routeDefault
    /// The route's `timeout`.
    case route
    /// `max_grpc_timeout` on a gRPC request: the `grpc-timeout` header (less
    /// `grpc_timeout_offset`), within the cap.
    case grpcTimeoutHeader
    /// `max_grpc_timeout` on a gRPC request whose `grpc-timeout` is absent, unreadable or
    /// above the cap: the cap.
    case maxGrpcTimeout
    /// The route sets `max_stream_duration` (`usingNewTimeouts`): the router arms no timer;
    /// the connection manager's stream timer (``RouteDecision/streamDuration``) applies.
    case maxStreamDuration
    /// The request's `x-envoy-upstream-rq-timeout-ms`.
    case upstreamTimeoutHeader
    /// The request's `x-envoy-expected-rq-timeout-ms` (the router filter's
    /// `respect_expected_rq_timeout`).
    case expectedTimeoutHeader
}

/// Envoy's per-request timeouts for a forward, in milliseconds as Envoy keeps them.
struct RequestTimeouts: Equatable {
    /// The router's global timeout; 0 is none.
    var global: UInt64
    var source: TimeoutSource
    /// The per-try timeout; 0 is none.
    var perTry: UInt64
    /// The `x-envoy-expected-rq-timeout-ms` value written upstream, nil when none is.
    var expected: UInt64?
    /// The `grpc-timeout` value written upstream, nil when the header is left as received.
    var grpcTimeoutHeader: String?
    /// The connection manager's stream timer for this route: nil disables it, 0 fires at once.
    var stream: UInt64?
}

extension RouteEngine {
    /// `Grpc::Common::MAX_GRPC_TIMEOUT_VALUE`: at most 8 digits.
    static let maxGrpcTimeoutValue: UInt64 = 99_999_999

    /// The router's timeout for a route without `timeout`: `DEFAULT_ROUTE_TIMEOUT_MS`
    /// (source/common/router/config_impl.cc).
    public static let defaultRouteTimeout = EnvoyDuration.seconds(15)

    /// Envoy's `usingNewTimeouts` (`RouteEntryImplBase`, config_impl.cc:
    /// `route.route().has_max_stream_duration()`): a route that sets `max_stream_duration`,
    /// even an empty one, arms no router timeout at all (`FilterUtility::finalTimeout`,
    /// router.cc, leaves the global timeout at 0 and ignores `timeout` and
    /// `max_grpc_timeout`); the connection manager's stream timer applies instead. The one
    /// definition of the rule: ``requestTimeouts(_:retry:_:)`` and the retry-timeout check
    /// on Envoy input both ask it.
    public static func usesNewTimeouts(_ a: RouteAction) -> Bool { a.maxStreamDuration != nil }

    /// The timeouts Envoy gives a forward on `action`, from the headers as the router
    /// receives them (before the route's header mutations), with no time elapsed:
    /// `FilterUtility::finalTimeout` and `setTimeoutHeaders` (router.cc) for the router, and
    /// `ActiveStream::refreshDurationTimeout` (conn_manager_impl.cc) for the stream timer.
    /// The router filter's `respect_expected_rq_timeout` and `suppress_envoy_headers` come
    /// from `router`, the connection manager's own `max_stream_duration` is taken as unset,
    /// and `hedge_policy` (not read) as absent.
    static func requestTimeouts(
        _ a: RouteAction, retry: RetryPolicy?, _ headers: HeaderMap, router: HttpConnectionManager.RouterFilterConfig = .init()
    ) -> RequestTimeouts {
        let grpc = isGrpcRequest(headers)
        let usingNewTimeouts = usesNewTimeouts(a)
        var t = RequestTimeouts(global: 0, source: .maxStreamDuration, perTry: 0, expected: nil, grpcTimeoutHeader: nil, stream: nil)
        if !usingNewTimeouts {
            if grpc, let maxGrpc = a.maxGrpcTimeout {
                let cap = ms(maxGrpc)
                let header = grpcTimeout(headers.get("grpc-timeout"))
                var g = header ?? 0
                t.source = header != nil ? .grpcTimeoutHeader : .maxGrpcTimeout
                // The offset only when it leaves more than 0 (0 would mean no timeout).
                if let off = a.grpcTimeoutOffset.map(ms), off < g { g -= off }
                // The cap, 0 meaning none; a header of 0 (no timeout) takes the cap.
                if cap != 0 && (g == 0 || g > cap) {
                    g = cap
                    t.source = .maxGrpcTimeout
                }
                t.global = g
            } else {
                t.global = ms(a.timeout ?? defaultRouteTimeout)
                t.source = a.timeout == nil ? .routeDefault : .route
            }
        }
        t.perTry = retry?.perTryTimeout.map(ms) ?? 0
        let envoy = headers.hasEnvoyHeaders
        // With `respect_expected_rq_timeout`, an `x-envoy-expected-rq-timeout-ms` (set by an
        // egress Envoy) takes the place of `x-envoy-upstream-rq-timeout-ms`, which is then not
        // read; either, when it parses (`absl::SimpleAtoi` into a uint64), replaces the global
        // timeout (`FilterUtility::finalTimeout`, `trySetGlobalTimeout`).
        if router.respectExpectedRqTimeout, let v = headers.envoyHeader("x-envoy-expected-rq-timeout-ms", present: envoy) {
            if let n = HeaderMatcher.simpleAtoiUnsigned(v) {
                t.global = n
                t.source = .expectedTimeoutHeader
            }
        } else if let v = headers.envoyHeader("x-envoy-upstream-rq-timeout-ms", present: envoy), let n = HeaderMatcher.simpleAtoiUnsigned(v)
        {
            t.global = n
            t.source = .upstreamTimeoutHeader
        }
        if let v = headers.envoyHeader("x-envoy-upstream-rq-per-try-timeout-ms", present: envoy), !v.isEmpty,
            let n = HeaderMatcher.simpleAtoiUnsigned(v)
        {
            t.perTry = n
        }
        // A per-try timeout at or above the global one is dropped.
        if t.perTry >= t.global && t.global != 0 { t.perTry = 0 }
        // `finalHedgingParams`: the header turns hedging on or off.
        let hedge = headers.envoyHeader("x-envoy-hedge-on-per-try-timeout", present: envoy) == "true"
        // `setTimeoutHeaders` with no time elapsed.
        var expected = t.perTry
        if hedge || expected == 0 { expected = t.global }
        if expected > 0 {
            if t.global > 0 { expected = min(expected, t.global) }
            // `insert_envoy_expected_request_timeout_ms` is `!suppress_envoy_headers`.
            if !router.suppressEnvoyHeaders { t.expected = expected }
            if grpc && !usingNewTimeouts && a.maxGrpcTimeout != nil { t.grpcTimeoutHeader = grpcTimeoutText(expected) }
        }
        t.stream = streamDuration(a, headers)
        if let s = t.stream, usingNewTimeouts && grpc { t.grpcTimeoutHeader = grpcTimeoutText(s) }
        return t
    }

    /// `refreshDurationTimeout`'s timer for a route: with `grpc_timeout_header_max` and a
    /// readable `grpc-timeout` (on any request), that value capped then less the offset
    /// (down to 0); otherwise the route's `max_stream_duration` (0 disables the timer).
    static func streamDuration(_ a: RouteAction, _ headers: HeaderMap) -> UInt64? {
        let msd = a.maxStreamDuration
        guard let header = grpcTimeout(headers.get("grpc-timeout")), let cap = msd?.grpcTimeoutHeaderMax.map(ms) else {
            guard let limit = msd?.maxStreamDuration.map(ms), limit != 0 else { return nil }
            return limit
        }
        var t = header
        if t > cap && cap != 0 { t = cap }
        if t != 0, let off = msd?.grpcTimeoutHeaderOffset.map(ms) { t = off < t ? t - off : 0 }
        return t
    }

    /// `Grpc::Common::isGrpcRequestHeaders`: a `:path`, and `content-type` exactly
    /// `application/grpc` or starting with `application/grpc+`.
    static func isGrpcRequest(_ headers: HeaderMap) -> Bool {
        guard headers.has(":path"), let ct = headers.first("content-type") else { return false }
        return ct.utf8.elementsEqual("application/grpc".utf8) || ct.utf8.starts(with: "application/grpc+".utf8)
    }

    /// `Grpc::Common::getGrpcTimeout` (source/common/grpc/common.cc), in milliseconds: at
    /// most 8 digits (`absl::SimpleAtoi`, so surrounding whitespace and a sign are read) and
    /// a unit `H`, `M`, `S`, `m`, `u` or `n`, micro- and nanoseconds rounded up; nil when
    /// absent, empty or unreadable.
    public static func grpcTimeout(_ value: String?) -> UInt64? {
        guard let value, let unit = value.utf8.last else { return nil }
        let digits = String(decoding: value.utf8.dropLast(), as: UTF8.self)
        guard let n = HeaderMatcher.simpleAtoi(digits), n >= 0, UInt64(n) <= maxGrpcTimeoutValue else { return nil }
        let v = UInt64(n)
        switch unit {
        case UInt8(ascii: "H"): return v * 3_600_000
        case UInt8(ascii: "M"): return v * 60_000
        case UInt8(ascii: "S"): return v * 1000
        case UInt8(ascii: "m"): return v
        case UInt8(ascii: "u"): return (v + 999) / 1000
        case UInt8(ascii: "n"): return (v + 999_999) / 1_000_000
        default: return nil
        }
    }

    /// `Grpc::Common::toGrpcTimeout`: milliseconds while they fit in 8 digits, else
    /// seconds, minutes, hours (clipped to 99999999H).
    public static func grpcTimeoutText(_ milliseconds: UInt64) -> String {
        let units: [Character] = ["m", "S", "M", "H"]
        var time = milliseconds
        var unit = 0
        if time > maxGrpcTimeoutValue {
            time /= 1000
            unit = 1
        }
        while time > maxGrpcTimeoutValue {
            if unit == 3 {
                time = maxGrpcTimeoutValue
            } else {
                time /= 60
                unit += 1
            }
        }
        return "\(time)\(units[unit])"
    }

    /// A duration in whole milliseconds, as Envoy keeps every route and retry timeout
    /// (`PROTOBUF_GET_MS_OR_DEFAULT`: `DurationUtil::durationToMilliseconds` truncates);
    /// negative durations, which Envoy's validation rejects, count as 0.
    public static func ms(_ d: EnvoyDuration) -> UInt64 { d.nanoseconds > 0 ? UInt64(d.nanoseconds / 1_000_000) : 0 }

    /// Milliseconds as a duration, clamped to what a duration holds.
    static func duration(ms: UInt64) -> EnvoyDuration {
        let limit = UInt64(Int64.max / 1_000_000)
        return .milliseconds(Int64(min(ms, limit)))
    }
}
