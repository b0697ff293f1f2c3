import XDSCDiagnostics
import XDSCDriver

/// The invariants every front-end harness checks on a pipeline result: rendering in every
/// format does not crash, and every diagnostic has a message and positions inside a file
/// the run read (the fuzzed file, or one its configuration names).
enum DiagnosticInvariants {
    /// The first broken invariant of `result`, read from `bytes` at `path`, or nil.
    static func violation(_ result: FrontEndResult, path: String, bytes: [UInt8]) -> Violation? {
        // Rendering reads the source lines under every span, so it is part of what must not crash.
        for format in [DiagnosticFormat.human, .short, .json, .sarif, .github] {
            _ = Rendering.render(result, format: format, color: format == .human)
        }
        // The fuzzed file's lines as the test reads them, not as the pipeline kept them.
        var lines = [path: SourceFile(path: path, text: String(decoding: bytes, as: UTF8.self)).lines.map { $0.unicodeScalars.count }]
        for (name, source) in result.sources where name != path { lines[name] = source.lines.map { $0.unicodeScalars.count } }
        for d in result.diagnostics {
            if d.message.isEmpty { return "\(d.rule.rawValue): empty message" }
            for (what, span) in [("primary", d.span)] + d.related.map({ ("related", $0.span) }) {
                guard let lengths = lines[span.file] else {
                    return "\(d.rule.rawValue) \(what) span names file `\(span.file)`, which was not read: \(d.message)"
                }
                if let problem = check(span, lengths) {
                    return "\(d.rule.rawValue) \(what) span \(span.start)-\(span.end) \(problem): \(d.message)"
                }
            }
        }
        return nil
    }

    /// What is wrong with `span` in a file of lines `lengths` (Unicode scalars), or nil.
    static func check(_ span: SourceSpan, _ lengths: [Int]) -> String? {
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
