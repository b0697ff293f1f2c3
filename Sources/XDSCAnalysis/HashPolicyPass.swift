import XDSCDiagnostics
import XDSCPolicy

/// `hash_on` only steers load balancers that hash (`ring_hash`, `maglev`).
public struct HashPolicyPass: PolicyPass {
    /// The rules this pass can report.
    public static let rules: [Rule.ID] = [.ineffectiveSetting]
    /// Creates the pass.
    public init() {}

    /// Checks `policy` and adds each finding to `sink`.
    public func run(_ policy: Policy, _ sink: DiagnosticSink) {
        policy.forEachRoute { route in
            guard let hash = route.hashOn else { return }
            let services = route.action.services.compactMap { policy.service(named: $0.value) }
            let plain = services.filter { !$0.lb.value.usesHash }
            guard !services.isEmpty, plain.count == services.count else { return }
            sink.add(
                .ineffectiveSetting,
                "`hash_on` has no effect: service `\(plain[0].name.value)` balances with `\(plain[0].lb.value.rawValue)`, which ignores hashes",
                at: hash.span, label: "ignored", related: [RelatedLocation("service defined here", at: plain[0].name.span)],
                help: "set `lb: ring_hash` or `lb: maglev` on the service")
        }
    }
}
