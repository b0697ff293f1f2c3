import XDSCDiagnostics
import XDSCEnvoy

/// Two listeners, or two clusters, of a user's Envoy configuration with one name: Envoy
/// rejects a static bootstrap with either (`duplicate listener`/`cluster ... found`), and an
/// xDS update replaces the first with the second. Policies report a name defined twice while
/// lowering (`duplicate-name` at the second definition), where the policy keeps one.
public struct DuplicateResourceNameCheck: EnvoyCheck {
    /// The rules this check can report.
    public static let rules: [Rule.ID] = [.duplicateName]
    /// Envoy input only.
    public static let inputs: [InputKind] = [.envoy]
    /// Creates the check.
    public init() {}

    /// Checks the listener and cluster names of `config` and adds each finding to `sink`.
    public func run(_ config: EnvoyConfig, _ context: EnvoyCheckContext, _ sink: DiagnosticSink) {
        Self.check("listener", config.listeners.map { ($0.name, $0.source) }, sink)
        Self.check("cluster", config.clusters.map { ($0.name, $0.source) }, sink)
    }

    static func check(_ kind: String, _ named: [(name: String, span: SourceSpan?)], _ sink: DiagnosticSink) {
        var first: [String: SourceSpan] = [:]
        for (name, span) in named {
            guard let span else { continue }
            guard let prior = first[name] else {
                first[name] = span
                continue
            }
            sink.add(
                .duplicateName, message(kind, name), at: span, label: "second definition",
                related: [RelatedLocation("first defined here", at: prior)],
                help: "rename one of them, or remove the copy")
        }
    }

    // MARK: Messages

    static func message(_ kind: String, _ name: String) -> String { "\(kind) `\(name)` is defined twice" }
}
