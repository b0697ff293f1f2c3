import Foundation
import XDSCDiagnostics
import XDSCEnvoy
import XDSCSyntax

/// How the reader treats one field of an Envoy message.
enum FieldUse: Sendable, Equatable {
    /// Read into the model.
    case read
    /// Valid Envoy, not modelled, and it does not change where a request goes (stats,
    /// tracing, buffer sizes): read without a word.
    case ignored
    /// Valid Envoy, not modelled, and it can change routing: a `unmodeled-field` warning at
    /// its position.
    case routing
    /// Valid Envoy, not modelled, and it changes how Envoy serves a route's requests (not
    /// where they go): an `unsimulated-field` warning at its position, since neither the
    /// route engine nor the embedded proxy acts on it.
    case unsimulated
    /// Like `routing`, but a setting whose effect on the analysis is only that requests are
    /// normalised before matching (`normalize_path`): a note, not a warning.
    case routingNote
    /// A v2 field the v3 API no longer has (Envoy rejects it); the text is the help line.
    case removed(String)
}

/// The values of one protobuf enum as the reader takes them: each value's name and number
/// in the `.proto`, and the model value it reads as. Envoy parses enum names
/// case-insensitively (`loadFromJson`: `case_insensitive_enum_parsing`) and takes numbers.
struct EnumTable<Value>: Sendable where Value: Sendable {
    /// The enum's full proto name (`envoy.config.cluster.v3.Cluster.LbPolicy`).
    let proto: String
    let cases: [(name: String, number: Int, value: Value)]

    init(_ proto: String, _ cases: [(name: String, number: Int, value: Value)]) {
        self.proto = proto
        self.cases = cases
    }

    /// An enum numbered 0, 1, 2... in the order of `cases`.
    init(_ proto: String, numberedInOrder cases: [(String, Value)]) {
        self.init(proto, cases.enumerated().map { (name: $0.element.0, number: $0.offset, value: $0.element.1) })
    }
}

/// The names and numbers of an ``EnumTable`` (for the check against Envoy's API).
protocol EnumValues: Sendable {
    var proto: String { get }
    var values: [(name: String, number: Int)] { get }
}

extension EnumTable: EnumValues {
    var values: [(name: String, number: Int)] { cases.map { ($0.name, $0.number) } }
}

/// The field table of one Envoy message: every field of its `.proto` (proto names), and
/// what the reader does with each. The reader's behaviour for a message is this data; the
/// code that builds model values only reads the `.read` fields.
struct MessageTable: Sendable {
    /// The message's short name, for messages (`RouteMatch`).
    let name: String
    let fields: [String: FieldUse]
    /// Field names in table order, so did-you-mean is deterministic.
    let names: [String]
    /// The `ignored` field names, in table order.
    let ignoredNames: [String]
    /// The `unsimulated` field names, in table order.
    let unsimulatedNames: [String]

    init(
        _ name: String, read: [String], ignored: [String] = [], unsimulated: [String] = [], routing: [String] = [],
        notes: [String] = [], removed: [String: String] = [:]
    ) {
        self.name = name
        var f: [String: FieldUse] = [:]
        for n in read { f[n] = .read }
        for n in ignored { f[n] = .ignored }
        for n in unsimulated { f[n] = .unsimulated }
        for n in routing { f[n] = .routing }
        for n in notes { f[n] = .routingNote }
        for (n, help) in removed { f[n] = .removed(help) }
        self.fields = f
        self.names = read + ignored + unsimulated + routing + notes
        self.ignoredNames = ignored
        self.unsimulatedNames = unsimulated
    }
}

/// Shared state of one read: the sink, the extensions kept opaque, and the limits.
final class ReadContext {
    let sink: DiagnosticSink
    /// Extensions xdsc keeps by name only (named in `--verbose` output).
    var opaque: [OpaqueExtension] = []
    /// SDS secrets named or defined.
    var secrets: [SecretReference] = []
    /// RDS names the connection managers ask for, with where.
    var rdsReferences: [(name: String, span: SourceSpan)] = []
    /// Direct-response bodies read, with their size in bytes and position (checked against
    /// the route table's `max_direct_response_body_size_bytes`).
    var directResponseBodies: [(size: Int, span: SourceSpan)] = []

    init(sink: DiagnosticSink) { self.sink = sink }

    func error(_ rule: Rule.ID, _ message: String, at span: SourceSpan, label: String? = nil, help: String? = nil) {
        sink.add(rule, message, at: span, label: label, help: help)
    }
}

