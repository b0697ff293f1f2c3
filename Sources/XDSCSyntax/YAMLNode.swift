import XDSCDiagnostics

/// The nodes of one parsed file, stored flat (issue 13): one array of small records, the
/// scalars' text in one byte buffer, and each collection's children as a range of one index
/// array. A class tree allocated an object per node (72 bytes, plus an array per
/// collection and a string per long scalar); a record here is 24 bytes, and a whole file
/// is a handful of allocations, freed at once.
///
/// Immutable once the reader has built it; `YAMLNode` values are indices into it.
final class YAMLTree: Sendable {
    /// One node: its range, and either its text (a scalar) or its children (a collection).
    /// 16 bytes (issue 13): the end is kept relative to the start, and the start's column
    /// and the count share one word; the few values too large for that (an end thousands of
    /// lines on, a column past 65534, a scalar of 4 KiB, a collection of 4095 children) are
    /// in the tree's `farEnds`, `farColumns` and `farCounts`.
    struct Record: Sendable {
        /// The start's line.
        let line: Int32
        /// Bits 0-15: the start's column, or `farColumn`; bits 16-27: the text's length or the
        /// number of children (a mapping's pairs count twice, key and value), or `farCount`;
        /// bits 28-30: the kind; bit 31: a mapping with merged pairs.
        let packed: UInt32
        /// Bits 20-31: the end's line minus the start's; bits 0-19: the end's column; or
        /// `farEnd` when the end does not fit.
        let endCode: UInt32
        /// A scalar: offset of its text in `text`; a collection: of its first child in `children`.
        let first: UInt32

        static let farColumn: UInt32 = 0xFFFF
        static let farCount: UInt32 = 0xFFF
        static let mergedFlag: UInt32 = 1 << 31
        static let farEnd = UInt32.max

        init(start: SourcePosition, end: SourcePosition, first: Int, count: Int, kind: RecordKind, hasMerged: Bool = false) {
            self.line = Int32(truncatingIfNeeded: start.line)
            let lines = end.line - start.line
            // 4094 lines at most, so no code that fits is `farEnd`.
            self.endCode =
                lines >= 0 && lines < 4095 && end.column >= 0 && end.column < 1 << 20
                ? UInt32(lines) << 20 | UInt32(end.column) : Self.farEnd
            self.first = UInt32(first)
            let column = start.column >= 0 && start.column < Int(Self.farColumn) ? UInt32(start.column) : Self.farColumn
            let small = count >= 0 && count < Int(Self.farCount) ? UInt32(count) : Self.farCount
            self.packed = column | small << 16 | UInt32(kind.rawValue) << 28 | (hasMerged ? Self.mergedFlag : 0)
        }

        /// The end, unless it is a far one.
        var nearEnd: SourcePosition? {
            endCode == Self.farEnd ? nil : SourcePosition(line: Int(line) + Int(endCode >> 20), column: Int(endCode & 0xFFFFF))
        }

        /// The start, unless its column is a far one.
        var nearStart: SourcePosition? {
            let column = packed & Self.farColumn
            return column == Self.farColumn ? nil : SourcePosition(line: Int(line), column: Int(column))
        }

        /// The count, unless it is a far one: never 0 to 4094 then, so a test for a small
        /// count (an empty or short scalar) needs no look-up.
        var smallCount: Int { Int((packed >> 16) & Self.farCount) }
        var hasFarCount: Bool { (packed >> 16) & Self.farCount == Self.farCount }
        var hasFarColumn: Bool { packed & Self.farColumn == Self.farColumn }
        var kind: RecordKind { RecordKind(rawValue: UInt8((packed >> 28) & 7))! }
        var hasMerged: Bool { packed & Self.mergedFlag != 0 }
    }

    /// What a record holds; a scalar's kind is its style.
    enum RecordKind: UInt8 {
        case plain, singleQuoted, doubleQuoted, literal, folded, mapping, sequence

