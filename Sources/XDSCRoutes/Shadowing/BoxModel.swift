// A route as a product ("box") of independent dimensions: the path, and one dimension per
// header / query-parameter name. A dimension value is a set of values plus whether the
// field may be absent. Route intersection, containment and union coverage then reduce to
// per-dimension set algebra on exact regular languages.

import XDSCAutomata
import XDSCRequest

/// A dimension other than the path: a header or a query parameter name.
struct FieldKey: Hashable, Comparable, Sendable {
    var isQuery: Bool
    var name: String

    static func < (a: FieldKey, b: FieldKey) -> Bool {
        a.isQuery != b.isQuery ? !a.isQuery : a.name < b.name
    }

    /// The key as text, as distinct as the key: `q` or `h`, then the name.
    var text: String { (isQuery ? "q" : "h") + name }

    /// Pseudo-headers every request carries.
    var alwaysPresent: Bool {
        !isQuery && (name == ":method" || name == ":authority" || name == ":scheme")
    }
}

/// The values a field may take in a box: `absent` says whether "not present" is included.
struct FieldSet {
    var absent: Bool
    var values: Language
    /// Interning id (equal ids = equal sets) for relation caching; -1 when not interned.
    var id: Int = -1

    var isEmpty: Bool? {
        if absent { return false }
        return values.isEmpty
    }
}

/// The path dimension. The plain cases are case-sensitive strings inside the path universe,
/// compared by string operations without automata (the common fast path).
enum PathSet {
    case exact([UInt8])
    case prefix([UInt8])
    case lang(Language)
}

/// A box: path × fields (sorted by key). Fields not listed are unconstrained.
/// Invariant: every dimension of a box in use is non-empty.
struct Box {
    var path: PathSet
    var fields: [(FieldKey, FieldSet)]

    func field(_ key: FieldKey) -> FieldSet? {
        for (k, f) in fields where k == key { return f }
        return nil
    }
}

/// A concrete request: path (no query) and field values (nil = absent), sorted by key.
struct ConcreteRequest {
    var path: [UInt8]
    var fields: [(FieldKey, [UInt8]?)]
}

/// Universes, caches and the set algebra. One instance per analysis (not thread-safe).
final class BoxAlgebra {
    /// The path and value universes (shared by every instance with the same options).
    let universes: Universes
    let slashRooted: Bool

    private var langCache: [String: Language] = [:]
    private struct PlainKey: Hashable {
        var bytes: [UInt8]
        var exact: Bool
    }
    private var plainCache: [PlainKey: Language] = [:]
    private var fieldSetIds: [String: Int] = [:]
    // By `FieldKey.text`: a dictionary keyed by a new type costs a scan of the binary's
    // conformance records on first use, a visible part of a small lint.
    private var universeFieldIds: [String: FieldSet] = [:]
    private var relCache: [Int: UInt8] = [:]
    private var nextFieldId = 0

    /// Bytes a routed path (query removed) can hold: visible ASCII without `?` and `#`.
    /// Envoy's codecs reject the rest before routing, or (`?`, `#`) cut the path there; see
    /// docs/route-shadowing.md for the sources.
    static let pathBytes: [ClosedRange<UInt8>] = [0x21...0x22, 0x24...0x3E, 0x40...0x7E]
    /// Bytes a query parameter value can hold: the request target's bytes without `&`
    /// (ends the value) and `#` (the request is rejected).
    static let queryBytes: [ClosedRange<UInt8>] = [0x21...0x22, 0x24...0x25, 0x27...0x7E]
    /// Bytes some codec lets through in a path although no conforming client sends them raw
    /// (HTTP/2 passes space, tab and bytes >= 0x80; http-parser/balsa pass tab and form
    /// feed): `pathBytes` plus those. Used only to tell "matches nothing at all" from
    /// "matches only requests with such raw bytes".
    static let widePathBytes: [ClosedRange<UInt8>] = [0x09...0x09, 0x0C...0x0C, 0x20...0x22, 0x24...0x3E, 0x40...0x7E, 0x80...0xFF]
    static let wideQueryBytes: [ClosedRange<UInt8>] = [0x09...0x09, 0x0C...0x0C, 0x20...0x22, 0x24...0x25, 0x27...0x7E, 0x80...0xFF]
    /// Every byte outside `pathBytes`.
    static let nonPathBytes: [UInt8] = (0...255).map(UInt8.init).filter { b in !pathBytes.contains { $0.contains(b) } }