/// One Envoy message being read from a YAML/JSON mapping, with Envoy's JSON parser rules:
/// proto or lowerCamel names, `null` as absent, wrappers, Durations, enums by name or
/// number, a single object for a one-element list (with a warning). Unknown fields,
/// removed v2 fields and unmodelled routing fields are reported when the message is
/// opened; the getters report wrong types at the value's position and return nil.
struct Message {
    let node: YAMLNode
    let table: MessageTable
    let ctx: ReadContext
    /// Proto field name -> (key node, value node); nulls left out.
    private(set) var values: [String: (key: YAMLNode, value: YAMLNode)] = [:]
    /// The `@type` of an `Any`, when the mapping had one.
    private(set) var typeURL: String?

    /// The mapping's span.
    var span: SourceSpan { node.span }

    /// Opens `node` as a `table` message; nil (and `type-mismatch`) when it is not a mapping.
    /// `any` allows (and reads) an `@type` key.
    init?(_ node: YAMLNode, _ table: MessageTable, _ ctx: ReadContext, any: Bool = false) {
        guard let pairs = node.mapping else {
            if !node.isNull {
                ctx.error(
                    .typeMismatch, "expected a `\(table.name)` object, found \(node.kindDescription)", at: node.span,
                    label: "not an object")
            }
            return nil
        }
        self.node = node
        self.table = table
        self.ctx = ctx
        for p in pairs {
            guard let key = p.key.scalar?.text else {
                ctx.error(.typeMismatch, "expected a field name, found \(p.key.kindDescription)", at: p.key.span)
                continue
            }
            if key == "@type" {
                if any, let t = p.value.scalar?.text {
                    typeURL = t
                } else if any {
                    ctx.error(.typeMismatch, "expected a type URL string for `@type`", at: p.value.span)
                } else {
                    ctx.error(
                        .unknownField, "`\(table.name)` is not a `google.protobuf.Any`: `@type` is not a field of it",
                        at: p.key.span, label: "unknown field")
                }
                continue
            }
            let name = Self.protoName(key)
            guard let use = table.fields[name] else {
                var help: String?
                if let s = Self.suggestion(for: name, in: table.names) { help = "did you mean `\(s)`?" }
                ctx.error(
                    .unknownField, "unknown field `\(key)` in `\(table.name)`", at: p.key.span, label: "unknown field",
                    help: help)
                continue
            }
            if let earlier = values[name] {
                ctx.sink.add(
                    Diagnostic(
                        .conflictingFields, "`\(key)` is the same field as `\(earlier.key.scalar?.text ?? name)`", at: p.key.span,
                        related: [RelatedLocation("first written here", at: earlier.key.span)],
                        help: "write the field once (proto name or lowerCamel, not both)"))
                continue
            }
            switch use {
            case .removed(let help):
                ctx.error(
                    .unknownField, "`\(key)` was removed from Envoy's v3 API; Envoy rejects it in `\(table.name)`",
                    at: p.key.span, label: "v2 field", help: help)
                continue
            case .routing:
                if !p.value.isNull {
                    ctx.error(
                        .unmodeledField,
                        "`\(name)` of `\(table.name)` can change routing but xdsc does not model it",
                        at: p.key.span, label: "not modelled",
                        help: "findings that depend on it are left out; check this part of the configuration by hand")
                }
            case .routingNote:
                if !p.value.isNull {
                    ctx.sink.add(
                        Diagnostic(
                            .unmodeledField,
                            "`\(name)` of `\(table.name)` changes the path before routes are matched; xdsc matches the path as received",
                            at: p.key.span, severity: .note, label: "not modelled"))
                }
            case .unsimulated:
                if !p.value.isNull {
                    ctx.error(
                        .unsimulatedField,
                        "`\(name)` of `\(table.name)` changes how Envoy serves these requests, but neither `xdsc route` nor the proxy acts on it",
                        at: p.key.span, label: "not simulated",
                        help: "the engine and the proxy behave as if it were not set; check its effect in Envoy")
                }
            case .read, .ignored: break
            }
            if p.value.isNull { continue }
            values[name] = (p.key, p.value)
        }
    }

