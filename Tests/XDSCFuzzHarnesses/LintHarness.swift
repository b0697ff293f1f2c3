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
        // Rendering reads the source lines under every span, so it is part of what must not crash.
        for format in [DiagnosticFormat.human, .short, .json, .sarif, .github] {
            _ = Rendering.render(result, format: format, color: format == .human)
        }
        let file = SourceFile(path: path, text: String(decoding: bytes, as: UTF8.self))
        let lengths = file.lines.map { $0.unicodeScalars.count }
        for d in result.diagnostics {
            if d.message.isEmpty { return "\(d.rule.rawValue): empty message" }
            for (what, span) in [("primary", d.span)] + d.related.map({ ("related", $0.span) }) {
                if let problem = check(span, lengths) {
                    return "\(d.rule.rawValue) \(what) span \(span.start)-\(span.end) \(problem): \(d.message)"
                }
            }
        }
        return nil
    }

    static func check(_ span: SourceSpan, _ lengths: [Int]) -> String? {
        guard span.file == path else { return "names file `\(span.file)`" }
        for p in [span.start, span.end] {
            guard p.line >= 1, p.column >= 1 else { return "is not 1-based" }
            guard p.line <= lengths.count else { return "is past the last line (\(lengths.count))" }
            guard p.column <= lengths[p.line - 1] + 1 else {
                return "is past the end of line \(p.line) (\(lengths[p.line - 1]) scalars)"
            }
        }
        return span.end < span.start ? "ends before it starts" : nil
    }
}