    init(options: ShadowOptions) {
        slashRooted = options.pathUniverse == .slashRooted
        // The same for every host: built once per process (each takes a few automata).
        universes = slashRooted ? Universes.slashRooted : Universes.anyBytes
    }

    /// The value universes of one `ShadowOptions.PathUniverse`. Each is built once per
    /// process, on first use: a small policy needs a few of them (no query, no route that
    /// matches nothing), and each takes a few automata.
    struct Universes: Sendable {
        let isSlashRooted: Bool

        /// What reaches the router as a path (query removed).
        var pathUniverse: Language { isSlashRooted ? Self.slashPath : Self.anyPath }
        /// `pathUniverse` widened by `widePathBytes` (equal to it for `anyBytes`).
        var widePathUniverse: Language { isSlashRooted ? Self.slashWidePath : Self.anyPath }
        /// Header values as the codecs pass them: any bytes (obs-text included).
        var wideHeaderValues: Language { Self.wideHeaders }
        /// Header values as the Envoy model (and every example request) holds them: UTF-8 text.
        var headerValues: Language { Self.headers }
        /// HTTP tokens.
        var methodValues: Language { Self.methods }
        /// Query parameter values.
        var queryValues: Language { isSlashRooted ? Self.slashQuery : Self.anyQuery }
        /// `queryValues` widened by `wideQueryBytes`.
        var wideQueryValues: Language { isSlashRooted ? Self.slashWideQuery : Self.anyQuery }

        static let slashRooted = Universes(slashRooted: true)
        static let anyBytes = Universes(slashRooted: false)

        // What reaches the router: `/` then visible ASCII, no `?`/`#`. Not `*`: the
        // connection manager answers a path not starting with `/` itself (404).
        private static let slashPath = Language.literal([0x2F], thenStarOf: BoxAlgebra.pathBytes)
        private static let slashWidePath = Language.literal([0x2F], thenStarOf: BoxAlgebra.widePathBytes)
        // path_no_query never contains '?' or '#' (both cut the path before matching).
        private static let anyPath = Language.contains("?").union(.contains("#")).complement()
        // Header values cannot carry NUL, CR or LF. The codecs pass other bytes >= 0x80 raw,
        // invalid UTF-8 included, which RE2's `.` does not match; the analysis decides over
        // UTF-8 values (what the Envoy model and an example request can hold) and keeps the
        // raw bytes for the question whether a route matches nothing.
        private static let wideHeaders = Language.contains([0]).union(.contains("\r")).union(.contains("\n")).complement()
        private static let headers = wideHeaders.intersection(.regex("(?s).*"))
        // Methods are HTTP tokens.
        private static let methods: Language = {
            var token: [ClosedRange<UInt8>] = [0x30...0x39, 0x41...0x5A, 0x61...0x7A]
            for c in "!#$%&'*+-.^_`|~".utf8 { token.append(c...c) }
            return Language.plus(of: token)
        }()
        // A query value ends at '&' and lies in the request target (visible ASCII, no '#').
        private static let slashQuery = Language.star(of: BoxAlgebra.queryBytes)
        private static let slashWideQuery = Language.star(of: BoxAlgebra.wideQueryBytes)
        private static let anyQuery = Language.contains("&").union(.contains("#")).complement()

        init(slashRooted: Bool) {
            isSlashRooted = slashRooted
        }
    }

    // MARK: Building

    func cached(_ key: String, _ make: () -> Language) -> Language {
        if let l = langCache[key] { return l }
        let l = make()
        langCache[key] = l
        return l
    }

    /// A `safe_regex` path condition's language inside the path universe.
    func regexPathLanguage(_ pattern: String) -> Language {
        cached("LR|\(pattern)") { Language.regex(pattern).intersection(universes.pathUniverse) }
    }

