import XDSCDiagnostics
import XDSCEnvoy

/// Two listeners of a user's Envoy configuration (or a listener and the admin interface) on
/// one address and port: Envoy refuses the second (`has duplicate address`,
/// source/common/listener_manager/listener_manager_impl.cc). Policies keep
/// `DuplicateAddressPass` on the IR: it points at the policy's `address` token, which the
/// lowered listener does not keep.
public struct DuplicateAddressCheck: EnvoyCheck {
    /// The rules this check can report.
    public static let rules: [Rule.ID] = [.duplicateAddress]
    /// Envoy input only.
    public static let inputs: [InputKind] = [.envoy]
    /// Creates the check.
    public init() {}

    /// Checks the listener addresses of `config` and adds each finding to `sink`.
    public func run(_ config: EnvoyConfig, _ context: EnvoyCheckContext, _ sink: DiagnosticSink) {
        var first: [String: (owner: String, span: SourceSpan?)] = [:]
        if let admin = config.admin { first[Self.key(admin)] = ("the admin interface", nil) }
        for l in config.listeners {
            // Port 0 asks the kernel for a free port: no two listeners collide on it.
            guard l.address.portValue != 0, let span = l.source else { continue }
            if let prior = first[Self.key(l.address)] {
                sink.add(
                    .duplicateAddress, Self.message(l.name, l.address, owner: prior.owner), at: span, label: "address in use",
                    related: prior.span.map { [RelatedLocation("\(prior.owner) binds it here", at: $0)] } ?? [],
                    help: "give each listener its own port")
            } else {
                first[Self.key(l.address)] = ("listener `\(l.name)`", span)
            }
        }
    }

    static func key(_ a: SocketAddress) -> String { "\(a.address)\u{0}\(a.portValue)" }

    // MARK: Messages

    static func message(_ listener: String, _ a: SocketAddress, owner: String) -> String {
        "listener `\(listener)` binds \(a.address):\(a.portValue), already used by \(owner)"
    }
}
