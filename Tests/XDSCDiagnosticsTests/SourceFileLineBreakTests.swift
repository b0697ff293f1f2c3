import Testing
import XDSCDiagnostics

/// How `SourceFile` cuts a file into lines (found by the lint fuzzer, Fuzz/, harness `lint`).
@Suite struct SourceFileLineBreakTests {
    @Test("a CRLF file has one source line per line")
    func crlfSourceLines() {
        let file = SourceFile(path: "f.yaml", text: "a: 1\r\nb: ü\r\n")
        #expect(file.lines == ["a: 1", "b: ü", ""])
        #expect(file.line(2) == "b: ü")
    }

    @Test("only LF ends a source line; a lone CR stays in its line")
    func loneCarriageReturn() {
        let file = SourceFile(path: "f.yaml", text: "a: 1\rb: 2\nc\r")
        #expect(file.lines == ["a: 1\rb: 2", "c"])
    }
}
