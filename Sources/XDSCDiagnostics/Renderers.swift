import XDSCJSON
import XDSCRequest

/// Output formats shared by every command that reports diagnostics.
public enum DiagnosticFormat: String, Sendable, CaseIterable {
    case human, short, json, sarif, github
}

/// Renders a finished list of diagnostics. Renderers never decide what is reported; they
/// receive the sorted, de-duplicated list.
public protocol DiagnosticRenderer {
    func render(_ diagnostics: [Diagnostic]) -> String
}

/// The one-line form: `file:line:col: severity[rule]: message`.
public struct ShortRenderer: DiagnosticRenderer {
    /// Creates the renderer.
    public init() {}

    /// Renders `diagnostics` in this format.
    public func render(_ diagnostics: [Diagnostic]) -> String {
        diagnostics.map { d in
            "\(d.span.file):\(d.span.start.line):\(d.span.start.column): \(d.severity.rawValue)[\(d.rule.rawValue)]: \(d.message)\n"
        }.joined()
    }
}

/// Summary counts, as JSON output and the human footer state them.
public struct DiagnosticSummary: Sendable, Equatable {
    /// The number of errors.
    public var errors: Int
    /// The number of warnings.
    public var warnings: Int

    /// Counts the errors and warnings in `diagnostics`.
    public init(_ diagnostics: [Diagnostic]) {
        errors = diagnostics.count { $0.severity == .error }
        warnings = diagnostics.count { $0.severity == .warning }
    }
}

/// The versioned JSON contract (`schemas/diagnostics.v1.schema.json`).
public struct JSONRenderer: DiagnosticRenderer {
    /// Creates the renderer.
    public init() {}

    /// Renders `diagnostics` in this format.
    public func render(_ diagnostics: [Diagnostic]) -> String {
        document(diagnostics).serialized()
    }

    /// The JSON document for `diagnostics`.
    public func document(_ diagnostics: [Diagnostic]) -> JSON {
        let summary = DiagnosticSummary(diagnostics)
        return .object([
            "diagnostics": .array(diagnostics.map(Self.object)),
            "summary": .object(["errors": .integer(summary.errors), "warnings": .integer(summary.warnings)]),
        ])
    }

    static func location(_ span: SourceSpan) -> JSON {
        .object(["file": .string(span.file), "line": .integer(span.start.line), "column": .integer(span.start.column)])
    }

    static func object(_ d: Diagnostic) -> JSON {
        var o: JSONObject = [
            "severity": .string(d.severity.rawValue),
            "rule": .string(d.rule.rawValue),
            "code": .string(d.code),
            "message": .string(d.message),
            "location": location(d.span),
            "related": .array(d.related.map { .object(["message": .string($0.message), "location": location($0.span)]) }),
        ]
        o.set("help", d.help.map(JSON.string))
        if let w = d.witness {
            var headers = JSONObject()
            for h in w.headers { headers[h.name] = .string(h.value) }
            o["witness"] = .object([
                "method": .string(w.method), "host": .string(w.authorityText), "path": .string(w.pathText),
                "headers": .object(headers), "curl": .string(w.curlCommand),
            ])
        }
        return .object(o)
    }
}

/// The rustc-style layout: a header line, the source line with a caret under the token,
/// related locations with their own snippets, then notes and help.
public struct HumanRenderer: DiagnosticRenderer {
    /// The source text of each file, by path, for the excerpts.
    public var sources: [String: SourceFile]
    /// Whether to colour the output.
    public var color: Bool

    /// A renderer showing excerpts from `sources`, coloured when `color` is set.
    public init(sources: [String: SourceFile], color: Bool) {
        self.sources = sources
        self.color = color
    }

    private func paint(_ s: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }

    /// Renders `diagnostics` in this format.
    public func render(_ diagnostics: [Diagnostic]) -> String {
        var out = ""
        for d in diagnostics {
            out += renderOne(d)
            out += "\n"
        }
        let s = DiagnosticSummary(diagnostics)
        if s.errors + s.warnings > 0 {
            let e = "\(s.errors) error\(s.errors == 1 ? "" : "s")"
            let w = "\(s.warnings) warning\(s.warnings == 1 ? "" : "s")"
            out += paint("\(e), \(w)", "1") + "\n"
        }
        return out
    }

