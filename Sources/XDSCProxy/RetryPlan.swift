import XDSCEnvoy
import XDSCRequest

/// How the router retries (`RetryStateImpl`, retry_state_impl.cc).
struct RetryPlan {
    var retryOn: Set<String> = []
    var numRetries = 0
    var retriableStatusCodes: Set<Int> = []

    init() {}

    init(_ p: RetryPolicy) {
        retryOn = Set(p.retryOn.flatMap { $0.split(separator: ",").map { Self.trimmed($0) } })
        numRetries = Int(p.numRetries ?? 1)
        retriableStatusCodes = Set(p.retriableStatusCodes.map(Int.init))
    }

    /// The plan of a request whose finalised upstream headers are `headers`
    /// (`RetryStateImpl`'s constructor, which the router builds after
    /// `finalizeRequestHeaders`): `x-envoy-retry-on` adds to the policy's conditions, and
    /// once there is one, `x-envoy-max-retries` (when it parses as an unsigned integer)
    /// replaces the number of retries; `x-envoy-retriable-status-codes` adds the codes that
    /// parse. Without a route policy a header condition retries once (the policy's default
    /// `num_retries`). Only internal requests keep these headers past `cleanInternalHeaders`,
    /// unless the route's own header mutations add them.
    init(_ p: RetryPolicy?, headers: HeaderMap) {
        if let p { self.init(p) } else { self.init() }
        let retryOn = headers.get("x-envoy-retry-on")
        if let retryOn {
            if p == nil { numRetries = 1 }
            // `StringUtil::splitToken(value, ",", false, true)`: no empty tokens, each trimmed.
            for token in retryOn.split(separator: ",") {
                let t = Self.trimmed(token)
                if !t.isEmpty && Self.headerConditions.contains(t) { self.retryOn.insert(t) }
            }
        }
        if !self.retryOn.isEmpty, let v = headers.get("x-envoy-max-retries"), let n = HeaderMatcher.simpleAtoiUnsigned(v) {
            numRetries = Int(clamping: n)
        }
        if let codes = headers.get("x-envoy-retriable-status-codes") {
            for token in codes.split(separator: ",", omittingEmptySubsequences: false) {
                if let n = HeaderMatcher.simpleAtoiUnsigned(String(token)), n <= UInt32.max { retriableStatusCodes.insert(Int(n)) }
            }
        }
    }

    /// The `x-envoy-retry-on` values `parseRetryOn` knows; others are dropped.
    static let headerConditions: Set<String> = [
        "5xx", "gateway-error", "connect-failure", "envoy-ratelimited", "retriable-4xx", "refused-stream", "retriable-status-codes",
        "retriable-headers", "reset",
    ]

    /// The conditions `retries(status:)` and `retries(_:)` act on; the others (gRPC statuses,
    /// `retriable-headers`, `envoy-ratelimited`, `refused-stream`) are warned at start.
    static let executedConditions: Set<String> = [
        "5xx", "gateway-error", "connect-failure", "retriable-4xx", "retriable-status-codes", "reset",
    ]

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

    /// `wouldRetryFromHeaders`: a response status the policy retries.
    func retries(status: Int) -> Bool {
        if retryOn.contains("5xx") && status >= 500 { return true }
        if retryOn.contains("gateway-error") && (502...504).contains(status) { return true }
        if retryOn.contains("retriable-4xx") && status == 409 { return true }
        if retryOn.contains("retriable-status-codes") && retriableStatusCodes.contains(status) { return true }
        return false
    }

    /// `wouldRetryFromReset` (and the per-try timeout, which Envoy retries like a 504).
    func retries(_ f: UpstreamFailure) -> Bool {
        switch f {
        case .perTryTimeout: return retryOn.contains("5xx") || retryOn.contains("gateway-error")
        case .connectionFailure, .transportFailure:
            return retryOn.contains("connect-failure") || retryOn.contains("5xx") || retryOn.contains("gateway-error")
                || retryOn.contains("reset")
        case .connectionTermination, .protocolError:
            return retryOn.contains("5xx") || retryOn.contains("gateway-error") || retryOn.contains("reset")
        }
    }
}
