import XDSCDiagnostics
import XDSCSyntax

/// Reads one mapping of the policy: reports keys that do not belong (with a did-you-mean),
/// and offers typed getters that report wrong kinds and bad values to the sink. A getter
/// returns nil when the key is absent or its value is unusable (already reported).
/// Other YAML formats of xdsc (the traffic test spec) read their mappings with it too, with
/// their own key lists, so every format reports the same way.
public final class Fields {
    /// The mapping read.
    public let node: YAMLNode
    let context: String
    /// What the mapping is, for messages ("route", "service `users`"): made only when a
    /// message needs it.
    public var what: String {
        switch label {
        case .text(let s): s
        case .route(let index): node["name"]?.scalar.map { "route `\($0.text)`" } ?? "route #\(index + 1)"
        }
    }
    private let label: Label
    /// Where a missing key is reported: the key that owns this mapping, else the mapping.
    let anchor: SourceSpan
    /// Where problems go.
    public let sink: DiagnosticSink
    // No table of the pairs (issue 13): a table of (key text, pair) per mapping made a string
    // per key and an array per mapping, and copying and destroying it cost more than all
    // the lookups. The pairs stay in the tree; each pair with a known key is marked by its
    // position and the index of its key in `known`, so a lookup compares known keys (the
    // same literals, equal at once), never the tree's bytes.
    private let pairs: YAMLNode.Pairs
    private let known: KnownKeys
    /// Bit `i`: the key of pair `i` is known (unused when `manyKnown` is set).
    private let knownPairs: UInt64
    /// The index in `known` of the key of each pair of `knownPairs`, in order, 6 bits each.
    private let keyIDs: UInt64
    /// Every pair with a known key and the index of its key, in order, only for a mapping
    /// beyond the two words above (more than 64 pairs, more than 10 known, or more than 63
    /// known keys).
    private let manyKnown: [(pair: Int32, key: Int32)]
    /// The union of the known keys' one-bit signatures (`KeySignature`): most lookups are
    /// for keys a mapping does not write (every policy key of every route), and the
    /// signature turns them away without a comparison.
    private let written: UInt64
    /// Known keys an unknown key was taken for (`tmeout` -> `timeout`): that finding already
    /// says the key is missing, so `missing(_:)` stays quiet about them.
    private var suggested: [String] = []

    /// How `what` is made.
    enum Label {
        case text(String)
        /// A route (the mapping): "route `NAME`" when it has a scalar `name`, else "route #N".
        case route(index: Int)
    }

    /// Nil (after a `type-mismatch`) when `node` is not a mapping. The accepted keys are
    /// `keys`, or the policy language's for `context` when nil.
    public convenience init?(
        _ node: YAMLNode, context: String, what: String, anchor: SourceSpan? = nil, keys: [String]? = nil, sink: DiagnosticSink
    ) {
        self.init(node, context: context, label: .text(what), anchor: anchor, known: keys.map(KnownKeys.init), sink: sink)
    }

    /// The lowering's own entry: the keys given as `known` (else the context's), `what` made
    /// only when a message needs it.
    init?(_ node: YAMLNode, context: String, label: Label, anchor: SourceSpan? = nil, known: KnownKeys? = nil, sink: DiagnosticSink) {
        guard let mapping = node.mapping else {
            let what: String
            switch label {
            case .text(let s): what = s
            case .route(let index): what = "route #\(index + 1)"
            }
            sink.add(
                .typeMismatch, "\(what) must be a mapping, but this is \(node.kindDescription)", at: node.span,
                label: "expected a mapping")
            return nil
        }
        // A class (issue 13): as a struct of a dozen words, each mapping's `Fields` was copied
        // into its optional and destroyed field by field, which cost more than its lookups.
        let known = known ?? KnownKeys.of(context)
        var manyKnown: [(pair: Int32, key: Int32)] = []
        var unknown: [Int] = []
        var many = mapping.count > 64 || known.keys.count > 63
        var knownPairs: UInt64 = 0
        var keyIDs: UInt64 = 0
        var knownCount = 0
        var written: UInt64 = 0
        // The keys' bytes in place, all in one call (issue 13: a call per key, and a copy of
        // each known key's text per comparison, were most of the cost of a mapping).
        mapping.forEachKeyBytes { i, key in
            if let key {
                let signature = KeySignature.of(count: key.count, first: key.first ?? 0)
                if let id = known.index(of: key, signature: signature) {
                    written |= signature
                    if !many && knownCount == 10 {
                        // The words are full: list the pairs marked so far, then go on listing.
                        many = true
                        var bits = knownPairs
                        var ids = keyIDs
                        while bits != 0 {
                            manyKnown.append((Int32(bits.trailingZeroBitCount), Int32(ids & 63)))
                            bits &= bits &- 1
                            ids >>= 6
                        }
                    }
                    if many {
                        manyKnown.append((Int32(i), Int32(id)))
                    } else {
                        knownPairs |= 1 << UInt64(i)
                        keyIDs |= UInt64(id) << UInt64(6 * knownCount)
                    }
                    knownCount += 1
                    return
                }
            }
            unknown.append(i)
        }
        self.node = node
        self.context = context
        self.label = label
        self.anchor = anchor ?? node.span
        self.sink = sink
        self.pairs = mapping
        self.known = known
        self.knownPairs = knownPairs
        self.keyIDs = keyIDs
        self.manyKnown = manyKnown
        self.written = written
        // Only unknown keys are reported above, so reporting them now keeps their order.
        for i in unknown { unknownKey(mapping[i], known: known.keys, in: mapping) }
    }