        var style: YAMLScalar.Style? {
            switch self {
            case .plain: .plain
            case .singleQuoted: .singleQuoted
            case .doubleQuoted: .doubleQuoted
            case .literal: .literal
            case .folded: .folded
            case .mapping, .sequence: nil
            }
        }

        init(_ style: YAMLScalar.Style) {
            switch style {
            case .plain: self = .plain
            case .singleQuoted: self = .singleQuoted
            case .doubleQuoted: self = .doubleQuoted
            case .literal: self = .literal
            case .folded: self = .folded
            }
        }
    }

    /// A child that is seen through an alias: the node it shows and how it is seen.
    struct View: Sendable {
        let target: Int32
        let alias: AliasView
    }

    let file: String
    /// `file`, interned once: every span made from the tree names it by this id.
    let fileID: SourceSpan.FileID
    let records: [Record]
    /// Children of collections: a record index when >= 0, else `~i` for `views[i]`.
    let children: [Int32]
    let text: [UInt8]
    let views: [View]
    /// Explicit tags by record, only for the (rare) tagged nodes.
    let tags: [Int32: String]
    /// Positions in `children` of the keys of pairs a `<<` merge brought in.
    let mergedKeys: Set<Int32>
    /// The ends of the records whose end does not fit them, by record.
    let farEnds: [Int32: SourcePosition]
    /// The start columns of the records whose start column does not fit them, by record.
    let farColumns: [Int32: Int]
    /// The counts of the records whose count does not fit them, by record.
    let farCounts: [Int32: Int]

    init(
        file: String, records: [Record], children: [Int32], text: [UInt8], views: [View], tags: [Int32: String], mergedKeys: Set<Int32>,
        farEnds: [Int32: SourcePosition], farColumns: [Int32: Int], farCounts: [Int32: Int]
    ) {
        self.farEnds = farEnds
        self.farColumns = farColumns
        self.farCounts = farCounts
        self.file = file
        self.fileID = SourceSpan.FileID(file)
        self.records = records
        self.children = children
        self.text = text
        self.views = views
        self.tags = tags
        self.mergedKeys = mergedKeys
    }

    /// The node child reference `ref` stands for, below a parent seen as `parent` (nil when
    /// the parent is seen where it is written).
    func node(_ ref: Int32, under parent: AliasView?) -> YAMLNode {
        if ref >= 0 {
            guard let parent else { return YAMLNode(tree: self, index: ref, view: nil) }
            let r = records[Int(ref)]
            return YAMLNode(tree: self, index: ref, view: parent.child(writtenAt: start(of: r, ref), end(of: r, ref), keeping: nil))
        }
        let v = views[Int(~ref)]
        guard let parent else { return YAMLNode(tree: self, index: v.target, view: v.alias) }
        // An alias inside an aliased value: written at its own token, inside the outer anchor;
        // what it brings in is written inside its own anchor.
        let seen = parent.child(writtenAt: v.alias.start, v.alias.end, keeping: v.alias.childAnchor)
        return YAMLNode(tree: self, index: v.target, view: seen)
    }

    /// Where record `r` (at `index`) ends.
    func end(of r: Record, _ index: Int32) -> SourcePosition { r.nearEnd ?? farEnds[index]! }

    /// Where record `r` (at `index`) starts.
    func start(of r: Record, _ index: Int32) -> SourcePosition {
        r.nearStart ?? SourcePosition(line: Int(r.line), column: farColumns[index]!)
    }

    /// The text's length or the number of children of record `r` (at `index`).
    func count(of r: Record, _ index: Int32) -> Int { r.hasFarCount ? farCounts[index]! : r.smallCount }

