import XDSCDiagnostics
import XDSCEnvoy
import XDSCJSON

/// `xdsc diff`: what changed between two versions of a configuration (semantic diff) and
/// which requests now behave differently (behavioural diff). See docs/diff.md.
public enum ConfigDiff {
    /// Which parts to compute.
    public enum Parts: Sendable {
        case both, semanticOnly, behaviourOnly
    }

    /// Compares `old` with `new`.
    public static func diff(old: DiffSide, new: DiffSide, parts: Parts = .both) -> DiffReport {
        var r = DiffReport()
        r.semanticComputed = parts != .behaviourOnly
        r.behaviourComputed = parts != .semanticOnly
        if r.semanticComputed { r.semantic = SemanticDiff.run(old: old, new: new) }
        if r.behaviourComputed { BehaviourDiff.run(old: old, new: new, into: &r) }
        return r
    }
}

/// A usage problem of `xdsc diff` (exit 2).
public struct DiffUsageError: Error, Sendable {
    /// The message, lower case.
    public var message: String
    /// An error with `message`.
    public init(_ message: String) { self.message = message }
}
