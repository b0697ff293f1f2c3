import Testing
import XDSCDiagnostics
import XDSCDriver
import XDSCSyntax
import XDSCTestSupport

@Suite struct YAMLReaderTests {
    func read(_ text: String, limits: InputLimits = .default) -> (YAMLNode?, [Diagnostic]) {
        let sink = DiagnosticSink()
        let node = YAMLReader(limits: limits).read(Array(text.utf8), file: "f.yaml", into: sink)
        return (node, sink.sorted)
    }

    @Test func positionsCountUnicodeScalarsAfterNonASCII() throws {
        let m = Marked("title: \"héllo wörld — ✓\"\nnext: {a: ⟨v⟩value}\n")
        let (root, diags) = read(m.text)
        #expect(diags.isEmpty)
        let v = try #require(root?["next"]?["a"])
        #expect(v.span.start == m.markers["v"])
        #expect(v.span.end == SourcePosition(line: 2, column: m.markers["v"]!.column + 5))
    }

    @Test func leadingByteOrderMarkIsAcceptedAndNotCounted() throws {
        // Issue 8.10: a file saved "UTF-8 with BOM" was a yaml-syntax error.
        let m = Marked("a: ⟨one⟩1\nb: {c: ⟨v⟩value}\n")
        let sink = DiagnosticSink()
        let root = YAMLReader().read([0xEF, 0xBB, 0xBF] + Array(m.text.utf8), file: "f.yaml", into: sink)
        #expect(sink.all.isEmpty, "\(sink.all.map(\.message))")
        let one = try #require(root?["a"])
        #expect(one.scalar?.int == 1)
        // Columns on line 1 count from the first character after the mark.
        #expect(one.span.start == m.markers["one"])
        #expect(root?["b"]?["c"]?.span.start == m.markers["v"])
        // The renderer's copy of line 1 has no mark either, so its caret lines up.
        let file = SourceFile(path: "f.yaml", text: String(decoding: [0xEF, 0xBB, 0xBF] + Array(m.text.utf8), as: UTF8.self))
        #expect(file.line(1) == "a: 1")
    }

