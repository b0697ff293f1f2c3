import Foundation
import XDSCDiagnostics
import XDSCEnvoy
import XDSCJSON
import XDSCProxy
import XDSCRouteEngine
import XDSCSyntax

/// Reads what `xdsc run` serves: policies through the pipeline (listeners, route tables
/// and clusters), or Envoy files the way `xdsc route` reads them, with the listeners'
/// ports and the clusters' static endpoints taken from a bootstrap's `static_resources`.
public enum RunInputs {
    /// The configuration to serve, or the diagnostics that stop it.
    public struct Result: Sendable {
        /// What to serve; nil when the inputs have errors.
        public var configuration: ProxyConfiguration?
        /// Every diagnostic of the load.
        public var diagnostics: [Diagnostic] = []
        /// The source text renderers show.
        public var sources: [String: SourceFile] = [:]
    }

    /// Loads `paths` (policies or Envoy files).
    public static func load(_ paths: [String]) -> Result {
        var out = Result()
        let sink = DiagnosticSink()
        let files = PolicyInputs.read(paths, into: sink)
        let reader = YAMLReader()
        let policies = files.filter { f in
            guard let root = reader.read(f.bytes, file: f.path, into: DiagnosticSink()) else { return false }
            return RouteInputs.isPolicy(root)
        }
        if !policies.isEmpty {
            let result = Pipeline().check(files: policies, sink: sink)
            out.sources = result.sources
            out.diagnostics = result.diagnostics
            if !result.hasErrors, let envoy = result.envoy {
                out.configuration = ProxyConfiguration(listeners: envoy.listeners, clusters: envoy.clusters)
            }
            return out
        }
        let routes = RouteInputs.load(paths)
        out.sources = routes.sources
        out.diagnostics = routes.diagnostics
        if routes.diagnostics.contains(where: { $0.severity == .error }) || routes.tables.isEmpty { return out }
        var listeners: [ProxyListener] = []
        var clusters: [(name: String, endpoints: [ProxyEndpoint])] = []
        var ports: [String: Int] = [:]
        for f in files {
            guard let root = reader.read(f.bytes, file: f.path, into: DiagnosticSink()) else { continue }
            var spans: [String: SourceSpanRef] = [:]
            let json = RouteInputs.toJSON(root, path: "", spans: &spans)
            guard let s = json["static_resources"] else { continue }
            for l in s["listeners"]?.arrayValue ?? [] {
                if let name = l["name"]?.stringValue, let port = l["address"]?["socket_address"]?["port_value"]?.intValue {
                    ports[name] = Int(port)
                }
            }
            for c in s["clusters"]?.arrayValue ?? [] {
                guard let name = c["name"]?.stringValue else { continue }
                var endpoints: [ProxyEndpoint] = []
                for group in c["load_assignment"]?["endpoints"]?.arrayValue ?? [] {
                    for e in group["lb_endpoints"]?.arrayValue ?? [] {
                        let a = e["endpoint"]?["address"]?["socket_address"]
                        if let host = a?["address"]?.stringValue, let port = a?["port_value"]?.intValue {
                            endpoints.append(ProxyEndpoint(host: host, port: Int(port)))
                        }
                    }
                }
                clusters.append((name, endpoints))
            }
        }
        for t in routes.tables {
            // `FILE: listener NAME`, or a bare table named after its file.
            let name = t.label.range(of: ": listener ").map { String(t.label[$0.upperBound...]) } ?? t.label
            listeners.append(ProxyListener(name: name, port: ports[name] ?? 0, engine: t.engine))
        }
        out.configuration = ProxyConfiguration(listeners: listeners, clusters: clusters)
        return out
    }
}
