// Route shadowing and overlap analysis for one virtual host (routes in order, first match
// wins). See `analyzeShadowing` for the contract.

import XDSCAutomata
import XDSCRequest

/// One route, modelled.
final class RouteModel {
    let index: Int
    let opaque: Bool
    /// Why the route cannot be modelled (unsupported regex, automaton too large).
    var undecided: String?
    /// The route matches no request at all.
    var matchesNothing = false
    /// Which condition makes it match nothing.
    var unmatchableCause: UnmatchableRoute.Cause = .path
    /// It matches nothing a conforming client sends, but may match raw bytes (space, tab,
    /// non-ASCII) that a codec lets through: neither reported nor compared.
    var onlyRawBytes = false
    /// Bytes every matched path starts with (the index key).
    var key: [UInt8] = []
    private var built: Box?
    /// A regex whose language (exact and non-empty, `Language.triageRegex`) is built the
    /// first time the route is compared: most routes of a large table never are.
    private var pendingRegex: (pattern: String, fields: [(FieldKey, FieldSet)], algebra: BoxAlgebra)?

    init(index: Int, opaque: Bool, box: Box) {
        self.index = index
        self.opaque = opaque
        built = box
    }

    init(index: Int, opaque: Bool, regex: String, fields: [(FieldKey, FieldSet)], algebra: BoxAlgebra) {
        self.index = index
        self.opaque = opaque
        pendingRegex = (regex, fields, algebra)
    }

    var box: Box {
        if let built { return built }
        let (re, fields, a) = pendingRegex!
        let b = Box(path: .lang(a.regexPathLanguage(re)), fields: fields)
        built = b
        pendingRegex = nil
        return b
    }
}

/// A byte trie over the routes' literal path prefixes. Two routes can only share a request
/// when one's key is a prefix of the other's, so a route is compared with the routes on
/// its key's path (ancestors) and below it (descendants) only.
struct PrefixTrie {
    private var label: [UInt8] = [0]
    private var firstChild: [Int32] = [-1]
    private var nextSibling: [Int32] = [-1]
    private var routeHead: [Int32] = [-1]
    private var routeNext: [Int32]

    init(routeCount: Int) {
        routeNext = [Int32](repeating: -1, count: routeCount)
    }

    private func child(_ node: Int32, _ b: UInt8) -> Int32 {
        var c = firstChild[Int(node)]
        while c >= 0 {
            if label[Int(c)] == b { return c }
            c = nextSibling[Int(c)]
        }
        return -1
    }

    mutating func insert(_ key: [UInt8], route: Int) {
        var node: Int32 = 0
        for b in key {
            var c = child(node, b)
            if c < 0 {
                c = Int32(label.count)
                label.append(b)
                firstChild.append(-1)
                nextSibling.append(firstChild[Int(node)])
                routeHead.append(-1)
                firstChild[Int(node)] = c
            }
            node = c
        }
        routeNext[route] = routeHead[Int(node)]
        routeHead[Int(node)] = Int32(route)
    }

    private func collect(_ node: Int32, _ out: inout [Int32]) {
        var r = routeHead[Int(node)]
        while r >= 0 {
            out.append(r)
            r = routeNext[Int(r)]
        }
    }

    /// Routes whose key is a prefix of `key` or extends it (unordered).
    func candidates(_ key: [UInt8], into out: inout [Int32]) {
        var node: Int32 = 0
        collect(node, &out)
        for b in key {
            node = child(node, b)
            if node < 0 { return }
            collect(node, &out)
        }
        // The whole subtree below the key's node.
        var stack: [Int32] = []
        var c = firstChild[Int(node)]
        while c >= 0 {
            stack.append(c)
            c = nextSibling[Int(c)]
        }
        while let n = stack.popLast() {
            collect(n, &out)
            var c = firstChild[Int(n)]
            while c >= 0 {
                stack.append(c)
                c = nextSibling[Int(c)]
            }
        }
    }
}

