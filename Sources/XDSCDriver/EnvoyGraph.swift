import XDSCDiagnostics
import XDSCEnvoy

/// Draws a user's Envoy configuration as a Graphviz graph: listeners -> virtual hosts ->
/// routes -> clusters, in the style of `PolicyGraph`. RDS tables hang under the listeners
/// that name them; tables no listener names are drawn on their own. Shadowed routes are red.
public struct EnvoyGraph: Sendable {
    /// The configuration to draw.
    public var config: EnvoyConfig
    /// Spans of the routes the analysis found shadowed.
    public var shadowed: Set<SourceSpan>

    /// A graph of a checked Envoy input.
    public init(result: FrontEndResult) {
        self.config = result.envoyInput?.config ?? EnvoyConfig()
        self.shadowed = Set(result.diagnostics.filter { $0.rule == .routeShadowed }.map(\.span))
    }

    /// The graph in the DOT language.
    public func dot() -> String {
        var out = dotPreamble
        var edges: [String] = []
        out += "\n  // clusters\n"
        for c in config.clusters {
            let eps = (c.loadAssignment?.endpoints ?? []).map { "\($0.address.address):\($0.address.portValue)" }
            let label = ["cluster \(c.name)"] + eps.prefix(3) + (eps.count > 3 ? ["+\(eps.count - 3) more"] : [])
            out += "  \(q("cluster/\(c.name)")) [shape=cylinder, label=\(q(label))];\n"
        }
        for (t, entry) in config.routeTables.enumerated() {
            let table = entry.table
            let tid = "table/\(t)/\(table.name)"
            if let l = entry.listener {
                let lid = "listener/\(l.name)"
                if !out.contains("  \(q(lid)) [") {
                    out += "\n  // listener \(l.name)\n"
                    out +=
                        "  \(q(lid)) [shape=box, style=bold, label=\(q(["listener \(l.name)", "\(l.address.address):\(l.address.portValue)"]))];\n"
                }
                edges.append("  \(q(lid)) -> \(q(tid));\n")
            }
            out += "  \(q(tid)) [shape=tab, label=\(q(["route table \(table.name)"]))];\n"
            for (h, vh) in table.virtualHosts.enumerated() {
                let hid = "\(tid)/host/\(h)"
                let shown = vh.domains.prefix(3) + (vh.domains.count > 3 ? ["+\(vh.domains.count - 3) more"] : [])
                out += "  \(q(hid)) [shape=folder, label=\(q(["host \(vh.name)"] + shown))];\n"
                edges.append("  \(q(tid)) -> \(q(hid));\n")
                for (i, r) in vh.routes.enumerated() {
                    let rid = "\(hid)/route/\(i)"
                    var lines = ["\(i + 1). " + (r.name ?? "route"), Self.describe(r.match)]
                    var attrs = "shape=ellipse"
                    if let s = r.source, shadowed.contains(s) {
                        lines.append("(shadowed)")
                        attrs += ", color=red, fontcolor=red, style=dashed"
                    }
                    out += "  \(q(rid)) [\(attrs), label=\(q(lines))];\n"
                    edges.append("  \(q(hid)) -> \(q(rid)) [label=\(q(["\(i + 1)"]))];\n")
                    switch r.action {
                    case .route(let a):
                        switch a.clusterSpecifier {
                        case .cluster(let c): edges.append("  \(q(rid)) -> \(q("cluster/\(c)"));\n")
                        case .clusterHeader(let h):
                            out += "  \(q(rid + "/header")) [shape=note, label=\(q(["cluster from header \(h)"]))];\n"
                            edges.append("  \(q(rid)) -> \(q(rid + "/header"));\n")
                        case .weightedClusters(let w):
                            let total = w.clusters.reduce(0) { $0 + UInt64($1.weight) }
                            for c in w.clusters {
                                edges.append("  \(q(rid)) -> \(q("cluster/\(c.name)")) [label=\(q(["\(c.weight)/\(total)"]))];\n")
                            }
                        }
                        for m in a.requestMirrorPolicies {
                            edges.append("  \(q(rid)) -> \(q("cluster/\(m.cluster)")) [style=dashed, label=\(q(["mirror"]))];\n")
                        }
                    case .redirect(let red):
                        out += "  \(q(rid + "/redirect")) [shape=note, label=\(q(["redirect \(red.responseCode.status)"]))];\n"
                        edges.append("  \(q(rid)) -> \(q(rid + "/redirect"));\n")
                    case .directResponse(let d):
                        out += "  \(q(rid + "/respond")) [shape=note, label=\(q(["respond \(d.status)"]))];\n"
                        edges.append("  \(q(rid)) -> \(q(rid + "/respond"));\n")
                    }
                }
            }
        }
        out += "\n  // edges\n"
        out += edges.joined()
        out += "}\n"
        return out
    }

    static func describe(_ m: RouteMatch) -> String {
        var parts: [String] = []
        switch m.pathSpecifier {
        case .prefix(let p): parts.append("prefix \(p)")
        case .path(let p): parts.append("path \(p)")
        case .safeRegex(let p): parts.append("regex \(p)")
        case .pathSeparatedPrefix(let p): parts.append("path-separated prefix \(p)")
        case .connectMatcher: parts.append("CONNECT")
        }
        if !m.headers.isEmpty { parts.append("headers: " + m.headers.map(\.name).joined(separator: ",")) }
        if !m.queryParameters.isEmpty { parts.append("query: " + m.queryParameters.map(\.name).joined(separator: ",")) }
        if m.grpc { parts.append("grpc") }
        return parts.joined(separator: " ")
    }

    func q(_ lines: [String]) -> String { q(lines.joined(separator: "\n")) }

    func q(_ s: String) -> String { dotQuoted(s) }
}