    func valueUniverse(_ key: FieldKey, wide: Bool = false) -> Language {
        if key.isQuery { return wide ? universes.wideQueryValues : universes.queryValues }
        if key.name == ":method" { return universes.methodValues }
        return wide ? universes.wideHeaderValues : universes.headerValues
    }

    func universeField(_ key: FieldKey) -> FieldSet {
        if let f = universeFieldIds[key.text] { return f }
        var f = FieldSet(absent: !key.alwaysPresent, values: valueUniverse(key))
        f.id = internId("U|\(key.isQuery)|\(key.name)")
        universeFieldIds[key.text] = f
        return f
    }

    private func internId(_ key: String) -> Int {
        if let id = fieldSetIds[key] { return id }
        let id = nextFieldId
        nextFieldId += 1
        fieldSetIds[key] = id
        return id
    }

    /// Whether a plain string can use the fast path: it lies in the path universe and
    /// `prefix` of it is infinite inside the universe.
    func isPlainPath(_ s: [UInt8]) -> Bool {
        if s.contains(0x3F) || s.contains(0x23) { return false }
        return slashRooted ? s.first == 0x2F && s.allSatisfy({ (0x21...0x7E).contains($0) }) : !s.isEmpty
    }

    func stringLanguage(_ m: FieldMatch, ignoreCase: Bool) -> Language {
        let ci = ignoreCase
        switch m {
        case .exact(let v): return cached("e\(ci)|\(v)") { .literal(v, caseInsensitive: ci) }
        case .prefix(let v): return cached("p\(ci)|\(v)") { .prefix(v, caseInsensitive: ci) }
        case .suffix(let v): return cached("s\(ci)|\(v)") { .suffix(v, caseInsensitive: ci) }
        case .contains(let v): return cached("c\(ci)|\(v)") { .contains(v, caseInsensitive: ci) }
        case .regex(let r): return cached("r|\(r)") { .regex(r) }
        case .present: return .any
        }
    }

    /// The set of one field condition, following Envoy's truth table.
    func fieldSet(_ c: FieldConstraint, key: FieldKey, wide: Bool = false) -> FieldSet {
        let u = valueUniverse(key, wide: wide)
        if case .present(let p) = c.match {
            // With `treat_missing_header_as_empty` a missing field is the present value `""`,
            // so absence gets the present result (Envoy's `HeaderUtility::matchHeaders`).
            let absent = c.treatMissingAsEmpty ? p != c.invert : p == c.invert
            return FieldSet(absent: absent, values: p != c.invert ? u : .empty)
        }
        let m = stringLanguage(c.match, ignoreCase: c.ignoreCase)
        let values = c.invert ? u.subtracting(m) : m.intersection(u)
        var absent = false
        if c.treatMissingAsEmpty {
            guard let e = m.contains([UInt8]()) else {
                return FieldSet(absent: false, values: .undecided(m.undecidedReason ?? "undecided"))
            }
            absent = e != c.invert
        }
        return FieldSet(absent: absent, values: values)
    }

    /// `fieldSet(_:extra:key:)` by its arguments as given: most routes of a large host repeat
    /// a few condition lists, and hashing them is cheaper than building their description.
    private struct FieldSetArguments: Hashable {
        var key: FieldKey
        var constraints: [FieldConstraint]
        var extra: [String]
    }
    // By the arguments' hash, then `==`: a dictionary keyed by a new type would cost a scan of
    // every conformance record in the binary the first time (a visible part of a small lint),
    // and `Int` keys are looked up already.
    private var fieldSetsByHash: [Int: [(arguments: FieldSetArguments, set: FieldSet)]] = [:]

