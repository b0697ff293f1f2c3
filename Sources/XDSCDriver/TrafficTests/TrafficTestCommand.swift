import Dispatch
import Foundation
import XDSCDiagnostics
import XDSCProxy

/// `xdsc test traffic SPEC`: reads the spec and its configuration, runs the tests over real
/// sockets and renders the results. The exit codes are every command's: 0 when every test
/// passes; 1 on a failure, and for a spec or configuration with errors (the input has errors);
/// 2 for an unreadable spec or configuration, or a proxy that cannot start. With `strict`, a
/// warning about the spec or the configuration (those at start included) stops the run with 1.
public enum TrafficTestCommand {
    /// How results are printed.
    public enum Format: String, CaseIterable, Sendable {
        /// One line per test, failures with expected and actual.
        case human
        /// A JSON report.
        case json
        /// JUnit XML, for CI test reports.
        case junit
    }

    /// What the command prints and its exit status.
    public struct Output: Sendable {
        /// Standard output.
        public var stdout = ""
        /// Standard error.
        public var stderr = ""
        /// The exit status.
        public var exitCode: Int32 = 0
        /// The results, when the tests ran.
        public var results: [TrafficTestResult]?
    }

    /// Runs the spec at `path` and renders the results as `format`; `strict` is `--strict`.
    public static func run(spec path: String, format: Format, strict: Bool = false) -> Output {
        var out = Output()
        // `load` and `configuration` set the exit code when they give up.
        guard let spec = load(path, strict: strict, &out), let configuration = configuration(spec, strict: strict, &out) else { return out }
        let startWarnings = configuration.startWarnings(ProxyOptions())
        for w in startWarnings { out.stderr += "warning: \(w)\n" }
        if strict && stopOnWarnings(startWarnings.count, &out) { return out }
        let results: Result<[TrafficTestResult], Error> = wait { try await TrafficTestRunner.run(spec, configuration: configuration) }
        switch results {
        case .failure(let e):
            out.stderr += "error: cannot start the proxy: \(e)\n"
            out.exitCode = ExitStatus.usageOrIO
        case .success(let r):
            out.results = r
            out.stdout = TrafficReport(spec: spec, results: r).render(format)
            out.exitCode = r.allSatisfy(\.passed) ? ExitStatus.success : ExitStatus.inputErrors
        }
        return out
    }

    /// Under `--strict`, `count` warnings stop the run with exit code 1; true when they did.
    static func stopOnWarnings(_ count: Int, _ out: inout Output) -> Bool {
        guard count > 0 else { return false }
        out.stderr += ExitStatus.strictStop(warnings: count)
        out.exitCode = ExitStatus.inputErrors
        return true
    }

    /// The spec at `path`. A spec that cannot be read (missing, a directory, a dangling link)
    /// is an `unreadable-input` error naming it, exit 2 as in every command; one that is not
    /// YAML, or not a spec, has its errors at file:line:column, exit 1. So is a `ca_file`
    /// that cannot be read: reported where the spec names it, exit 2.
    static func load(_ path: String, strict: Bool, _ out: inout Output) -> TrafficSpec? {
        let sink = DiagnosticSink()
        guard let bytes = PolicyInputs.readFile(path, into: sink) else {
            out.stderr += HumanRenderer(sources: [:], color: false).render(sink.sorted)
            out.exitCode = ExitStatus.usageOrIO
            return nil
        }
        let spec = TrafficSpecReader.read(path: path, bytes: bytes, into: sink)
        if let spec, let caFile = spec.caFile, !sink.hasErrors {
            let caSink = DiagnosticSink()
            if PolicyInputs.readFile(caFile, into: caSink) == nil {
                for d in caSink.all {
                    sink.add(
                        .unreadableInput, "the spec's `ca_file`: \(d.message)", at: spec.caFileSpan ?? d.span, label: "unreadable",
                        help: "`ca_file` is relative to the spec")
                }
            }
        }
        let renderer = HumanRenderer(sources: [path: SourceFile(path: path, bytes: bytes)], color: false)
        out.stderr += renderer.render(sink.sorted)
        guard let spec, !sink.hasErrors else {
            out.exitCode = ExitStatus.refusal(for: sink.all)
            return nil
        }
        if strict && stopOnWarnings(sink.all.count { $0.severity == .warning }, &out) { return nil }
        return spec
    }

    /// Findings that do not stop a configuration from being served: Envoy accepts a route
    /// table with unreachable routes (and `xdsc lint --emit-tests` replays exactly those).
    public static let tolerated: Set<Rule.ID> = [.routeShadowed, .routeUnmatchable]

    /// The configuration the spec names, after checking the listeners and clusters it uses exist.
    static func configuration(_ spec: TrafficSpec, strict: Bool, _ out: inout Output) -> ProxyConfiguration? {
        let loaded = RunInputs.load(spec.config, tolerating: tolerated)
        let errors = loaded.diagnostics.filter { $0.severity == .error && !tolerated.contains($0.rule) }
        guard errors.isEmpty, let configuration = loaded.configuration else {
            out.stderr += HumanRenderer(sources: loaded.sources, color: false).render(errors)
            if errors.isEmpty { out.stderr += "error: no listener to serve in \(spec.config.joined(separator: ", "))\n" }
            out.exitCode = ExitStatus.refusal(for: errors)
            return nil
        }
        if strict {
            let found = StrictWarnings.collect(loaded.diagnostics, sources: loaded.sources, paths: spec.config, linted: loaded.linted)
            if let report = found.report {
                out.stderr += report
                out.exitCode = ExitStatus.inputErrors
                return nil
            }
        }
        let sink = DiagnosticSink()
        let listeners = configuration.listeners.map(\.name)
        for t in spec.tests {
            if let l = t.listener, !listeners.contains(l.name) {
                sink.add(
                    .invalidValue, "no listener `\(l.name)` in the configuration", at: l.span,
                    help: "listeners: " + listeners.map { "`\($0)`" }.joined(separator: ", "))
            }
            for u in t.upstreams where configuration.clusters[u.cluster] == nil {
                sink.add(
                    .unknownService, "no cluster `\(u.cluster)` in the configuration", at: u.span,
                    help: "clusters: " + configuration.clusterOrder.map { "`\($0)`" }.joined(separator: ", "))
            }
        }
        guard sink.all.isEmpty else {
            let text = (try? String(contentsOfFile: spec.path, encoding: .utf8)) ?? ""
            out.stderr += HumanRenderer(sources: [spec.path: SourceFile(path: spec.path, text: text)], color: false).render(sink.sorted)
            out.exitCode = ExitStatus.inputErrors
            return nil
        }
        return configuration
    }

    /// Runs `body` on a detached task and waits for it (the CLI is synchronous).
    static func wait<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) -> Result<T, Error> {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            do { box.value = .success(try await body()) } catch { box.value = .failure(error) }
            done.signal()
        }
        done.wait()
        return box.value!
    }
}

/// Carries a detached task's result to the waiting thread (written before the signal, read after).
final class ResultBox<T>: @unchecked Sendable {
    var value: Result<T, Error>?
}
