import Testing
import XDSCDiagnostics
import XDSCSyntax

/// Issue 13: the tree and the spans every node and value carries stay small, and the fast
/// path for small mappings reads exactly what the general one does.
@Suite struct CompactTreeTests {
    func read(_ text: String) -> (YAMLNode?, [Diagnostic]) {
        let sink = DiagnosticSink()
        let node = YAMLReader().read(Array(text.utf8), file: "f.yaml", into: sink)
        return (node, sink.sorted)
    }

    @Test func spansAndPositionsAreCompact() {
        // Two 32-bit numbers; a file name, two positions and a boxed alias origin.
        #expect(MemoryLayout<SourcePosition>.size == 8)
        #expect(MemoryLayout<SourceSpan>.size <= 40)
        var p = SourcePosition(line: 3, column: 9)
        p.column += 1
        #expect(p == SourcePosition(line: 3, column: 10) && p.description == "3:10")
    }

    @Test func spansWithOriginsCompareAndHashByValue() {
        let o = SourceSpan.AliasOrigin(anchor: "a", start: .init(line: 1, column: 1), end: .init(line: 1, column: 4))
        let a = SourceSpan(file: "f", start: .init(line: 2, column: 1), end: .init(line: 2, column: 3), origin: o)
        var b = SourceSpan(file: "f", start: .init(line: 2, column: 1), end: .init(line: 2, column: 3))
        #expect(a != b)
        b.origin = SourceSpan.AliasOrigin(anchor: "a", start: .init(line: 1, column: 1), end: .init(line: 1, column: 4))
        #expect(a == b && Set([a, b]).count == 1)
        b.origin = nil
        #expect(b.origin == nil && a != b)
    }

    @Test func smallAndLargeMappingsReportRepeatsAlike() {
        // 3 keys take the small-mapping path, 14 the general one; both report the repeat at
        // the second key and keep the first value.
        for extra in [0, 12] {
            let filler = (0..<extra).map { "k\($0): \($0)\n" }.joined()
            let (root, diags) = read("a: 1\nb: 2\n\(filler)a: 3\n")
            #expect(diags.map(\.rule) == [.duplicateKey], "\(extra)")
            #expect(diags.first?.span.start == SourcePosition(line: 3 + extra, column: 1))
            #expect(root?["a"]?.scalar?.int == 1)
            #expect(root?.mapping?.count == 2 + extra)
        }
    }

    @Test func smallMappingWithMergeKeyStillMerges() throws {
        let (root, diags) = read("base: &b {x: 1, y: 2}\nm: {<<: *b, y: 3}\nq: {'<<': 4}\n")
        #expect(diags.isEmpty)
        let m = try #require(root?["m"]?.mapping)
        #expect(m.map { $0.key.scalar?.text } == ["x", "y"])
        #expect(m.map(\.merged) == [true, false])
        #expect(root?["m"]?["y"]?.scalar?.int == 3)
        // A quoted `<<` is an ordinary key.
        #expect(root?["q"]?["<<"]?.scalar?.int == 4)
    }
}

/// `SourceFile` splits lines on bytes now; the lines are the ones the `Character` split gave.
@Suite struct SourceFileLineTests {
    @Test func linesMatchTheCharacterSplit() {
        let texts = [
            "", "a", "a\n", "a\nb", "\n\n", "a\r\nb\r\n", "a\rb\n", "x\r", "é\n✓\r\n\u{301}z\n", "\u{FEFF}bom\nx", "a\n\r\n\rb",
        ]
        for text in texts {
            let t = text.unicodeScalars.first == "\u{FEFF}" ? String(text.unicodeScalars.dropFirst()) : text
            let expected = t.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
            #expect(SourceFile(path: "f", text: text).lines == expected, "\(Array(text.utf8))")
        }
    }
}
