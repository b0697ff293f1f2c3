import XDSCDiagnostics
import XDSCEnvoy
import XDSCJSON
import XDSCRequest
import XDSCRouteEngine
import XDSCRoutes

/// The behavioural diff: for each listener, the Host space is split by which virtual host
/// takes a host on each side; for each (old host, new host) pair the two route tables are
/// compared exactly (``diffRouteTables``) and every class is replayed through the route
/// engine on both sides before it is reported.
enum BehaviourDiff {
    /// A host no domain names, for the `*` host and for "no virtual host".
    static func otherHost(_ taken: [String]) -> String {
        taken.contains("example.com") ? "unmatched.example.com" : "example.com"
    }

    static func run(old: DiffSide, new: DiffSide, into report: inout DiffReport) {
        let newTables = Dictionary(new.tables.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        let oldTables = Dictionary(old.tables.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        var keys: [String] = []
        for t in old.tables + new.tables where !keys.contains(t.key) { keys.append(t.key) }
        for key in keys {
            let a = oldTables[key]?.config ?? RouteConfiguration(name: "", virtualHosts: [])
            let b = newTables[key]?.config ?? RouteConfiguration(name: "", virtualHosts: [])
            listener(key, a, b, into: &report)
        }
    }

    /// Representative hosts: one per domain of either side (a wildcard filled in), plus one
    /// no domain matches. Hosts with the same representative set of matching domains behave
    /// alike; see docs/diff.md for the one approximation (prefix and suffix wildcards).
    static func representatives(_ a: RouteConfiguration, _ b: RouteConfiguration) -> [String] {
        var out: [String] = []
        for vh in a.virtualHosts + b.virtualHosts {
            for d in vh.domains where d != "*" {
                let h = RouteTableAnalysis.exampleHost([d])
                if !out.contains(h) { out.append(h) }
            }
        }
        out.append(otherHost(out))
        return out
    }

    static func hostIndex(_ engine: RouteEngine, _ host: String) -> Int? {
        var m = HeaderMap()
        m.add(":authority", host)
        if case .success(let c) = engine.selectVirtualHost(m) { return c.index }
        return nil
    }

    static func listener(_ key: String, _ a: RouteConfiguration, _ b: RouteConfiguration, into report: inout DiffReport) {
        let ea = RouteEngine(a)
        let eb = RouteEngine(b)
        struct Group {
            var old: Int?
            var new: Int?
            var host: String
        }
        var groups: [Group] = []
        for h in representatives(a, b) {
            let g = Group(old: hostIndex(ea, h), new: hostIndex(eb, h), host: h)
            if g.old == nil && g.new == nil { continue }
            if groups.contains(where: { $0.old == g.old && $0.new == g.new }) { continue }
            groups.append(g)
        }
        let hasPrefix = (a.virtualHosts + b.virtualHosts).contains { $0.domains.contains { $0.count > 1 && $0.hasSuffix("*") } }
        let hasSuffix = (a.virtualHosts + b.virtualHosts).contains { $0.domains.contains { $0.count > 1 && $0.hasPrefix("*") } }
        if hasPrefix && hasSuffix {
            report.undecided += 1
            report.undecidedDetails.append(
                "\(key): hosts matching both a prefix and a suffix wildcard domain are compared through representatives only")
        }
        for g in groups {
            hostPair(key, a, b, g.old, g.new, host: g.host, into: &report)
        }
    }

    /// The host's table alone, with the route configuration's own settings, without
    /// `require_tls` (compared separately).
    static func alone(_ c: RouteConfiguration, _ h: Int?) -> (RouteEngine, VirtualHost?) {
        var cfg = c
        guard let h else {
            cfg.virtualHosts = []
            return (RouteEngine(cfg), nil)
        }
        var vh = c.virtualHosts[h]
        vh.requireTLS = .none
        vh.domains = ["*"]
        cfg.virtualHosts = [vh]
        return (RouteEngine(cfg), c.virtualHosts[h])
    }

    /// The behaviour-relevant settings of a host (everything but its name, domains, routes
    /// and `require_tls`) plus the route configuration's.
    static func contextKey(_ c: RouteConfiguration, _ vh: VirtualHost?) -> String {
        guard var vh else { return "" }
        vh.name = ""
        vh.domains = []
        vh.routes = []
        vh.requireTLS = .none
        vh.virtualClusters = []
        var cfg = c
        cfg.name = ""
        cfg.virtualHosts = []
        return vh.json.compactText() + "|" + cfg.json.compactText()
    }

    /// A route without its name and position: equal values match and act alike.
    static func anonymous(_ r: Route) -> Route {
        var r = r
        r.name = nil
        r.source = nil
        return r
    }

    /// What a route does, whatever it matches.
    static func action(_ r: Route) -> Route {
        var r = anonymous(r)
        r.match = RouteMatch(.prefix(""))
        return r
    }

    static func hostPair(
        _ key: String, _ a: RouteConfiguration, _ b: RouteConfiguration, _ hi: Int?, _ hj: Int?, host: String,
        into report: inout DiffReport
    ) {
        let (ea, va) = alone(a, hi)
        let (eb, vb) = alone(b, hj)
        let oldRoutes = va?.routes ?? []
        let newRoutes = vb?.routes ?? []
        let sameContext = contextKey(a, va) == contextKey(b, vb)
        let oldActions = oldRoutes.map(action)
        let newActions = newRoutes.map(action)
        // Identical routes (same match and outcome), for pruning: the routes the semantic
        // diff pairs, when nothing about them changed.
        var counterpart: [Int: Int] = [:]
        if sameContext {
            for (i, j) in SemanticDiff.pairRoutes(oldRoutes, newRoutes) where anonymous(oldRoutes[i]) == anonymous(newRoutes[j]) {
                counterpart[i] = j
            }
        }
        let tlsNote: Bool = (va?.requireTLS ?? .none) != (vb?.requireTLS ?? .none) && va != nil && vb != nil
        var decided: [String: (RouteDecision, RouteDecision)] = [:]
        let table = diffRouteTables(
            old: oldRoutes.map { RouteTableAnalysis.constraintOf($0.match) },
            new: newRoutes.map { RouteTableAnalysis.constraintOf($0.match) },
            counterpart: { counterpart[$0] },
            sameOutcome: { i, j in
                switch (i, j) {
                case (nil, nil): return true
                case (let i?, let j?): return sameContext && oldActions[i] == newActions[j]
                default: return false
                }
            },
            verify: { i, j, w in
                let req = RouteTableAnalysis.request(w, host: host)
                let da = ea.decide(req, trace: false)
                let db = eb.decide(req, trace: false)
                // Kept for the report: each (old, new) class is verified once.
                decided["\(i ?? -1) \(j ?? -1)"] = (da, db)
                return da.routeIndex == i && db.routeIndex == j && normalized(da) != normalized(db)
            })
        report.undecided += table.undecidedCount
        for u in table.undecided.prefix(20) { report.undecidedDetails.append("\(key), host `\(host)`: \(u)") }
        for c in table.classes {
            let req = RouteTableAnalysis.request(c.witness, host: host)
            let (da, db) = decided["\(c.old ?? -1) \(c.new ?? -1)"] ?? (ea.decide(req, trace: false), eb.decide(req, trace: false))
            report.behaviour.append(
                BehaviourChange(
                    listener: key, oldHost: va?.name, newHost: vb?.name, example: req,
                    before: side(oldRoutes, c.old, da), after: side(newRoutes, c.new, db), aspects: aspects(da, db)))
        }
        // `require_tls` applies before any route: one class, every plain-HTTP request.
        if tlsNote {
            let req = EnvoyRequest(method: "GET", authority: host, path: "/")
            let da = RouteEngine(a).decide(req, trace: false)
            let db = RouteEngine(b).decide(req, trace: false)
            if normalized(da) != normalized(db) {
                report.behaviour.append(
                    BehaviourChange(
                        listener: key, oldHost: va?.name, newHost: vb?.name, example: req,
                        before: side(oldRoutes, da.routeIndex, da), after: side(newRoutes, db.routeIndex, db),
                        aspects: ["require_tls"]))
            } else {
                report.undecided += 1
                report.undecidedDetails.append("\(key), host `\(host)`: require_tls change not shown by an example")
            }
        }
    }

    static func side(_ routes: [Route], _ i: Int?, _ d: RouteDecision) -> BehaviourSide {
        guard let i, case .some = d.routeIndex else {
            if case .tlsRedirect(let r) = d.outcome {
                return BehaviourSide(route: "require_tls", position: nil, outcome: "redirect \(r.status) to \(r.location)")
            }
            return BehaviourSide(route: "no route", position: nil, outcome: "404 (no route)")
        }
        return BehaviourSide(
            route: "route \(routes[i].label(at: i))", position: DiffPosition(routes[i].source), outcome: outcome(d))
    }

    /// What Envoy does, in a few words.
    static func outcome(_ d: RouteDecision) -> String {
        switch d.outcome {
        case .noRoute: return "404 (no route)"
        case .tlsRedirect(let r): return "redirect \(r.status) to \(r.location)"
        case .redirect(let r): return "redirect \(r.status) to \(r.location)"
        case .directResponse(let r): return "direct response \(r.status)"
        case .forward(let f):
            var s: String
            switch f.choice {
            case .weighted(let w):
                s = w.entries.map { e in
                    let pct = w.totalWeight == 0 ? 0 : Double(e.weight) * 100 / Double(w.totalWeight)
                    let p = pct == pct.rounded() ? String(Int(pct)) : String(format1(pct))
                    return "\(e.name) (\(p)%)"
                }.joined(separator: ", ")
            case .header(let name, _): s = "the cluster in header `\(name)`"
            case .named: s = f.cluster
            }
            if let p = f.rewrittenPath { s += ", path \(p)" }
            if let h = f.rewrittenHost { s += ", host \(h)" }
            return s
        }
    }

    static func format1(_ x: Double) -> String {
        let t = (x * 10).rounded() / 10
        return "\(t)"
    }

    /// Which parts of two decisions differ.
    static func aspects(_ a: RouteDecision, _ b: RouteDecision) -> [String] {
        let x = normalized(a)
        let y = normalized(b)
        var out: [String] = []
        if x.outcome != y.outcome { out.append("outcome") }
        if x.requestHeaders != y.requestHeaders || x.responseHeaders != y.responseHeaders {
            out.append("headers")
        }
        if x.timeout != y.timeout || x.idleTimeout != y.idleTimeout || x.perTryTimeout != y.perTryTimeout
            || x.expectedTimeout != y.expectedTimeout || x.grpcTimeoutHeader != y.grpcTimeoutHeader
            || x.streamDuration != y.streamDuration
        {
            out.append("timeout")
        }
        if x.retryPolicy != y.retryPolicy { out.append("retry policy") }
        if x.mirrors != y.mirrors || x.mirrorsFiring != y.mirrorsFiring { out.append("mirrors") }
        if x.hashPolicy != y.hashPolicy { out.append("hash policy") }
        if x.filterConfigs != y.filterConfigs { out.append("filter config") }
        return out
    }

    /// A decision without where things come from, which route or host took it, or why no
    /// route did: what the client and the upstream see.
    static func normalized(_ d: RouteDecision) -> RouteDecision {
        let blank = Origin("")
        var n = d
        n.request = EnvoyRequest(authority: nil, path: nil)
        n.virtualHost = nil
        n.tlsRequirement = .none
        n.attempts = []
        n.routeIndex = nil
        n.routeName = nil
        n.routeOrigin = nil
        n.virtualCluster = nil
        n.timeoutOrigin = nil
        n.timeoutSource = nil
        n.streamDurationOrigin = nil
        n.retryOrigin = nil
        n.mirrorsOrigin = nil
        n.mutations = []
        switch d.outcome {
        case .noRoute: n.outcome = .noRoute(.noRouteMatched)
        case .tlsRedirect(var r):
            r.origin = blank
            n.outcome = .tlsRedirect(r)
        case .redirect(var r):
            r.origin = blank
            n.outcome = .redirect(r)
        case .directResponse(var r):
            r.origin = blank
            n.outcome = .directResponse(r)
        case .forward(var f):
            f.origin = blank
            if case .weighted(var w) = f.choice {
                for k in w.entries.indices { w.entries[k].origin = blank }
                f.choice = .weighted(w)
            }
            n.outcome = .forward(f)
        }
        // Header effects are compared through the final header maps, not the mutation
        // list: the same header set at another level is the same behaviour.
        n.filterConfigs = d.filterConfigs.map { f in
            var f = f
            f.origin = blank
            return f
        }
        return n
    }
}
