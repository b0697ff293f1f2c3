import XDSCDiagnostics
import XDSCDriver

/// Harness 1: the YAML reader and the whole policy front end, as `xdsc lint` runs them
/// (read, lower, every pass, route analysis, then rendering in every format).
///
/// Invariants: no crash or hang (the fuzzer's timeout), and every diagnostic position, primary
/// and related, lies inside the file: line >= 1, column >= 1, the line exists, the column is
/// at most one past the line's last Unicode scalar, and a span's end is not before its start.
public enum LintHarness {
    static let path = "fuzz.yaml"

    /// Runs the harness; a violation stops the process (libFuzzer reports it).
    public static func run(_ bytes: [UInt8]) { trap(violation(bytes)) }

    /// The first broken invariant for `bytes`, or nil.
    public static func violation(_ bytes: [UInt8]) -> Violation? {
        let result = Pipeline().check(files: [PolicyInputs.File(path: path, bytes: bytes)])
        return DiagnosticInvariants.violation(result, path: path, bytes: bytes)
    }
}