/// Finds shadowed and overlapping routes among one virtual host's routes (in order; Envoy
/// takes the first route that matches).
///
/// - **shadowed**: every request route `i` matches is matched by earlier routes — one route,
///   or several together (decided exactly by box subtraction, with a work cap).
///   `redundantDuplicate` when one earlier route with the same action covers it.
/// - **overlap**: an earlier route `j` and route `i` share requests but neither contains the
///   other. `j ⊆ i` (specific before general) is the normal idiom and is not reported. A
///   shadowed route gets no overlap findings; at most `options.maxOverlapsPerRoute` overlap
///   findings per route (the first overlapping earlier routes).
///
/// Every witness is checked with `verify(routeIndex, witness)` for the routes involved; a
/// finding whose witness the caller rejects is dropped and counted as undecided. Anything
/// that cannot be decided (unsupported regex, opaque route, work caps) yields no finding and
/// is counted in ``ShadowReport/undecidedCount``.
///
/// - Parameters:
///   - routes: the routes in declaration order.
///   - sameAction: whether two routes (by index) have the same action.
///   - verify: whether Envoy's real match function matches the witness for that route.
///   - memo: work several hosts can share (pass the same one for the hosts of one table or
///     run): each distinct regex is triaged once. The report is the same with or without it.
public func analyzeShadowing(
    _ routes: [RouteConstraint],
    options: ShadowOptions = ShadowOptions(),
    memo: ShadowMemo? = nil,
    sameAction: (Int, Int) -> Bool,
    verify: (Int, EnvoyRequest) -> Bool
) -> ShadowReport {
    var analyzer = ShadowAnalyzer(routes: routes, options: options, memo: memo ?? ShadowMemo())
    return analyzer.run(sameAction: sameAction, verify: verify)
}

/// What the analyses of several virtual hosts can share: results that depend on a route's
/// pattern and the path universe alone. A large table repeats the same regexes in many hosts,
/// and the triage of a regex (a parse and an NFA) is most of a regex route's modelling cost.
/// Not thread-safe: one analysis at a time.
public final class ShadowMemo {
    // By pattern, one table per path universe. (Keyed by `String`, whose `Hashable`
    // conformance the runtime has already looked up: a new key type costs a scan of every
    // conformance record in the binary on first use, a visible part of a small lint.)
    private var triages: [String: (triage: RegexTriage, foldedPrefix: [UInt8])] = [:]
    private var anyBytesTriages: [String: (triage: RegexTriage, foldedPrefix: [UInt8])] = [:]

    /// An empty memo.
    public init() {}

    /// `Language.triageRegex(pattern, within: algebra's path universe)`, computed once per pattern.
    func triage(_ pattern: String, _ algebra: BoxAlgebra) -> (triage: RegexTriage, foldedPrefix: [UInt8]) {
        if let known = algebra.slashRooted ? triages[pattern] : anyBytesTriages[pattern] { return known }
        let t = Language.triageRegex(pattern, within: algebra.universes.pathUniverse)
        if algebra.slashRooted { triages[pattern] = t } else { anyBytesTriages[pattern] = t }
        return t
    }
}

/// Convenience overload with the default options.
public func analyzeShadowing(
    _ routes: [RouteConstraint],
    sameAction: (Int, Int) -> Bool,
    verify: (Int, EnvoyRequest) -> Bool
) -> ShadowReport {
    analyzeShadowing(routes, options: ShadowOptions(), sameAction: sameAction, verify: verify)
}

struct ShadowAnalyzer {
    let options: ShadowOptions
    let algebra: BoxAlgebra
    let memo: ShadowMemo
    var models: [RouteModel] = []
    var report = ShadowReport(findings: [], undecidedCount: 0, undecided: [], comparedPairs: 0)

    init(routes: [RouteConstraint], options: ShadowOptions, memo: ShadowMemo = ShadowMemo()) {
        self.options = options
        self.memo = memo
        algebra = BoxAlgebra(options: options)
        models = routes.enumerated().map { build($0.offset, $0.element) }
    }

    // MARK: Model building

