// The only file that imports libyaml.
import CYAML
import Dispatch
import Synchronization
import XDSCDiagnostics

/// Reads one policy file into a `YAMLNode` tree with spans, reporting YAML problems
/// (syntax, non-UTF-8, duplicate keys, unknown aliases, limits) to a sink. It never throws
/// for bad input: the result is nil when no usable tree could be built.
public struct YAMLReader {
    /// The limits input is read under.
    public var limits: InputLimits
    /// The file size from which libyaml parses on a thread of its own while this one builds
    /// the tree (issue 13: on a large policy the two take about as long as each other); the
    /// tree, the diagnostics and their order are the same either way. Never on one processor.
    public var parallelBytes = 1 << 20

    /// A reader that enforces `limits`.
    public init(limits: InputLimits = .default) {
        self.limits = limits
    }

    /// Parses `bytes` (the contents of `file`) into the root node of its single document.
    /// Returns nil for an empty document or when a fatal problem was reported.
    public func read(_ bytes: [UInt8], file: String, into sink: DiagnosticSink) -> YAMLNode? {
        // A UTF-8 byte-order mark is allowed (YAML 1.2, 5.2) and is not part of line 1:
        // dropping it here keeps every column counted from the first real character.
        let bytes = bytes.starts(with: Self.byteOrderMark) ? Array(bytes.dropFirst(Self.byteOrderMark.count)) : bytes
        // The flat tree counts a scalar's bytes and a collection's children in 28 bits.
        let maxBytes = min(limits.maxFileBytes, (1 << 28) - 1)
        if bytes.count > maxBytes {
            sink.add(
                .inputLimit, "file is \(bytes.count) bytes; the limit is \(maxBytes) bytes",
                at: .point(file), help: "split the policy into several files")
            return nil
        }
        // One pass over the bytes checks UTF-8 and counts the lines for `LineMap` (issue 13:
        // it was two passes of a byte at a time).
        let scan = InputScan(bytes)
        if let bad = scan.firstInvalid {
            let at = InputScan.position(of: bad, in: bytes)
            sink.add(
                .yamlSyntax, "file is not valid UTF-8 (byte 0x\(String(bytes[bad], radix: 16, uppercase: true)))",
                at: .point(file, line: at.line, column: at.column), help: "save the file as UTF-8")
            return nil
        }
        var state = ParseState(file: file, limits: limits, sink: sink, lines: LineMap(bytes, scan: scan))
        return state.run(bytes, parallel: bytes.count >= parallelBytes && Parallel.processors > 1)
    }

    /// The UTF-8 encoding of U+FEFF.
    static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]
}

/// What one pass over a file's bytes finds: the first byte that breaks UTF-8, the number of
/// line feeds, and whether another line break (a lone CR, NEL, LS or PS) occurs. Eight
/// ASCII bytes are taken at a time: nearly every byte of a policy is ASCII.
struct InputScan {
    /// Offset of the first byte that breaks UTF-8, if any (the counts stop there).
    private(set) var firstInvalid: Int?
    /// LF bytes.
    private(set) var lineFeeds = 0
    /// Whether a line break other than LF occurs.
    private(set) var hasOtherBreak = false

    init(_ input: [UInt8]) {
        input.withUnsafeBufferPointer { scan($0) }
    }

    private static let high: UInt64 = 0x8080_8080_8080_8080
    private static let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
    private static let ones: UInt64 = 0x0101_0101_0101_0101

    /// The high bit of each byte of ASCII word `w` that equals `b` (exact: no borrow
    /// between bytes).
    @inline(__always)
    private static func bytes(of w: UInt64, equalTo b: UInt8) -> UInt64 {
        let x = w ^ (ones &* UInt64(b))
        return ~(((x & low7) &+ low7) | x) & high
    }

