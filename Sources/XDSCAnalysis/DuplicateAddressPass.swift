import XDSCDiagnostics
import XDSCPolicy

/// Two listeners (or a listener and the admin interface) bound to the same IP and port.
public struct DuplicateAddressPass: PolicyPass {
    /// The rules this pass can report.
    public static let rules: [Rule.ID] = [.duplicateAddress]
    /// Creates the pass.
    public init() {}

    /// Checks `policy` and adds each finding to `sink`.
    public func run(_ policy: Policy, _ sink: DiagnosticSink) {
        // By `ip port` text (the IP is canonical): a dictionary keyed by a new type costs a
        // scan of the binary's conformance records on first use, a visible part of a small lint.
        func key(_ a: PolicySocketAddress) -> String { "\(a.ip) \(a.port)" }
        var first: [String: (String, SourceSpan)] = [:]
        if let admin = policy.admin { first[key(admin.address.value)] = ("the admin interface", admin.address.span) }
        for l in policy.listeners {
            let a = l.address
            // Port 0 stands for an invalid address, already reported.
            if a.value.port == 0 { continue }
            if let (owner, span) = first[key(a.value)] {
                sink.add(
                    .duplicateAddress, "listener `\(l.name.value)` binds \(a.value), already used by \(owner)", at: a.span,
                    label: "address in use", related: [RelatedLocation("\(owner) binds it here", at: span)],
                    help: "give each listener its own port")
            } else {
                first[key(a.value)] = ("listener `\(l.name.value)`", a.span)
            }
        }
    }
}