    /// Reports the key of `p`: not a plain name, or not one of `known` (with a did-you-mean).
    private func unknownKey(_ p: YAMLPair, known: [String], in mapping: YAMLNode.Pairs) {
        guard let key = p.key.scalar, !p.key.isNull else {
            sink.add(.typeMismatch, "keys must be plain names, but this key is \(p.key.kindDescription)", at: p.key.span)
            return
        }
        var help: String?
        var message = "unknown key `\(key.text)` in \(what)"
        let renamed = PolicyKeys.renamed[context] ?? [:]
        if let place = PolicyKeys.belongsUnder[context]?[key.text] {
            help = "`\(key.text)` belongs under \(place)"
        } else if let s = PolicyValues.suggestion(for: key.text, in: known).map({ renamed[$0] ?? $0 }) {
            // A typo near an older spelling (`onn`) suggests the current name.
            message += "; did you mean `\(s)`?"
            help = "rename `\(key.text)` to `\(s)`"
            if !mapping.contains(where: { $0.key.scalar?.text == s }) && !suggested.contains(s) { suggested.append(s) }
        } else {
            help = "valid keys here: " + known.filter { renamed[$0] == nil }.map { "`\($0)`" }.joined(separator: ", ")
        }
        sink.add(.unknownField, message, at: p.key.span, label: "unknown key", help: help)
    }

    /// The position of the first pair whose known key (its index in `known`) passes `test`.
    @inline(__always)
    private func firstKnown(where test: (Int) -> Bool) -> Int? {
        if manyKnown.isEmpty {
            var bits = knownPairs
            var ids = keyIDs
            while bits != 0 {
                if test(Int(ids & 63)) { return bits.trailingZeroBitCount }
                bits &= bits &- 1
                ids >>= 6
            }
            return nil
        }
        for k in manyKnown where test(Int(k.key)) { return Int(k.pair) }
        return nil
    }

    /// Where `key` is among the pairs, when written and known.
    private func position(_ key: String) -> Int? {
        let signature = KeySignature.of(key)
        guard written & signature != 0 else { return nil }
        return firstKnown { known.signatures[$0] == signature && known.keys[$0] == key }
    }

    /// Whether any of `keys` is written (one signature test when none is).
    func hasAny(_ keys: KnownKeys) -> Bool {
        guard written & keys.mask != 0 else { return false }
        return firstKnown { keys.contains(known.keys[$0], signature: known.signatures[$0]) } != nil
    }

    /// Whether `key` is written (and known).
    public func has(_ key: String) -> Bool { position(key) != nil }
    /// The value of `key`, when written.
    public func value(_ key: String) -> YAMLNode? { position(key).map { pairs.value(at: $0) } }
    /// Where `key` itself is written.
    public func keySpan(_ key: String) -> SourceSpan? { position(key).map { pairs.key(at: $0).span } }
    /// The written keys among `keys`, in the order given.
    func present(_ keys: [String]) -> [String] { keys.filter { position($0) != nil } }

    /// True when an unknown key here was taken for `key` (reported with a did-you-mean).
    func suggests(_ key: String) -> Bool { suggested.contains(key) }

    /// Reports that `key` is required but absent (unless a typo of it was reported).
    public func missing(_ key: String, help: String? = nil) {
        if suggested.contains(key) { return }
        sink.add(.missingField, "\(what) needs `\(key)`", at: anchor, label: "`\(key)` is missing", help: help)
    }

