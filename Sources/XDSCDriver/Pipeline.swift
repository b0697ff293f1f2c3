import Foundation
import XDSCAnalysis
import XDSCDiagnostics
import XDSCEmit
import XDSCPolicy
import XDSCRoutes
import XDSCSyntax

/// What a front-end run produced: the policy (when it could be built), every diagnostic,
/// and the source text renderers show.
public struct FrontEndResult: Sendable {
    /// The lowered policy.
    public var policy: Policy
    /// Every diagnostic, sorted.
    public var diagnostics: [Diagnostic]
    /// The source text of each input, by path.
    public var sources: [String: SourceFile]
    /// Counts of the route shadowing analysis (for `--verbose`).
    public var routeAnalysis = RouteTableFindings()
    /// The Envoy configuration the route analysis ran on; `build` emits it as is.
    public var envoy: EnvoyConfig?

    /// Whether any diagnostic is an error.
    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
}

/// Runs the stages in order: read -> YAML -> IR -> analysis passes.
public struct Pipeline: Sendable {
    /// The limits every input is read under.
    public var limits: InputLimits

    /// A pipeline that reads input under `limits`.
    public init(limits: InputLimits = .default) {
        self.limits = limits
    }

    /// Reads, parses, lowers and checks the policy at `paths`.
    public func check(_ paths: [String]) -> FrontEndResult {
        let sink = DiagnosticSink()
        let files = PolicyInputs.read(paths, into: sink)
        return check(files: files, sink: sink)
    }

    /// The same, for files already in memory (tests, editors).
    public func check(files: [PolicyInputs.File], sink: DiagnosticSink = DiagnosticSink()) -> FrontEndResult {
        var sources: [String: SourceFile] = [:]
        var documents: [PolicyDocument] = []
        let reader = YAMLReader(limits: limits)
        var clock = PhaseClock()
        for f in files {
            sources[f.path] = SourceFile(path: f.path, text: String(decoding: f.bytes, as: UTF8.self))
            if let root = reader.read(f.bytes, file: f.path, into: sink) {
                documents.append(PolicyDocument(file: f.path, root: root))
            } else if !sink.all.contains(where: { $0.span.file == f.path && $0.severity == .error }) {
                sink.add(.missingField, "the policy file is empty", at: .point(f.path), help: "start with `version: 1`")
            }
        }
        clock.lap("parse")
        var policy = Policy()
        // A file that is not YAML cannot be lowered; the others still are, so every error shows.
        if !files.isEmpty {
            policy = Lowering(sink: sink).lower(documents)
            // Nothing reads the YAML trees after lowering: free them before the Envoy model and
            // the route analysis are built, which keeps the peak memory down.
            documents = []
            policy.files = files.map(\.path)
            clock.lap("lower")
            PolicyPasses.run(policy, sink) { clock.lap($0) }
        }
        let envoy = EnvoyLowering.lower(policy)
        clock.lap("envoy model")
        let routeAnalysis = Self.analyzeRoutes(envoy, policy)
        let brokenRoutes = Self.routesWithErrors(policy, sink.all)
        for d in routeAnalysis.diagnostics {
            // A route whose conditions already have an error (a matcher Envoy cannot express,
            // a query text that never matches) is not reported again as matching nothing.
            if d.rule == .routeUnmatchable, brokenRoutes.contains(where: { $0.contains(d.span) }) { continue }
            sink.add(d)
        }
        clock.lap("route analysis")
        var result = FrontEndResult(policy: policy, diagnostics: sink.sorted, sources: sources)
        result.routeAnalysis = routeAnalysis
        result.envoy = envoy
        return result
    }

    /// The spans of the policy routes that have an error inside them.
    static func routesWithErrors(_ policy: Policy, _ diagnostics: [Diagnostic]) -> [SourceSpan] {
        let errors = diagnostics.filter { $0.severity == .error }
        guard !errors.isEmpty else { return [] }
        var spans: [SourceSpan] = []
        for l in policy.listeners {
            for h in l.hosts {
                for r in h.routes where errors.contains(where: { r.span.contains($0.span) }) { spans.append(r.span) }
            }
        }
        return spans
    }

