import Testing
import XDSCRequest
import XDSCRoutes
import XDSCTestSupport

/// Random small route tables judged by brute force over a finite request space.
///
/// Why the finite space is a proof in "complete" mode: every path condition there is an
/// exact/prefix/path-separated-prefix string of at most 3 bytes over {/, a, b} (either case
/// when case-insensitive) or a regex from `completeRegexes`, whose membership depends only on
/// the first 3 bytes and on whether the path is longer than that — and every byte outside
/// {/, a, b, A, B} is treated alike (no `.`, no negated classes; `\C` is any byte), so `c`
/// stands for all of them. Hence every path is equivalent to one of length <= 5 over
/// {/, a, b, A, B, c} (3 + 2 for "p or p/..."), all starting with `/` as every path Envoy
/// routes does (`*` and other paths are answered before routing). Header and query conditions are
/// exact/prefix of at most 1 character or presence, so values of length <= 2 over the pattern
/// characters plus one other character (and "absent") cover every case; methods are GET,
/// POST and PUT (standing for every other method). Conditions on different dimensions are
/// independent, so the request space is the product of the per-dimension spaces.
/// In "soundness" mode richer conditions are used (suffix, contains, `.`, negated classes,
/// repetition) and only "no false positive" is asserted.
///
/// An overlap counts only when some request both routes match reaches the earlier one (no
/// route before it matches): its witness must be such a request, and when the brute force
/// finds none, nothing may be reported.
@Suite("Property: analysis agrees with brute force")
struct PropertyTests {
    static let completeRegexes = [
        "/a\\C*", "/(a|b)", "/[ab]/\\C*", "/a?", "(?i)/a\\C*", "/\\C", "/a/?", "/b|/a/\\C*",
        "/[ab]b?", "^/ab\\C*$",
    ]
    static let soundRegexes = ["/[^/]+", ".*b", "/a[ab]*", "/(a|b)+/?", "[/ab]*a", "(?i)/A[ab]*", "/.*", "/a.*", "/[^a]*"]

    struct Gen {
        var rng: SeededRNG
        let complete: Bool

        mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }
        mutating func pick<T>(_ xs: [T]) -> T { xs.randomElement(using: &rng)! }

        mutating func pathString() -> String {
            let n = Int.random(in: 0...2, using: &rng)
            return "/" + (0..<n).map { _ in pick(["a", "b", "/", "a"]) }.joined()
        }