    /// Reports `conflicting-fields` when more than one of `keys` is written; returns the first written.
    public func exclusive(_ keys: [String], required: Bool, help: String? = nil) -> String? {
        // The usual case, exactly one written, without building the list.
        var only: String?
        for key in keys where position(key) != nil {
            if only != nil {
                only = nil
                break
            }
            only = key
        }
        if let only { return only }
        let written = present(keys)
        if written.isEmpty {
            if required && !keys.contains(where: suggested.contains) {
                sink.add(
                    .missingField, "\(what) needs one of " + keys.map { "`\($0)`" }.joined(separator: ", "), at: anchor,
                    label: "none given", help: help)
            }
            return nil
        }
        if written.count > 1 {
            for extra in written.dropFirst() {
                sink.add(
                    .conflictingFields,
                    "`\(extra)` conflicts with `\(written[0])`: \(what) takes only one of "
                        + keys.map { "`\($0)`" }.joined(separator: ", "), at: keySpan(extra)!, label: "second choice",
                    related: [RelatedLocation("`\(written[0])` given here", at: keySpan(written[0])!)],
                    help: "keep one of them")
            }
        }
        return written[0]
    }

    // MARK: typed getters

    /// The string value of `key` (numbers and booleans as written).
    public func string(_ key: String, nonEmpty: Bool = true) -> Located<String>? {
        guard let v = value(key) else { return nil }
        return Fields.string(v, what: "`\(key)`", nonEmpty: nonEmpty, sink: sink)
    }

    /// `v` as a string, or nil after a diagnostic.
    public static func string(_ v: YAMLNode, what: @autoclosure () -> String, nonEmpty: Bool = true, sink: DiagnosticSink) -> Located<
        String
    >? {
        string(v, scalar: nil, what: what(), nonEmpty: nonEmpty, sink: sink)
    }

    /// `string(_:what:nonEmpty:sink:)`, with `v.scalar` when the caller has made it already.
    static func string(
        _ v: YAMLNode, scalar: YAMLScalar?, what: @autoclosure () -> String, nonEmpty: Bool = true, sink: DiagnosticSink
    ) -> Located<String>? {
        // The null test on the bytes first: `YAMLScalar.isNull` compares strings.
        guard !v.isNull, let s = scalar ?? v.scalar else {
            sink.add(.typeMismatch, "\(what()) must be a string, but this is \(v.kindDescription)", at: v.span, label: "expected a string")
            return nil
        }
        if nonEmpty && s.text.isEmpty {
            sink.add(.invalidValue, "\(what()) must not be empty", at: v.span)
            return nil
        }
        // Plain numbers and booleans are taken as their text: `version: 2` in a query matcher means "2".
        return Located(s.text, v.span)
    }

    /// The integer value of `key`, within `range`.
    public func int(_ key: String, in range: ClosedRange<Int>) -> Located<Int>? {
        guard let v = value(key) else { return nil }
        return Fields.int(v, what: "`\(key)`", in: range, sink: sink)
    }

    /// `v` as an integer within `range`, or nil after a diagnostic.
    public static func int(_ v: YAMLNode, what: @autoclosure () -> String, in range: ClosedRange<Int>, sink: DiagnosticSink) -> Located<
        Int
    >? {
        guard let s = v.scalar, let i = s.int else {
            sink.add(
                .typeMismatch, "\(what()) must be an integer, but this is \(v.kindDescription)", at: v.span, label: "expected an integer")
            return nil
        }
        guard range.contains(i) else {
            let bound = range.upperBound == Int.max ? "at least \(range.lowerBound)" : "\(range.lowerBound)..\(range.upperBound)"
            sink.add(.invalidValue, "\(what()) is \(i), out of range \(bound)", at: v.span, label: "out of range")
            return nil
        }
        return Located(i, v.span)
    }

    /// The boolean value of `key`.
    public func bool(_ key: String) -> Located<Bool>? {
        guard let v = value(key) else { return nil }
        return Fields.bool(v, what: "`\(key)`", sink: sink)
    }