    private mutating func scan(_ p: UnsafeBufferPointer<UInt8>) {
        let n = p.count
        guard let base = p.baseAddress else { return }
        let raw = UnsafeRawPointer(base)
        var i = 0
        // The words of ASCII first, in locals, until a byte needs a closer look.
        var lineFeeds = 0
        defer { self.lineFeeds = lineFeeds }
        while i + 8 <= n {
            let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            if w & Self.high != 0 || Self.bytes(of: w, equalTo: 0x0D) != 0 { break }
            lineFeeds &+= Self.bytes(of: w, equalTo: 0x0A).nonzeroBitCount
            i += 8
        }
        while i < n {
            if i + 8 <= n {
                let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                if w & Self.high == 0 {
                    lineFeeds += Self.bytes(of: w, equalTo: 0x0A).nonzeroBitCount
                    if !hasOtherBreak && Self.bytes(of: w, equalTo: 0x0D) != 0 {
                        for k in i..<i + 8 where p[k] == 0x0D && LineMap.isOtherBreak(p, at: k) { hasOtherBreak = true }
                    }
                    i += 8
                    continue
                }
            }
            // One character at a time until the next word.
            let b = p[i]
            if b < 0x80 {
                if b == 0x0A {
                    lineFeeds += 1
                } else if b == 0x0D && !hasOtherBreak {
                    hasOtherBreak = LineMap.isOtherBreak(p, at: i)
                }
                i += 1
                continue
            }
            var len = 0
            if b & 0xE0 == 0xC0, b >= 0xC2 {
                len = 2
            } else if b & 0xF0 == 0xE0 {
                len = 3
            } else if b & 0xF8 == 0xF0, b <= 0xF4 {
                len = 4
            } else {
                firstInvalid = i
                return
            }
            if i + len > n {
                firstInvalid = i
                return
            }
            for k in 1..<len where p[i + k] & 0xC0 != 0x80 {
                firstInvalid = i
                return
            }
            if len == 3 {
                let cp = (UInt32(b & 0x0F) << 12) | (UInt32(p[i + 1] & 0x3F) << 6) | UInt32(p[i + 2] & 0x3F)
                if cp < 0x800 || (0xD800...0xDFFF).contains(cp) {
                    firstInvalid = i
                    return
                }
            } else if len == 4 {
                let cp =
                    (UInt32(b & 0x07) << 18) | (UInt32(p[i + 1] & 0x3F) << 12) | (UInt32(p[i + 2] & 0x3F) << 6)
                    | UInt32(p[i + 3] & 0x3F)
                if cp < 0x10000 || cp > 0x10FFFF {
                    firstInvalid = i
                    return
                }
            }
            if !hasOtherBreak && (b == 0xC2 || b == 0xE2) { hasOtherBreak = LineMap.isOtherBreak(p, at: i) }
            i += len
        }
    }

    /// The 1-based line and scalar column of byte `offset`, every byte before it being valid
    /// UTF-8 (only asked for the byte that breaks it).
    static func position(of offset: Int, in bytes: [UInt8]) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for b in bytes[..<offset] {
            if b == 0x0A {
                line += 1
                column = 1
            } else if b & 0xC0 != 0x80 {
                // A character starts here: an ASCII byte or a sequence's lead byte.
                column += 1
            }
        }
        return (line, column)
    }
}

/// Converts libyaml marks to xdsc positions. libyaml also ends a line at a lone CR, NEL,
/// LS or PS; xdsc (like `SourceFile` and editors) only at LF. For a file with one of those,
/// positions are recomputed from the mark's character index (libyaml counts characters,
/// without a leading byte order mark); otherwise libyaml's line and column are already right.
struct LineMap {
    /// Character index of the first character of each line, only for such files.
    private var lineStarts: [Int]?
    private let bytes: [UInt8]
    /// Lines in the file (LF count + 1).
    private let lineCount: Int

    /// The map of `bytes`, whose lines and other line breaks `scan` counted.
    init(_ bytes: [UInt8], scan: InputScan) {
        self.bytes = bytes
        lineCount = scan.lineFeeds + 1
        lineStarts = scan.hasOtherBreak ? Self.lineStarts(bytes) : nil
    }

    /// Whether the byte at `i` starts a line break other than LF (a lone CR, NEL, LS, PS).
    static func isOtherBreak(_ p: UnsafeBufferPointer<UInt8>, at i: Int) -> Bool {
        let n = p.count
        switch p[i] {
        case 0x0D: return i + 1 == n || p[i + 1] != 0x0A
        case 0xC2: return i + 1 < n && p[i + 1] == 0x85
        case 0xE2: return i + 2 < n && p[i + 1] == 0x80 && (p[i + 2] == 0xA8 || p[i + 2] == 0xA9)
        default: return false
        }
    }

