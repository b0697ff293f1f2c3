import XDSCDiagnostics
import XDSCEnvoy
import XDSCRouteEngine

/// A route of a user's Envoy configuration whose retry `per_try_timeout` is at least its
/// `timeout` (15s when unset; `0s` disables it): the first try uses up the whole request's
/// time and no retry is sent. Routes with `max_stream_duration` have no router timeout and are
/// not checked. Policies keep `RetryTimeoutPass` on the IR: it points at the
/// `per_try_timeout` token and at the inherited `timeout`, which the model does not keep.
public struct RetryTimeoutCheck: EnvoyCheck {
    /// The rules this check can report.
    public static let rules: [Rule.ID] = [.retryTimeout]
    /// Envoy input only.
    public static let inputs: [InputKind] = [.envoy]
    /// Creates the check.
    public init() {}

    /// Checks every route of `config` and adds each finding to `sink`.
    public func run(_ config: EnvoyConfig, _ context: EnvoyCheckContext, _ sink: DiagnosticSink) {
        config.forEachRoute { _, _, route in
            // A route on Envoy's "new timeouts" (the engine's rule) arms no router timeout, so
            // there is nothing a try could outlast.
            guard let span = route.source, case .route(let a) = route.action, !RouteEngine.usesNewTimeouts(a),
                let retry = a.retryPolicy, let perTry = retry.perTryTimeout, perTry > .zero, retry.numRetries != 0
            else { return }
            let total = a.timeout ?? RouteEngine.defaultRouteTimeout
            guard total > .zero, perTry >= total else { return }
            sink.add(
                .retryTimeout, Self.message(perTry, total, isDefault: a.timeout == nil), at: span, label: "per-try timeout",
                help: "make `timeout` at least num_retries+1 times `per_try_timeout`, or shorten `per_try_timeout`")
        }
    }

    // MARK: Messages

    static func message(_ perTry: EnvoyDuration, _ total: EnvoyDuration, isDefault: Bool) -> String {
        "per_try_timeout \(perTry) is not shorter than the request timeout \(total)\(isDefault ? " (Envoy's default)" : ""), so no retry can happen"
    }
}