    /// The interned set of all conditions on one key (AND).
    func fieldSet(_ cs: [FieldConstraint], extra: [(String, Language)] = [], key: FieldKey) -> FieldSet {
        let arguments = FieldSetArguments(key: key, constraints: cs, extra: extra.map(\.0))
        // The routes of a host repeat a few condition lists: comparing with the last few
        // costs less than hashing (issue 13).
        if let hit = recentFieldSets.first(where: { $0.arguments == arguments }) { return hit.set }
        var hasher = Hasher()
        arguments.hash(into: &hasher)
        let hash = hasher.finalize()
        let f: FieldSet
        if let hit = fieldSetsByHash[hash]?.first(where: { $0.arguments == arguments }) {
            f = hit.set
        } else {
            f = describedFieldSet(cs, extra: extra, key: key)
            fieldSetsByHash[hash, default: []].append((arguments, f))
        }
        if recentFieldSets.count == 8 { recentFieldSets.removeFirst() }
        recentFieldSets.append((arguments, f))
        return f
    }
    /// The last few sets `fieldSet(_:extra:key:)` returned, with their arguments.
    private var recentFieldSets: [(arguments: FieldSetArguments, set: FieldSet)] = []

    private func describedFieldSet(_ cs: [FieldConstraint], extra: [(String, Language)], key: FieldKey) -> FieldSet {
        let desc =
            "F|\(key.isQuery)|\(key.name)|" + cs.map(BoxAlgebra.constraintKey).joined(separator: "&")
            + extra.map { "|x:" + $0.0 }.joined()
        if let id = fieldSetIds[desc], let f = internedSets[id] { return f }
        var f = universeField(key)
        for c in cs {
            let g = fieldSet(c, key: key)
            f = FieldSet(absent: f.absent && g.absent, values: f.values.intersection(g.values))
        }
        for (_, l) in extra {
            f = FieldSet(absent: false, values: f.values.intersection(l))
        }
        f.id = internId(desc)
        internedSets[f.id] = f
        return f
    }
    private var internedSets: [Int: FieldSet] = [:]

    /// Whether the conditions on one key admit some value (or absence) over the wide value
    /// universe, i.e. with raw bytes only non-conforming clients send; nil when undecided.
    func admitsWideValue(_ cs: [FieldConstraint], key: FieldKey) -> Bool? {
        var absent = !key.alwaysPresent
        var values = valueUniverse(key, wide: true)
        for c in cs {
            let g = fieldSet(c, key: key, wide: true)
            absent = absent && g.absent
            values = values.intersection(g.values)
        }
        return absent ? true : values.isEmpty.map { !$0 }
    }

    /// A cheap unique text for a condition (reflection-based `String(describing:)` was slow).
    static func constraintKey(_ c: FieldConstraint) -> String {
        let m: String
        switch c.match {
        case .exact(let v): m = "e:" + v
        case .prefix(let v): m = "p:" + v
        case .suffix(let v): m = "s:" + v
        case .contains(let v): m = "c:" + v
        case .regex(let v): m = "r:" + v
        case .present(let p): m = p ? "P" : "A"
        }
        return (c.ignoreCase ? "i" : "-") + (c.invert ? "n" : "-") + (c.treatMissingAsEmpty ? "m" : "-") + "\(m.utf8.count)" + m
    }

    func pathLanguage(_ p: PathSet) -> Language {
        switch p {
        case .lang(let l): return l
        case .exact(let s):
            if let l = plainCache[PlainKey(bytes: s, exact: true)] { return l }
            let l = Language.literal(s)
            plainCache[PlainKey(bytes: s, exact: true)] = l
            return l
        case .prefix(let s):
            if let l = plainCache[PlainKey(bytes: s, exact: false)] { return l }
            let l = Language.prefix(s).intersection(universes.pathUniverse)
            plainCache[PlainKey(bytes: s, exact: false)] = l
            return l
        }
    }

    // MARK: Path relations

    private func hasPrefix(_ s: [UInt8], _ p: [UInt8]) -> Bool {
        s.count >= p.count && s[0..<p.count].elementsEqual(p)
    }

    func pathIntersects(_ a: PathSet, _ b: PathSet) -> Bool? {
        switch (a, b) {
        case (.exact(let x), .exact(let y)): return x == y
        case (.exact(let x), .prefix(let p)), (.prefix(let p), .exact(let x)): return hasPrefix(x, p)
        case (.prefix(let p), .prefix(let q)): return hasPrefix(p, q) || hasPrefix(q, p)
        case (.exact(let x), .lang(let l)), (.lang(let l), .exact(let x)): return l.contains(x)
        // The language lies inside the universe, so a member with prefix p is in both.
        case (.prefix(let p), .lang(let l)), (.lang(let l), .prefix(let p)): return l.hasMember(withPrefix: p)
        default: return pathLanguage(a).intersects(pathLanguage(b))
        }
    }

