import XDSCDiagnostics
import XDSCDriver

/// Harness 2: the Envoy reader and the Envoy-level checks, as `xdsc lint --input envoy`
/// runs them on one file (YAML or JSON): read, the model, every Envoy check and the route
/// analysis, then rendering in every format.
///
/// Invariants: no crash or hang (the fuzzer's timeout); every diagnostic position lies inside
/// a file the run read (`DiagnosticInvariants`); and a second run on the same bytes gives the
/// same diagnostics, byte for byte, and the same inventory.
public enum EnvoyHarness {
    static let path = "fuzz.yaml"

    /// Runs the harness; a violation stops the process (libFuzzer reports it).
    public static func run(_ bytes: [UInt8]) { trap(violation(bytes)) }

    /// The first broken invariant for `bytes`, or nil.
    public static func violation(_ bytes: [UInt8]) -> Violation? {
        let first = check(bytes)
        if let v = DiagnosticInvariants.violation(first, path: path, bytes: bytes) { return v }
        let second = check(bytes)
        let (a, b) = (Rendering.render(first, format: .json, color: false), Rendering.render(second, format: .json, color: false))
        guard a == b else { return "two runs on the same input differ:\n\(a)\n---\n\(b)" }
        guard first.inventory == second.inventory else { return "inventories differ: \(first.inventory) / \(second.inventory)" }
        return nil
    }

    static func check(_ bytes: [UInt8]) -> FrontEndResult {
        Pipeline().check(files: [PolicyInputs.File(path: path, bytes: bytes)], input: .envoy)
    }
}
