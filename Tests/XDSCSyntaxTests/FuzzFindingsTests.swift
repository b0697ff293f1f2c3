import Testing
import XDSCDiagnostics
import XDSCSyntax

/// Positions the lint fuzzer (Fuzz/, harness `lint`) found outside the file, each pinned
/// here by hand as well as by its corpus file.
@Suite struct FuzzFindingsTests {
    func read(_ bytes: [UInt8]) -> [Diagnostic] {
        let sink = DiagnosticSink()
        _ = YAMLReader().read(bytes, file: "f.yaml", into: sink)
        return sink.sorted
    }

    @Test("an error at the end of a file without a final line break is on its last line")
    func errorAtEndOfFileWithoutLineBreak() throws {
        let d = try #require(read(Array("a: [1,\n  2".utf8)).first)
        #expect(d.rule == .yamlSyntax)
        #expect(d.span.start == SourcePosition(line: 2, column: 4))
        #expect(d.span.end == d.span.start)
    }

    @Test("an error at the end of an empty last line has no width")
    func errorOnEmptyLastLine() throws {
        let d = try #require(read(Array("a: 'x\n".utf8)).first)
        #expect(d.span.start == SourcePosition(line: 2, column: 1))
        #expect(d.span.end == SourcePosition(line: 2, column: 1))
    }

    @Test("an error inside a line is one character wide")
    func errorInsideALine() throws {
        let d = try #require(read(Array("a: b: c\n".utf8)).first)
        #expect(d.span.start == SourcePosition(line: 1, column: 5))
        #expect(d.span.end == SourcePosition(line: 1, column: 6))
    }

    @Test(
        "a lone CR, NEL, LS or PS does not start a line for xdsc (only LF does)",
        arguments: [[0x0D], [0xC2, 0x85], [0xE2, 0x80, 0xA8], [0xE2, 0x80, 0xA9]] as [[UInt8]])
    func otherLineBreaks(separator: [UInt8]) throws {
        // `a: 1<sep>b: [2` then LF and `c`: libyaml sees 3 lines, xdsc and editors 2.
        let bytes = Array("a: 1".utf8) + separator + Array("b: [2\nc".utf8)
        let d = try #require(read(bytes).first)
        let lines = SourceFile(path: "f.yaml", text: String(decoding: bytes, as: UTF8.self)).lines
        #expect(lines.count == 2)
        #expect(d.span.start.line == 2)
        #expect(d.span.start.column <= lines[1].unicodeScalars.count + 1)
    }

}