    /// `lowerCamel` -> `lower_camel`; proto names are unchanged.
    static func protoName(_ key: String) -> String {
        guard key.contains(where: \.isUppercase) else { return key }
        var out = ""
        for c in key {
            if c.isUppercase {
                out += "_" + c.lowercased()
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// Whether `field` is set (not null).
    func has(_ field: String) -> Bool { values[field] != nil }

    /// The value node of `field`.
    func value(_ field: String) -> YAMLNode? {
        assert(table.fields[field] != nil, "\(field) is not in the table of \(table.name)")
        return values[field]?.value
    }

    /// The key node of `field`, for messages about the field itself.
    func keySpan(_ field: String) -> SourceSpan { values[field]?.key.span ?? node.span }

    /// The span of `field`'s value, or the message's.
    func span(_ field: String) -> SourceSpan { values[field]?.value.span ?? node.span }

    func mismatch(_ field: String, _ node: YAMLNode, _ expected: String) {
        ctx.error(
            .typeMismatch, "`\(field)` must be \(expected), found \(node.kindDescription)", at: node.span,
            label: "expected \(expected)")
    }

    /// A `string` field.
    func string(_ field: String) -> String? {
        guard let v = value(field) else { return nil }
        return Self.string(v, field, self)
    }

    static func string(_ v: YAMLNode, _ field: String, _ m: Message) -> String? {
        guard let s = v.scalar, !s.isPlain || (s.bool == nil && s.int == nil && !s.isFloat) else {
            m.mismatch(field, v, "a string")
            return nil
        }
        return s.text
    }

    /// A required `string` field: `missing-field` when absent.
    func requiredString(_ field: String) -> String? {
        if !has(field) {
            ctx.error(.missingField, "`\(table.name)` needs `\(field)`", at: node.span, label: "missing `\(field)`")
            return nil
        }
        return string(field)
    }

    /// A `bool` or `google.protobuf.BoolValue` field (bare or `{"value": b}`).
    func bool(_ field: String) -> Bool? {
        guard var v = value(field) else { return nil }
        if let w = Self.unwrap(v) { v = w }
        if let b = v.scalar?.bool { return b }
        // Envoy's JSON parser also takes "true"/"false" strings for bools.
        if let s = v.scalar, !s.isPlain, s.text == "true" || s.text == "false" { return s.text == "true" }
        mismatch(field, v, "a boolean")
        return nil
    }

    /// An integer field (any width), bare, as a decimal string (proto JSON's 64-bit form) or
    /// as a wrapper `{"value": n}`; `range` is the proto's range.
    func int(_ field: String, _ range: ClosedRange<Int64> = Int64(UInt32.min)...Int64(UInt32.max)) -> Int64? {
        guard var v = value(field) else { return nil }
        if let w = Self.unwrap(v) { v = w }
        guard let s = v.scalar else {
            mismatch(field, v, "an integer")
            return nil
        }
        let n: Int64? = s.isPlain ? s.int.map(Int64.init) : Int64(s.text)
        guard let n else {
            mismatch(field, v, "an integer")
            return nil
        }
        guard range.contains(n) else {
            ctx.error(
                .invalidValue, "`\(field)` is \(n); it must be between \(range.lowerBound) and \(range.upperBound)", at: v.span,
                label: "out of range")
            return nil
        }
        return n
    }

    /// A `double` (or `DoubleValue`) field.
    func double(_ field: String) -> Double? {
        guard var v = value(field) else { return nil }
        if let w = Self.unwrap(v) { v = w }
        if let s = v.scalar, let d = Double(s.text) { return d }
        mismatch(field, v, "a number")
        return nil
    }

    /// `{"value": x}` -> x, for wrapper types written in their message form.
    static func unwrap(_ v: YAMLNode) -> YAMLNode? {
        guard let m = v.mapping, m.count == 1, m[0].key.scalar?.text == "value" else { return nil }
        return m[0].value
    }

    /// A `google.protobuf.Duration` field: `"1.5s"` or `{seconds, nanos}`.
    func duration(_ field: String) -> EnvoyDuration? {
        guard let v = value(field) else { return nil }
        if let s = v.scalar, let d = EnvoyDuration(protobufText: s.text) { return d }
        if let pairs = v.mapping {
            var total: Int64 = 0
            var ok = true
            for p in pairs {
                let n = p.value.scalar.flatMap { $0.isPlain ? $0.int.map(Int64.init) : Int64($0.text) }
                switch (p.key.scalar?.text, n) {
                case ("seconds", let s?): total += s * 1_000_000_000
                case ("nanos", let s?): total += s
                default: ok = false
                }
            }
            if ok { return EnvoyDuration(nanoseconds: total) }
        }
        ctx.error(
            .typeMismatch, "`\(field)` must be a duration such as \"1.5s\" or {seconds: 1, nanos: 500000000}", at: v.span,
            label: "not a duration")
        return nil
    }

    /// A repeated field: a list, or (warning `single-object-list`) one value read as a list
    /// of one.
    func list(_ field: String) -> [YAMLNode] {
        guard let v = value(field) else { return [] }
        if let s = v.sequence { return s.filter { !$0.isNull } }
        ctx.error(
            .singleObjectList, "`\(field)` is a repeated field; \(v.kindDescription) was read as a list of one",
            at: v.span, label: "not a list", help: "write it as a list: `[...]` or `- ` items")
        return [v]
    }

    /// A repeated `string` field.
    func strings(_ field: String) -> [String] {
        list(field).compactMap { Self.string($0, field, self) }
    }

    /// A message field.
    func message(_ field: String, _ table: MessageTable) -> Message? {
        value(field).flatMap { Message($0, table, ctx) }
    }

    /// A repeated message field.
    func messages(_ field: String, _ table: MessageTable) -> [Message] {
        list(field).compactMap { Message($0, table, ctx) }
    }

    /// An enum field: by name, case-insensitively, or by number.
    func enumeration<E>(_ field: String, _ table: EnumTable<E>) -> E? {
        guard let v = value(field), let s = v.scalar else {
            if let v = value(field) { mismatch(field, v, "an enum name") }
            return nil
        }
        if s.isPlain, let n = s.int {
            if let c = table.cases.first(where: { $0.number == n }) { return c.value }
        } else if let c = table.cases.first(where: { $0.name.caseInsensitiveCompare(s.text) == .orderedSame }) {
            return c.value
        }
        let names = table.cases.map(\.name)
        var help: String?
        if let best = Self.suggestion(for: s.text.uppercased(), in: names) { help = "did you mean `\(best)`?" }
        ctx.error(
            .invalidValue,
            "`\(s.text)` is not a value of `\(field)`; expected one of \(names.map { "`\($0)`" }.joined(separator: ", "))",
            at: v.span, label: "unknown value", help: help)
        return nil
    }

    /// A `bytes` field: base64 (standard or URL-safe alphabet, padding optional), decoded as
    /// UTF-8 text (invalid UTF-8 is replaced).
    func bytes(_ field: String) -> String? {
        rawBytes(field).map { String(decoding: $0, as: UTF8.self) }
    }

    /// A `bytes` field's bytes (base64, as `bytes`).
    func rawBytes(_ field: String) -> [UInt8]? {
        guard let v = value(field), let text = string(field) else { return nil }
        var t = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while t.count % 4 != 0 { t += "=" }
        guard let data = Data(base64Encoded: t) else {
            ctx.error(
                .invalidValue, "`\(field)` is a bytes field and must be base64", at: v.span, label: "not base64",
                help: "encode the bytes in base64, or use the matching `..._string` field for text")
            return nil
        }
        return Array(data)
    }

    /// A `google.protobuf.Any` (or `typed_config`) field: its `@type` (required: Envoy
    /// rejects an Any without one) and the mapping.
    func any(_ field: String) -> (typeURL: String, node: YAMLNode)? {
        guard let v = value(field) else { return nil }
        guard let pairs = v.mapping else {
            mismatch(field, v, "an object with `@type`")
            return nil
        }
        guard let t = pairs.first(where: { $0.key.scalar?.text == "@type" })?.value.scalar?.text else {
            ctx.error(
                .missingField, "`\(field)` needs `@type`: Envoy reads a typed config only with its type URL", at: v.span,
                label: "no `@type`", help: "add `\"@type\": type.googleapis.com/<message>`")
            return nil
        }
        return (t, v)
    }

    /// The close match among `candidates` for a misspelt `word`, if any.
    static func suggestion(for word: String, in candidates: [String]) -> String? {
        var best: (String, Int)?
        for c in candidates {
            let d = editDistance(word.lowercased(), c.lowercased())
            let limit = max(1, min(3, (max(word.count, c.count) + 2) / 4))
            if d <= limit, best == nil || d < best!.1 { best = (c, d) }
        }
        return best?.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a.unicodeScalars)
        let y = Array(b.unicodeScalars)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var prev = Array(0...y.count)
        for i in 1...x.count {
            var cur = [i] + Array(repeating: 0, count: y.count)
            for j in 1...y.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
            }
            prev = cur
        }
        return prev[y.count]
    }
}
