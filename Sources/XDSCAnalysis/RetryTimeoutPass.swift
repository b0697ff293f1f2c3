import XDSCDiagnostics
import XDSCPolicy

/// A per-try timeout at least as long as the whole request's timeout leaves no time to retry.
public struct RetryTimeoutPass: PolicyPass {
    /// The rules this pass can report.
    public static let rules: [Rule.ID] = [.retryTimeout]
    /// Creates the pass.
    public init() {}

    /// Checks `policy` and adds each finding to `sink`.
    public func run(_ policy: Policy, _ sink: DiagnosticSink) {
        var reported = Set<SourceSpan>()
        policy.forEachRoute { route in
            guard let r = route.effective.retries, case .policy(let p) = r.value, let perTry = p.perTryTimeout,
                perTry.value.milliseconds > 0, p.attempts?.value != 0
            else { return }
            let timeout = route.effective.timeout
            let total = timeout?.value ?? EffectivePolicy.envoyDefaultTimeout
            // 0s disables the overall timeout: every try can run its full per-try time.
            guard total.milliseconds > 0, perTry.value >= total else { return }
            // One finding per (per_try_timeout, timeout) pair, not one per inheriting route.
            let key = SourceSpan(file: perTry.span.file, start: perTry.span.start, end: timeout?.provenance.span?.start ?? perTry.span.end)
            guard reported.insert(key).inserted else { return }
            var related: [RelatedLocation] = []
            if let span = timeout?.provenance.span { related.append(RelatedLocation("the request timeout is \(total) here", at: span)) }
            sink.add(
                .retryTimeout,
                "per_try_timeout \(perTry.value) is not shorter than the request timeout \(total)\(timeout == nil ? " (Envoy's default)" : ""), so no retry can happen",
                at: perTry.span, label: "per-try timeout", related: related,
                help: "make `timeout` at least attempts+1 times `per_try_timeout`, or shorten `per_try_timeout`")
        }
    }
}
