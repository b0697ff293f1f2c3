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

    /// The identity of a behaviour change for `--expect`: listener, winners and outcomes
    /// (not the example, which may change with unrelated edits).
    static func expectKey(listener: String, beforeRoute: String, beforeOutcome: String, afterRoute: String, afterOutcome: String)
        -> String
    {
        [listener, beforeRoute, beforeOutcome, afterRoute, afterOutcome].joined(separator: "\u{1F}")
    }

    /// Reads an `--expect` file (the JSON output of an earlier `xdsc diff`): the behaviour
    /// changes it lists are intended. Nil with a message when it is not such a file.
    public static func expectations(_ text: String) -> Result<Set<String>, DiffUsageError> {
        let json: JSON
        do { json = try JSON.parse(text) } catch { return .failure(DiffUsageError("the expect file is not JSON: \(error.message)")) }
        guard let list = json["behaviour"]?.arrayValue else {
            return .failure(DiffUsageError("the expect file has no `behaviour` list (save the output of `xdsc diff --format json`)"))
        }
        var out = Set<String>()
        for item in list {
            guard let l = item["listener"]?.stringValue, let b = item["before"], let a = item["after"],
                let br = b["route"]?.stringValue, let bo = b["outcome"]?.stringValue, let ar = a["route"]?.stringValue,
                let ao = a["outcome"]?.stringValue
            else { return .failure(DiffUsageError("an entry of `behaviour` lacks listener, before or after")) }
            out.insert(expectKey(listener: l, beforeRoute: br, beforeOutcome: bo, afterRoute: ar, afterOutcome: ao))
        }
        return .success(out)
    }

    /// Marks the behaviour changes `expected` lists; returns how many are not expected.
    public static func unexpected(_ r: DiffReport, _ expected: Set<String>) -> [BehaviourChange] {
        r.behaviour.filter { c in
            !expected.contains(
                expectKey(
                    listener: c.listener, beforeRoute: c.before.route, beforeOutcome: c.before.outcome, afterRoute: c.after.route,
                    afterOutcome: c.after.outcome))
        }
    }
}

/// A usage problem of `xdsc diff` (exit 2).
public struct DiffUsageError: Error, Sendable {
    /// The message, lower case.
    public var message: String
    /// An error with `message`.
    public init(_ message: String) { self.message = message }
}
