// The public face of the automata module: exact regular languages over byte strings.

/// A regular language over bytes (strings are taken as their UTF-8 bytes; the universe is
/// every byte string), or an explicit "cannot decide" value.
///
/// Every question returns an optional: `nil` means undecided (unsupported regex syntax,
/// or an automaton larger than ``Language/stateLimit``). Undecided values propagate through
/// the set operations, so callers never get a guess.
public struct Language: Sendable {
    /// Largest automaton built by any single operation; beyond it the result is undecided.
    public static let stateLimit = 20_000
    /// Largest NFA built from one regex (bounds `{n,m}` expansion).
    static let nfaLimit = 60_000

    enum Storage: Sendable {
        case dfa(DFA)
        case undecided(String)
    }

    let storage: Storage

    init(_ dfa: DFA) { storage = .dfa(dfa) }
    init(undecided reason: String) { storage = .undecided(reason) }

    /// The empty language.
    public static let empty = Language(DFA.trivial(false))
    /// All byte strings.
    public static let any = Language(DFA.trivial(true))

    /// An explicitly undecided language carrying `reason`.
    public static func undecided(_ reason: String) -> Language { Language(undecided: reason) }

    /// Why this language is undecided, or nil when it is exact.
    public var undecidedReason: String? {
        if case .undecided(let r) = storage { return r }
        return nil
    }

    /// True when the language could not be computed.
    public var isUndecided: Bool { undecidedReason != nil }

    /// Number of states of the minimal automaton (0 when undecided).
    public var stateCount: Int {
        if case .dfa(let d) = storage { return d.stateCount }
        return 0
    }

    // MARK: Constructors

    private static func bytesNode<S: Sequence<UInt8>>(_ bytes: S, caseInsensitive: Bool) -> RegexNode {
        // Envoy's ignore_case lower-cases ASCII only, so folding is per byte.
        .concat(
            bytes.map { b -> RegexNode in
                if caseInsensitive, (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) {
                    let lower = b | 0x20
                    let upper = b & ~0x20
                    return .bytes([upper...upper, lower...lower])
                }
                return .bytes([b...b])
            })
    }

    private static let anyStar: RegexNode = .rep(.bytes([0...255]), min: 0, max: nil)

    static func compile(_ node: RegexNode) -> Language {
        do {
            var nfa = NFA(limit: nfaLimit)
            let (s, e) = try nfa.build(node)
            nfa.start = s
            nfa.accept = e
            return Language(try DFA.determinize(nfa, limit: stateLimit))
        } catch {
            return Language(undecided: "automaton too large")
        }
    }

    /// Exactly the string `bytes` (ASCII letters match either case when `caseInsensitive`).
    public static func literal<S: Sequence<UInt8>>(_ bytes: S, caseInsensitive: Bool = false) -> Language {
        compile(bytesNode(bytes, caseInsensitive: caseInsensitive))
    }

    /// Exactly the UTF-8 bytes of `string`.
    public static func literal(_ string: String, caseInsensitive: Bool = false) -> Language {
        literal(Array(string.utf8), caseInsensitive: caseInsensitive)
    }

    /// Strings starting with `bytes`.
    public static func prefix<S: Sequence<UInt8>>(_ bytes: S, caseInsensitive: Bool = false) -> Language {
        compile(.concat([bytesNode(bytes, caseInsensitive: caseInsensitive), anyStar]))
    }

    /// Strings starting with the UTF-8 bytes of `string`.
    public static func prefix(_ string: String, caseInsensitive: Bool = false) -> Language {
        prefix(Array(string.utf8), caseInsensitive: caseInsensitive)
    }

    /// Strings ending with `bytes`.
    public static func suffix<S: Sequence<UInt8>>(_ bytes: S, caseInsensitive: Bool = false) -> Language {
        compile(.concat([anyStar, bytesNode(bytes, caseInsensitive: caseInsensitive)]))
    }

