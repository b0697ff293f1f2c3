import XDSCDiagnostics
import XDSCEnvoy
import XDSCRouteEngine

/// A route of a user's Envoy configuration whose retry `per_try_timeout` is at least its
/// `timeout` (15s when unset; `0s` disables it): the first try uses up the whole request's
/// time and no retry is sent. The retry policy is the route's, else its virtual host's
/// (`RouteEntryImplBase::buildRetryPolicy`, config_impl.cc), and both timeouts are compared
/// in whole milliseconds, as `FilterUtility::finalTimeout` (router.cc) compares them
/// (`PROTOBUF_GET_MS_OR_DEFAULT` truncates). Routes with `max_stream_duration` have no router
/// timeout and are not checked. The finding points at the `per_try_timeout` in effect; one
/// of a virtual host's policy names the routes that inherit it. Policies keep
/// `RetryTimeoutPass` on the IR: it points at the `per_try_timeout` token and at the
/// inherited `timeout`, which the model does not keep.
public struct RetryTimeoutCheck: EnvoyCheck {
    /// The rules this check can report.
    public static let rules: [Rule.ID] = [.retryTimeout]
    /// Envoy input only.
    public static let inputs: [InputKind] = [.envoy]
    /// Creates the check.
    public init() {}

    /// Checks every route of `config` and adds each finding to `sink`.
    public func run(_ config: EnvoyConfig, _ context: EnvoyCheckContext, _ sink: DiagnosticSink) {
        for (_, table) in config.routeTables {
            for vh in table.virtualHosts { check(vh, sink) }
        }
    }

    /// The routes of `vh`. A finding on the virtual host's own policy is one per distinct
    /// request timeout, at its `per_try_timeout`, with the routes that inherit it as related
    /// locations, so a host of many routes does not repeat one span.
    func check(_ vh: VirtualHost, _ sink: DiagnosticSink) {
        var inherited: [(limits: Limits, routes: [SourceSpan])] = []
        for route in vh.routes {
            guard let span = route.source, case .route(let a) = route.action else { continue }
            // The route's policy wins, even one without `per_try_timeout`; then the host's.
            let own = a.retryPolicy != nil
            guard let retry = a.retryPolicy ?? vh.retryPolicy, let limits = Self.limits(a, retry) else { continue }
            if own {
                report(limits, at: retry.perTryTimeoutSource ?? span, related: [], sink)
            } else if let i = inherited.firstIndex(where: { $0.limits == limits }) {
                inherited[i].routes.append(span)
            } else {
                inherited.append((limits, [span]))
            }
        }
        guard let hostPolicy = vh.retryPolicy else { return }
        for (limits, routes) in inherited {
            guard let at = hostPolicy.perTryTimeoutSource ?? vh.source ?? routes.first else { continue }
            let related = routes.map { RelatedLocation("route that inherits the virtual host's `retry_policy`", at: $0) }
            report(limits, at: at, related: related, sink)
        }
    }

    /// The per-try and request timeouts of a route that Envoy would let no retry follow, in
    /// milliseconds; nil when a retry can follow a timed-out try or there is no retry.
    struct Limits: Equatable {
        var perTry: UInt64
        var total: UInt64
        var isDefault: Bool
    }

    static func limits(_ a: RouteAction, _ retry: RetryPolicy) -> Limits? {
        // A route on Envoy's "new timeouts" (the engine's rule) arms no router timeout, so
        // there is nothing a try could outlast; `num_retries: 0` sends no retry anyway.
        guard !RouteEngine.usesNewTimeouts(a), retry.numRetries != 0, let perTryTimeout = retry.perTryTimeout else { return nil }
        let perTry = RouteEngine.ms(perTryTimeout)
        let total = RouteEngine.ms(a.timeout ?? RouteEngine.defaultRouteTimeout)
        // 0 ms is no timeout on either side; `finalTimeout` drops a per-try timeout at or
        // above a global one that is not 0.
        guard perTry > 0, total > 0, perTry >= total else { return nil }
        return Limits(perTry: perTry, total: total, isDefault: a.timeout == nil)
    }

    func report(_ limits: Limits, at span: SourceSpan, related: [RelatedLocation], _ sink: DiagnosticSink) {
        sink.add(
            .retryTimeout, Self.message(limits, inherited: !related.isEmpty), at: span, label: "per-try timeout", related: related,
            help: "make `timeout` at least num_retries+1 times `per_try_timeout`, or shorten `per_try_timeout`")
    }

    // MARK: Messages

    static func message(_ l: Limits, inherited: Bool) -> String {
        let perTry = EnvoyDuration.milliseconds(Int64(clamping: l.perTry))
        let total = EnvoyDuration.milliseconds(Int64(clamping: l.total))
        let whose = inherited ? "the virtual host's per_try_timeout" : "per_try_timeout"
        let note = l.isDefault ? " (Envoy's default)" : ""
        return "\(whose) \(perTry) is not shorter than the request timeout \(total)\(note), so no retry can happen"
    }
}
