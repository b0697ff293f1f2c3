/// Where `runtime_fraction` values come from.
public enum RuntimeValues: Equatable, Sendable {
    /// Each fraction's `default_value`, as a fresh Envoy with no runtime layers.
    case defaults
    /// Envoy's route table check tool: a fraction is on only when its runtime key is the
    /// test's `runtime` input (numerator 0 counts as 1).
    case routerCheckTool(enabledKey: String?)
}