    @Test func policyWithByteOrderMarkLintsClean() {
        let text = policy(routes: "    - {match: {prefix: /o}, to: orders}\n    - {match: {prefix: /}, to: users}")
        let result = Pipeline().check(files: [PolicyInputs.File(path: "p.yaml", bytes: [0xEF, 0xBB, 0xBF] + Array(Marked(text).text.utf8))])
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.map(\.message))")
    }

    @Test func byteOrderMarkOnlyCountsAtTheStart() {
        // A mark inside the file is content, and still an error where it stands.
        let (_, diags) = read("a: 1\n\u{FEFF}b: 2\n")
        #expect(diags.map(\.rule) == [.yamlSyntax])
    }

    @Test func blockCollectionEndsAtItsLastValueNotTheNextToken() throws {
        let (root, _) = read("a:\n  b: 1\n  c: 22\n\nd: 3\n")
        let a = try #require(root?["a"])
        #expect(a.span.start == SourcePosition(line: 2, column: 3))
        #expect(a.span.end == SourcePosition(line: 3, column: 8))
    }

    @Test func aliasesAreSeenAtTheAliasWithTheDefinitionKept() throws {
        let m = Marked("base: ⟨anchor⟩&b {x: ⟨one⟩1, y: [⟨two⟩2]}\nuse: ⟨alias⟩*b\n")
        let (root, diags) = read(m.text)
        #expect(diags.isEmpty)
        let use = try #require(root?["use"])
        #expect(use["x"]?.scalar?.int == 1)
        // Issue 8.13: the alias and everything below it are at the `*b` token...
        #expect(use.span.start == m.markers["alias"])
        #expect(use.span.end.column == m.markers["alias"]!.column + 2)
        #expect(use["x"]?.span.start == m.markers["alias"])
        #expect(use["y"]?.sequence?.first?.span.start == m.markers["alias"])
        // ...and each remembers where it is written.
        #expect(use.span.origin?.anchor == "b")
        #expect(use.span.definition?.start == m.markers["anchor"])
        #expect(use["x"]?.span.definition?.start == m.markers["one"])
        #expect(use["y"]?.sequence?.first?.span.definition?.start == m.markers["two"])
        // The anchored value itself is unchanged.
        #expect(root?["base"]?.span.start == m.markers["anchor"])
        #expect(root?["base"]?.span.origin == nil)
        #expect(root?["base"]?["x"]?.span.start == m.markers["one"])
    }

    @Test func aliasInsideAnAliasedValueIsWrittenAtItsOwnToken() throws {
        let m = Marked("a: &a {k: ⟨k⟩1}\nb: &b {inner: ⟨inner⟩*a}\nc: ⟨outer⟩*b\n")
        let (root, diags) = read(m.text)
        #expect(diags.isEmpty)
        let inner = try #require(root?["c"]?["inner"])
        #expect(inner.span.start == m.markers["outer"])
        #expect(inner.span.origin?.anchor == "b")
        #expect(inner.span.definition?.start == m.markers["inner"])
        // What `*a` brings in is written inside `&a`.
        let k = try #require(inner["k"])
        #expect(k.scalar?.int == 1)
        #expect(k.span.start == m.markers["outer"])
        #expect(k.span.origin?.anchor == "a")
        #expect(k.span.definition?.start == m.markers["k"])
    }

    @Test func mergeKeysNeverOverrideWrittenKeys() throws {
        let (root, diags) = read("base: &b {x: 1, y: 2}\nobj:\n  <<: *b\n  y: 3\n")
        #expect(diags.isEmpty)
        let obj = try #require(root?["obj"])
        #expect(obj["x"]?.scalar?.int == 1)
        #expect(obj["y"]?.scalar?.int == 3)
        #expect(obj.mapping?.first { $0.key.scalar?.text == "x" }?.merged == true)
    }

    @Test func mergeListEarlierSourceWins() throws {
        let (root, _) = read("a: &a {k: 1}\nb: &b {k: 2, j: 5}\nobj: {<<: [*a, *b]}\n")
        #expect(root?["obj"]?["k"]?.scalar?.int == 1)
        #expect(root?["obj"]?["j"]?.scalar?.int == 5)
    }

    @Test func duplicateKeysAreReportedWithTheFirstAsRelated() throws {
        let m = Marked("a: 1\n⟨dup⟩a: 2\n")
        let (root, diags) = read(m.text)
        #expect(diags.map(\.rule) == [.duplicateKey])
        #expect(diags.first?.span.start == m.markers["dup"])
        #expect(diags.first?.related.first?.span.start == SourcePosition(line: 1, column: 1))
        // The first value is kept; nothing is silently overwritten.
        #expect(root?["a"]?.scalar?.int == 1)
    }

    @Test func aliasBombIsRejectedQuicklyWithoutExpanding() {
        var text = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1...12 {
            text += "l\(i): &l\(i) [" + Array(repeating: "*l\(i - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        let (root, diags) = read(text)
        #expect(root == nil)
        #expect(diags.map(\.rule) == [.inputLimit])
        #expect(diags.first?.message.contains("alias") == true)
    }

    @Test func writtenNodesNeverCountAsAliasExpansion() {
        var limits = InputLimits()
        limits.maxExpandedNodes = 50
        let big = "items: [" + (1...200).map(String.init).joined(separator: ", ") + "]\n"
        let (root, diags) = read(big, limits: limits)
        #expect(diags.isEmpty)
        #expect(root?["items"]?.sequence?.count == 200)
        let (_, bomb) = read("a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9]\nb: [*a, *a, *a, *a, *a, *a]\n", limits: limits)
        #expect(bomb.map(\.rule) == [.inputLimit])
    }

    @Test func nestingDepthIsLimited() {
        var limits = InputLimits()
        limits.maxDepth = 8
        let text = String(repeating: "[", count: 10) + String(repeating: "]", count: 10)
        let (root, diags) = read(text, limits: limits)
        #expect(root == nil)
        #expect(diags.map(\.rule) == [.inputLimit])
    }

    @Test func fileSizeIsLimited() {
        var limits = InputLimits()
        limits.maxFileBytes = 10
        let (_, diags) = read("a: 123456789012345\n", limits: limits)
        #expect(diags.map(\.rule) == [.inputLimit])
    }

    @Test func aliasCountIsLimited() {
        var limits = InputLimits()
        limits.maxAliases = 3
        let (_, diags) = read("a: &a 1\nb: [*a, *a, *a, *a]\n", limits: limits)
        #expect(diags.map(\.rule) == [.inputLimit])
    }

    @Test func undefinedAliasIsASyntaxError() {
        let (root, diags) = read("a: *nope\n")
        #expect(root == nil)
        #expect(diags.map(\.rule) == [.yamlSyntax])
        #expect(diags.first?.span.start == SourcePosition(line: 1, column: 4))
    }

    @Test func malformedYAMLReportsLibyamlPosition() {
        let (_, diags) = read("a:\n  b: 1\n c: 2\n")
        #expect(diags.map(\.rule) == [.yamlSyntax])
        #expect(diags.first?.span.start.line == 3)
    }

    @Test func tabIndentationGetsAHint() {
        let (_, diags) = read("a:\n\tb: 1\n")
        #expect(diags.map(\.rule) == [.yamlSyntax])
        #expect(diags.first?.help?.contains("tabs") == true)
    }

    @Test func invalidUTF8IsReportedAtTheByte() {
        var bytes = Array("ok: 1\nbad: \"".utf8)
        bytes += [0xC3, 0x28]
        bytes += Array("\"\n".utf8)
        let sink = DiagnosticSink()
        let node = YAMLReader().read(bytes, file: "f.yaml", into: sink)
        #expect(node == nil)
        #expect(sink.all.map(\.rule) == [.yamlSyntax])
        #expect(sink.all.first?.span.start == SourcePosition(line: 2, column: 7))
        #expect(sink.all.first?.message.contains("UTF-8") == true)
    }

    /// The input is checked eight ASCII bytes at a time (issue 13): a bad byte after long
    /// runs of ASCII and a valid multi-byte character, at a word's edge or inside one, or a
    /// sequence cut off by the end of the file, is still reported at its line and column.
    @Test func invalidUTF8AfterLongASCIIIsReportedAtTheByte() {
        let prefix = Array("first: line of ascii text\nsecond: héllo wörld, more ascii\nx: ".utf8)
        for pad in 0..<9 {
            for bad: [UInt8] in [[0xFF], [0xC3, 0x28], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xF5, 0x80, 0x80, 0x80]] {
                let sink = DiagnosticSink()
                let bytes = prefix + Array(repeating: UInt8(ascii: "a"), count: pad) + bad + Array(" tail\n".utf8)
                #expect(YAMLReader().read(bytes, file: "f.yaml", into: sink) == nil)
                #expect(sink.all.map(\.rule) == [.yamlSyntax])
                #expect(sink.all.first?.span.start == SourcePosition(line: 3, column: 4 + pad), "pad \(pad), \(bad)")
            }
        }
        // Cut off by the end of the file.
        let sink = DiagnosticSink()
        #expect(YAMLReader().read(prefix + [0xE2, 0x82], file: "f.yaml", into: sink) == nil)
        #expect(sink.all.first?.span.start == SourcePosition(line: 3, column: 4))
    }

    /// A lone CR (a line break for libyaml, not for xdsc) after a long run of ASCII is found,
    /// so the positions after it are still counted on xdsc's lines.
    @Test func loneCarriageReturnAfterLongASCIIKeepsPositions() throws {
        for pad in 0..<9 {
            let text = "key0: " + String(repeating: "a", count: 16 + pad) + "\rkey1: v\n"
            let (root, diags) = read(text)
            #expect(diags.isEmpty)
            let v = try #require(root?["key1"])
            #expect(v.span.start == SourcePosition(line: 1, column: 6 + 16 + pad + 1 + 6 + 1))
        }
        // CR LF is one break: lines are counted as usual.
        let (root, _) = read("key0: " + String(repeating: "a", count: 20) + "\r\nkey1: v\n")
        #expect(root?["key1"]?.span.start == SourcePosition(line: 2, column: 7))
    }

    /// A large file is parsed on a thread of its own while the tree is built (issue 13):
    /// the tree and the diagnostics, in their order, are those of the one-thread reading,
    /// for clean input and for input that stops at a problem early, midway or at the end.
    @Test func parsingOnAThreadOfItsOwnChangesNothing() {
        func dump(_ node: YAMLNode?, _ out: inout [String]) {
            guard let node else { return out.append("nil") }
            let s = node.span
            let origin = s.origin.map { "\($0.anchor)@\($0.start.line):\($0.start.column)" } ?? ""
            let at = "\(s.start.line):\(s.start.column)-\(s.end.line):\(s.end.column) \(origin)"
            switch node.kind {
            case .scalar(let v): out.append("s \(v.text) \(v.style) \(at)")
            case .mapping(let pairs):
                out.append("m \(pairs.count) \(at)")
                for p in pairs {
                    dump(p.key, &out)
                    dump(p.value, &out)
                    if p.merged { out.append("merged") }
                }
            case .sequence(let items):
                out.append("q \(items.count) \(at)")
                for i in items { dump(i, &out) }
            }
        }
        var routes = "version: 1\nbase: &base {timeout: 3s, retries: 2}\nroutes:\n"
        for r in 0..<3000 {
            routes += "  - name: r\(r)\n    match: {prefix: /api/v\(r)/items, methods: [GET, POST]}\n"
            routes += "    <<: *base\n    to: 'svc-\(r % 50)'\n"
        }
        let cases = [
            "a: 1\n", "", "a: [1, 2\n", routes, routes + "trailing: [unclosed\n", routes + "---\nsecond: 1\n",
            routes.replacingOccurrences(of: "  - name: r1500\n", with: "  - name: r1500\n    oops: *nope\n"),
            routes.replacingOccurrences(of: "  - name: r10\n", with: "  - name: r10\n    name: again\n"),
            routes.replacingOccurrences(of: "  - name: r2999\n", with: "  - name: r2999\n\t bad: tab\n"),
            String(routes.prefix(routes.count / 2)) + "\"unterminated\n",
        ]
        for text in cases {
            var results: [([String], [Diagnostic])] = []
            for parallelBytes in [Int.max, 0] {
                var reader = YAMLReader()
                reader.parallelBytes = parallelBytes
                let sink = DiagnosticSink()
                var tree: [String] = []
                dump(reader.read(Array(text.utf8), file: "f.yaml", into: sink), &tree)
                results.append((tree, sink.all))
            }
            #expect(results[0].0 == results[1].0, "tree of \(text.prefix(40))")
            #expect(results[0].1 == results[1].1, "diagnostics of \(text.prefix(40))")
        }
    }

    @Test func secondDocumentIsRejected() {
        let (_, diags) = read("a: 1\n---\nb: 2\n")
        #expect(diags.map(\.rule) == [.yamlSyntax])
    }

    @Test func coreSchemaScalarTyping() throws {
        let (root, _) = read("i: 42\nq: \"42\"\nb: true\nn: ~\nf: 1.5\ns: yes\nt: !!str 7\n")
        #expect(root?["i"]?.scalar?.int == 42)
        #expect(root?["q"]?.scalar?.int == nil)
        #expect(root?["b"]?.scalar?.bool == true)
        #expect(root?["n"]?.isNull == true)
        #expect(root?["f"]?.scalar?.isFloat == true)
        #expect(root?["s"]?.scalar?.bool == nil)
        #expect(root?["t"]?.scalar?.int == nil)
    }
}