    /// Index keys are folded (`Language.foldForIndex`: ASCII lower case, ſ→s, K→k): if a
    /// path matches two routes, its folded form starts with both keys, whatever each route's
    /// case sensitivity, so the keys are prefix-related — the trie's pruning stays sound with
    /// case-insensitive routes and `(?i)` regexes.
    private func folded(_ b: [UInt8]) -> [UInt8] {
        Language.foldForIndex(b)
    }

    /// Without ASCII letters, Envoy's case-insensitive comparison is plain equality.
    private func hasLetter(_ b: [UInt8]) -> Bool {
        b.contains { (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }
    }

    func build(_ index: Int, _ r: RouteConstraint) -> RouteModel {
        let a = algebra
        var opaque = r.opaque
        var key: [UInt8] = []
        // nil: a regex whose language is exact and non-empty, built on first use.
        let path: PathSet?
        switch r.path {
        case .prefix(let s, let cs):
            let b = Array(s.utf8)
            if (cs || !hasLetter(b)) && a.isPlainPath(b) {
                path = .prefix(b)
            } else {
                path = .lang(a.cached("LP\(cs)|\(s)") { Language.prefix(b, caseInsensitive: !cs).intersection(a.universes.pathUniverse) })
            }
            key = folded(b)
        case .exact(let s, let cs):
            let b = Array(s.utf8)
            if (cs || !hasLetter(b)) && a.isPlainPath(b) {
                path = .exact(b)
            } else {
                path = .lang(a.cached("LE\(cs)|\(s)") { Language.literal(b, caseInsensitive: !cs).intersection(a.universes.pathUniverse) })
            }
            key = folded(b)
        case .pathSeparatedPrefix(let s, let cs):
            let b = Array(s.utf8)
            path = .lang(
                a.cached("LS\(cs)|\(s)") {
                    Language.literal(b, caseInsensitive: !cs).union(.prefix(b + [0x2F], caseInsensitive: !cs))
                        .intersection(a.universes.pathUniverse)
                })
            key = folded(b)
        case .regex(let re):
            // One parse gives the index key and tells whether the language is needed now.
            let (triage, prefix) = memo.triage(re, a)
            key = prefix
            switch triage {
            case .nonEmpty: path = nil
            case .undecided(let reason): path = .lang(.undecided(reason))
            case .unknown: path = .lang(a.regexPathLanguage(re))
            }
        }
        // Group conditions by dimension. (A list, not a dictionary: a route has a few keys,
        // and a dictionary keyed by a new type costs a scan of the binary's conformance
        // records on first use, a visible part of a small lint.)
        var groups = FieldGroups()
        for h in r.headers {
            // Names are nearly always lower-case already (the Envoy model's converter lowers them).
            let name =
                h.name.utf8.contains(where: { (0x41...0x5A).contains($0) })
                ? String(decoding: h.name.utf8.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }, as: UTF8.self) : h.name
            if name == ":path" {
                // `:path` in a header matcher includes the query: coupled with two other
                // dimensions. Dropping it over-approximates the route, which is only sound
                // for the shadowed side, exactly what `opaque` means.
                opaque = true
                continue
            }
            groups.append(h, to: FieldKey(isQuery: false, name: name))
        }
        for q in r.query {
            if q.name.isEmpty || q.name.utf8.contains(where: { $0 == 0x3D || $0 == 0x26 || $0 == 0x23 }) {
                opaque = true  // such a name never equals a parsed key
                continue
            }
            groups.append(q, to: FieldKey(isQuery: true, name: q.name))
        }
        let grpcKey = FieldKey(isQuery: false, name: "content-type")
        if r.grpc, groups[grpcKey] == nil { groups.add(grpcKey) }
        var fields: [(FieldKey, FieldSet)] = []
        for k in groups.keys.sorted() {
            var extra: [(String, Language)] = []
            if r.grpc && k == grpcKey {
                extra.append(
                    (
                        "grpc",
                        a.cached("grpc") {
                            Language.literal("application/grpc").union(.prefix("application/grpc+"))
                        }
                    ))
            }
            fields.append((k, a.fieldSet(groups[k]!, extra: extra, key: k)))
        }
        let m: RouteModel
        if let path {
            m = RouteModel(index: index, opaque: opaque, box: Box(path: path, fields: fields))
        } else if case .regex(let re) = r.path {
            m = RouteModel(index: index, opaque: opaque, regex: re, fields: fields, algebra: a)
        } else {
            preconditionFailure("only a regex path is built later")
        }
        m.key = key
        if case .lang(let l) = path, let reason = l.undecidedReason {
            m.undecided = "path: \(reason)"
        }
        for (k, f) in fields where m.undecided == nil {
            if let reason = f.values.undecidedReason { m.undecided = "\(k.isQuery ? "query" : "header") \(k.name): \(reason)" }
        }
        if m.undecided == nil {
            if case .lang(let l) = path, l.isEmpty == true {
                m.matchesNothing = true
                // Nothing a conforming client sends; but maybe raw bytes some codec passes.
                if rawPathLanguage(r.path).intersects(a.universes.widePathUniverse) != false { m.onlyRawBytes = true }
            } else if let (k, _) = fields.first(where: { $0.1.isEmpty == true }) {
                m.matchesNothing = true
                m.unmatchableCause = .field(name: k.name, isQuery: k.isQuery)
                if a.admitsWideValue(groups[k] ?? [], key: k) != false { m.onlyRawBytes = true }
            }
        }
        return m
    }

