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
    /// Every pass, in the order they run.
    public static let all: [any PolicyPass] = [
        UnknownServicePass(), UnusedServicePass(), DuplicateAddressPass(),
        InvalidRegexPass(), RetryTimeoutPass(), HashPolicyPass(),
    ]

    /// Runs every pass on `policy`, reporting to `sink` and calling `lap` with each pass's name after it ran.
    /// The passes of a large policy run side by side on the processors (issue 13), each
    /// into a sink of its own; their findings reach `sink` in pass order, as when they run
    /// one after the other, and `lap` is called once, with "passes".
    public static func run(_ policy: Policy, _ sink: DiagnosticSink, lap: (String) -> Void = { _ in }) {
        var routes = 0
        for l in policy.listeners { for h in l.hosts { routes += h.routes.count } }
        guard routes >= Parallel.minimumRoutes else {
            for pass in all {
                pass.run(policy, sink)
                lap(_typeName(type(of: pass), qualified: false))
            }
            return
        }
        let found = Parallel.map(all.count) { i -> [Diagnostic] in
            let own = DiagnosticSink()
            all[i].run(policy, own)
            return own.all
        }
        for list in found { for d in list { sink.add(d) } }
        lap("passes")
    }
}

extension Policy {
    /// Visits every route in policy order without building an array of them.
    func forEachRoute(_ body: (PolicyRoute) -> Void) {
        // By index: `for r in routes` copies each (large) route out of its array first.
        for li in listeners.indices {
            for hi in listeners[li].hosts.indices {
                for ri in listeners[li].hosts[hi].routes.indices { body(listeners[li].hosts[hi].routes[ri]) }
            }
        }
    }
}
