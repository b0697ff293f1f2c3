import XDSCDiagnostics
import XDSCPolicy

/// Within one listener (one Envoy route configuration) a domain may belong to one host only,
/// compared case-insensitively, and only one host may use `*`.
public struct DuplicateDomainPass: PolicyPass {
    /// The rules this pass can report.
    public static let rules: [Rule.ID] = [.duplicateDomain]
    /// Creates the pass.
    public init() {}

    /// Checks `policy` and adds each finding to `sink`.
    public func run(_ policy: Policy, _ sink: DiagnosticSink) {
        for listener in policy.listeners {
            var first: [String: (host: String, span: SourceSpan)] = [:]
            for host in listener.hosts {
                for d in host.domains {
                    let key = d.value.lowercased()
                    guard let prior = first[key] else {
                        first[key] = (host.name.value, d.span)
                        continue
                    }
                    let message: String
                    if key == "*" {
                        message = "a second `*` host in listener `\(listener.name.value)`: only one host may catch every domain"
                    } else if prior.host == host.name.value {
                        message = "domain `\(d.value)` is listed twice in host `\(host.name.value)`"
                    } else {
                        message = "domain `\(d.value)` is already served by host `\(prior.host)` in listener `\(listener.name.value)`"
                    }
                    sink.add(
                        .duplicateDomain, message, at: d.span, label: "duplicate domain",
                        related: [RelatedLocation("first listed here", at: prior.span)],
                        notes: ["Envoy rejects the route configuration: domains must be unique (case-insensitive)"],
                        help: "keep the domain in one host")
                }
            }
        }
    }
}