    /// The path condition's language before the universe is applied.
    func rawPathLanguage(_ p: PathConstraint) -> Language {
        switch p {
        case .prefix(let s, let cs): return Language.prefix(Array(s.utf8), caseInsensitive: !cs)
        case .exact(let s, let cs): return Language.literal(Array(s.utf8), caseInsensitive: !cs)
        case .pathSeparatedPrefix(let s, let cs):
            let b = Array(s.utf8)
            return Language.literal(b, caseInsensitive: !cs).union(.prefix(b + [0x2F], caseInsensitive: !cs))
        case .regex(let re): return algebra.cached("LR-raw|\(re)") { Language.regex(re) }
        }
    }

    // MARK: Driver

    mutating func noteUndecided(_ route: Int, _ earlier: Int?, _ reason: String) {
        report.undecidedCount += 1
        if report.undecided.count < options.maxUndecidedDetails {
            report.undecided.append(UndecidedCase(route: route, earlier: earlier, reason: reason))
        }
    }

    mutating func run(sameAction: (Int, Int) -> Bool, verify: (Int, EnvoyRequest) -> Bool) -> ShadowReport {
        var trie = PrefixTrie(routeCount: models.count)
        var cand: [Int32] = []
        for m in models {
            let i = m.index
            defer { if !m.matchesNothing { trie.insert(m.key, route: i) } }
            if let reason = m.undecided {
                noteUndecided(i, nil, reason)
                continue
            }
            if m.matchesNothing {
                if m.onlyRawBytes, case .field(let name, isQuery: false) = m.unmatchableCause {
                    noteUndecided(i, nil, "matches only requests whose header `\(name)` holds bytes that are not UTF-8")
                } else if m.onlyRawBytes {
                    noteUndecided(
                        i, nil, "matches only requests with a raw space, tab or non-ASCII byte, which clients send percent-encoded")
                } else {
                    report.unmatchable.append(UnmatchableRoute(route: i, cause: m.unmatchableCause))
                }
                continue
            }
            cand.removeAll(keepingCapacity: true)
            trie.candidates(m.key, into: &cand)
            cand.sort()
            analyzeRoute(m, candidates: cand, sameAction: sameAction, verify: verify)
        }
        return report
    }

