import XDSCDiagnostics

/// A YAML node with the exact source range of its token(s). An alias shares the very
/// nodes it names (never copied, so expansion costs nothing until a pass walks it), but is
/// seen at the alias: it and everything below it carry the span of the `*name` token, with
/// the written place kept as the span's `origin`. A finding on an aliased value thus points
/// at the use, and says where the value is defined.
public final class YAMLNode: @unchecked Sendable {
    /// What the node is: a scalar, a mapping or a sequence.
    public enum Kind {
        case scalar(YAMLScalar)
        case mapping([YAMLPair])
        case sequence([YAMLNode])
    }

    // Laid out for size (a large policy has millions of nodes): the content, the expanded
    // size in 32 bits, the range, the file name shared by every node of the file, and the
    // rare tag and alias out of line.
    private let storage: Kind
    private let expandedSize32: UInt32
    private let start: SourcePosition
    private let end: SourcePosition
    private let file: FileName
    private let extra: Extra?

    /// The path every node of one file shares, held once.
    final class FileName {
        let path: String
        init(_ path: String) { self.path = path }
    }

    private final class Extra {
        let tag: String?
        /// For a node seen through an alias: the anchor's name and the alias token's span,
        /// which the children take on when they are read.
        let alias: (anchor: String, use: SourceSpan)?
        /// The span of a node seen through an alias (the alias token, with the origin).
        let span: SourceSpan?

        init(tag: String?, alias: (anchor: String, use: SourceSpan)?, span: SourceSpan?) {
            self.tag = tag
            self.alias = alias
            self.span = span
        }
    }

    /// Where this was written.
    public var span: SourceSpan {
        if let s = extra?.span { return s }
        return SourceSpan(file: file.path, start: start, end: end)
    }
    /// Nodes this node stands for once every alias is expanded (itself included).
    public var expandedSize: Int { Int(expandedSize32) }
    /// An explicit tag such as `!!str`, if written.
    public var tag: String? { extra?.tag }
    private var alias: (anchor: String, use: SourceSpan)? { extra?.alias }

    /// A node written from `start` to `end` in the file `file` names; an expanded size past
    /// 2^32 - 1 is kept as that, far over any limit.
    init(kind: Kind, start: SourcePosition, end: SourcePosition, file: FileName, tag: String?, expandedSize: Int) {
        self.storage = kind
        self.expandedSize32 = UInt32(clamping: expandedSize)
        self.start = start
        self.end = end
        self.file = file
        self.extra = tag.map { Extra(tag: $0, alias: nil, span: nil) }
    }

    private init(viewing node: YAMLNode, anchor: String, use: SourceSpan) {
        storage = node.storage
        expandedSize32 = node.expandedSize32
        start = use.start
        end = use.end
        file = node.file
        // The children are written inside the innermost anchor: an alias met inside an
        // aliased value keeps its own anchor for them. Such an inner alias is itself
        // "written" at its own token, inside this anchor.
        let written = node.span
        extra = Extra(
            tag: node.tag, alias: (node.alias?.anchor ?? anchor, use),
            span: SourceSpan(
                file: use.file, start: use.start, end: use.end, origin: .init(anchor: anchor, start: written.start, end: written.end)))
    }

    /// This node as used by alias `*anchor` at `use`.
    func seen(throughAlias anchor: String, at use: SourceSpan) -> YAMLNode {
        YAMLNode(viewing: self, anchor: anchor, use: use)
    }

    /// The content; below an alias, children are built (cheaply, sharing their content) as
    /// views at the alias each time this is read.
    public var kind: Kind {
        guard let (anchor, use) = alias else { return storage }
        switch storage {
        case .scalar: return storage
        case .sequence(let items): return .sequence(items.map { $0.seen(throughAlias: anchor, at: use) })
        case .mapping(let pairs):
            return .mapping(
                pairs.map {
                    YAMLPair(
                        key: $0.key.seen(throughAlias: anchor, at: use), value: $0.value.seen(throughAlias: anchor, at: use),
                        merged: $0.merged)
                })
        }
    }

    /// The scalar, when this is a scalar.
    public var scalar: YAMLScalar? { if case .scalar(let s) = kind { return s } else { return nil } }
    /// The pairs, when this is a mapping.
    public var mapping: [YAMLPair]? { if case .mapping(let m) = kind { return m } else { return nil } }
    /// The elements, when this is a sequence.
    public var sequence: [YAMLNode]? { if case .sequence(let s) = kind { return s } else { return nil } }

    /// True for an empty plain scalar, `~` or `null`.
    public var isNull: Bool { scalar?.isNull ?? false }

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
        mapping?.first { $0.key.scalar?.text == name }?.value
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

    /// Whether the scalar is plain (unquoted, not a block scalar).
    public var isPlain: Bool { style == .plain }

    /// Whether the scalar is YAML's null (a plain empty, `~` or `null`).
    public var isNull: Bool { isPlain && (text.isEmpty || text == "~" || text == "null" || text == "Null" || text == "NULL") }

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
