import Testing
import XDSCDiagnostics

@testable import XDSCSyntax

/// Issue 13: the tree and the spans every node and value carries stay small, and the fast
/// path for small mappings reads exactly what the general one does.
@Suite struct CompactTreeTests {
    func read(_ text: String) -> (YAMLNode?, [Diagnostic]) {
        let sink = DiagnosticSink()
        let node = YAMLReader().read(Array(text.utf8), file: "f.yaml", into: sink)
        return (node, sink.sorted)
    }

    @Test func spansAndPositionsAreCompact() {
        // Two 32-bit numbers; an interned file id, an interned origin id and two positions.
        #expect(MemoryLayout<SourcePosition>.size == 8)
        #expect(MemoryLayout<SourceSpan>.size == 24)
        // A tree record: start line, start column with count and kind, end, first (issue 13).
        #expect(MemoryLayout<YAMLTree.Record>.size == 16)
        var p = SourcePosition(line: 3, column: 9)
        p.column += 1
        #expect(p == SourcePosition(line: 3, column: 10) && p.description == "3:10")
    }

    @Test func farColumnsCountsAndEndsReadBackExactly() {
        // A record keeps a column below 65535 and a count below 4095 in one word; larger ones
        // live in side tables and must read back the same.
        let long = String(repeating: "a", count: 5000)
        let items = (0..<30000).map { "\($0)" }.joined(separator: ", ")
        let keys = (0..<2500).map { "k\($0): \($0)" }.joined(separator: "\n")
        let indented = keys.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")
        let text = "long: \(long)\nlist: [\(items), last]\nmap:\n" + indented + "\n"
        let (root, diagnostics) = read(text)
        #expect(diagnostics.isEmpty)
        guard let root, let scalar = root["long"], let list = root["list"], let map = root["map"] else {
            Issue.record("missing keys")
            return
        }
        #expect(scalar.scalar?.text == long && scalar.span.start.column == 7 && scalar.span.end.column == 5007)
        #expect(list.items.count == 30001)
        let last = list.items[30000]
        #expect(last.scalar?.text == "last")
        let column = "list: [".count + items.count + ", ".count + 1
        #expect(column > 65535 && last.span.start == SourcePosition(line: 2, column: column))
        #expect(last.span.end == SourcePosition(line: 2, column: column + 4))
        #expect(map.pairs.count == 2500 && map["k2499"]?.scalar?.int == 2499 && map["k0"]?.scalar?.int == 0)
        #expect(map.span.start.line == 4 && map.span.end.line == 2503)

        // A repeated long key (explicit: an implicit key has at most 1024 characters) is
        // still found, and reported at the second one.
        let (_, repeated) = read("a:\n  ? \(long)\n  : 1\n  ? \(long)\n  : 2\n")
        #expect(repeated.map(\.rule) == [.duplicateKey] && repeated.first?.span.start.line == 4)
    }