    /// Strings ending with the UTF-8 bytes of `string`.
    public static func suffix(_ string: String, caseInsensitive: Bool = false) -> Language {
        suffix(Array(string.utf8), caseInsensitive: caseInsensitive)
    }

    /// Strings containing `bytes`.
    public static func contains<S: Sequence<UInt8>>(_ bytes: S, caseInsensitive: Bool = false) -> Language {
        compile(.concat([anyStar, bytesNode(bytes, caseInsensitive: caseInsensitive), anyStar]))
    }

    /// Strings containing the UTF-8 bytes of `string`.
    public static func contains(_ string: String, caseInsensitive: Bool = false) -> Language {
        contains(Array(string.utf8), caseInsensitive: caseInsensitive)
    }

    /// Strings made only of bytes in `ranges` (any length, including empty).
    public static func star(of ranges: [ClosedRange<UInt8>]) -> Language {
        compile(.rep(.bytes(ranges), min: 0, max: nil))
    }

    /// Strings of `bytes` followed by any number of bytes in `ranges` (a path universe:
    /// `/` then the bytes a path may hold).
    public static func literal<S: Sequence<UInt8>>(_ bytes: S, thenStarOf ranges: [ClosedRange<UInt8>]) -> Language {
        compile(.concat([bytesNode(bytes, caseInsensitive: false), .rep(.bytes(ranges), min: 0, max: nil)]))
    }

    /// Strings of one or more bytes in `ranges`.
    public static func plus(of ranges: [ClosedRange<UInt8>]) -> Language {
        compile(.rep(.bytes(ranges), min: 1, max: nil))
    }

    /// The strings RE2 fully matches with `pattern` (Envoy's `safe_regex` semantics: default
    /// options, `RE2::FullMatch`). Unsupported or invalid syntax gives an undecided language.
    public static func regex(_ pattern: String) -> Language {
        do {
            return compile(try RegexParser.parse(pattern))
        } catch {
            return Language(undecided: error.reason)
        }
    }

    /// Whether `pattern` is in the supported subset (nil) or why not.
    public static func regexUnsupportedReason(_ pattern: String) -> String? {
        do {
            _ = try RegexParser.parse(pattern)
            return nil
        } catch {
            return error.reason
        }
    }

    // MARK: Set operations

    private func combine(_ other: Language, _ op: (Bool, Bool) -> Bool) -> Language {
        switch (storage, other.storage) {
        case (.undecided(let r), _), (_, .undecided(let r)):
            return Language(undecided: r)
        case (.dfa(let a), .dfa(let b)):
            do {
                return Language(try DFA.product(a, b, limit: Language.stateLimit, op))
            } catch {
                return Language(undecided: "automaton too large")
            }
        }
    }

    /// Strings in either language.
    public func union(_ other: Language) -> Language { combine(other) { $0 || $1 } }
    /// Strings in both languages.
    public func intersection(_ other: Language) -> Language { combine(other) { $0 && $1 } }
    /// Strings in `self` but not in `other`.
    public func subtracting(_ other: Language) -> Language { combine(other) { $0 && !$1 } }

    /// All byte strings not in `self`.
    public func complement() -> Language {
        switch storage {
        case .undecided: return self
        case .dfa(let d): return Language(d.complemented())
        }
    }

    // MARK: Questions

    /// Whether the language has no member; nil when undecided.
    public var isEmpty: Bool? {
        guard case .dfa(let d) = storage else { return nil }
        // Every state is reachable, so emptiness is "no accepting state".
        return !d.accepting.contains(true)
    }

    /// Whether the language is every byte string; nil when undecided.
    public var isUniversal: Bool? {
        guard case .dfa(let d) = storage else { return nil }
        return !d.accepting.contains(false)
    }

