import XDSCDiagnostics
import XDSCEnvoy
import XDSCPolicy

/// A route of a user's Envoy configuration sends traffic (its cluster, a weighted cluster, a
/// mirror) to a cluster none of the files defines; Envoy rejects the route table
/// (`route: unknown cluster`) when `validate_clusters` is on, and answers 503 otherwise.
/// Policies keep `UnknownServicePass` on the IR: its finding has a did-you-mean over service
/// names, and a policy route to an unknown service never lowers to Envoy.
public struct UndefinedClusterCheck: EnvoyCheck {
    /// The rules this check can report.
    public static let rules: [Rule.ID] = [.unknownService]
    /// Envoy input only.
    public static let inputs: [InputKind] = [.envoy]
    /// Creates the check.
    public init() {}

    /// Checks every route of `config` and adds each finding to `sink`.
    public func run(_ config: EnvoyConfig, _ context: EnvoyCheckContext, _ sink: DiagnosticSink) {
        // Without any cluster read (an RDS file alone, clusters over CDS from a server) every
        // reference would be reported: nothing can be said.
        guard !config.clusters.isEmpty else { return }
        let defined = Set(config.clusters.map(\.name))
        var reported = Set<String>()
        config.forEachRoute { table, _, route in
            guard let span = route.source else { return }
            for name in EnvoyConfig.clusterReferences(route) where !defined.contains(name) {
                guard reported.insert("\(span)\u{0}\(name)").inserted else { continue }
                sink.add(
                    .unknownService, Self.message(name, table: table.name), at: span, label: "no such cluster",
                    help: Self.help(name, defined))
            }
        }
    }

    // MARK: Messages

    static func message(_ cluster: String, table: String) -> String {
        "route in route configuration `\(table)` sends traffic to cluster `\(cluster)`, which is not defined"
    }

    static func help(_ cluster: String, _ defined: Set<String>) -> String {
        if let close = PolicyValues.suggestion(for: cluster, in: defined.sorted()) { return "did you mean `\(close)`?" }
        return "define cluster `\(cluster)`, or give the file that defines it"
    }
}