    /// Route shadowing and overlap, decided on the Envoy configuration the policy lowers to,
    /// so the analysis sees exactly what Envoy will match (methods as `:method` matchers,
    /// gRPC as a content-type rule).
    static func analyzeRoutes(_ config: EnvoyConfig, _ policy: Policy) -> RouteTableFindings {
        var findings = RouteTableFindings()
        // A route that matches nothing is reported at the condition that causes it.
        let lookup = RouteMatchLookup(policy)
        let locate: RouteTableAnalysis.ConditionLocator = { route, cause in
            guard let m = lookup.match(at: route) else { return nil }
            switch cause {
            case .path: return m.path.span
            case .field(let name, let isQuery):
                let fields = isQuery ? m.query : m.headers
                return fields.first { isQuery ? $0.name.value == name : $0.name.value.lowercased() == name }?.span
                    ?? (name == ":method" ? m.methods.first?.span : nil) ?? m.span
            }
        }
        for (listener, source) in zip(config.listeners, policy.listeners) {
            guard let routes = listener.connectionManager.routeConfiguration else { continue }
            RouteTableAnalysis.analyze(routes, fallback: source.span, locate: locate, into: &findings)
        }
        return findings
    }
}

/// Each route's `match` by the route's span, built on first use: only a route that matches
/// nothing asks, and a table of every route of a large policy costs time and memory.
final class RouteMatchLookup: @unchecked Sendable {
    private let policy: Policy
    private let lock = NSLock()
    private var table: [SourceSpan: PolicyRouteMatch]?

    init(_ policy: Policy) {
        self.policy = policy
    }

    func match(at span: SourceSpan) -> PolicyRouteMatch? {
        lock.lock()
        defer { lock.unlock() }
        if table == nil {
            var t: [SourceSpan: PolicyRouteMatch] = [:]
            for l in policy.listeners { for h in l.hosts { for r in h.routes { t[r.span] = r.match } } }
            table = t
        }
        return table?[span]
    }
}

/// The documented exit codes: 0 success, 1 errors in the input (or warnings under
/// `--strict`, or a difference in check modes), 2 usage error, unreadable input or an
/// internal failure.
public enum ExitStatus {
    /// Success.
    public static let success: Int32 = 0
    /// Errors in the input (or warnings under `--strict`).
    public static let inputErrors: Int32 = 1
    /// Usage error, unreadable input or an internal failure.
    public static let usageOrIO: Int32 = 2

    /// The exit code for a run that reported `diagnostics`.
    public static func code(for diagnostics: [Diagnostic], strict: Bool) -> Int32 {
        if diagnostics.contains(where: { Rule.registry[$0.rule].isInputFailure }) { return usageOrIO }
        if diagnostics.contains(where: { $0.severity == .error }) { return inputErrors }
        if strict && diagnostics.contains(where: { $0.severity == .warning }) { return inputErrors }
        return success
    }
}

extension Policy {
    /// "1 file, 4 services, 1 listener, 2 hosts, 6 routes": what a run looked at.
    public var inventory: String {
        func n(_ count: Int, _ word: String) -> String { "\(count) \(word)\(count == 1 ? "" : "s")" }
        let hosts = listeners.reduce(0) { $0 + $1.hosts.count }
        let routes = listeners.reduce(0) { $0 + $1.hosts.reduce(0) { $0 + $1.routes.count } }
        return [n(files.count, "file"), n(services.count, "service"), n(listeners.count, "listener"), n(hosts, "host"), n(routes, "route")]
            .joined(separator: ", ")
    }
}

/// Prints how long each stage took to stderr when `XDSC_PROFILE` is set; costs nothing otherwise.
struct PhaseClock {
    private let enabled = ProcessInfo.processInfo.environment["XDSC_PROFILE"] != nil
    private var last = DispatchTime.now().uptimeNanoseconds

    mutating func lap(_ name: String) {
        guard enabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        FileHandle.standardError.write(
            Data("xdsc: \(name) \(String(format: "%.3f", Double(now - last) / 1e9))s rss \(Self.residentMegabytes())M\n".utf8))
        last = now
    }

    /// The resident set now, from `/proc/self/statm` (Linux; 0 elsewhere).
    static func residentMegabytes() -> Int {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = statm.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE))) / 1_000_000
    }
}
