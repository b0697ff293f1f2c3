// The behavioural comparison of two route tables of one virtual host: the request space
// partitioned by (old winner, new winner), with the same boxes, path universe and caps as
// the shadowing analysis.

import XDSCAutomata
import XDSCRequest

/// One class of requests whose winners differ in outcome: every request of the class is won
/// by `old` in the old table and by `new` in the new one (nil: no route matches).
public struct TableDiffClass: Sendable {
    /// The old winner's index, nil when no old route matches.
    public var old: Int?
    /// The new winner's index, nil when no new route matches.
    public var new: Int?
    /// A request of the class (verified by the caller's `verify`).
    public var witness: EnvoyRequest
}

/// Result of ``diffRouteTables(old:new:options:counterpart:sameOutcome:verify:)``.
public struct TableDiffReport: Sendable {
    /// The classes whose outcomes differ, ordered by old winner (nil last), then new winner.
    public var classes: [TableDiffClass] = []
    /// Pairs of winners whose class could not be decided exactly (and so were not reported).
    public var undecidedCount = 0
    /// The reasons of the first undecided pairs, as "old X / new Y: reason".
    public var undecided: [String] = []
    /// Pairs of (old route, new route) whose boxes were compared.
    public var comparedPairs = 0
}

/// Compares two route tables (first match wins in each) and finds every class of requests,
/// keyed by (old winner, new winner), whose outcomes differ.
///
/// A class (i, j) is the intersection of route i's old region (its box minus the earlier old
/// routes) with route j's new region, decided by box subtraction. Pairs are pruned soundly:
/// only routes whose index keys are prefix-related can share a request; when `sameOutcome`
/// says the two winners behave alike the class is irrelevant; and two routes that are both
/// unchanged (`counterpart`) can only form a class when their relative order flipped.
///
/// - Parameters:
///   - counterpart: for an old route, the index of an identical new route (same match and
///     outcome), or nil; used for pruning only.
///   - sameOutcome: whether old route `i` (nil: no route) and new route `j` (nil: no route)
///     produce the same outcome for every request.
///   - verify: whether the witness really is won by `old` and `new` (the engines' decision)
///     and the outcomes differ; a class whose witness is rejected is counted as undecided.
public func diffRouteTables(
    old: [RouteConstraint], new: [RouteConstraint], options: ShadowOptions = ShadowOptions(),
    counterpart: (Int) -> Int?,
    sameOutcome: (Int?, Int?) -> Bool,
    verify: (Int?, Int?, EnvoyRequest) -> Bool
) -> TableDiffReport {
    var d = TableDiffer(old: old, new: new, options: options)
    return d.run(counterpart: counterpart, sameOutcome: sameOutcome, verify: verify)
}

struct TableDiffer {
    let options: ShadowOptions
    let builder: ShadowAnalyzer
    let algebra: BoxAlgebra
    let oldRoutes: [RouteConstraint]
    let newRoutes: [RouteConstraint]
    // Models are built on demand: most routes of a small change are pruned before any set
    // operation, and building their automata would dominate the run.
    var oldModels: [RouteModel?]
    var newModels: [RouteModel?]
    var report = TableDiffReport()

    init(old: [RouteConstraint], new: [RouteConstraint], options: ShadowOptions) {
        // One analyzer's algebra for both tables, so interned field sets compare across them.
        builder = ShadowAnalyzer(routes: [], options: options)
        self.options = options
        algebra = builder.algebra
        oldRoutes = old
        newRoutes = new
        oldModels = Array(repeating: nil, count: old.count)
        newModels = Array(repeating: nil, count: new.count)
    }

    mutating func model(old: Bool, _ i: Int) -> RouteModel {
        if old {
            if let m = oldModels[i] { return m }
            let m = builder.build(i, oldRoutes[i])
            oldModels[i] = m
            return m
        }
        if let m = newModels[i] { return m }
        let m = builder.build(i, newRoutes[i])
        newModels[i] = m
        return m
    }

    /// The index key `ShadowAnalyzer.build` gives a route, without building its automata.
    static func key(_ r: RouteConstraint) -> [UInt8] {
        switch r.path {
        case .prefix(let s, _), .exact(let s, _), .pathSeparatedPrefix(let s, _): Language.foldForIndex(Array(s.utf8))
        case .regex(let re): Language.regexFoldedLiteralPrefix(re)
        }
    }

    static func trie(_ routes: [RouteConstraint]) -> PrefixTrie {
        var t = PrefixTrie(routeCount: routes.count)
        for (i, r) in routes.enumerated() { t.insert(key(r), route: i) }
        return t
    }

    func label(_ side: String, _ i: Int?) -> String { i.map { "\(side) #\($0 + 1)" } ?? "\(side) no route" }

    mutating func undecided(_ i: Int?, _ j: Int?, _ reason: String) {
        report.undecidedCount += 1
        if report.undecided.count < options.maxUndecidedDetails {
            report.undecided.append("\(label("old", i)) / \(label("new", j)): \(reason)")
        }
    }