    static func bool(_ v: YAMLNode, what: @autoclosure () -> String, sink: DiagnosticSink) -> Located<Bool>? {
        guard let b = v.scalar?.bool else {
            var help: String?
            if let t = v.scalar?.text, ["yes", "no", "on", "off", "y", "n"].contains(t.lowercased()) {
                help = "write `true` or `false` (YAML 1.2 reads `\(t)` as a string)"
            }
            sink.add(
                .typeMismatch, "\(what()) must be `true` or `false`, but this is \(v.kindDescription)", at: v.span,
                label: "expected a boolean", help: help)
            return nil
        }
        return Located(b, v.span)
    }

    /// The duration value of `key` (`5s`, `250ms`).
    public func duration(_ key: String, positive: Bool = false) -> Located<PolicyDuration>? {
        guard let v = value(key) else { return nil }
        return Fields.duration(v, what: "`\(key)`", positive: positive, sink: sink)
    }

    static func duration(_ v: YAMLNode, what: @autoclosure () -> String, positive: Bool = false, sink: DiagnosticSink) -> Located<
        PolicyDuration
    >? {
        // The usual `3s`, read straight from the bytes; anything else takes the checks below.
        if let s = v.scalar, s.isPlain, let d = PolicyValues.simpleDuration(s.text), !(positive && d.milliseconds == 0) {
            return Located(d, v.span)
        }
        guard let s = v.scalar, !s.isNull, v.scalar?.bool == nil else {
            sink.add(.typeMismatch, "\(what()) must be a duration such as `5s`, but this is \(v.kindDescription)", at: v.span)
            return nil
        }
        if s.int != nil || s.isFloat {
            sink.add(
                .typeMismatch, "\(what()) is a bare number; a duration needs a unit", at: v.span, label: "no unit",
                help: "write `\(s.text)s` or `\(s.text)ms` (units ms, s, m, h)")
            return nil
        }
        switch PolicyValues.duration(s.text) {
        case .failure(let p):
            sink.add(.invalidValue, p.message, at: v.span, help: p.help)
            return nil
        case .success(let d):
            if positive && d.milliseconds == 0 {
                sink.add(.invalidValue, "\(what()) must be longer than 0s", at: v.span)
                return nil
            }
            return Located(d, v.span)
        }
    }

    /// A percentage 0..100 (integer or decimal), kept in parts per million.
    func percent(_ key: String) -> Located<Percent>? {
        guard let v = value(key) else { return nil }
        guard let s = v.scalar, s.int != nil || s.isFloat else {
            sink.add(.typeMismatch, "`\(key)` must be a number from 0 to 100, but this is \(v.kindDescription)", at: v.span)
            return nil
        }
        guard let perMillion = Fields.perMillion(s.text), perMillion <= 1_000_000 else {
            sink.add(.invalidValue, "`\(key)` is \(s.text), out of range 0..100 (at most 4 decimals)", at: v.span)
            return nil
        }
        return Located(Percent(perMillion: perMillion), v.span)
    }

    /// `12.5` -> 125000; nil when negative or with more than four decimals.
    static func perMillion(_ text: String) -> Int? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = Int(parts[0]), whole >= 0, !text.hasPrefix("-") else { return nil }
        var frac = 0
        if parts.count == 2 {
            let f = parts[1]
            guard f.count <= 4, f.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            frac = Int(f.padding(toLength: 4)) ?? 0
        }
        guard whole <= 100 else { return nil }
        return whole * 10_000 + frac
    }

    /// A list of values of one kind; a single scalar is taken as a one-item list only when
    /// `allowSingle` (e.g. `methods: GET`).
    public func list(_ key: String, allowSingle: Bool = false) -> [YAMLNode]? {
        guard let v = value(key) else { return nil }
        if let items = v.sequence { return Array(items) }
        if allowSingle, let s = v.scalar, !s.isNull { return [v] }
        sink.add(.typeMismatch, "`\(key)` must be a list, but this is \(v.kindDescription)", at: v.span, label: "expected a list")
        return nil
    }

    /// The strings of a list-valued key.
    public func stringList(_ key: String, allowSingle: Bool = false) -> [Located<String>]? {
        list(key, allowSingle: allowSingle)?.compactMap { Fields.string($0, what: "an item of `\(key)`", sink: sink) }
    }

    /// Reads an enumerated value, reporting `invalid-value` with the closest choice.
    func choice<E: RawRepresentable & CaseIterable>(_ key: String, _: E.Type) -> Located<E>? where E.RawValue == String {
        guard let s = string(key) else { return nil }
        if let e = E(rawValue: s.value) { return Located(e, s.span) }
        let options = E.allCases.map(\.rawValue)
        var help = "one of " + options.map { "`\($0)`" }.joined(separator: ", ")
        if let close = PolicyValues.suggestion(for: s.value, in: options) { help = "did you mean `\(close)`?" }
        sink.add(.invalidValue, "`\(s.value)` is not a valid `\(key)`", at: s.span, label: "unknown value", help: help)
        return nil
    }

    /// Pairs of a mapping-valued key, with their key nodes.
    public func entries(_ key: String) -> [YAMLPair]? { pairs(key).map(Array.init) }

    /// `entries(_:)` as a view into the tree (no array is made).
    func pairs(_ key: String) -> YAMLNode.Pairs? {
        guard let v = value(key) else { return nil }
        guard let m = v.mapping else {
            sink.add(.typeMismatch, "`\(key)` must be a mapping, but this is \(v.kindDescription)", at: v.span, label: "expected a mapping")
            return nil
        }
        return m
    }
}

