import XDSCDiagnostics
import XDSCPolicy

/// A service that no route, split or mirror uses. Silent when a `listeners` section was
/// dropped for a misspelled key (already an error): its routes are not read, so every service
/// would look unused.
public struct UnusedServicePass: PolicyPass {
    /// The rules this pass can report.
    public static let rules: [Rule.ID] = [.unusedService]
    /// Creates the pass.
    public init() {}

    /// Checks `policy` and adds each finding to `sink`.
    public func run(_ policy: Policy, _ sink: DiagnosticSink) {
        guard !policy.droppedSections.contains("listeners") else { return }
        var used = policy.referencedServiceNames
        policy.forEachRoute { route in
            switch route.action {
            case .service(let s): used.insert(s.value)
            case .split(let targets): for t in targets { used.insert(t.service.value) }
            case .redirect, .respond: break
            }
            if let m = route.mirror { used.insert(m.service.value) }
        }
        for s in policy.services where !used.contains(s.name.value) {
            sink.add(
                .unusedService, "service `\(s.name.value)` is not used by any route", at: s.name.span, label: "unused",
                help: "remove it, or route traffic to it")
        }
    }
}