    /// Character index of the first character of each LF-separated line.
    private static func lineStarts(_ bytes: [UInt8]) -> [Int] {
        var starts = [0]
        var index = 0
        for b in bytes[bomLength(bytes)...] {
            if b == 0x0A { starts.append(index + 1) }
            // Count characters: every byte that is not a UTF-8 continuation byte starts one.
            if b & 0xC0 != 0x80 { index += 1 }
        }
        return starts
    }

    static func bomLength(_ bytes: [UInt8]) -> Int {
        bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
    }

    func position(_ m: yaml_mark_t) -> SourcePosition {
        guard let lineStarts else {
            // At the end of a file without a final line break libyaml moves to a line that
            // does not exist; that is the end of the last line.
            if Int(m.line) + 1 > lineCount { return SourcePosition(line: lineCount, column: length(ofLine: lineCount) + 1) }
            return SourcePosition(line: Int(m.line) + 1, column: Int(m.column) + 1)
        }
        let index = Int(m.index)
        // The last line start at or before `index`.
        var lo = 0
        var hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= index { lo = mid } else { hi = mid - 1 }
        }
        return SourcePosition(line: lo + 1, column: index - lineStarts[lo] + 1)
    }

    /// Characters on 1-based `line` (without its LF or a CR before it); 0 past the end.
    func length(ofLine line: Int) -> Int {
        var current = 1
        var count = 0
        var i = line == 1 ? Self.bomLength(bytes) : 0
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x0A {
                if current == line { break }
                current += 1
            } else if current == line && b & 0xC0 != 0x80 {
                count += 1
            }
            i += 1
        }
        if current != line { return 0 }
        if i > 0, i <= bytes.count, bytes[i - 1] == 0x0D, count > 0 { count -= 1 }
        return count
    }
}

/// Builds the flat tree from libyaml events.
private struct ParseState {
    let file: String
    let limits: InputLimits
    let sink: DiagnosticSink
    let lines: LineMap

    /// An open collection: its start, tag, anchor and style, where its items begin in
    /// `pending` (a mapping's keys and values alternate), and the nodes it stands for so far
    /// once aliases are expanded (itself included).
    struct Frame {
        let isMapping: Bool
        let start: SourcePosition
        /// The collection's tag and anchor in `frameNames`, or -1 when it has neither (nearly
        /// always): a frame without strings costs no reference counting (issue 13).
        let names: Int
        let flow: Bool
        let firstItem: Int
        var size = 1
    }

    /// The tags and anchors of the collections that have one, by `Frame.names`.
    var frameNames: [(tag: String?, anchor: String?)] = []

    /// The index in `frameNames` of `tag` and `anchor`, or -1 when both are nil.
    mutating func names(tag: String?, anchor: String?) -> Int {
        guard tag != nil || anchor != nil else { return -1 }
        frameNames.append((tag, anchor))
        return frameNames.count - 1
    }

    var stack: [Frame] = []
    /// The child references of every open collection, innermost last: one buffer that keeps
    /// its capacity; a collection's items move to `children` at its end.
    var pending: [Int32] = []
    // The tree being built (see `YAMLTree`).
    var records: [YAMLTree.Record] = []
    var children: [Int32] = []
    var text: [UInt8] = []
    var views: [YAMLTree.View] = []
    var tags: [Int32: String] = [:]
    var mergedKeys = Set<Int32>()
    /// The ends too far from their starts for a record (see `YAMLTree.Record`).
    var farEnds: [Int32: SourcePosition] = [:]
    var farColumns: [Int32: Int] = [:]
    /// A small cache of short texts already in `text`, by a hash of their bytes: the keys
    /// (`name`, `match`, `to`...) and many values repeat on every route of a large policy,
    /// and their records share one copy (issue 13: some 2 MB of a 100k-route policy).
    /// Entries are (offset + 1, length); 0 is empty.
    var shortTexts = [(UInt32, UInt32)](repeating: (0, 0), count: 1024)
    var farCounts: [Int32: Int] = [:]
    /// Each anchor's node and the nodes it stands for once aliases are expanded.
    var anchors: [String: (node: Int32, size: Int)] = [:]
    var aliasCount = 0
    /// Nodes added by expanding aliases so far; an alias bomb grows this geometrically.
    var aliasExpansion = 0
    var root: Int32?
    var documents = 0
    var failed = false
    /// Where the last scalar, alias or collection written in the file ended: a block
    /// collection ends there (its end event is marked at the next token, and its last item
    /// may be an alias, whose node carries the anchor's span).
    var lastEnd: SourcePosition?