    @Test func sharedShortTextsReadBackExactly() {
        // Short texts are shared between records through a small hash cache: thousands of
        // distinct ones (which collide in it) and repeated ones must each read back as written.
        let values = (0..<5000).map { i in "- {name: v\(i), to: \"s\(i % 7)\", k\(i % 3): x}" }.joined(separator: "\n")
        let (root, diagnostics) = read(values + "\n")
        #expect(diagnostics.isEmpty)
        guard let items = root?.sequence else {
            Issue.record("not a list")
            return
        }
        #expect(items.count == 5000)
        var wrong = 0
        for (i, item) in items.enumerated() {
            let ok =
                item["name"]?.scalar?.text == "v\(i)" && item["to"]?.scalar?.text == "s\(i % 7)"
                && item["to"]?.scalar?.style == .doubleQuoted && item["k\(i % 3)"]?.scalar?.text == "x"
                && item.pairs.map { $0.key.scalar?.text ?? "" } == ["name", "to", "k\(i % 3)"]
            if !ok { wrong += 1 }
        }
        #expect(wrong == 0)
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

    @Test func internedFilesAndOriginsReadBackAsWritten() {
        let o = SourceSpan.AliasOrigin(anchor: "anchor", start: .init(line: 4, column: 2), end: .init(line: 5, column: 7))
        let a = SourceSpan(file: "dir/one.yaml", start: .init(line: 1, column: 1), end: .init(line: 1, column: 2), origin: o)
        var b = SourceSpan(fileID: .init("dir/two.yaml"), start: a.start, end: a.end, origin: o)
        #expect(a.file == "dir/one.yaml" && b.file == "dir/two.yaml" && a.origin == o && b.origin == o)
        #expect(a != b && !a.contains(b) && a.contains(a))
        #expect(a.definition == SourceSpan(file: "dir/one.yaml", start: o.start, end: o.end))
        b.file = "dir/one.yaml"
        #expect(a == b && a.hashValue == b.hashValue && a.description == "dir/one.yaml:1:1")
        #expect(SourceSpan.FileID("dir/one.yaml") == SourceSpan.FileID("dir/one.yaml"))
        #expect(SourceSpan.FileID("dir/one.yaml").path == "dir/one.yaml")
    }

    @Test(arguments: ["~", "null", "Null", "NULL", "", "nul", "nULL", "NUll", "none", "~~", "x", "nulls"])
    func nullKeysAreTheCoreSchemaNulls(_ word: String) throws {
        // The byte test of a node agrees with the scalar's own reading of the text.
        let (root, _) = read("k: \(word)\n")
        let v = try #require(root?["k"])
        #expect(v.isNull == v.scalar!.isNull)
        #expect(v.isNull == ["~", "null", "Null", "NULL", ""].contains(word))
        let (quoted, _) = read("k: '\(word)'\n")
        #expect(quoted?["k"]?.isNull == false)
    }

    @Test func endsTooFarForARecordReadBackExactly() throws {
        // A record keeps its end relative to its start; these two ends do not fit that.
        let items = String(repeating: "- x\n", count: 5000)
        let long = String(repeating: "a", count: 1_100_000)
        let (root, diags) = read("k: &big\n" + items + "z: \(long) b\nc: *big\nn: [1,\n  2]\n")
        #expect(diags.isEmpty)
        let k = try #require(root?["k"])
        #expect(k.span.end == .init(line: 5001, column: 4) && k.items.count == 5000)
        let z = try #require(root?["z"])
        #expect(z.span.start == .init(line: 5002, column: 4) && z.span.end == .init(line: 5002, column: 1_100_006))
        let c = try #require(root?["c"])
        #expect(c.span.origin?.start == k.span.start && c.span.origin?.end == k.span.end)
        #expect(c.items.last?.span.origin?.end == .init(line: 5001, column: 4))
        // And a near one, over two lines.
        #expect(root?["n"]?.span.end == .init(line: 5005, column: 5))
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

/// `SourceFile` splits lines on bytes; the lines are the ones a split of the Unicode scalars
/// at LF gives (a CR before the LF is part of the break; `"\r\n"` is one `Character`, so a
/// `Character` split would keep a CRLF file as one line).
@Suite struct SourceFileLineTests {
    @Test func linesMatchTheScalarSplit() {
        let texts = [
            "", "a", "a\n", "a\nb", "\n\n", "a\r\nb\r\n", "a\rb\n", "x\r", "é\n✓\r\n\u{301}z\n", "\u{FEFF}bom\nx", "a\n\r\n\rb",
            "a\r\r\nb", "\r\n",
        ]
        for text in texts {
            let t = text.unicodeScalars.first == "\u{FEFF}" ? String(text.unicodeScalars.dropFirst()) : text
            let expected = t.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map {
                let line = Substring($0)
                return line.hasSuffix("\r") ? line.dropLast() : line
            }
            #expect(SourceFile(path: "f", text: text).lines == expected, "\(Array(text.utf8))")
        }
    }
}