    func pathSubset(_ a: PathSet, _ b: PathSet) -> Bool? {
        switch (a, b) {
        case (.exact(let x), .exact(let y)): return x == y
        case (.exact(let x), .prefix(let p)): return hasPrefix(x, p)
        case (.prefix, .exact): return false  // infinite inside the universe
        case (.prefix(let p), .prefix(let q)): return hasPrefix(p, q)
        case (.exact(let x), .lang(let l)): return l.contains(x)
        case (.lang(let l), .prefix(let p)): return l.allMembers(havePrefix: p)
        case (.lang(let l), .exact(let x)): return l.isSubset(ofLiteral: x)
        // A plain prefix p lies in the universe, and within it p·w ranges over every w of
        // universe bytes: check that directly on the automaton.
        case (.prefix(let p), .lang(let l)):
            return l.containsAllExtensions(of: p, avoiding: slashRooted ? BoxAlgebra.nonPathBytes : [0x3F, 0x23])
        default: return pathLanguage(a).isSubset(of: pathLanguage(b))
        }
    }

    func pathContains(_ a: PathSet, _ s: [UInt8]) -> Bool? {
        switch a {
        case .exact(let x): return x == s
        case .prefix(let p): return hasPrefix(s, p) && universes.pathUniverse.contains(s) == true
        case .lang(let l): return l.contains(s)
        }
    }

    // MARK: Field relations

    private static let relDone: UInt8 = 1, relInter: UInt8 = 2, relSub: UInt8 = 4, relUndecided: UInt8 = 8

    func fieldIntersects(_ a: FieldSet, _ b: FieldSet) -> Bool? {
        if a.absent && b.absent { return true }
        if a.id >= 0, b.id >= 0 {
            if a.id == b.id { return a.isEmpty.map { !$0 } }
            let k = (min(a.id, b.id) << 32 | max(a.id, b.id)) << 1
            if let r = relCache[k] { return r & BoxAlgebra.relUndecided != 0 ? nil : r & BoxAlgebra.relInter != 0 }
            let v = a.values.intersects(b.values)
            relCache[k] = v == nil ? BoxAlgebra.relUndecided : (v! ? BoxAlgebra.relInter : 0)
            return v
        }
        return a.values.intersects(b.values)
    }

    func fieldSubset(_ a: FieldSet, _ b: FieldSet) -> Bool? {
        if a.absent && !b.absent { return false }
        if a.id >= 0, b.id >= 0 {
            if a.id == b.id { return true }
            let k = (a.id << 32 | b.id) << 1 | 1
            if let r = relCache[k] { return r & BoxAlgebra.relUndecided != 0 ? nil : r & BoxAlgebra.relSub != 0 }
            let v = a.values.isSubset(of: b.values)
            relCache[k] = v == nil ? BoxAlgebra.relUndecided : (v! ? BoxAlgebra.relSub : 0)
            return v
        }
        return a.values.isSubset(of: b.values)
    }

    func fieldContains(_ f: FieldSet, _ v: [UInt8]?) -> Bool? {
        guard let v else { return f.absent }
        return f.values.contains(v)
    }

    // MARK: Box relations

    /// Pairs of fields by key over both boxes (missing side = universe).
    private func zipFields(_ a: Box, _ b: Box, onlyCommon: Bool, _ body: (FieldKey, FieldSet, FieldSet) -> Bool?) -> Bool? {
        var i = 0
        var j = 0
        var undecided = false
        while i < a.fields.count || j < b.fields.count {
            let r: Bool?
            if j >= b.fields.count || (i < a.fields.count && a.fields[i].0 < b.fields[j].0) {
                let (k, f) = a.fields[i]
                i += 1
                if onlyCommon { continue }
                r = body(k, f, universeField(k))
            } else if i >= a.fields.count || b.fields[j].0 < a.fields[i].0 {
                let (k, f) = b.fields[j]
                j += 1
                if onlyCommon { continue }
                r = body(k, universeField(k), f)
            } else {
                let k = a.fields[i].0
                r = body(k, a.fields[i].1, b.fields[j].1)
                i += 1
                j += 1
            }
            if r == false { return false }
            if r == nil { undecided = true }
        }
        return undecided ? nil : true
    }