        mutating func route() -> RouteConstraint {
            let path: PathConstraint
            let cs = !chance(0.2)
            switch Int.random(in: 0..<10, using: &rng) {
            case 0...2: path = .prefix(chance(0.05) ? "" : pathString(), caseSensitive: cs)
            case 3...4: path = .exact(pathString(), caseSensitive: cs)
            case 5:
                var s = pathString()
                while s.hasSuffix("/") { s.removeLast() }
                path = .pathSeparatedPrefix(s.isEmpty ? "/a" : s, caseSensitive: cs)
            default:
                path = .regex(pick(complete ? PropertyTests.completeRegexes : PropertyTests.completeRegexes + PropertyTests.soundRegexes))
            }
            var headers: [FieldConstraint] = []
            var query: [FieldConstraint] = []
            if chance(0.4) {
                var ms: [FieldMatch] = [
                    .exact(""), .exact("x"), .exact("y"), .exact("X"), .prefix("x"), .prefix("y"),
                    .present(true), .present(false),
                ]
                if !complete { ms += [.suffix("y"), .contains("x"), .regex("x+|y"), .regex("[xy]y")] }
                headers.append(
                    FieldConstraint(
                        name: "x-h", match: pick(ms), ignoreCase: chance(0.3),
                        invert: chance(0.25), treatMissingAsEmpty: chance(0.2)))
            }
            if chance(0.35) {
                headers.append(
                    pick([
                        .method("GET"), .method("POST"),
                        FieldConstraint(name: ":method", match: .regex("GET|POST")),
                        FieldConstraint(name: ":method", match: .exact("GET"), invert: true),
                    ]))
            }
            if chance(0.3) {
                var ms: [FieldMatch] = [.exact("1"), .exact("2"), .prefix("1"), .present(true), .present(false)]
                if !complete { ms += [.regex("[12]+"), .suffix("2")] }
                query.append(FieldConstraint(name: "q", match: pick(ms), invert: chance(0.2)))
            }
            return RouteConstraint(path: path, headers: headers, query: query, opaque: chance(0.1))
        }
    }

    /// The finite request space, one list per dimension.
    static let paths: [String] = {
        var out: [String] = []
        var layer = ["/"]
        for _ in 0..<5 {
            out += layer
            layer = layer.flatMap { p in ["/", "a", "b", "A", "B", "c"].map { p + $0 } }
        }
        return out
    }()
    static let headerValues: [String?] = [nil] + words(["x", "y", "X", "Y", "z"], upTo: 2)
    static let methods = ["GET", "POST", "PUT"]
    static let queryValues: [String?] = [nil] + words(["1", "2", "3"], upTo: 2)

    static func words(_ alphabet: [String], upTo n: Int) -> [String] {
        var out = [""]
        var layer = [""]
        for _ in 0..<n {
            layer = layer.flatMap { w in alphabet.map { w + $0 } }
            out += layer
        }
        return out
    }

    /// Per-route bit masks per dimension value, then the distinct combinations.
    static func truthCombos(_ routes: [RouteConstraint], _ ev: Evaluator) -> [UInt32] {
        func masks<T>(_ values: [T], _ test: (RouteConstraint, T) -> Bool) -> Set<UInt32> {
            var out = Set<UInt32>()
            for v in values {
                var m: UInt32 = 0
                for (i, r) in routes.enumerated() where test(r, v) { m |= 1 << UInt32(i) }
                out.insert(m)
            }
            return out
        }
        let pm = masks(paths) { r, p in ev.pathMatches(r.path, p) }
        let hm = masks(headerValues) { r, v in r.headers.filter { $0.name == "x-h" }.allSatisfy { ev.field($0, v) } }
        let mm = masks(methods) { r, v in r.headers.filter { $0.name == ":method" }.allSatisfy { ev.field($0, v) } }
        let qm = masks(queryValues) { r, v in r.query.allSatisfy { ev.field($0, v) } }
        var combos = Set<UInt32>()
        for a in pm { for b in hm { for c in mm { for d in qm { combos.insert(a & b & c & d) } } } }
        return combos.sorted()
    }

    static func check(seed: UInt64, tables: Int, complete: Bool) -> (reported: Int, provenShadows: Int, provenOverlaps: Int) {
        var gen = Gen(rng: SeededRNG(seed: seed), complete: complete)
        var reported = 0
        var provenShadows = 0
        var provenOverlaps = 0
        for t in 0..<tables {
            let n = Int.random(in: 2...6, using: &gen.rng)
            let routes = (0..<n).map { _ in gen.route() }
            let ev = Evaluator()
            let report = analyzeShadowing(routes, sameAction: { _, _ in false }, verify: { i, w in ev.matches(routes[i], w) })
            let combos = truthCombos(routes, ev)
            var usable: UInt32 = 0
            for (i, r) in routes.enumerated() where !r.opaque { usable |= 1 << UInt32(i) }
            func bit(_ i: Int) -> UInt32 { 1 << UInt32(i) }
            func truthShadowed(_ i: Int) -> Bool {
                let earlier = usable & (bit(i) - 1)
                var any = false
                for c in combos where c & bit(i) != 0 {
                    any = true
                    if c & earlier == 0 { return false }
                }
                return any
            }
            func truthOverlap(_ j: Int, _ i: Int) -> Bool {
                // Some shared request reaches j: no route before j (opaque ones included,
                // with their modelled conditions) matches it.
                var both = false
                var onlyI = false
                var onlyJ = false
                for c in combos {
                    let a = c & bit(i) != 0
                    let b = c & bit(j) != 0
                    if a && b && c & (bit(j) - 1) == 0 { both = true }
                    if a && !b { onlyI = true }
                    if b && !a { onlyJ = true }
                }
                return both && onlyI && onlyJ
            }
            let context =
                "table \(t) (seed \(seed)): \(routes.map { "\($0.path) h=\($0.headers.map { "\($0.name):\($0.match)\($0.invert ? "!" : "")\($0.ignoreCase ? "i" : "")\($0.treatMissingAsEmpty ? "e" : "")" }) q=\($0.query.map { "\($0.match)\($0.invert ? "!" : "")" }) \($0.opaque ? "opaque" : "")" })"
            var reportedShadow = Set<Int>()
            var reportedOverlap = Set<[Int]>()
            for f in report.findings {
                reported += 1
                #expect(f.earlier.allSatisfy { $0 < f.route && !routes[$0].opaque }, "\(context)")
                #expect(ev.matches(routes[f.route], f.witness) && ev.matches(routes[f.earlier[0]], f.witness), "\(context)")
                switch f.kind {
                case .shadowed:
                    #expect(truthShadowed(f.route), "false shadow of \(f.route) by \(f.earlier): \(context)")
                    #expect(!reportedShadow.contains(f.route))
                    reportedShadow.insert(f.route)
                case .overlap:
                    #expect(!routes[f.route].opaque, "opaque route reported as overlapping: \(context)")
                    #expect(
                        (0..<f.earlier[0]).allSatisfy { !ev.matches(routes[$0], f.witness) },
                        "overlap witness \(f.witness) is taken before \(f.earlier[0]): \(context)")
                    #expect(!routes[f.earlier[0]].opaque, "\(context)")
                    if complete {
                        #expect(truthOverlap(f.earlier[0], f.route), "false overlap \(f.earlier) ~ \(f.route): \(context)")
                    }
                    reportedOverlap.insert([f.earlier[0], f.route])
                }
            }
            let unmatchable = Set(report.unmatchable.map(\.route))
            for u in unmatchable {
                #expect(!combos.contains { $0 & bit(u) != 0 }, "route \(u) reported unmatchable but matches: \(context)")
            }
            guard complete else { continue }
            for i in 0..<n where !combos.contains(where: { $0 & bit(i) != 0 }) && !unmatchable.contains(i) {
                // Opaque or undecided routes may stay silent; everything else is reported.
                #expect(routes[i].opaque, "missed unmatchable route \(i): \(context)")
            }
            for i in 0..<n where truthShadowed(i) {
                provenShadows += 1
                #expect(
                    reportedShadow.contains(i),
                    "missed shadow of \(i): \(context) undecided=\(report.undecided.map { "\($0.route):\($0.reason)" })")
            }
            for i in 0..<n where !truthShadowed(i) && !routes[i].opaque {
                for j in 0..<i where !routes[j].opaque && truthOverlap(j, i) {
                    provenOverlaps += 1
                    #expect(reportedOverlap.contains([j, i]), "missed overlap \(j) ~ \(i): \(context)")
                }
            }
        }
        return (reported, provenShadows, provenOverlaps)
    }

    @Test("complete space: findings are exactly the brute-force truth", arguments: [1, 2, 3, 4, 26] as [UInt64])
    func complete(seed: UInt64) {
        let r = PropertyTests.check(seed: seed * 7919, tables: 120, complete: true)
        // The generator must actually produce interesting cases.
        #expect(r.provenShadows > 10)
        #expect(r.provenOverlaps > 10)
    }

    @Test("rich conditions: no false positives", arguments: [11, 12, 13] as [UInt64])
    func soundness(seed: UInt64) {
        let r = PropertyTests.check(seed: seed * 104_729, tables: 120, complete: false)
        #expect(r.reported > 20)
    }
}