    /// Whether the text of scalar record `r` (at `index`) is exactly `s`.
    func text(of r: Record, _ index: Int32, equals s: String) -> Bool {
        var s = s
        let count = count(of: r, index)
        return s.withUTF8 { want in
            guard want.count == count else { return false }
            return text.withUnsafeBufferPointer { all in
                let from = Int(r.first)
                for i in 0..<want.count where all[from + i] != want[i] { return false }
                return true
            }
        }
    }

    /// The text of scalar record `r` (at `index`).
    func string(of r: Record, _ index: Int32) -> String {
        let count = count(of: r, index)
        return text.withUnsafeBufferPointer { all in
            String(decoding: UnsafeBufferPointer(rebasing: all[Int(r.first)..<Int(r.first) + count]), as: UTF8.self)
        }
    }
}

/// How a node reached through a YAML alias is seen: at the alias token (`use`), with the
/// place it is written (`written`, under anchor `anchor`) kept as the span's origin; its
/// children are written inside `childAnchor`.
final class AliasView: Sendable {
    let start: SourcePosition
    let end: SourcePosition
    let anchor: String
    let writtenStart: SourcePosition
    let writtenEnd: SourcePosition
    let childAnchor: String

    init(
        start: SourcePosition, end: SourcePosition, anchor: String, writtenStart: SourcePosition, writtenEnd: SourcePosition,
        childAnchor: String
    ) {
        self.start = start
        self.end = end
        self.anchor = anchor
        self.writtenStart = writtenStart
        self.writtenEnd = writtenEnd
        self.childAnchor = childAnchor
    }

    /// How a child written from `start` to `end` is seen below this view: at this view's
    /// alias token, written inside this view's child anchor; its own children inside
    /// `keeping` (an inner alias's anchor) or that same anchor.
    func child(writtenAt start: SourcePosition, _ end: SourcePosition, keeping: String?) -> AliasView {
        AliasView(
            start: self.start, end: self.end, anchor: childAnchor, writtenStart: start, writtenEnd: end,
            childAnchor: keeping ?? childAnchor)
    }
}

/// A YAML node with the exact source range of its token(s): a position in its file's flat
/// tree. An alias shares the very nodes it names (never copied, so expansion costs nothing
/// until a pass walks it), but is seen at the alias: it and everything below it carry the
/// span of the `*name` token, with the written place kept as the span's `origin`. A finding
/// on an aliased value thus points at the use, and says where the value is defined.
public struct YAMLNode: Sendable {
    /// What the node is: a scalar, a mapping or a sequence.
    public enum Kind: Sendable {
        case scalar(YAMLScalar)
        case mapping(Pairs)
        case sequence(Items)
    }

    let tree: YAMLTree
    let index: Int32
    /// Set when the node is seen through an alias.
    let view: AliasView?

    private var record: YAMLTree.Record { tree.records[Int(index)] }

    /// Where this was written.
    public var span: SourceSpan {
        guard let view else {
            let r = record
            return SourceSpan(fileID: tree.fileID, start: tree.start(of: r, index), end: tree.end(of: r, index))
        }
        return SourceSpan(
            fileID: tree.fileID, start: view.start, end: view.end,
            origin: .init(anchor: view.anchor, start: view.writtenStart, end: view.writtenEnd))
    }

    /// An explicit tag such as `!!str`, if written.
    public var tag: String? { tree.tags.isEmpty ? nil : tree.tags[index] }

    /// The content; below an alias, children are seen at the alias.
    public var kind: Kind {
        let r = record
        switch r.kind {
        case .mapping: return .mapping(Pairs(tree: tree, record: r, index: index, view: view))
        case .sequence: return .sequence(Items(tree: tree, record: r, index: index, view: view))
        default: return .scalar(YAMLScalar(text: tree.string(of: r, index), style: r.kind.style!))
        }
    }

