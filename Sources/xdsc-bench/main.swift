// Benchmarks of the route shadowing analysis on generated virtual hosts, and of the route
// engine (decisions per second, a 10k-test route test file).
// Usage: xdsc-bench [routes...]   (default: 10000 100000)
//        xdsc-bench engine [routes]   (default 10000)
//        xdsc-bench engine-profile [rounds]   (rounds x 20000 selections on 10k routes, silent:
//        run it under `perf record`; `/usr/bin/time -f %U` gives the CPU seconds)

import Foundation
import XDSCAutomata
import XDSCDriver
import XDSCEnvoy
import XDSCRequest
import XDSCRouteEngine
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

/// A 10k-route virtual host for the engine: prefixes, exact paths, method and header
/// matchers, a few case-insensitive prefixes and regexes, then a catch-all.
func engineTable(_ n: Int) -> (RouteConfiguration, [String]) {
    var rng = SplitMix(state: 7)
    var routes: [Route] = []
    var paths: [String] = []
    for i in 0..<(n - 1) {
        let base = "/api/v\(i % 3 + 1)/svc\(i / 40)/r\(i)"
        var match: RouteMatch
        switch Int.random(in: 0..<1000, using: &rng) {
        case 0..<450: match = RouteMatch(.prefix(base))
        case 450..<700: match = RouteMatch(.path(base + "/list"))
        case 700..<850: match = RouteMatch(.prefix(base), headers: [HeaderMatcher(name: ":method", .string(StringMatcher(.exact("POST"))))])
        case 850..<995:
            match = RouteMatch(.prefix(base), headers: [HeaderMatcher(name: "x-canary", .string(StringMatcher(.exact("true"))))])
        case 995..<998: match = RouteMatch(.prefix(base), caseSensitive: false)
        default: match = RouteMatch(.safeRegex(base + "/[0-9]+"))
        }
        routes.append(Route(match: match, action: .route(RouteAction(.cluster("c\(i % 50)")))))
        paths.append(base + (i % 2 == 0 ? "/list" : "/7?x=1"))
    }
    routes.append(Route(match: RouteMatch(.prefix("/")), action: .route(RouteAction(.cluster("default")))))
    let config = RouteConfiguration(name: "bench", virtualHosts: [VirtualHost(name: "api", domains: ["api.example.com"], routes: routes)])
    return (config, paths)
}

/// The calling thread's CPU time in seconds.
func threadCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

func engineBench(_ n: Int, profileRounds: Int? = nil) {
    let (config, paths) = engineTable(n)
    let engine = RouteEngine(config)
    var rng = SplitMix(state: 9)
    var requests: [EnvoyRequest] = []
    for i in 0..<20_000 {
        let path: String = paths.randomElement(using: &rng)!
        let headers: [HTTPHeader] = i % 5 == 0 ? [HTTPHeader("x-canary", "true")] : []
        let method = i % 3 == 0 ? "POST" : "GET"
        requests.append(EnvoyRequest(method: method, authority: "api.example.com", path: path, headers: headers, randomValue: UInt64(i)))
    }
    if let rounds = profileRounds {
        // Selections only, for a profiler (`perf record`, callgrind): no output, no route test file.
        var matched = 0
        for _ in 0..<rounds { for i in requests.indices where engine.select(requests[i]).route != nil { matched += 1 } }
        if matched < 0 { print(matched) }
        return
    }
    // The figure with the goal: `select`, the slim decision the proxy's routing, the diff and
    // the shadowing replay need; then the full explained decision without and with the trace.
    let kinds: [(String, Int, (EnvoyRequest) -> Int?)] = [
        ("select (where it goes)", requests.count, { engine.select($0).route }),
        ("decide, full decision without the trace", requests.count, { engine.decide($0, trace: false).routeIndex }),
        ("decide with the trace (every route tried, as Envoy scans)", 2_000, { engine.decide($0, trace: true).routeIndex }),
    ]
    // One untimed pass first (regexes compile on first use, caches fill), then the median of
    // three timed passes: the steady state of a router that routes continuously. Timed in
    // the thread's CPU time, so the figure is per core however loaded the machine is.
    for (name, count, run) in kinds {
        var matched = 0
        var rates: [Double] = []
        for pass in 0..<4 {
            matched = 0
            let start = threadCPUSeconds()
            for i in 0..<count where run(requests[i]) != nil { matched += 1 }
            let seconds = threadCPUSeconds() - start
            if pass > 0 { rates.append(Double(count) / seconds) }
        }
        let goal = name.hasPrefix("select") ? " (goal: over 1000000 a second on one core)" : ""
        print(
            String(
                format:
                    "engine, %d routes, %@: %.0f decisions/s%@ (CPU time, median of 3 passes of %d requests after a warm-up pass, %d matched)",
                n,
                name, rates.sorted()[1], goal, count, matched))
    }
    // A route test file of 10k tests, through `xdsc test routes` (load, parse, run, coverage).
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("xdsc-bench-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let configFile = dir.appendingPathComponent("routes.json")
    try? config.json.serialized().write(to: configFile, atomically: true, encoding: .utf8)
    var tests: [String] = []
    for i in 0..<10_000 {
        let d = engine.decide(requests[i], trace: false)
        tests.append(
            "{\"test_name\": \"t\(i)\", \"input\": {\"authority\": \"api.example.com\", \"path\": \"\(requests[i].path!)\", \"method\": \"\(requests[i].method)\"\(requests[i].headers.isEmpty ? "" : ", \"additional_request_headers\": [{\"key\": \"x-canary\", \"value\": \"true\"}]")}, \"validate\": {\"cluster_name\": \"\(d.cluster ?? "")\", \"virtual_host_name\": \"api\"}}"
        )
    }
    let testFile = dir.appendingPathComponent("tests.json")
    try? ("{\"tests\": [\n" + tests.joined(separator: ",\n") + "\n]}\n").write(to: testFile, atomically: true, encoding: .utf8)
    let start = DispatchTime.now().uptimeNanoseconds
    let out = RouteTestCommand.run(config: [configFile.path], tests: testFile.path, arguments: [])
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    print(
        String(
            format: "xdsc test routes, 10000 tests on %d routes: %.3f s (exit %d, %@)", n, seconds, out.exitCode,
            out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
}

let rawArgs = Array(CommandLine.arguments.dropFirst())
if rawArgs.first == "engine-profile" {
    engineBench(10_000, profileRounds: rawArgs.dropFirst().compactMap { Int($0) }.first ?? 20)
    exit(0)
}
if rawArgs.first == "engine" {
    engineBench(rawArgs.dropFirst().compactMap { Int($0) }.first ?? 10_000)
    exit(0)
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
