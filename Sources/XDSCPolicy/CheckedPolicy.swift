import XDSCDiagnostics

/// A policy whose lowering and policy passes reported no error: the only value the full
/// lowering to Envoy (`EnvoyLowering.lower(_:)`: listeners, clusters, bootstrap, what
/// `build` emits) accepts. A policy with errors never becomes one, so nothing of it can be
/// emitted; the route analysis reads such a policy's route tables alone
/// (`EnvoyLowering.routeTables(_:)`).
public struct CheckedPolicy: Sendable {
    /// The policy.
    public let policy: Policy

    /// The policy, when none of `diagnostics` (everything reported while reading, lowering
    /// and checking it) is an error; nil otherwise.
    public init?(_ policy: Policy, diagnostics: [Diagnostic]) {
        guard !diagnostics.contains(where: { $0.severity == .error }) else { return nil }
        self.policy = policy
    }
}