    /// Whether every member of `self` is in `other`; nil when undecided.
    public func isSubset(of other: Language) -> Bool? {
        guard case .dfa(let a) = storage, case .dfa(let b) = other.storage else { return nil }
        do {
            return !(try DFA.productHasAccepting(a, b, negateB: true, limit: 4 * Language.stateLimit))
        } catch {
            return nil
        }
    }

    /// Whether the languages share a member; nil when undecided.
    public func intersects(_ other: Language) -> Bool? {
        guard case .dfa(let a) = storage, case .dfa(let b) = other.storage else { return nil }
        do {
            return try DFA.productHasAccepting(a, b, negateB: false, limit: 4 * Language.stateLimit)
        } catch {
            return nil
        }
    }

    /// Whether some member starts with `prefix` (cheaper than intersecting with
    /// `.prefix(...)`); nil when undecided.
    public func hasMember(withPrefix prefix: [UInt8]) -> Bool? {
        guard case .dfa(let d) = storage else { return nil }
        return d.acceptsSomeWithPrefix(prefix)
    }

    /// Whether every member starts with `prefix`; nil when undecided.
    public func allMembers(havePrefix prefix: [UInt8]) -> Bool? {
        guard case .dfa(let d) = storage else { return nil }
        return d.acceptsOnlyWithPrefix(prefix)
    }

    /// Whether the language is empty or exactly `{bytes}`; nil when undecided.
    public func isSubset(ofLiteral bytes: [UInt8]) -> Bool? {
        guard case .dfa(let d) = storage else { return nil }
        return d.acceptsOnly(bytes)
    }

    /// Whether every string `prefix + w`, where `w` contains none of `avoiding`, is a member
    /// (for example a path prefix inside the set of paths without `?` and `#`); nil when
    /// undecided.
    public func containsAllExtensions(of prefix: [UInt8], avoiding: [UInt8]) -> Bool? {
        guard case .dfa(let d) = storage else { return nil }
        return d.acceptsAllExtensions(of: prefix, avoiding: avoiding)
    }

    /// Whether both languages have exactly the same members; nil when undecided.
    public func isEquivalent(to other: Language) -> Bool? {
        guard let a = isSubset(of: other), let b = other.isSubset(of: self) else { return nil }
        return a && b
    }

    /// Membership of a byte string; nil when undecided.
    public func contains<S: Sequence<UInt8>>(_ bytes: S) -> Bool? {
        guard case .dfa(let d) = storage else { return nil }
        return d.matches(bytes)
    }

    /// Membership of a string's UTF-8 bytes; nil when undecided.
    public func contains(_ string: String) -> Bool? {
        contains(string.utf8)
    }

    /// A member chosen to read well: the cheapest string when printable ASCII bytes are
    /// cheap (lower-case letters first, then digits, upper case, `/-_.`), any other byte is
    /// very expensive — so it is short and printable whenever the language allows.
    /// Nil when the language is empty or undecided.
    public func shortestMember() -> [UInt8]? {
        guard case .dfa(let d) = storage else { return nil }
        return d.cheapestMember()
    }

    /// ``shortestMember()`` decoded as UTF-8 (invalid sequences replaced).
    public func shortestMemberString() -> String? {
        shortestMember().map { String(decoding: $0, as: UTF8.self) }
    }

    // MARK: Literal prefixes (indexing)

    /// Bytes every string fully matched by `pattern` must start with, found cheaply from the
    /// syntax (no automaton). Empty when nothing is known or the pattern is unsupported;
    /// always sound: every member of `Language.regex(pattern)` starts with it.
    public static func regexLiteralPrefix(_ pattern: String) -> [UInt8] {
        guard let node = try? RegexParser.parse(pattern) else { return [] }
        var out: [UInt8] = []
        _ = literalPrefix(node, folded: false, &out)
        return out
    }

