import XDSCDiagnostics

/// What `--strict` counts, in every command that has it: the warnings `xdsc lint` reports for
/// the same inputs, plus any the command's own load adds. A configuration that passes
/// `xdsc lint --strict` passes every command's `--strict`, and one that fails it fails them
/// all (an Envoy file's `route-overlap` or `unused-service`, a policy's `route-overlap` in
/// `diff`, not only what the command's reader says).
public enum StrictWarnings {
    /// The warnings, sorted and without duplicates, and the text of every file they point into.
    public struct Found: Sendable {
        /// The warnings to print before exit 1.
        public var warnings: [Diagnostic]
        /// The source text for the renderer's snippets.
        public var sources: [String: SourceFile]

        /// What a command stopped by them prints on standard error: the warnings with their
        /// snippets, then the `--strict` closing line (nil when there are none).
        public var report: String? {
            warnings.isEmpty
                ? nil
                : HumanRenderer(sources: sources, color: false).render(warnings) + ExitStatus.strictStop(warnings: warnings.count)
        }
    }

    /// The warnings of `shown` (what the command's load reported, with `sources`) and, unless
    /// `linted` (that load already ran lint's whole pipeline over every input), those
    /// `xdsc lint` reports for `paths`. Costs a second read of the inputs only under
    /// `--strict` and only when the load was not lint's.
    public static func collect(_ shown: [Diagnostic], sources: [String: SourceFile], paths: [String], linted: Bool) -> Found {
        var warnings = shown.filter { $0.severity == .warning }
        var all = sources
        if !linted {
            let lint = Pipeline().check(paths)
            warnings += lint.diagnostics.filter { $0.severity == .warning }
            for (k, v) in lint.sources where all[k] == nil { all[k] = v }
        }
        return Found(warnings: Diagnostic.ordered(warnings), sources: all)
    }
}