    init(file: String, limits: InputLimits, sink: DiagnosticSink, lines: LineMap) {
        self.file = file
        self.limits = limits
        self.sink = sink
        self.lines = lines
    }

    func position(_ m: yaml_mark_t) -> SourcePosition {
        // libyaml marks are 0-based and count characters (Unicode scalars): convert once, here.
        lines.position(m)
    }

    func span(_ a: yaml_mark_t, _ b: yaml_mark_t) -> SourceSpan {
        SourceSpan(file: file, start: position(a), end: position(b))
    }

    static func string(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let p else { return nil }
        return String(cString: UnsafeRawPointer(p).assumingMemoryBound(to: CChar.self))
    }

    /// The tree as built so far (sharing the arrays, which are copied only if they grow
    /// while it is alive).
    func snapshot() -> YAMLTree {
        YAMLTree(
            file: file, records: records, children: children, text: text, views: views, tags: tags, mergedKeys: mergedKeys,
            farEnds: farEnds, farColumns: farColumns, farCounts: farCounts)
    }

    mutating func run(_ bytes: [UInt8], parallel: Bool) -> YAMLNode? {
        // On the heap: with `parallel`, another thread parses with it.
        let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        parser.initialize(to: yaml_parser_t())
        defer {
            parser.deinitialize(count: 1)
            parser.deallocate()
        }
        guard yaml_parser_initialize(parser) == 1 else {
            sink.add(.yamlSyntax, "could not initialise the YAML parser", at: .point(file))
            return nil
        }
        defer { yaml_parser_delete(parser) }
        // A policy has a node for every 8 to 10 bytes and about half its bytes in scalars:
        // room for that up front saves the copies of growing.
        records.reserveCapacity(bytes.count / 8 + 16)
        children.reserveCapacity(bytes.count / 8 + 16)
        text.reserveCapacity(bytes.count / 2 + 16)
        let done = bytes.withUnsafeBufferPointer { buf -> Bool in
            yaml_parser_set_input_string(parser, buf.baseAddress, buf.count)
            yaml_parser_set_encoding(parser, YAML_UTF8_ENCODING)
            return parallel ? consumeFromPipe(parser) : consume(parser)
        }
        guard done, let root else { return nil }
        return snapshot().node(root, under: nil)
    }

    /// Parses and handles the events one at a time; whether the stream ended without a
    /// problem.
    mutating func consume(_ parser: UnsafeMutablePointer<yaml_parser_t>) -> Bool {
        var event = yaml_event_t()
        while true {
            if yaml_parser_parse(parser, &event) != 1 {
                reportParserError(parser.pointee)
                return false
            }
            let type = event.type
            handle(&event)
            yaml_event_delete(&event)
            if failed { return false }
            if type == YAML_STREAM_END_EVENT { return true }
        }
    }

    /// `consume(_:)` with the parsing on another thread: the events are handled in the same
    /// order, and a problem stops at the same event (what the parser read beyond it is
    /// dropped unseen, its own problems included).
    mutating func consumeFromPipe(_ parser: UnsafeMutablePointer<yaml_parser_t>) -> Bool {
        let pipe = EventPipe(parser: parser)
        pipe.start()
        defer { pipe.finish() }
        while let batch = pipe.next() {
            while batch.handled < batch.count {
                let event = batch.events + batch.handled
                let type = event.pointee.type
                handle(&event.pointee)
                yaml_event_delete(event)
                batch.handled += 1
                if failed { return false }
                if type == YAML_STREAM_END_EVENT { return true }
            }
            if batch.status == .failed {
                reportParserError(parser.pointee)
                return false
            }
            pipe.release()
        }
        return false
    }

    mutating func reportParserError(_ parser: yaml_parser_t) {
        var message = parser.problem.map { String(cString: $0) } ?? "malformed YAML"
        if let ctx = parser.context.map({ String(cString: $0) }) { message += " \(ctx)" }
        let mark = parser.problem_mark
        var help: String?
        if message.contains("cannot start any token") { help = "YAML does not allow tabs for indentation; use spaces" }
        let start = position(mark)
        // One character wide, unless the problem is at the end of a line (end of file).
        let width = start.column <= lines.length(ofLine: start.line) ? 1 : 0
        sink.add(
            .yamlSyntax, message,
            at: SourceSpan(file: file, start: start, end: SourcePosition(line: start.line, column: start.column + width)),
            help: help)
    }