    /// Whether two (non-empty) boxes share a request.
    func intersects(_ a: Box, _ b: Box) -> Bool? {
        // Fields first when cheap: plain paths are cheaper still.
        guard let p = pathIntersects(a.path, b.path) else {
            return zipFields(a, b, onlyCommon: true) { fieldIntersects($1, $2) } == false ? false : nil
        }
        if !p { return false }
        return zipFields(a, b, onlyCommon: true) { fieldIntersects($1, $2) }
    }

    /// Whether every request of `a` is in `b` (`a` non-empty).
    func isSubset(_ a: Box, of b: Box) -> Bool? {
        let f = zipFields(a, b, onlyCommon: false) { k, fa, fb in
            // Keys only in `a` are unconstrained in `b`.
            if fb.id >= 0, fb.id == universeField(k).id { return true }
            return fieldSubset(fa, fb)
        }
        if f == false { return false }
        guard let p = pathSubset(a.path, b.path) else { return nil }
        if !p { return false }
        return f
    }

    func intersection(_ a: Box, _ b: Box) -> Box? {
        var path: PathSet
        switch (a.path, b.path) {
        case (.exact(let x), _): path = .exact(x)
        case (_, .exact(let y)): path = .exact(y)
        case (.prefix(let p), .prefix(let q)): path = .prefix(p.count >= q.count ? p : q)
        default:
            let l = pathLanguage(a.path).intersection(pathLanguage(b.path))
            if l.isUndecided { return nil }
            path = .lang(l)
        }
        var fields: [(FieldKey, FieldSet)] = []
        var ok = true
        _ = zipFields(a, b, onlyCommon: false) { k, fa, fb in
            // A side that is the whole universe (or the same set) leaves the other as it is.
            let u = universeField(k).id
            if fb.id >= 0 && (fb.id == u || fb.id == fa.id) {
                fields.append((k, fa))
                return true
            }
            if fa.id >= 0 && fa.id == u {
                fields.append((k, fb))
                return true
            }
            let v = fa.values.intersection(fb.values)
            if v.isUndecided { ok = false }
            fields.append((k, FieldSet(absent: fa.absent && fb.absent, values: v)))
            return true
        }
        return ok ? Box(path: path, fields: fields) : nil
    }

    /// `a` minus `b` as disjoint boxes, each narrowing one dimension; nil when undecided.
    func subtract(_ a: Box, _ b: Box) -> [Box]? {
        var out: [Box] = []
        var cur = a
        // Path dimension first.
        let pa = pathLanguage(a.path)
        let pb = pathLanguage(b.path)
        let rest = pa.subtracting(pb)
        guard let restEmpty = rest.isEmpty else { return nil }
        if !restEmpty {
            var piece = cur
            piece.path = .lang(rest)
            out.append(piece)
        }
        switch (a.path, b.path) {
        case (.exact, _): break  // exact ∩ anything containing it is itself
        default:
            let inter = pa.intersection(pb)
            if inter.isUndecided { return nil }
            cur.path = .lang(inter)
        }
        // Then each field constrained in `b` (others are unconstrained there).
        for (k, fb) in b.fields {
            let fa = cur.field(k) ?? universeField(k)
            let diff = FieldSet(absent: fa.absent && !fb.absent, values: fa.values.subtracting(fb.values))
            guard let diffEmpty = diff.isEmpty else { return nil }
            if !diffEmpty {
                var piece = cur
                set(&piece, k, diff)
                out.append(piece)
            }
            let inter = FieldSet(absent: fa.absent && fb.absent, values: fa.values.intersection(fb.values))
            if inter.values.isUndecided { return nil }
            set(&cur, k, inter)
        }
        return out
    }