    /// Earlier routes that intersect route i, split by what can be concluded.
    mutating func analyzeRoute(
        _ m: RouteModel, candidates: [Int32],
        sameAction: (Int, Int) -> Bool, verify: (Int, EnvoyRequest) -> Bool
    ) {
        let a = algebra
        let i = m.index
        var inter: [Int] = []  // decided, non-opaque, intersecting
        var unknown: [Int] = []  // may intersect, cannot tell (or cannot use)
        var opaqueInter: [Int] = []
        var iInJ: [Int: Bool] = [:]
        var relationUnknown = false
        // One pass in route order; the first earlier route containing route i ends it (a
        // shadowed route gets no other finding), which keeps long runs of duplicates linear.
        for jj in candidates {
            let j = Int(jj)
            let e = models[j]
            report.comparedPairs += 1
            if e.undecided != nil {
                unknown.append(j)
                continue
            }
            guard let x = a.intersects(m.box, e.box) else {
                unknown.append(j)
                continue
            }
            if !x { continue }
            if e.opaque {
                opaqueInter.append(j)
                continue
            }
            let sub = a.isSubset(m.box, of: e.box)
            if sub == true {
                reportShadow(i, earlier: [j], before: inter, duplicate: sameAction(j, i), verify: verify)
                return
            }
            if let sub { iInJ[j] = sub } else { relationUnknown = true }
            inter.append(j)
        }
        // Shadowed by several together?
        if inter.count >= 2 {
            switch unionCoverage(m, inter) {
            case .covered(let used):
                reportShadow(i, earlier: used, before: [], duplicate: false, verify: verify)
                return
            case .undecided(let why):
                // The route may be shadowed; a shadowed route gets no overlap findings, so
                // report nothing more for it.
                noteUndecided(i, nil, "union coverage: \(why)")
                return
            case .notCovered:
                break
            }
        }
        if relationUnknown || !unknown.isEmpty {
            noteUndecided(i, unknown.first, "shadowing depends on routes that cannot be modelled")
        }
        // Overlaps with opaque routes are never reported; count the ones that matter.
        for j in opaqueInter where a.isSubset(models[j].box, of: m.box) != true {
            noteUndecided(i, j, "overlap with a route that has conditions we cannot model")
        }
        // Partial overlaps.
        var reported = 0
        let earlier = (inter + opaqueInter).sorted()
        var reachWork = 0
        let reachLimit = min(earlier.count + 64, options.maxCoverageBoxes)
        for j in inter {
            if reported >= options.maxOverlapsPerRoute { break }
            guard let jInI = a.isSubset(models[j].box, of: m.box), let ij = iInJ[j] ?? a.isSubset(m.box, of: models[j].box) else {
                noteUndecided(i, j, "overlap undecided")
                continue
            }
            if jInI || ij { continue }
            if m.opaque {
                // What an opaque route really matches is unknown: no overlap claim.
                noteUndecided(i, j, "overlap of a route that has conditions we cannot model")
                continue
            }
            // The overlap matters only for shared requests that reach route j, i.e. that no
            // route before j takes: remove what the earlier routes match.
            if reachWork > reachLimit {
                noteUndecided(i, j, "overlap reachability: work cap")
                continue
            }
            reachWork += 1 + m.box.fields.count
            guard let shared = a.intersection(m.box, models[j].box) else {
                noteUndecided(i, j, "no witness for overlap")
                continue
            }
            let box: Box
            let before = earlier[..<(earlier.firstIndex { $0 >= j } ?? earlier.endIndex)]
            switch reaching(shared, before: before, work: &reachWork, limit: reachLimit) {
            case .none:
                continue  // every shared request goes to an even earlier route: moot
            case .undecided(let why):
                noteUndecided(i, j, "overlap reachability: \(why)")
                continue
            case .some(let b):
                box = b
            }
            guard let req = a.sample(box) else {
                noteUndecided(i, j, "no witness for overlap")
                continue
            }
            let w = a.witness(req)
            // Routes that cannot be modelled are checked on the witness itself.
            if unknown.contains(where: { $0 < j && verify($0, w) }) {
                noteUndecided(i, j, "overlap witness taken by a route that cannot be modelled")
                continue
            }
            if verify(j, w) && verify(i, w) {
                report.findings.append(ShadowFinding(kind: .overlap, route: i, earlier: [j], redundantDuplicate: false, witness: w))
                reported += 1
            } else {
                noteUndecided(i, j, "overlap witness rejected by verification")
            }
        }
    }