    mutating func fail(_ rule: Rule.ID, _ message: String, at span: SourceSpan, help: String? = nil) {
        sink.add(rule, message, at: span, help: help)
        failed = true
    }

    mutating func handle(_ event: inout yaml_event_t) {
        switch event.type {
        case YAML_DOCUMENT_START_EVENT:
            documents += 1
            if documents > 1 {
                fail(
                    .yamlSyntax, "a policy file holds one YAML document; this is a second one",
                    at: span(event.start_mark, event.end_mark), help: "move the second document into its own file")
            }
        case YAML_SCALAR_EVENT:
            let s = event.data.scalar
            let style: YAMLScalar.Style
            switch s.style {
            case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
            case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
            case YAML_LITERAL_SCALAR_STYLE: style = .literal
            case YAML_FOLDED_SCALAR_STYLE: style = .folded
            default: style = .plain
            }
            let tag = Self.string(s.tag)
            // A tag of !!str makes even a plain scalar a string.
            let effectiveStyle = (tag == "tag:yaml.org,2002:str" && style == .plain) ? .singleQuoted : style
            let end = position(event.end_mark)
            let offset = s.length > 0 ? addText(UnsafeBufferPointer(start: s.value, count: s.length)) : text.count
            let start = position(event.start_mark)
            let node = add(
                YAMLTree.Record(start: start, end: end, first: offset, count: s.length, kind: .init(effectiveStyle)), start: start,
                end: end, count: s.length, tag: tag)
            register(anchor: Self.string(s.anchor), node, size: 1)
            push(node, size: 1)
            lastEnd = end
        case YAML_ALIAS_EVENT:
            let name = Self.string(event.data.alias.anchor) ?? ""
            let sp = span(event.start_mark, event.end_mark)
            aliasCount += 1
            if aliasCount > limits.maxAliases {
                fail(.inputLimit, "more than \(limits.maxAliases) aliases in one file", at: sp)
                return
            }
            guard let target = anchors[name] else {
                fail(
                    .yamlSyntax, "alias `*\(name)` names no anchor defined before it", at: sp, help: "define `&\(name)` earlier in the file"
                )
                return
            }
            aliasExpansion = sat(aliasExpansion, target.size)
            if aliasExpansion > limits.maxExpandedNodes {
                fail(
                    .inputLimit, "aliases in this file expand to more than \(limits.maxExpandedNodes) nodes (an alias bomb?)", at: sp,
                    help: "reduce the nesting of aliases")
                return
            }
            let written = records[Int(target.node)]
            let writtenEnd = written.nearEnd ?? farEnds[target.node]!
            let writtenStart = written.nearStart ?? SourcePosition(line: Int(written.line), column: farColumns[target.node]!)
            let view = AliasView(
                start: sp.start, end: sp.end, anchor: name, writtenStart: writtenStart, writtenEnd: writtenEnd, childAnchor: name)
            push(addView(target.node, view), size: target.size)
            // The alias node keeps its anchor's span; what ends here is the alias token.
            lastEnd = sp.end
        case YAML_SEQUENCE_START_EVENT:
            let d = event.data.sequence_start
            if !checkDepth(event) { return }
            let named = names(tag: Self.string(d.tag), anchor: Self.string(d.anchor))
            stack.append(
                Frame(
                    isMapping: false, start: position(event.start_mark), names: named, flow: d.style == YAML_FLOW_SEQUENCE_STYLE,
                    firstItem: pending.count))
        case YAML_MAPPING_START_EVENT:
            let d = event.data.mapping_start
            if !checkDepth(event) { return }
            let named = names(tag: Self.string(d.tag), anchor: Self.string(d.anchor))
            stack.append(
                Frame(
                    isMapping: true, start: position(event.start_mark), names: named, flow: d.style == YAML_FLOW_MAPPING_STYLE,
                    firstItem: pending.count))
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            guard let frame = stack.popLast(), frame.isMapping == (event.type == YAML_MAPPING_END_EVENT) else { return }
            let empty = frame.firstItem == pending.count
            // A block collection's end event is marked at the next token; use the last item's end.
            let end = frame.flow || empty ? position(event.end_mark) : (lastEnd ?? position(event.end_mark))
            lastEnd = end
            let first = children.count
            var hasMerged = false
            if frame.isMapping {
                hasMerged = addPairs(from: frame.firstItem)
            } else {
                children.append(contentsOf: pending[frame.firstItem...])
            }
            pending.removeLast(pending.count - frame.firstItem)
            let names: (tag: String?, anchor: String?) = frame.names < 0 ? (nil, nil) : frameNames[frame.names]
            let node = add(
                YAMLTree.Record(
                    start: frame.start, end: end, first: first, count: children.count - first, kind: frame.isMapping ? .mapping : .sequence,
                    hasMerged: hasMerged), start: frame.start, end: end, count: children.count - first, tag: names.tag)
            register(anchor: names.anchor, node, size: frame.size)
            push(node, size: frame.size)
        default:
            break
        }
    }

