import XDSCDiagnostics
import XDSCPolicy

/// An analysis over the lowered policy. A pass reports to the sink and never throws for a
/// user's mistake; `rules` lists what it can report.
public protocol PolicyPass: Sendable {
    static var rules: [Rule.ID] { get }
    func run(_ policy: Policy, _ sink: DiagnosticSink)
}

/// Every pass, in the order they run.
public enum PolicyPasses {
    public static let all: [any PolicyPass] = [
        UnknownServicePass(), UnusedServicePass(), DuplicateDomainPass(), DuplicateAddressPass(),
        InvalidRegexPass(), RetryTimeoutPass(), HashPolicyPass(),
    ]

    public static func run(_ policy: Policy, _ sink: DiagnosticSink) {
        for pass in all { pass.run(policy, sink) }
    }
}

extension Policy {
    /// Every route with its listener and host, in policy order.
    var allRoutes: [(listener: Listener, host: Host, route: Route)] {
        listeners.flatMap { l in l.hosts.flatMap { h in h.routes.map { (l, h, $0) } } }
    }
}
