import Foundation
import XDSCDiagnostics
import XDSCEnvoy
import XDSCJSON
import XDSCProxy
import XDSCRequest

/// `xdsc lint --emit-tests FILE`: the route findings' example requests as a traffic spec, each
/// expected to reach what the route the finding names does (its cluster, its redirect or its
/// direct response), so `xdsc test traffic FILE` replays them through the proxy.
public enum WitnessSpec {
    /// The spec and how many findings it holds; `skipped` says why a finding has no test.
    public struct Output: Sendable {
        /// The spec, as YAML.
        public var text: String
        /// Tests written.
        public var tests: Int
        /// Findings with an example request that got no test, with the reason.
        public var skipped: [String]
    }

    /// A route of the configuration: its listener and what it does.
    struct Place {
        var listener: String
        var route: Route
    }

    /// The spec for the findings of `result`, to be written at `specPath`; `inputs` are the
    /// files linted (named in the spec relative to its folder).
    public static func spec(for result: FrontEndResult, inputs: [String], specPath: String) -> Output {
        let envoy = result.envoy ?? result.envoyInput?.config ?? EnvoyConfig()
        let places = self.places(envoy)
        let unservedListeners = Set(ProxyConfiguration(envoy).listeners.filter { !$0.servesPlainText }.map(\.name))
        var tests: [JSON] = []
        var skipped: [String] = []
        for d in result.diagnostics where [.routeShadowed, .routeOverlap].contains(d.rule) {
            guard let w = d.witness else { continue }
            let at = "\(d.span.file):\(d.span.start.line):\(d.span.start.column)"
            let targets = d.related.compactMap { r in places.first { $0.route.source == r.span } }
            guard let first = targets.first, targets.allSatisfy({ $0.listener == first.listener }),
                let expect = expectation(targets.map(\.route))
            else {
                skipped.append("\(at): the routes the finding names do not share one listener and one kind of action")
                continue
            }
            if unservedListeners.contains(first.listener) {
                skipped.append(
                    "\(at): listener `\(first.listener)` has no filter chain for a plain-text connection without SNI (nor has Envoy)")
                continue
            }
            if let missing = services(expect).first(where: { c in !envoy.clusters.contains { $0.name == c } }) {
                skipped.append("\(at): cluster `\(missing)` is not defined in the files linted, so no upstream can receive it")
                continue
            }
            var request = JSONObject()
            if w.method != "GET" { request["method"] = .string(w.method) }
            request["url"] = .string("http://\(w.authority ?? "")\(w.path ?? "/")")
            if !w.headers.isEmpty {
                var h = JSONObject()
                for x in w.headers { h[x.name] = .string(x.value) }
                request["headers"] = .object(h)
            }
            var test = JSONObject()
            test["name"] = .string("\(d.rule.rawValue) \(at): \(d.message)")
            if places.contains(where: { $0.listener != first.listener }) { test["listener"] = .string(first.listener) }
            test["request"] = .object(request)
            test["expect"] = .object(expect)
            tests.append(.object(test))
        }
        var top = JSONObject()
        top["version"] = .integer(1)
        let folder = URL(fileURLWithPath: specPath).deletingLastPathComponent().standardizedFileURL.path
        top["config"] = .array(inputs.map { .string(relative($0, from: folder)) })
        top["tests"] = .array(tests)
        let banner =
            "# Written by xdsc lint --emit-tests: each route finding's example request, expected to reach the\n"
            + "# route the finding names. Run it with: xdsc test traffic \(specPath)\n"
        return Output(text: banner + YAMLText.render(.object(top)), tests: tests.count, skipped: skipped)
    }

    /// Every route with a source position, with the listener that serves its table (a table
    /// no listener uses is served as a listener named after it).
    static func places(_ envoy: EnvoyConfig) -> [Place] {
        var out: [Place] = []
        var used = Set<String>()
        for l in envoy.listeners {
            var table: RouteConfiguration?
            switch l.connectionManager.routes {
            case .inline(let rc): table = rc
            case .rds(_, let name): table = envoy.routeConfigurations.first { $0.name == name }
            }
            guard let table else { continue }
            used.insert(table.name)
            out += routes(table, listener: l.name)
        }
        if envoy.listeners.isEmpty {
            for rc in envoy.routeConfigurations where !used.contains(rc.name) {
                out += routes(rc, listener: rc.name.isEmpty ? "routes" : rc.name)
            }
        }
        return out
    }

    static func routes(_ table: RouteConfiguration, listener: String) -> [Place] {
        table.virtualHosts.flatMap { vh in vh.routes.filter { $0.source != nil }.map { Place(listener: listener, route: $0) } }
    }

    /// What every one of `routes` does, as an expectation; nil when they differ in kind.
    static func expectation(_ routes: [Route]) -> JSONObject? {
        var clusters: [String] = []
        var statuses = Set<Int>()
        var kinds = Set<String>()
        for r in routes {
            switch r.action {
            case .route(let a):
                kinds.insert("forward")
                switch a.clusterSpecifier {
                case .cluster(let c): clusters.append(c)
                case .weightedClusters(let w): clusters += w.clusters.map(\.name)
                case .clusterHeader: return nil
                }
            case .redirect(let r):
                kinds.insert("redirect")
                statuses.insert(r.responseCode.status)
            case .directResponse(let d):
                kinds.insert("direct")
                statuses.insert(d.status)
            }
        }
        guard kinds.count == 1 else { return nil }
        var e = JSONObject()
        if kinds.first == "forward" {
            var unique: [String] = []
            for c in clusters where !unique.contains(c) { unique.append(c) }
            e["upstream"] = .object(["service": unique.count == 1 ? .string(unique[0]) : .array(unique.map(JSON.string))])
        } else {
            guard statuses.count == 1 else { return nil }
            e["status"] = .integer(statuses.first!)
            e["upstream"] = .object(["requests": .integer(0)])
        }
        return e
    }

    /// The clusters an expectation names.
    static func services(_ e: JSONObject) -> [String] {
        guard let s = e["upstream"]?["service"] else { return [] }
        return s.arrayValue?.compactMap(\.stringValue) ?? [s.stringValue].compactMap { $0 }
    }

    /// `path` relative to the folder `from` (both made absolute against the working directory).
    static func relative(_ path: String, from folder: String) -> String {
        let target = URL(fileURLWithPath: path).standardizedFileURL.pathComponents
        let base = URL(fileURLWithPath: folder).standardizedFileURL.pathComponents
        var common = 0
        while common < min(target.count, base.count) && target[common] == base[common] { common += 1 }
        let up = Array(repeating: "..", count: base.count - common)
        let rest = (up + target[common...]).joined(separator: "/")
        return rest.isEmpty ? "." : rest
    }
}