    /// The scalar, when this is a scalar.
    public var scalar: YAMLScalar? {
        let r = record
        guard let style = r.kind.style else { return nil }
        return YAMLScalar(text: tree.string(of: r, index), style: style)
    }
    /// The pairs, when this is a mapping.
    public var mapping: Pairs? {
        let r = record
        return r.kind == .mapping ? Pairs(tree: tree, record: r, index: index, view: view) : nil
    }
    /// The elements, when this is a sequence.
    public var sequence: Items? {
        let r = record
        return r.kind == .sequence ? Items(tree: tree, record: r, index: index, view: view) : nil
    }
    /// The pairs of a mapping; none for a scalar or a sequence.
    public var pairs: Pairs { mapping ?? Pairs(tree: tree, first: 0, count: 0, hasMerged: false, view: nil) }
    /// The elements of a sequence; none for a scalar or a mapping.
    public var items: Items { sequence ?? Items(tree: tree, first: 0, count: 0, view: nil) }

    /// Whether this is a mapping.
    public var isMapping: Bool { record.kind == .mapping }

    /// True for an empty plain scalar, `~` or `null`.
    public var isNull: Bool {
        let r = record
        guard r.kind == .plain else { return false }
        // A far count is never 0, 1 or 4.
        let count = r.smallCount
        if count == 0 { return true }
        guard count == 1 || count == 4 else { return false }
        // The bytes compared in place: every key of every mapping is asked (`nullWords`).
        return tree.text.withUnsafeBufferPointer { t in
            let i = Int(r.first)
            if count == 1 { return t[i] == UInt8(ascii: "~") }
            let rest = (t[i + 1], t[i + 2], t[i + 3])
            if rest == (UInt8(ascii: "u"), UInt8(ascii: "l"), UInt8(ascii: "l")) {
                return t[i] == UInt8(ascii: "n") || t[i] == UInt8(ascii: "N")
            }
            return t[i] == UInt8(ascii: "N") && rest == (UInt8(ascii: "U"), UInt8(ascii: "L"), UInt8(ascii: "L"))
        }
    }

    /// What kind of value this is, in words for messages: "a mapping", "a list", "a string"...
    public var kindDescription: String {
        switch kind {
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .scalar(let s): s.kindDescription
        }
    }

    /// The value of key `name` in a mapping, or nil.
    public subscript(name: String) -> YAMLNode? {
        let r = record
        guard r.kind == .mapping else { return nil }
        var k = Int(r.first)
        let end = k + tree.count(of: r, index)
        while k < end {
            let key = tree.children[k]
            // A key seen through an alias has the same text as the key it shows.
            let keyIndex = key >= 0 ? key : tree.views[Int(~key)].target
            let keyRecord = tree.records[Int(keyIndex)]
            if keyRecord.kind.style != nil && tree.text(of: keyRecord, keyIndex, equals: name) {
                return tree.node(tree.children[k + 1], under: view)
            }
            k += 2
        }
        return nil
    }

    /// The pairs of a mapping, in order: a view into the tree, made on access.
    public struct Pairs: RandomAccessCollection, Sendable {
        let tree: YAMLTree
        let first: Int
        /// The number of pairs.
        public let count: Int
        let hasMerged: Bool
        let view: AliasView?

        init(tree: YAMLTree, first: Int, count: Int, hasMerged: Bool, view: AliasView?) {
            self.tree = tree
            self.first = first
            self.count = count
            self.hasMerged = hasMerged
            self.view = view
        }

        init(tree: YAMLTree, record r: YAMLTree.Record, index: Int32, view: AliasView?) {
            self.init(tree: tree, first: Int(r.first), count: tree.count(of: r, index) / 2, hasMerged: r.hasMerged, view: view)
        }

        /// The first pair's position, 0.
        public var startIndex: Int { 0 }
        /// Past the last pair.
        public var endIndex: Int { count }

        /// The pair at position `i`.
        public subscript(i: Int) -> YAMLPair {
            precondition(i >= 0 && i < count, "pair index out of range")
            let k = first + 2 * i
            return YAMLPair(
                key: tree.node(tree.children[k], under: view), value: tree.node(tree.children[k + 1], under: view),
                merged: hasMerged && tree.mergedKeys.contains(Int32(k)))
        }
    }

