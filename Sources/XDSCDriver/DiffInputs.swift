import Foundation
import XDSCAnalysis
import XDSCDiagnostics
import XDSCDiff
import XDSCEmit
import XDSCEnvoy
import XDSCPolicy
import XDSCRouteEngine
import XDSCSyntax

/// Reads the two sides of `xdsc diff`: policy files or directories (compiled to the Envoy
/// configuration they stand for) and Envoy route configurations (as `xdsc route --config`
/// reads them), from the work tree or from a git revision.
public enum DiffInputs {
    /// One side, or why it could not be read.
    public struct Loaded: Sendable {
        /// The side, for ``ConfigDiff``.
        public var side: DiffSide
        /// The files read, for snippets.
        public var sources: [String: SourceFile]
        /// What went wrong while reading.
        public var diagnostics: [Diagnostic]
        /// Errors: the side cannot be compared.
        public var failed: Bool { diagnostics.contains { $0.severity == .error } }
    }

    /// Loads the two sides of a comparison side by side, on two threads when the machine has
    /// two processors: reading one side shares nothing with reading the other, so each result
    /// is the one ``load(_:)`` gives alone (issue 12's bench: the diff of two 10k-route
    /// policies within 2x the lint of one).
    public static func load(old: [String], new: [String]) -> (old: Loaded, new: Loaded) {
        let sides = Parallel.map(2, workers: Parallel.processors, state: {}, { _, i in load(i == 0 ? old : new) })
        return (sides[0], sides[1])
    }

    /// Loads `paths` (files or directories).
    public static func load(_ paths: [String]) -> Loaded {
        let sink = DiagnosticSink()
        let files = PolicyInputs.read(paths, into: sink)
        var sources: [String: SourceFile] = [:]
        var policyFiles: [PolicyInputs.File] = []
        var documents: [PolicyDocument] = []
        var envoyPaths: [String] = []
        let reader = YAMLReader()
        let psink = DiagnosticSink()
        for f in files {
            sources[f.path] = SourceFile(path: f.path, bytes: f.bytes)
            // Each file is parsed once: policies go on to lowering, Envoy files to the route
            // reader (which reports their errors).
            let fileSink = DiagnosticSink()
            guard let root = reader.read(f.bytes, file: f.path, into: fileSink) else {
                for d in fileSink.all { sink.add(d) }
                if fileSink.all.isEmpty { sink.add(.missingField, "the file is empty", at: .point(f.path)) }
                continue
            }
            if RouteInputs.isPolicy(root) {
                for d in fileSink.all { psink.add(d) }
                policyFiles.append(f)
                documents.append(PolicyDocument(file: f.path, root: root))
            } else {
                envoyPaths.append(f.path)
            }
        }
        var side = DiffSide(tables: [], isPolicy: envoyPaths.isEmpty && !policyFiles.isEmpty)
        var diagnostics: [Diagnostic] = []
        if !envoyPaths.isEmpty {
            let r = RouteInputs.load(envoyPaths)
            diagnostics += r.diagnostics
            for (k, v) in r.sources { sources[k] = v }
            envoySide(r, into: &side)
        }
        if !policyFiles.isEmpty {
            // The route analysis (what lint adds) is not needed to compare.
            var policy = Lowering(sink: psink).lower(documents)
            policy.files = policyFiles.map(\.path)
            PolicyPasses.run(policy, psink)
            diagnostics += psink.sorted
            if let checked = CheckedPolicy(policy, diagnostics: psink.all) {
                let envoy = EnvoyLowering.lower(checked)
                for (i, l) in envoy.listeners.enumerated() {
                    // The listener's name key, as an Envoy listener's first key.
                    let span = policy.listeners.indices.contains(i) ? policy.listeners[i].name.span : l.source
                    var attributes = ListenerAttributes.element(l)
                    attributes.source = span
                    side.listeners.append(attributes)
                    guard var rc = l.connectionManager.routeConfiguration else { continue }
                    rc.source = span
                    side.tables.append(DiffSide.Table(key: "listener `\(l.name)`", config: rc, listener: l.name))
                }
                side.clusters += envoy.clusters.map { DiffSide.NamedElement(name: $0.name, json: $0.json, source: $0.source) }
            }
        }
        diagnostics += sink.sorted
        return Loaded(side: side, sources: sources, diagnostics: diagnostics)
    }

