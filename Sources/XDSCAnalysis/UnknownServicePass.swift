import XDSCDiagnostics
import XDSCPolicy

/// `to`, a weighted `to` and `mirror.to` must name a defined service. Silent when a
/// `services` section was dropped for a misspelled key (already an error): its services are
/// not read, so every route would name an unknown one.
public struct UnknownServicePass: PolicyPass {
    /// The rules this pass can report.
    public static let rules: [Rule.ID] = [.unknownService]
    /// Creates the pass.
    public init() {}

    /// Checks `policy` and adds each finding to `sink`.
    public func run(_ policy: Policy, _ sink: DiagnosticSink) {
        guard !policy.droppedSections.contains("services") else { return }
        let names = policy.services.map(\.name.value)
        let known = Set(names)
        func check(_ ref: Located<String>, _ verb: String) {
            guard !known.contains(ref.value) else { return }
            sink.add(Self.unknown(ref, verb: verb, suggestion: PolicyValues.suggestion(for: ref.value, in: names), policy: policy))
        }
        policy.forEachRoute { route in
            // By case, not `action.services`: no array per route.
            switch route.action {
            case .service(let s): check(s, "route sends traffic to")
            case .split(let targets): for t in targets { check(t.service, "route sends traffic to") }
            case .redirect, .respond: break
            }
            if let m = route.mirror { check(m.service, "route mirrors traffic to") }
        }
    }

    static func unknown(_ ref: Located<String>, verb: String, suggestion: String?, policy: Policy) -> Diagnostic {
        var message = "\(verb) unknown service '\(ref.value)'"
        var related: [RelatedLocation] = []
        var help = "define it under `services:`"
        if let s = suggestion, let svc = policy.service(named: s) {
            message += "; did you mean '\(s)'?"
            related.append(RelatedLocation("service `\(s)` is defined here", at: svc.name.span))
            help = "write `\(s)`"
        }
        return Diagnostic(.unknownService, message, at: ref.span, label: "no such service", related: related, help: help)
    }
}
