import XDSCDiagnostics
import XDSCEnvoy

/// The router is the terminal HTTP filter: Envoy rejects a connection manager whose
/// `http_filters` have the router anywhere but last, or end in a filter that is not terminal
/// (`validateTerminalFilters`, source/common/config/utility.h). Runs for both inputs: a
/// lowered policy always ends in the router, so only a user's Envoy file can fail it.
public struct RouterNotLastCheck: EnvoyCheck {
    /// The rules this check can report.
    public static let rules: [Rule.ID] = [.routerNotLast]
    /// Both front ends.
    public static let inputs: [InputKind] = [.policy, .envoy]
    /// Creates the check.
    public init() {}

    /// Checks the HTTP filter chain of every connection manager of `config`.
    public func run(_ config: EnvoyConfig, _ context: EnvoyCheckContext, _ sink: DiagnosticSink) {
        for l in config.listeners {
            for hcm in l.connectionManagers {
                let filters = hcm.filters
                guard let last = filters.last else { continue }
                if let i = filters.firstIndex(where: { $0.kind == .router }), i != filters.count - 1 {
                    let router = filters[i]
                    guard let span = router.source ?? l.source else { continue }
                    sink.add(
                        .routerNotLast, Self.notLast(router.name, listener: l.name, after: filters.count - 1 - i), at: span,
                        label: "not last", related: last.source.map { [RelatedLocation("the chain ends here", at: $0)] } ?? [],
                        notes: ["Envoy rejects the listener: the router is terminal, no filter after it would run"],
                        help: "move `\(router.name)` to the end of `http_filters`")
                } else if last.kind != nil, last.kind != .router, let span = last.source ?? l.source {
                    // An opaque last filter may be another terminal filter; a modelled one is not.
                    sink.add(
                        .routerNotLast, Self.noRouter(last.name, listener: l.name), at: span, label: "not terminal",
                        notes: ["Envoy rejects the listener: the last HTTP filter must be a terminal filter"],
                        help: "add `envoy.filters.http.router` at the end of `http_filters`")
                }
            }
        }
    }

    // MARK: Messages

    static func notLast(_ name: String, listener: String, after: Int) -> String {
        "router filter `\(name)` in listener `\(listener)` is followed by \(after) more HTTP filter\(after == 1 ? "" : "s")"
    }

    static func noRouter(_ name: String, listener: String) -> String {
        "the HTTP filter chain of listener `\(listener)` ends in `\(name)`, not in the router"
    }
}
