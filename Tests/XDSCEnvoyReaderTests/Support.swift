import Foundation
import XDSCDiagnostics
import XDSCEnvoy
import XDSCEnvoyReader
import XDSCTestSupport

/// Paths shared by the reader tests.
enum Paths {
    /// The package root.
    static let packageRoot = TestPaths.packageRoot
    /// `../shared` next to the package.
    static let shared = TestPaths.shared

    static func exists(_ url: URL) -> Bool { FileManager.default.fileExists(atPath: url.path) }
}

/// Reads `text` as the Envoy file `file`; returns the configuration and every diagnostic.
func read(_ text: String, file: String = "envoy.yaml") -> (config: EnvoyConfig, diagnostics: [Diagnostic]) {
    let sink = DiagnosticSink()
    let r = EnvoyReader().read([(file, Array(text.utf8))], into: sink)
    return (r.config, sink.sorted)
}

/// Reads files from disk.
func read(paths: [String], follow: Bool = true) -> (result: EnvoyReadResult, diagnostics: [Diagnostic]) {
    let sink = DiagnosticSink()
    let files = paths.map { p in (p, [UInt8](FileManager.default.contents(atPath: p) ?? Data())) }
    let r = EnvoyReader(followsConfigSources: follow).read(files, into: sink)
    return (r, sink.sorted)
}

/// `rule@line:column` for each diagnostic, for compact expectations.
func summary(_ ds: [Diagnostic]) -> [String] {
    ds.map { "\($0.rule.rawValue)@\($0.span.start.line):\($0.span.start.column)" }
}

/// A route table of one virtual host `v` (domains `*`) whose only route has `route` as its
/// JSON text.
func table(route: String) -> String {
    #"{"name":"r","virtual_hosts":[{"name":"v","domains":["*"],"routes":["# + route + #"]}]}"#
}

extension EnvoyConfig {
    /// The configuration with every source span removed, to compare what two front ends built.
    var withoutSpans: EnvoyConfig {
        var c = self
        c.listeners = c.listeners.map { l in
            var l = l
            l.source = nil
            l.filterChains = l.filterChains.map(\.withoutSpans)
            l.defaultFilterChain = l.defaultFilterChain?.withoutSpans
            return l
        }
        c.routeConfigurations = c.routeConfigurations.map(\.withoutSpans)
        c.clusters = c.clusters.map { cl in
            var cl = cl
            cl.source = nil
            cl.loadAssignment?.source = nil
            return cl
        }
        c.endpoints = c.endpoints.map { e in
            var e = e
            e.source = nil
            return e
        }
        c.secrets = c.secrets.map { s in
            var s = s
            s.source = nil
            return s
        }
        return c
    }
}

extension FilterChain {
    var withoutSpans: FilterChain {
        var f = self
        f.source = nil
        f.otherFilters = f.otherFilters.map { OpaqueExtension(name: $0.name, typeURL: $0.typeURL) }
        if var hcm = f.connectionManager {
            hcm.filters = hcm.filters.map { HTTPFilter(name: $0.name, typeURL: $0.typeURL, kind: $0.kind) }
            if case .inline(let rc) = hcm.routes { hcm.routes = .inline(rc.withoutSpans) }
            f.connectionManager = hcm
        }
        return f
    }
}

extension RouteConfiguration {
    var withoutSpans: RouteConfiguration {
        var rc = self
        rc.source = nil
        rc.virtualHosts = rc.virtualHosts.map { vh in
            var vh = vh
            vh.source = nil
            vh.domainSources = []
            vh.routes = vh.routes.map { r in
                var r = r
                r.source = nil
                return r
            }
            return vh
        }
        return rc
    }
}
