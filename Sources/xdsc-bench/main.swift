// Benchmark of the route shadowing analysis on generated virtual hosts.
// Usage: xdsc-bench [routes...]   (default: 10000 100000)

import Foundation
import XDSCAutomata
import XDSCRoutes

/// Deterministic PRNG (SplitMix64).
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A realistic host: services of ~40 routes each (specific routes first, mostly), prefixes,
/// exact paths, regexes, method/header/query matchers, some genuine duplicates and
/// general-before-specific mistakes, and a catch-all at the end.
func generateHost(_ count: Int, seed: UInt64) -> (routes: [RouteConstraint], actions: [Int]) {
    var rng = SplitMix(state: seed)
    var routes: [RouteConstraint] = []
    var actions: [Int] = []
    let resources = ["users", "orders", "items", "carts", "search", "auth", "files", "events", "reports", "tags"]
    var svc = 0
    while routes.count < count - 2 {
        let base = "/api/v\(svc % 3 + 1)/svc\(svc)"
        let cluster = svc
        var block: [(RouteConstraint, Int)] = []
        let mistake = Int.random(in: 0..<10, using: &rng) == 0  // general route first
        if mistake { block.append((RouteConstraint(path: .prefix(base + "/")), cluster)) }
        for _ in 0..<Int.random(in: 25...55, using: &rng) {
            let res = resources.randomElement(using: &rng)!
            let id = Int.random(in: 0..<60, using: &rng)
            let p = "\(base)/\(res)\(id)"
            var r: RouteConstraint
            switch Int.random(in: 0..<100, using: &rng) {
            case 0..<40: r = RouteConstraint(path: .prefix(p))
            case 40..<62: r = RouteConstraint(path: .exact(p + "/list"))
            case 62..<68: r = RouteConstraint(path: .regex("\(base)/\(res)\(id)/[0-9]+"))
            case 68..<71: r = RouteConstraint(path: .regex("\(base)/\(res)/[a-z]+/[^/]+(/.*)?"))
            case 71..<74: r = RouteConstraint(path: .pathSeparatedPrefix(p))
            case 74..<76: r = RouteConstraint(path: .prefix(p, caseSensitive: false))
            case 76..<86:
                r = RouteConstraint(path: .prefix(p), headers: [.method(["GET", "POST", "PUT", "DELETE"].randomElement(using: &rng)!)])
            case 86..<92: r = RouteConstraint(path: .prefix(p), headers: [FieldConstraint(name: "x-canary", match: .exact("true"))])
            case 92..<95: r = RouteConstraint(path: .exact(p), query: [FieldConstraint(name: "version", match: .prefix("2"))])
            case 95..<97: r = RouteConstraint(path: .prefix(p), grpc: true)
            case 97..<98: r = RouteConstraint(path: .prefix(p), opaque: true)  // e.g. runtime_fraction
            default: r = RouteConstraint(path: .regex("(?i)\(base)/\(res)\(id)/export\\.(csv|json)"))
            }
            block.append((r, Int.random(in: 0..<4, using: &rng) == 0 ? cluster + 1 : cluster))
            // Occasionally a method split followed by a route both halves cover together.
            if Int.random(in: 0..<60, using: &rng) == 0 {
                let q = "\(base)/\(res)\(id)/ops"
                block.append((RouteConstraint(path: .prefix(q), headers: [.method("GET")]), cluster))
                block.append(
                    (
                        RouteConstraint(path: .prefix(q), headers: [FieldConstraint(name: ":method", match: .exact("GET"), invert: true)]),
                        cluster
                    ))
                block.append((RouteConstraint(path: .regex(q + "/[a-z]+")), cluster))
            }
            // Occasionally the same route again, further down (copy/paste).
            if Int.random(in: 0..<50, using: &rng) == 0 { block.append((r, cluster)) }
        }
        block.append((RouteConstraint(path: .prefix(base + "/")), cluster))
        for (r, a) in block where routes.count < count - 2 {
            routes.append(r)
            actions.append(a)
        }
        svc += 1
    }
    routes.append(RouteConstraint(path: .prefix("/")))
    actions.append(-1)
    // A "catch everything" regex after the catch-all: every path the router sees starts with
    // "/", so it is shadowed by the catch-all alone, found without subtracting every route.
    routes.append(RouteConstraint(path: .regex(".*")))
    actions.append(-1)
    return (routes, actions)
}

func run(_ n: Int) -> Double {
    let (routes, actions) = generateHost(n, seed: 42)
    let start = DispatchTime.now().uptimeNanoseconds
    let report = analyzeShadowing(routes, sameAction: { actions[$0] == actions[$1] }, verify: { _, _ in true })
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    let shadowed = report.findings.filter { $0.kind == .shadowed }
    let overlaps = report.findings.count - shadowed.count
    let dups = shadowed.filter(\.redundantDuplicate).count
    let union = shadowed.filter { $0.earlier.count > 1 }.count
    print(
        String(
            format:
                "%7d routes: %8.3f s  %9.0f routes/s  shadowed %d (duplicates %d, by several %d), overlaps %d, undecided %d, compared pairs %d",
            n, seconds, Double(n) / seconds, shadowed.count, dups, union, overlaps, report.undecidedCount, report.comparedPairs))
    var reasons: [String: Int] = [:]
    for u in report.undecided { reasons[u.reason, default: 0] += 1 }
    for (r, c) in reasons.sorted(by: { $0.key < $1.key }) { print("         undecided: \(c) × \(r)") }
    return seconds
}

let args = CommandLine.arguments.dropFirst().compactMap { Int($0) }
if !args.isEmpty {
    for n in args { _ = run(n) }
} else {
    _ = run(1_000)  // warm-up
    let t10 = [run(10_000), run(10_000), run(10_000)].sorted()[1]
    let t100 = run(100_000)
    print(String(format: "median 10k: %.3f s; 100k: %.3f s; ratio 100k/10k = %.1f", t10, t100, t100 / t10))
}