    mutating func run(
        counterpart: (Int) -> Int?, sameOutcome: (Int?, Int?) -> Bool, verify: (Int?, Int?, EnvoyRequest) -> Bool
    ) -> TableDiffReport {
        let oldTrie = Self.trie(oldRoutes)
        let newTrie = Self.trie(newRoutes)
        // The inverse of `counterpart`.
        var oldOf: [Int: Int] = [:]
        for i in oldRoutes.indices { if let j = counterpart(i) { oldOf[j] = i } }
        var cand: [Int32] = []
        for i in oldRoutes.indices {
            cand.removeAll(keepingCapacity: true)
            newTrie.candidates(Self.key(oldRoutes[i]), into: &cand)
            cand.sort()
            let ci = counterpart(i)
            for jj in cand {
                let j = Int(jj)
                // Both unchanged: a request won by i (old) and j (new) matches both, so i must
                // come after j in the new table and j after i in the old one.
                if let ci, let oj = oldOf[j], !(ci > j && oj > i) { continue }
                if sameOutcome(i, j) { continue }
                report.comparedPairs += 1
                classify(i, j, oldTrie: oldTrie, newTrie: newTrie, verify: verify)
            }
            // Old winner i, no new route: impossible when i is in the new table unchanged.
            if ci == nil && !sameOutcome(i, nil) {
                classify(i, nil, oldTrie: oldTrie, newTrie: newTrie, verify: verify)
            }
        }
        for j in newRoutes.indices where oldOf[j] == nil && !sameOutcome(nil, j) {
            classify(nil, j, oldTrie: oldTrie, newTrie: newTrie, verify: verify)
        }
        report.classes.sort { a, b in
            let ka = (a.old ?? Int.max, a.new ?? Int.max)
            let kb = (b.old ?? Int.max, b.new ?? Int.max)
            return ka < kb
        }
        return report
    }

    /// Decides whether the class (i, j) is non-empty and, if so, reports it with a witness.
    mutating func classify(
        _ i: Int?, _ j: Int?, oldTrie: PrefixTrie, newTrie: PrefixTrie, verify: (Int?, Int?, EnvoyRequest) -> Bool
    ) {
        let a = algebra
        let mi = i.map { model(old: true, $0) }
        let mj = j.map { model(old: false, $0) }
        for m in [mi, mj].compactMap({ $0 }) {
            if let why = m.undecided { return undecided(i, j, why) }
            // A route that matches nothing wins nothing: the class is empty.
            if m.matchesNothing { return }
            if m.opaque { return undecided(i, j, "a winner has conditions we cannot model") }
        }
        var box: Box
        switch (mi, mj) {
        case (let x?, let y?):
            guard let inter = a.intersects(x.box, y.box) else { return undecided(i, j, "undecided intersection") }
            if !inter { return }
            guard let b = a.intersection(x.box, y.box) else { return undecided(i, j, "undecided intersection") }
            box = b
        case (let x?, nil): box = x.box
        case (nil, let y?): box = y.box
        case (nil, nil): return
        }
        // Requests of the box start with both winners' keys: the longer one selects the takers.
        let keys = [mi?.key, mj?.key].compactMap { $0 }
        let key = keys.max { $0.count < $1.count }!
        // What takes the requests first: earlier routes of each side (every route of the
        // side whose winner is "no route").
        var takers: [RouteModel] = []
        var cand: [Int32] = []
        oldTrie.candidates(key, into: &cand)
        for k in cand.sorted() where i.map({ Int(k) < $0 }) ?? true { takers.append(model(old: true, Int(k))) }
        cand.removeAll()
        newTrie.candidates(key, into: &cand)
        for k in cand.sorted() where j.map({ Int(k) < $0 }) ?? true { takers.append(model(old: false, Int(k))) }
        var pieces = [box]
        var produced = 0
        for t in takers {
            if t.matchesNothing { continue }
            var next: [Box] = []
            for p in pieces {
                guard let x = a.intersects(p, t.box) else { return undecided(i, j, "undecided intersection") }
                if !x {
                    next.append(p)
                    continue
                }
                if t.undecided != nil || t.opaque {
                    return undecided(i, j, "an earlier route has conditions we cannot model")
                }
                guard let d = a.subtract(p, t.box) else { return undecided(i, j, "undecided subtraction") }
                produced += d.count
                if produced > options.maxCoverageBoxes { return undecided(i, j, "work cap (boxes)") }
                next.append(contentsOf: d)
            }
            pieces = next
            if pieces.isEmpty { return }
        }
        guard let p = pieces.first, let req = a.sample(p) else { return undecided(i, j, "no witness") }
        let w = a.witness(req)
        guard verify(i, j, w) else { return undecided(i, j, "witness rejected by verification") }
        report.classes.append(TableDiffClass(old: i, new: j, witness: w))
    }
}