    private func set(_ box: inout Box, _ key: FieldKey, _ f: FieldSet) {
        if let i = box.fields.firstIndex(where: { $0.0 == key }) {
            box.fields[i].1 = f
        } else {
            box.fields.append((key, f))
            box.fields.sort { $0.0 < $1.0 }
        }
    }

    func stateCount(_ b: Box) -> Int {
        var n = 0
        if case .lang(let l) = b.path { n += l.stateCount }
        for (_, f) in b.fields where f.id < 0 { n += f.values.stateCount }
        return n
    }

    /// Membership of a concrete request (fields absent from the request are absent).
    func contains(_ box: Box, _ r: ConcreteRequest) -> Bool? {
        guard let p = pathContains(box.path, r.path) else { return nil }
        if !p { return false }
        var undecided = false
        for (k, f) in box.fields {
            var v: [UInt8]? = nil
            for (rk, rv) in r.fields where rk == k {
                v = rv
                break
            }
            guard let m = fieldContains(f, v) else {
                undecided = true
                continue
            }
            if !m { return false }
        }
        return undecided ? nil : true
    }

    // MARK: Witnesses

    static let preferredMethods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE"]

    /// A readable member of a non-empty field set: absent when allowed (unless
    /// `preferPresent`), a common method for `:method`, else the cheapest value.
    func sampleValue(_ key: FieldKey, _ f: FieldSet, preferPresent: Bool = false) -> [UInt8]?? {
        if f.absent && (!preferPresent || f.values.isEmpty == true) { return .some(nil) }
        if key.name == ":method" && !key.isQuery {
            for m in BoxAlgebra.preferredMethods where f.values.contains(m) == true { return .some(Array(m.utf8)) }
        }
        guard let v = f.values.shortestMember() else { return nil }
        return .some(v)
    }

    func samplePath(_ p: PathSet) -> [UInt8]? {
        switch p {
        case .exact(let s), .prefix(let s): return s
        case .lang(let l): return l.shortestMember()
        }
    }

    /// A concrete request inside a non-empty box; nil when undecided.
    func sample(_ box: Box, preferPresent: Bool = false) -> ConcreteRequest? {
        guard let path = samplePath(box.path) else { return nil }
        var fields: [(FieldKey, [UInt8]?)] = []
        for (k, f) in box.fields {
            guard let v = sampleValue(k, f, preferPresent: preferPresent) else { return nil }
            fields.append((k, v))
        }
        return ConcreteRequest(path: path, fields: fields)
    }

    /// Bytes of a request target as text: as they are when they are UTF-8, else with every
    /// non-ASCII byte percent-encoded (never U+FFFD, which would name another request).
    static func urlText(_ bytes: [UInt8]) -> String {
        if let s = String(validating: bytes, as: UTF8.self) { return s }
        var out = ""
        for b in bytes {
            if b < 0x80 {
                out.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                out += "%" + String(b, radix: 16, uppercase: true)
            }
        }
        return out
    }

    /// The request for a sample: `GET` unless `:method` is constrained, the path with the
    /// query parameters it needs, the other headers sorted by name (absent ones omitted).
    /// Pseudo-header constraints set the request's fields (`:authority` or `host` the
    /// authority, `:scheme`, `:path`); the authority is left nil for the caller to fill in
    /// with the virtual host's example domain.
    func witness(_ r: ConcreteRequest) -> EnvoyRequest {
        var headers: [(String, String)] = []
        var query: [String] = []
        for (k, v) in r.fields {
            guard let v else { continue }
            let s = k.isQuery ? BoxAlgebra.urlText(v) : String(decoding: v, as: UTF8.self)
            if k.isQuery { query.append(k.name + "=" + s) } else { headers.append((k.name, s)) }
        }
        var path = BoxAlgebra.urlText(r.path)
        if !query.isEmpty { path += "?" + query.joined(separator: "&") }
        var request = EnvoyRequest(authority: nil, path: path)
        for (name, value) in headers {
            switch name.asciiLowercased {
            case ":method": request.method = value
            case ":authority", "host": request.authority = value
            case ":scheme": request.scheme = value
            case ":path": request.path = value
            default: request.headers.append(HTTPHeader(name, value))
            }
        }
        return request
    }
}