    func sat(_ a: Int, _ b: Int) -> Int {
        let (r, o) = a.addingReportingOverflow(b)
        return o ? Int.max : r
    }

    mutating func checkDepth(_ event: yaml_event_t) -> Bool {
        if stack.count >= limits.maxDepth {
            fail(.inputLimit, "nesting deeper than \(limits.maxDepth) levels", at: span(event.start_mark, event.end_mark))
            return false
        }
        return true
    }

    /// Adds a node's record; returns its index.
    mutating func add(_ record: YAMLTree.Record, start: SourcePosition, end: SourcePosition, count: Int, tag: String?) -> Int32 {
        let index = Int32(records.count)
        records.append(record)
        if record.endCode == YAMLTree.Record.farEnd { farEnds[index] = end }
        if record.hasFarColumn { farColumns[index] = start.column }
        if record.hasFarCount { farCounts[index] = count }
        if let tag { tags[index] = tag }
        return index
    }

    /// The offset in `text` of `bytes`: of a copy of them already there when they are short
    /// and the cache has them, else of a new copy at the end. Records only ever read
    /// `text`, so sharing is invisible.
    mutating func addText(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        guard bytes.count <= 16 else {
            let offset = text.count
            text.append(contentsOf: bytes)
            return offset
        }
        var hash: UInt32 = 2_166_136_261
        for b in bytes { hash = (hash ^ UInt32(b)) &* 16_777_619 }
        let slot = Int(hash & 1023)
        let (stored, length) = shortTexts[slot]
        if stored != 0 && Int(length) == bytes.count {
            let from = Int(stored) - 1
            let same = text.withUnsafeBufferPointer { t in
                for i in 0..<bytes.count where t[from + i] != bytes[i] { return false }
                return true
            }
            if same { return from }
        }
        let offset = text.count
        text.append(contentsOf: bytes)
        if offset < Int(UInt32.max) { shortTexts[slot] = (UInt32(offset + 1), UInt32(bytes.count)) }
        return offset
    }

    /// Adds a child reference to `node` seen as `view`.
    mutating func addView(_ node: Int32, _ view: AliasView) -> Int32 {
        views.append(YAMLTree.View(target: node, alias: view))
        return ~Int32(views.count - 1)
    }

    /// A child reference to `node` as it is seen.
    mutating func reference(_ node: YAMLNode) -> Int32 {
        guard let view = node.view else { return node.index }
        return addView(node.index, view)
    }

    mutating func register(anchor: String?, _ node: Int32, size: Int) {
        if let anchor { anchors[anchor] = (node, size) }
    }

    mutating func push(_ ref: Int32, size: Int) {
        guard !stack.isEmpty else {
            root = ref
            return
        }
        stack[stack.count - 1].size = sat(stack[stack.count - 1].size, size)
        pending.append(ref)
    }

    /// The record a child reference shows (an alias shows its anchor's node), and its index.
    func shown(_ ref: Int32) -> (record: YAMLTree.Record, index: Int32) {
        let index = ref >= 0 ? ref : views[Int(~ref)].target
        return (records[Int(index)], index)
    }

    /// The text's length or the number of children of record `r` (at `index`).
    func count(of r: YAMLTree.Record, _ index: Int32) -> Int { r.hasFarCount ? farCounts[index]! : r.smallCount }

