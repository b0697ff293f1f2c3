import Foundation
import XDSCDiagnostics
import XDSCEnvoy
import XDSCEnvoyReader
import XDSCJSON
import XDSCProxy
import XDSCRouteEngine
import XDSCSyntax

/// Reads what `xdsc run` serves: policies through the pipeline (listeners, route tables
/// and clusters), or Envoy files with the Envoy reader (listeners with their ports, route
/// tables inline or by RDS name, clusters with their static or EDS endpoints).
public enum RunInputs {
    /// The configuration to serve, or the diagnostics that stop it.
    public struct Result: Sendable {
        /// What to serve; nil when the inputs have errors.
        public var configuration: ProxyConfiguration?
        /// Every diagnostic of the load.
        public var diagnostics: [Diagnostic] = []
        /// The source text renderers show.
        public var sources: [String: SourceFile] = [:]
        /// The inputs went through lint's whole pipeline (policies), so `diagnostics` holds
        /// every warning `xdsc lint` reports (``StrictWarnings``).
        public var linted = false
    }

    /// Loads `paths` (policies or Envoy files). Errors of the rules in `tolerating` do not
    /// stop the load (`xdsc test traffic` serves routes the analysis reports as shadowed, as
    /// Envoy would).
    public static func load(_ paths: [String], tolerating: Set<Rule.ID> = []) -> Result {
        func blocking(_ d: Diagnostic) -> Bool { d.severity == .error && !tolerating.contains(d.rule) }
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
            out.linted = policies.count == files.count
            if !result.diagnostics.contains(where: blocking), let envoy = result.envoy {
                out.configuration = withTLS(ProxyConfiguration(envoy), into: &out)
            }
            return out
        }
        var envoyFiles: [EnvoyReader.File] = []
        for f in files {
            out.sources[f.path] = SourceFile(path: f.path, bytes: f.bytes)
            envoyFiles.append(EnvoyReader.File(path: f.path, bytes: f.bytes, root: reader.read(f.bytes, file: f.path, into: sink)))
        }
        let read = EnvoyReader().read(files: envoyFiles, into: sink)
        for (k, v) in read.sources { out.sources[k] = v }
        out.diagnostics = sink.sorted
        if out.diagnostics.contains(where: blocking) { return out }
        let configuration = ProxyConfiguration(read.config)
        if !configuration.listeners.isEmpty { out.configuration = withTLS(configuration, into: &out) }
        return out
    }

    /// `configuration` with its TLS contexts loaded, or nil with an `invalid-value` error for
    /// each that cannot be used (a missing or unreadable file, no PEM, a key that does not fit).
    static func withTLS(_ configuration: ProxyConfiguration, into out: inout Result) -> ProxyConfiguration? {
        var c = configuration
        let errors = c.loadTLS()
        for e in errors {
            let span = e.span ?? SourceSpan(file: "", start: SourcePosition(line: 1, column: 1), end: SourcePosition(line: 1, column: 1))
            out.diagnostics.append(
                Diagnostic(
                    .invalidValue, e.message, at: span, help: "a relative file name is read from the working directory, as Envoy reads it"))
        }
        return errors.isEmpty ? c : nil
    }
}