    private func renderOne(_ d: Diagnostic) -> String {
        let sevColor = d.severity == .error ? "1;31" : (d.severity == .warning ? "1;33" : "1;36")
        var lines: [String] = []
        lines.append(paint("\(d.severity.rawValue)[\(d.rule.rawValue)]", sevColor) + paint(": \(d.message)", "1"))
        let gutterWidth = ([d.span] + d.related.map(\.span)).map { String($0.start.line).count }.max() ?? 1
        let pad = String(repeating: " ", count: gutterWidth)
        lines.append("\(pad)\(paint("-->", "1;34")) \(d.span)")
        lines += snippet(d.span, label: d.label, marker: "^", markColor: sevColor, gutter: gutterWidth)
        // Related places at the same span (an alias's definition that is also the earlier
        // route) share one snippet, their labels joined.
        var groups: [(span: SourceSpan, labels: [String])] = []
        for r in d.related {
            if let i = groups.firstIndex(where: { $0.span == r.span }) {
                groups[i].labels.append(r.message)
            } else {
                groups.append((r.span, [r.message]))
            }
        }
        for g in groups {
            lines.append("\(pad)\(paint(":::", "1;34")) \(g.span)")
            lines += snippet(g.span, label: g.labels.joined(separator: "; "), marker: "-", markColor: "1;34", gutter: gutterWidth)
        }
        if let w = d.witness {
            lines.append("\(pad) \(paint("=", "1;34")) example: \(w.curlCommand)")
        }
        for n in d.notes { lines.append("\(pad) \(paint("=", "1;34")) note: \(n)") }
        if let h = d.help { lines.append("\(pad) \(paint("=", "1;34")) help: \(h)") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The 1-based column of the last character before a ` # comment` and trailing blanks.
    private func contentEnd(_ line: [Unicode.Scalar]) -> Int {
        var end = line.count
        var quote: Unicode.Scalar?
        for (i, c) in line.enumerated() {
            if let q = quote {
                if c == q { quote = nil }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if c == "#", i > 0, line[i - 1] == " " || line[i - 1] == "\t" {
                end = i
                break
            }
        }
        while end > 0, line[end - 1] == " " || line[end - 1] == "\t" { end -= 1 }
        return end
    }

    /// Longest part of a source line shown, in columns; a longer line is cut to a window
    /// around the span, so a minified 4,000-character line prints one screen line.
    public static let maxShownColumns = 120
    /// Columns shown before the span when a line is cut.
    static let leadingContext = 30
    static let ellipsis = "…"

    /// The 0-based scalar range of a line of `length` shown for a span at 1-based `column`
    /// of `width` columns, and how many of those columns are underlined.
    static func window(length: Int, column: Int, width: Int) -> (range: Range<Int>, width: Int) {
        let start = column - 1
        guard length > maxShownColumns else { return (0..<length, width) }
        var lower = max(0, start - leadingContext)
        // Near the end, show a full window rather than a short tail.
        lower = max(0, min(lower, length - maxShownColumns))
        let upper = min(length, lower + maxShownColumns)
        return (lower..<upper, max(1, min(width, upper - start)))
    }

    private func snippet(_ span: SourceSpan, label: String?, marker: Character, markColor: String, gutter: Int) -> [String] {
        guard let file = sources[span.file], let text = file.line(span.start.line) else {
            if let label { return [String(repeating: " ", count: gutter) + " " + paint("|", "1;34") + " " + label] }
            return []
        }
        let bar = paint("|", "1;34")
        let pad = String(repeating: " ", count: gutter)
        let num = String(span.start.line)
        let numPadded = String(repeating: " ", count: gutter - num.count) + num
        // Tabs would shift the caret; show them as one space each, counted as one column.
        let scalars = text.unicodeScalars.map { $0 == "\t" ? " " : $0 }
        let col = max(1, span.start.column)
        var width = 1
        if span.end.line == span.start.line, span.end.column > col {
            width = span.end.column - col
        } else if span.end.line > span.start.line {
            // A span over several lines is underlined to the end of its first line's content,
            // leaving out a trailing comment.
            width = max(1, contentEnd(Array(text.unicodeScalars)) - col + 1)
        }
        let cut = Self.window(length: scalars.count, column: col, width: width)
        var shown = String(String.UnicodeScalarView(scalars[cut.range]))
        if cut.range.lowerBound > 0 { shown = Self.ellipsis + shown }
        if cut.range.upperBound < scalars.count { shown += Self.ellipsis }
        let lead = col - 1 - cut.range.lowerBound + (cut.range.lowerBound > 0 ? 1 : 0)
        let carets = String(repeating: marker, count: cut.width) + (cut.width < width ? Self.ellipsis : "")
        let caretLine = String(repeating: " ", count: lead) + paint(carets + (label.map { " " + $0 } ?? ""), markColor)
        return ["\(pad) \(bar)", "\(paint(numPadded, "1;34")) \(bar) \(shown)", "\(pad) \(bar) \(caretLine)"]
    }
}