    /// Like ``regexLiteralPrefix(_:)`` but in ``foldForIndex(_:)`` form, where a
    /// case-insensitive letter counts as its folded form: `foldForIndex(m)` of every member
    /// `m` starts with it. Lets case-sensitive and case-insensitive routes share one index.
    public static func regexFoldedLiteralPrefix(_ pattern: String) -> [UInt8] {
        guard let node = try? RegexParser.parse(pattern) else { return [] }
        var out: [UInt8] = []
        _ = literalPrefix(node, folded: true, &out)
        return out
    }

    /// The byte-string fold used for indexing: ASCII lower-casing, plus U+017F (LONG S) to
    /// `s` and U+212A (KELVIN SIGN) to `k` — the two non-ASCII characters RE2's `(?i)` folds
    /// with ASCII letters. A per-character map, so if `s` starts with a valid UTF-8 string
    /// `p` then `foldForIndex(s)` starts with `foldForIndex(p)`.
    public static func foldForIndex(_ bytes: [UInt8]) -> [UInt8] {
        // Nearly every key is lower-case ASCII already: the same bytes, no copy (issue 13).
        if !bytes.contains(where: { (0x41...0x5A).contains($0) || $0 >= 0x80 }) { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == 0xC5, i + 1 < bytes.count, bytes[i + 1] == 0xBF {
                out.append(0x73)
                i += 2
                continue
            }
            if b == 0xE2, i + 2 < bytes.count, bytes[i + 1] == 0x84, bytes[i + 2] == 0xAA {
                out.append(0x6B)
                i += 3
                continue
            }
            out.append((0x41...0x5A).contains(b) ? b | 0x20 : b)
            i += 1
        }
        return out
    }

    /// The single ASCII byte (in index-fold form when `folded`) a class stands for, if any.
    private static func literalByte(_ ranges: [ClosedRange<UInt32>], folded: Bool) -> UInt8? {
        var members: [UInt32] = []
        for r in ranges {
            if r.count > 3 { return nil }
            members.append(contentsOf: r)
            if members.count > 3 { return nil }
        }
        func low(_ c: UInt32) -> UInt32 {
            if c == 0x17F { return 0x73 }
            if c == 0x212A { return 0x6B }
            return (0x41...0x5A).contains(c) ? c | 0x20 : c
        }
        if members.count == 1 {
            let m = folded ? low(members[0]) : members[0]
            return m <= 0x7F ? UInt8(m) : nil
        }
        guard folded else { return nil }
        let l = low(members[0])
        guard l <= 0x7F, members.allSatisfy({ low($0) == l }) else { return nil }
        return UInt8(l)
    }

    /// Appends the literal prefix of `node`; returns true when the whole node was literal
    /// (so the caller may continue with what follows).
    static func literalPrefix(_ node: RegexNode, folded: Bool, _ out: inout [UInt8]) -> Bool {
        switch node {
        case .empty, .beginText:
            return true
        case .chars(let cls):
            if let b = literalByte(cls.ranges, folded: folded) {
                out.append(b)
                return true
            }
            guard !folded, cls.ranges.count == 1, cls.ranges[0].count == 1 else { return false }
            var s = String()
            guard let scalar = Unicode.Scalar(cls.ranges[0].lowerBound) else { return false }
            s.unicodeScalars.append(scalar)
            out.append(contentsOf: s.utf8)
            return true
        case .bytes(let ranges):
            if let b = literalByte(ranges.map { UInt32($0.lowerBound)...UInt32($0.upperBound) }, folded: folded) {
                out.append(b)
                return true
            }
            return false
        case .concat(let items):
            for item in items where !literalPrefix(item, folded: folded, &out) { return false }
            return true
        case .rep(let inner, let minN, let maxN):
            // x{n} is n copies; x{n,m} contributes its mandatory copies then stops.
            var probe: [UInt8] = []
            let whole = literalPrefix(inner, folded: folded, &probe)
            if minN == 0 { return false }
            if !whole {
                out.append(contentsOf: probe)
                return false
            }
            for _ in 0..<minN { out.append(contentsOf: probe) }
            return maxN == minN
        case .alt, .endText:
            return false
        }
    }
}