    /// Reports route `i` as shadowed, with a verified witness. `before` are the earlier
    /// routes (before `earlier[0]`) that take part of route i's requests: the witness avoids
    /// them when that is cheap, so it is a request `earlier[0]` really takes.
    mutating func reportShadow(
        _ i: Int, earlier: [Int], before: [Int], duplicate: Bool,
        verify: (Int, EnvoyRequest) -> Bool
    ) {
        let a = algebra
        let first = earlier[0]
        guard var box = a.intersection(models[i].box, models[first].box) else {
            noteUndecided(i, first, "no witness for shadowing")
            return
        }
        if !before.isEmpty && before.count <= 16 {
            var pieces = [box]
            for k in before {
                var next: [Box] = []
                for p in pieces {
                    if a.intersects(p, models[k].box) == false {
                        next.append(p)
                        continue
                    }
                    guard let d = a.subtract(p, models[k].box) else {
                        next = []
                        break
                    }
                    next.append(contentsOf: d)
                }
                pieces = next
                if pieces.isEmpty || pieces.count > 64 { break }
            }
            if let p = pieces.first, pieces.count <= 64 { box = p }
        }
        guard let req = a.sample(box) else {
            noteUndecided(i, first, "no witness for shadowing")
            return
        }
        let w = a.witness(req)
        guard verify(i, w) && verify(first, w) else {
            noteUndecided(i, first, "shadowing witness rejected by verification")
            return
        }
        report.findings.append(
            ShadowFinding(
                kind: .shadowed, route: i, earlier: earlier,
                redundantDuplicate: duplicate && earlier.count == 1, witness: w))
    }

    enum Reach {
        case none
        case some(Box)
        case undecided(String)
    }

    /// A non-empty box of `shared` (the requests route i and route j share) that none of the
    /// routes `before` (those before j that intersect route i, ascending) matches; `.none`
    /// when they take it all. Opaque routes are subtracted with their modelled conditions,
    /// which contain what they really match, so what is left surely reaches past them; when
    /// one of them was needed to take it all, whether any request gets through is unknown.
    /// `work` counts intersection tests and boxes made across the pairs of one route, against
    /// `limit`: a few times the comparisons the route needed anyway, so moot pairs cannot
    /// make the analysis quadratic per route.
    func reaching(_ shared: Box, before: ArraySlice<Int>, work: inout Int, limit: Int) -> Reach {
        let a = algebra
        var pieces = [shared]
        var opaqueUsed = false
        for k in before {
            let b = models[k].box
            var next: [Box] = []
            for p in pieces {
                work += 1
                guard let x = a.intersects(p, b) else { return .undecided("undecided intersection") }
                if !x {
                    next.append(p)
                    continue
                }
                if models[k].opaque { opaqueUsed = true }
                guard let d = a.subtract(p, b) else { return .undecided("undecided subtraction") }
                work += d.count
                next.append(contentsOf: d)
            }
            if work > limit { return .undecided("work cap") }
            pieces = next
            if pieces.isEmpty { return opaqueUsed ? .undecided("earlier routes we cannot model may take the shared requests") : .none }
        }
        return .some(pieces[0])
    }

    enum Coverage {
        case covered([Int])
        case notCovered
        case undecided(String)
    }