    /// Whether the two scalar records have the same text.
    func sameText(_ a: (record: YAMLTree.Record, index: Int32), _ b: (record: YAMLTree.Record, index: Int32)) -> Bool {
        let n = count(of: a.record, a.index)
        guard n == count(of: b.record, b.index) else { return false }
        return text.withUnsafeBufferPointer { t in
            let x = Int(a.record.first)
            let y = Int(b.record.first)
            for i in 0..<n where t[x + i] != t[y + i] { return false }
            return true
        }
    }

    /// Whether the record is the plain scalar `<<`.
    func isMergeKey(_ shown: (record: YAMLTree.Record, index: Int32)) -> Bool {
        // A far count is never 2.
        let r = shown.record
        return r.kind == .plain && r.smallCount == 2 && text[Int(r.first)] == UInt8(ascii: "<")
            && text[Int(r.first) + 1] == UInt8(ascii: "<")
    }

    /// Moves the pairs of the mapping that ends now (its items from `first` in `pending`) to
    /// `children`: a small mapping with no merge key and no repeated key (nearly all of them)
    /// as written, without the hash tables the general case needs. Returns whether a `<<`
    /// merge brought pairs in.
    mutating func addPairs(from first: Int) -> Bool {
        let n = (pending.count - first) / 2
        var simple = n <= 12
        if simple {
            check: for i in 0..<n {
                let k = shown(pending[first + 2 * i])
                guard k.record.kind.style != nil else { continue }
                if isMergeKey(k) {
                    simple = false
                    break
                }
                for j in 0..<i {
                    let other = shown(pending[first + 2 * j])
                    if other.record.kind.style != nil && sameText(k, other) {
                        simple = false
                        break check
                    }
                }
            }
        }
        if simple {
            children.append(contentsOf: pending[first..<first + 2 * n])
            return false
        }
        return addGeneralPairs(from: first, count: n)
    }

    /// Pairs up keys and values, reports repeated keys, and applies `<<` merge keys: merged
    /// entries take the place of the `<<` entry and never override a key written here.
    mutating func addGeneralPairs(from first: Int, count n: Int) -> Bool {
        // Paired up with the snapshot in a call of its own, so the snapshot is gone before
        // the pairs are appended: while it lives, appending copies the whole `children`.
        let (result, mergedResults) = generalPairs(from: first, count: n)
        let base = children.count
        for (k, v) in result {
            children.append(k)
            children.append(v)
        }
        for i in mergedResults { mergedKeys.insert(Int32(base + 2 * i)) }
        return !mergedResults.isEmpty
    }

    /// The pairs `addGeneralPairs` appends, in order, and the positions of those a merge
    /// brought in.
    mutating func generalPairs(from first: Int, count n: Int) -> (pairs: [(key: Int32, value: Int32)], merged: [Int]) {
        let tree = snapshot()
        let explicit = (0..<n).map { i in (key: pending[first + 2 * i], value: pending[first + 2 * i + 1]) }
        func node(_ ref: Int32) -> YAMLNode { tree.node(ref, under: nil) }
        var firstByKey: [String: YAMLNode] = [:]
        var written = Set<String>()
        for (ref, _) in explicit {
            let k = node(ref)
            guard let text = k.scalar?.text, !isMergeKey(shown(ref)) else { continue }
            if let first = firstByKey[text] {
                sink.add(
                    .duplicateKey, "key `\(text)` appears twice in this mapping", at: k.span, label: "repeated key",
                    related: [RelatedLocation("first defined here", at: first.span)],
                    help: "remove one of them; YAML readers disagree on which one wins")
            } else {
                firstByKey[text] = k
            }
            written.insert(text)
        }
        var result: [(key: Int32, value: Int32)] = []
        var mergedResults: [Int] = []
        var seen = Set<String>()
        for (k, v) in explicit {
            if isMergeKey(shown(k)) {
                for source in mergeSources(node(v)) {
                    for p in source.pairs {
                        guard let text = p.key.scalar?.text, !written.contains(text), !seen.contains(text) else { continue }
                        seen.insert(text)
                        mergedResults.append(result.count)
                        result.append((reference(p.key), reference(p.value)))
                    }
                }
                continue
            }
            if let text = node(k).scalar?.text {
                // Keep the first of repeated keys; the duplicate was reported above.
                if seen.contains(text) { continue }
                seen.insert(text)
            }
            result.append((k, v))
        }
        return (result, mergedResults)
    }

