import Testing
import XDSCDiagnostics
import XDSCDriver
import XDSCTestSupport

/// Issue 8.17e: a very long source line is shown cut to a window around the span, with
/// ellipses where it was cut, and the caret run is capped; the header keeps the column.
@Suite struct LongLineRenderingTests {
    /// The snippet's source and caret lines (after the `N | ` and `  | ` gutters).
    func snippet(_ out: String, line: Int) throws -> (text: String, carets: String) {
        let lines = out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let i = try #require(lines.firstIndex { $0.hasPrefix("\(line) | ") })
        let gutter = "\(line) | ".count
        return (String(lines[i].dropFirst(gutter)), String(lines[i + 1].dropFirst(gutter)))
    }

    func render(_ text: String, _ span: SourceSpan, label: String = "here") -> String {
        HumanRenderer(sources: ["p.yaml": SourceFile(path: "p.yaml", text: text)], color: false).render([
            Diagnostic(.invalidValue, "bad value", at: span, label: label)
        ])
    }

    func span(_ line: Int, _ column: Int, _ width: Int) -> SourceSpan {
        SourceSpan(
            file: "p.yaml", start: SourcePosition(line: line, column: column), end: SourcePosition(line: line, column: column + width))
    }

    @Test func tokenInTheMiddleOfALongLine() throws {
        let line = "k: [" + String(repeating: "aaaa, ", count: 400) + "TOKEN, " + String(repeating: "bbbb, ", count: 400) + "z]"
        let column = line.distance(from: line.startIndex, to: line.range(of: "TOKEN")!.lowerBound) + 1
        let out = render("x: 1\n" + line + "\n", span(2, column, 5))
        #expect(out.contains(" --> p.yaml:2:\(column)\n"))
        let s = try snippet(out, line: 2)
        #expect(s.text.hasPrefix("…") && s.text.hasSuffix("…"))
        #expect(s.text.count <= HumanRenderer.maxShownColumns + 2)
        // The carets sit under the token, and there are exactly as many as it is long.
        let caretStart = try #require(s.carets.firstIndex(of: "^"))
        let offset = s.carets.distance(from: s.carets.startIndex, to: caretStart)
        #expect(String(s.text.dropFirst(offset).prefix(5)) == "TOKEN")
        #expect(s.carets.hasSuffix("^^^^^ here"))
        #expect(s.carets.filter { $0 == "^" }.count == 5)
    }

    @Test func spanOverAWholeLongLineIsCapped() throws {
        let line = "k: [" + String(repeating: "value, ", count: 600) + "end]"
        let out = render(line + "\n", span(1, 4, line.count - 3))
        #expect(out.contains(" --> p.yaml:1:4\n"))
        let s = try snippet(out, line: 1)
        #expect(s.text.hasPrefix("k: [value"))
        #expect(s.text.hasSuffix("…"))
        let carets = s.carets.filter { $0 == "^" }.count
        #expect(carets > 0 && carets <= HumanRenderer.maxShownColumns)
        #expect(s.carets.hasSuffix("^…" + " here"))
        #expect(out.split(separator: "\n").allSatisfy { $0.count < 200 })
    }

    @Test func tokenAtTheEndOfALongLine() throws {
        let line = String(repeating: "#", count: 3000) + "LAST"
        let out = render(line + "\n", span(1, 3001, 4))
        let s = try snippet(out, line: 1)
        #expect(s.text.hasPrefix("…") && s.text.hasSuffix("LAST"))
        #expect(s.carets.hasSuffix("^^^^ here"))
        #expect(s.carets.count - " here".count == s.text.count)
    }

    @Test func shortLinesAreUnchanged() throws {
        let line = "key: " + String(repeating: "v", count: 100)
        let out = render(line + "\n", span(1, 6, 100))
        let s = try snippet(out, line: 1)
        #expect(s.text == line)
        #expect(s.carets == "     " + String(repeating: "^", count: 100) + " here")
    }

    @Test func realFindingOnAMinifiedPolicy() throws {
        // A policy written on a few very long lines, as generators and minifiers do.
        let filler = (1...150).map { "x-h\($0): \"v\"" }.joined(separator: ", ")
        let text = policy(
            routes: """
                      - {match: {prefix: /users}, to: users, request_headers: {set: {\(filler), ⟨bad⟩"x bad": v}}}
                      - {match: {prefix: /orders}, to: orders}
                """)
        let (result, markers) = lintMarked([("policy.yaml", text)])
        let at = try #require(markers["bad"]?.1)
        let d = try #require(result.diagnostics.first)
        #expect(d.span.start == at)
        let out = HumanRenderer(sources: result.sources, color: false).render([d])
        #expect(out.contains(" --> policy.yaml:\(at.line):\(at.column)\n"))
        let s = try snippet(out, line: at.line)
        let offset = s.carets.distance(from: s.carets.startIndex, to: try #require(s.carets.firstIndex(of: "^")))
        #expect(s.text.dropFirst(offset).hasPrefix("\"x bad\""))
        #expect(s.text.count <= HumanRenderer.maxShownColumns + 2)
    }
}