    /// Whether route `m` is covered by the union of the earlier (intersecting) routes.
    mutating func unionCoverage(_ m: RouteModel, _ earlier: [Int]) -> Coverage {
        let a = algebra
        // Cheap refutation first: a request of the route that no earlier route matches.
        if probeEscapes(m, earlier) { return .notCovered }
        // Exact decision: subtract each earlier box from what is left of the route.
        var pieces = [m.box]
        var used: [Int] = []
        var produced = 0
        var states = 0  // cumulative, bounds the total work
        for j in earlier {
            let b = models[j].box
            var next: [Box] = []
            var touched = false
            for p in pieces {
                guard let x = a.intersects(p, b) else { return .undecided("undecided intersection") }
                if !x {
                    next.append(p)
                    continue
                }
                touched = true
                guard let d = a.subtract(p, b) else { return .undecided("undecided subtraction") }
                produced += d.count
                for q in d { states += a.stateCount(q) }
                next.append(contentsOf: d)
                if produced > options.maxCoverageBoxes { return .undecided("work cap (boxes)") }
                if states > options.maxCoverageStates { return .undecided("work cap (states)") }
            }
            pieces = next
            if touched { used.append(j) }
            if pieces.isEmpty { return .covered(used) }
        }
        return .notCovered
    }

    func probeEscapes(_ m: RouteModel, _ earlier: [Int]) -> Bool {
        let a = algebra
        var paths: [[UInt8]] = []
        switch m.box.path {
        case .exact(let s): paths = [s]
        // Probes must lie in the universes (a request Envoy never routes would refute
        // coverage falsely): `~` is the unusual byte both path universes allow.
        case .prefix(let p): paths = [p, p + [0x2F], p + [0x7E], p + [0x2F, 0x7E]]
        case .lang(let l):
            if let s = l.shortestMember() { paths.append(s) }
            // A member with an unusual byte rarely lies in an earlier route.
            if let s = l.intersection(.contains([0x7E])).shortestMember() { paths.append(s) }
            // Members outside the broadest earlier routes (shortest index keys).
            let broad = earlier.sorted { (models[$0].key.count, $0) < (models[$1].key.count, $1) }.prefix(3)
            for j in broad {
                if let s = l.subtracting(a.pathLanguage(models[j].box.path)).shortestMember() { paths.append(s) }
            }
        }
        // Every key any involved box constrains.
        var keys: [FieldKey] = []
        for (k, _) in m.box.fields where !keys.contains(k) { keys.append(k) }
        for j in earlier { for (k, _) in models[j].box.fields where !keys.contains(k) { keys.append(k) } }
        let sortedKeys = keys.sorted()
        for variant in 0..<2 {
            var fields: [(FieldKey, [UInt8]?)] = []
            for k in sortedKeys {
                let f = m.box.field(k) ?? a.universeField(k)
                if m.box.field(k) == nil && variant == 1 && !k.alwaysPresent {
                    fields.append((k, Array((k.isQuery ? "zq~" : "zq\u{7F}").utf8)))
                    continue
                }
                if m.box.field(k) == nil && variant == 1 && k.name == ":method" {
                    fields.append((k, Array("PROBE".utf8)))
                    continue
                }
                guard let v = a.sampleValue(k, f, preferPresent: variant == 1) else { return false }
                fields.append((k, v))
            }
            for p in paths {
                let r = ConcreteRequest(path: p, fields: fields)
                guard a.contains(m.box, r) == true else { continue }
                var escapes = true
                for j in earlier where a.contains(models[j].box, r) != false {
                    escapes = false
                    break
                }
                if escapes { return true }
            }
        }
        return false
    }
}

/// A route's conditions grouped by key, in first-seen order.
struct FieldGroups {
    private var groups: [(key: FieldKey, constraints: [FieldConstraint])] = []

    /// The keys, in first-seen order.
    var keys: [FieldKey] { groups.map(\.key) }

    /// The conditions on `key`, nil when it has none (not even an empty group).
    subscript(key: FieldKey) -> [FieldConstraint]? {
        groups.first { $0.key == key }?.constraints
    }

    /// Adds `c` to the group of `key`.
    mutating func append(_ c: FieldConstraint, to key: FieldKey) {
        if let i = groups.firstIndex(where: { $0.key == key }) {
            groups[i].constraints.append(c)
        } else {
            groups.append((key, [c]))
        }
    }

    /// Adds an empty group for `key`.
    mutating func add(_ key: FieldKey) { groups.append((key, [])) }
}