    /// The route tables, clusters and listeners of Envoy files. A table a listener uses
    /// (inline, or the first listener naming it through RDS) is keyed by the listener, as a
    /// policy's; the others by their name. An EDS cluster carries the endpoints read for it.
    static func envoySide(_ r: RouteInputs.Result, into side: inout DiffSide) {
        let envoy = r.envoy ?? EnvoyConfig()
        var rdsUser: [String: String] = [:]
        for l in envoy.listeners {
            for cm in l.connectionManagers {
                if case .rds(_, let name) = cm.routes, rdsUser[name] == nil { rdsUser[name] = l.name }
            }
        }
        var counts: [String: Int] = [:]
        for t in r.tables {
            var listener: String?
            if let range = t.label.range(of: ": listener ") {
                listener = String(t.label[range.upperBound...])
            } else {
                listener = rdsUser[t.engine.config.name]
            }
            let name = t.engine.config.name
            var key = listener.map { "listener `\($0)`" } ?? (name.isEmpty ? "route_config" : "route_config `\(name)`")
            // Two tables under one key: numbered in file order.
            counts[key, default: 0] += 1
            if counts[key]! > 1 { key += " #\(counts[key]!)" }
            side.tables.append(DiffSide.Table(key: key, config: withSpans(t.engine.config, t.engine.spans), listener: listener))
        }
        for var c in envoy.clusters {
            if c.loadAssignment == nil, c.edsConfig != nil, let e = envoy.endpoints.first(where: { $0.clusterName == c.name }) {
                c.loadAssignment = e
            }
            side.clusters.append(DiffSide.NamedElement(name: c.name, json: c.json, source: c.source))
        }
        side.listeners += envoy.listeners.map(ListenerAttributes.element)
    }

    /// Routes and hosts of an Envoy file carry their field-path spans as `source`.
    static func withSpans(_ c: RouteConfiguration, _ spans: [String: SourceSpanRef]) -> RouteConfiguration {
        var c = c
        for h in c.virtualHosts.indices {
            if c.virtualHosts[h].source == nil { c.virtualHosts[h].source = spans["virtual_hosts[\(h)]"]?.span }
            for r in c.virtualHosts[h].routes.indices where c.virtualHosts[h].routes[r].source == nil {
                c.virtualHosts[h].routes[r].source = spans["virtual_hosts[\(h)].routes[\(r)]"]?.span
            }
        }
        return c
    }

    // MARK: - git

    /// Runs git with `arguments`; stdout, or the error text.
    static func git(_ arguments: [String]) -> Result<Data, DiffUsageError> {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["git"] + arguments
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        do { try p.run() } catch { return .failure(DiffUsageError("cannot run git: \(error.localizedDescription)")) }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            let msg = String(decoding: errData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return .failure(DiffUsageError("git \(arguments.prefix(2).joined(separator: " ")) failed: \(msg)"))
        }
        return .success(data)
    }

    /// Copies `paths` (relative to the current directory) as they are at `revision` into
    /// `root/LABEL/...` with `git ls-tree` and `git show`, never touching the work tree.
    /// Returns the paths to load, relative to `root`.
    public static func checkout(revision: String, paths: [String], into root: String) -> Result<[String], DiffUsageError> {
        let label = revision.map { $0 == "/" || $0 == ":" || $0 == "~" || $0 == "^" ? "_" : $0 }.map(String.init).joined()
        var names: [String]
        switch git(["ls-tree", "-r", "--name-only", revision, "--"] + paths) {
        case .failure(let e): return .failure(e)
        case .success(let d): names = String(decoding: d, as: UTF8.self).split(separator: "\n").map(String.init)
        }
        names = names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") || $0.hasSuffix(".json") }
        if names.isEmpty {
            return .failure(DiffUsageError("no .yaml, .yml or .json file under \(paths.joined(separator: " ")) at \(revision)"))
        }
        let fm = FileManager.default
        for n in names {
            let data: Data
            switch git(["show", "\(revision):./\(n)"]) {
            case .failure(let e): return .failure(e)
            case .success(let d): data = d
            }
            let dest = root + "/" + label + "/" + n
            do {
                try fm.createDirectory(atPath: (dest as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try data.write(to: URL(fileURLWithPath: dest))
            } catch {
                return .failure(DiffUsageError("cannot write a temporary copy of \(n): \(error.localizedDescription)"))
            }
        }
        // The paths as given, under the label (directories stay directories).
        return .success(paths.map { p in label + "/" + (p == "." ? "" : p) })
    }
}