    /// The mappings a `<<` value brings in: one mapping, or a list of them (earlier wins).
    mutating func mergeSources(_ v: YAMLNode) -> [YAMLNode] {
        switch v.kind {
        case .mapping: return [v]
        case .sequence(let items):
            var out: [YAMLNode] = []
            for item in items {
                if item.isMapping {
                    out.append(item)
                } else {
                    sink.add(
                        .typeMismatch, "a merge key `<<` takes mappings, but this is \(item.kindDescription)", at: item.span)
                }
            }
            return out
        case .scalar:
            sink.add(.typeMismatch, "a merge key `<<` takes a mapping or a list of mappings, but this is \(v.kindDescription)", at: v.span)
            return []
        }
    }
}

/// libyaml's events of one file, parsed on a thread of its own and handed over in batches,
/// in order (`ParseState.consumeFromPipe`). The parser is the producer's until it stops:
/// the consumer reads its problem only after the batch that ends with it.
private final class EventPipe: @unchecked Sendable {
    enum Status { case more, ended, failed, stopped }

    /// Events parsed into one buffer; `count`, `status` are written by the producer before
    /// it hands the batch over, `handled` only by the consumer.
    final class Batch {
        let events: UnsafeMutablePointer<yaml_event_t>
        var count = 0
        var handled = 0
        var status = Status.more

        init(capacity: Int) {
            events = .allocate(capacity: capacity)
            events.initialize(repeating: yaml_event_t(), count: capacity)
        }

        deinit { events.deallocate() }
    }

    /// Large batches: each hand-over may wake a thread.
    static let batchSize = 2048
    static let batchCount = 3

    private let parser: UnsafeMutablePointer<yaml_parser_t>
    private let batches = (0..<EventPipe.batchCount).map { _ in Batch(capacity: EventPipe.batchSize) }
    private let filled = DispatchSemaphore(value: 0)
    /// Free batches. Counted up from 0 in `init`: libdispatch traps when a semaphore is
    /// freed below the value it was created with.
    private let free = DispatchSemaphore(value: 0)
    private let exited = DispatchSemaphore(value: 0)
    private let stop = Atomic<Bool>(false)
    /// The consumer's side: the batch it reads next, and whether it had the last one.
    private var nextSlot = 0
    private var current: Batch?
    private var sawLast = false

    init(parser: UnsafeMutablePointer<yaml_parser_t>) {
        self.parser = parser
        for _ in 0..<Self.batchCount { free.signal() }
    }

    func start() {
        DispatchQueue.global().async { self.produce() }
    }

    private func produce() {
        var slot = 0
        while true {
            free.wait()
            let b = batches[slot]
            b.count = 0
            b.handled = 0
            if stop.load(ordering: .acquiring) {
                b.status = .stopped
                filled.signal()
                break
            }
            var status = Status.more
            while b.count < Self.batchSize {
                if yaml_parser_parse(parser, b.events + b.count) != 1 {
                    status = .failed
                    break
                }
                let type = b.events[b.count].type
                b.count += 1
                if type == YAML_STREAM_END_EVENT {
                    status = .ended
                    break
                }
            }
            b.status = status
            filled.signal()
            if status != .more { break }
            slot = (slot + 1) % Self.batchCount
        }
        exited.signal()
    }

    /// The next batch, in order; nil after the last one.
    func next() -> Batch? {
        if sawLast { return nil }
        filled.wait()
        let b = batches[nextSlot]
        nextSlot = (nextSlot + 1) % Self.batchCount
        if b.status != .more { sawLast = true }
        current = b
        return b
    }

    /// Gives the current batch (every event handled) back to the producer.
    func release() {
        current = nil
        free.signal()
    }

    /// Stops the producer, deletes the events nobody handled and waits until the producer
    /// has exited (the parser is the consumer's again).
    func finish() {
        stop.store(true, ordering: .releasing)
        while true {
            if let b = current {
                for k in b.handled..<b.count { yaml_event_delete(b.events + k) }
                b.handled = b.count
                current = nil
                if sawLast { break }
                free.signal()
            }
            guard next() != nil else { break }
        }
        exited.wait()
    }
}