    /// The elements of a sequence, in order: a view into the tree, made on access.
    public struct Items: RandomAccessCollection, Sendable {
        let tree: YAMLTree
        let first: Int
        /// The number of elements.
        public let count: Int
        let view: AliasView?

        init(tree: YAMLTree, first: Int, count: Int, view: AliasView?) {
            self.tree = tree
            self.first = first
            self.count = count
            self.view = view
        }

        init(tree: YAMLTree, record r: YAMLTree.Record, index: Int32, view: AliasView?) {
            self.init(tree: tree, first: Int(r.first), count: tree.count(of: r, index), view: view)
        }

        /// The first element's position, 0.
        public var startIndex: Int { 0 }
        /// Past the last element.
        public var endIndex: Int { count }

        /// The element at position `i`.
        public subscript(i: Int) -> YAMLNode {
            precondition(i >= 0 && i < count, "element index out of range")
            return tree.node(tree.children[first + i], under: view)
        }
    }
}

/// One `key: value` entry of a mapping.
public struct YAMLPair: Sendable {
    /// The key node.
    public let key: YAMLNode
    /// The value node.
    public let value: YAMLNode
    /// The entry was brought in by a `<<` merge key rather than written in this mapping.
    public let merged: Bool
}

/// A scalar's text and how it was written; plain scalars are typed by the YAML 1.2 core
/// schema (`true`, `12`, `null`), quoted ones are always strings.
public struct YAMLScalar: Sendable {
    /// How the scalar was written.
    public enum Style: Sendable { case plain, singleQuoted, doubleQuoted, literal, folded }

    /// The scalar's text, after YAML's escapes and folding.
    public let text: String
    /// How the scalar was written.
    public let style: Style

    /// The plain scalars the core schema reads as null, but the empty one.
    static let nullWords = ["~", "null", "Null", "NULL"]

    /// Whether the scalar is plain (unquoted, not a block scalar).
    public var isPlain: Bool { style == .plain }

    /// Whether the scalar is YAML's null (a plain empty, `~` or `null`).
    public var isNull: Bool { isPlain && (text.isEmpty || Self.nullWords.contains(text)) }

    /// The boolean of a plain `true`/`false` (any case variant the core schema allows).
    public var bool: Bool? {
        guard isPlain else { return nil }
        switch text {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: return nil
        }
    }

    /// The integer of a plain decimal (or `0x`/`0o`) literal.
    public var int: Int? {
        guard isPlain else { return nil }
        var t = Substring(text)
        var sign = 1
        if t.first == "-" || t.first == "+" {
            sign = t.first == "-" ? -1 : 1
            t = t.dropFirst()
        }
        if t.hasPrefix("0x"), let v = Int(t.dropFirst(2), radix: 16) { return sign * v }
        if t.hasPrefix("0o"), let v = Int(t.dropFirst(2), radix: 8) { return sign * v }
        guard !t.isEmpty, t.allSatisfy({ $0.isASCII && $0.isNumber }), let v = Int(t) else { return nil }
        return sign * v
    }

    /// True for a plain scalar the core schema reads as a float (`1.5`, `.inf`).
    public var isFloat: Bool {
        guard isPlain, int == nil else { return false }
        if [".inf", ".Inf", "-.inf", ".nan", ".NaN"].contains(text) { return true }
        let t = text.hasPrefix("-") || text.hasPrefix("+") ? String(text.dropFirst()) : text
        guard t.contains(".") || t.contains("e") || t.contains("E") else { return false }
        return Double(t) != nil
    }

    /// The node's kind as messages name it.
    public var kindDescription: String {
        if isNull { return "null" }
        if bool != nil { return "a boolean" }
        if int != nil { return "an integer" }
        if isFloat { return "a number" }
        return "a string"
    }
}