extension Substring {
    func padding(toLength n: Int) -> String { String(self) + String(repeating: "0", count: Swift.max(0, n - count)) }
}

/// A one-bit summary of a key, from its length and first byte: two keys with different
/// signatures differ, so a lookup compares strings only on a signature match. (Not the
/// last byte too: `utf8.last` costs more than the comparisons it saves.)
enum KeySignature {
    @inline(__always)
    static func of(_ key: String) -> UInt64 {
        // On the contiguous bytes (every key is a literal or a native string): the generic
        // `utf8.first` is a call (and `utf8[startIndex]` measured slower still).
        if let s = key.utf8.withContiguousStorageIfAvailable({ of(count: $0.count, first: $0.first ?? 0) }) { return s }
        let u = key.utf8
        return of(count: u.count, first: u.first ?? 0)
    }

    /// The signature of a key of `count` bytes starting with `first` (ignored when empty).
    @inline(__always)
    static func of(count: Int, first: UInt8) -> UInt64 {
        guard count > 0 else { return 1 }
        return 1 << UInt64(truncatingIfNeeded: (count &* 7 &+ Int(first)) & 63)
    }
}

/// The keys a mapping accepts, with their signatures, made once per context. A class: each
/// `Fields` keeps one, and a struct of four arrays cost four reference counts per mapping.
final class KnownKeys: Sendable {
    let keys: [String]
    let signatures: [UInt64]
    /// The union of the signatures.
    let mask: UInt64

    /// The keys' UTF-8 bytes one after the other: key `j` is `bytes[starts[j]..<starts[j + 1]]`.
    /// Compared with a key's bytes in the tree, they are read in place (a `String`'s bytes
    /// are copied out first when it is a small one, as most keys are).
    let bytes: [UInt8]
    let starts: [Int]

    init(_ keys: [String]) {
        self.keys = keys
        signatures = keys.map(KeySignature.of)
        mask = signatures.reduce(0, |)
        bytes = keys.flatMap(\.utf8)
        starts = keys.reduce(into: [0]) { $0.append($0.last! + $1.utf8.count) }
    }

    func contains(_ key: String, signature: UInt64) -> Bool {
        guard mask & signature != 0 else { return false }
        for (k, s) in zip(keys, signatures) where s == signature && k == key { return true }
        return false
    }

    /// The index among these of the key whose UTF-8 bytes are `key` (and whose signature is
    /// `signature`); nil when it is none of them.
    @inline(__always)
    func index(of key: UnsafeBufferPointer<UInt8>, signature: UInt64) -> Int? {
        guard mask & signature != 0 else { return nil }
        return bytes.withUnsafeBufferPointer { all in
            for j in signatures.indices where signatures[j] == signature && starts[j + 1] - starts[j] == key.count {
                var equal = true
                for (k, b) in zip(starts[j]..<starts[j + 1], key) where all[k] != b {
                    equal = false
                    break
                }
                if equal { return j }
            }
            return nil
        }
    }

    /// The policy language's keys for `context` (none for an unknown context).
    static func of(_ context: String) -> KnownKeys {
        // The two contexts of every route first: no dictionary lookup for them.
        switch context {
        case "route": route
        case "match": match
        default: table[context] ?? none
        }
    }

    static let table: [String: KnownKeys] = PolicyKeys.table.mapValues(KnownKeys.init)
    static let route = table["route"]!
    static let match = table["match"]!
    static let none = KnownKeys([])
    /// The inheritable policy keys.
    static let policy = KnownKeys(PolicyKeys.policy + ["connect_timeout"])
}
