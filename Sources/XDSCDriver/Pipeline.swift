import Foundation
import XDSCAnalysis
import XDSCDiagnostics
import XDSCEmit
import XDSCEnvoy
import XDSCEnvoyReader
import XDSCPolicy
import XDSCRoutes
import XDSCSyntax

/// Which front end reads an input file.
public enum InputKind: String, Sendable, CaseIterable {
    /// An xdsc policy (YAML).
    case policy
    /// A user's Envoy v3 configuration (JSON or YAML).
    case envoy
}

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
    /// The Envoy configuration the policy lowers to, only for a run without errors (a
    /// `CheckedPolicy`); `build` emits it as is.
    public var envoy: EnvoyConfig?
    /// The route table of each policy listener, as the route analysis saw them: set for a
    /// policy with errors too (the policy's only lowering then).
    public var policyRouteTables: [RouteConfiguration] = []
    /// What the Envoy front end read, when some input was Envoy configuration.
    public var envoyInput: EnvoyReadResult?

    /// Whether any diagnostic is an error.
    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    /// What the run looked at: the policy's inventory, the Envoy input's, or both.
    public var inventory: String {
        guard let e = envoyInput else { return policy.inventory }
        let envoy = e.config.inventory(files: e.sources.count)
        return policy.files.isEmpty ? envoy : policy.inventory + "; " + envoy
    }
}

/// The policy front end: YAML documents -> IR with the policy rules, then lowering to the
/// Envoy model.
///
/// The stage boundaries are types: `Policy` (the IR, possibly partial when it has errors),
/// then either a `CheckedPolicy` (no errors), the only input of the full lowering
/// (listeners, clusters, bootstrap: what `build` emits), or, for a policy with errors, its
/// route tables alone, which the route analysis still reads so that a shadowed route is
/// reported next to the other errors.
public struct PolicyFrontEnd: Sendable {
    /// What the policy stages produced.
    public enum Output: Sendable {
        /// A policy without errors and its whole Envoy configuration.
        case checked(CheckedPolicy, EnvoyConfig)
        /// A policy with errors and the route table of each of its listeners.
        case withErrors(Policy, routeTables: [RouteConfiguration])

        /// The policy (possibly partial when it has errors).
        public var policy: Policy {
            switch self {
            case .checked(let c, _): c.policy
            case .withErrors(let p, _): p
            }
        }
    }

    /// Lowers `documents` and runs the policy passes into `sink`; lowers to Envoy whole only
    /// when `sink` then holds no error.
    /// The documents are consumed: their YAML trees are freed once lowered, before the
    /// passes and the Envoy lowering, which keeps the peak memory down (the caller passes
    /// them with `consume` and keeps no copy).
    public static func run(_ documents: consuming [PolicyDocument], files: [String], sink: DiagnosticSink, lap: (String) -> Void)
        -> Output
    {
        var policy = Policy()
        // A file that is not YAML cannot be lowered; the others still are, so every error shows.
        if !files.isEmpty {
            policy = Lowering(sink: sink).lower(documents)
            documents = []
            policy.files = files
            lap("lower")
            PolicyPasses.run(policy, sink, lap: lap)
        }
        // Its own phase in `XDSC_PROFILE`: it was counted in the route analysis's time.
        guard let checked = CheckedPolicy(policy, diagnostics: sink.all) else {
            let tables = EnvoyLowering.routeTables(policy)
            lap("envoy lowering")
            return .withErrors(policy, routeTables: tables)
        }
        let envoy = EnvoyLowering.lower(checked)
        lap("envoy lowering")
        return .checked(checked, envoy)
    }
}

extension PolicyFrontEnd {
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

    /// Where a policy route's condition is written, so a route that matches nothing is
    /// reported at the condition that causes it.
    static func conditionLocator(_ policy: Policy) -> RouteTableAnalysis.ConditionLocator {
        let lookup = RouteMatchLookup(policy)
        return { route, cause in
            guard let m = lookup.match(at: route) else { return nil }
            switch cause {
            case .path: return m.path.span
            case .field(let name, let isQuery):
                let fields = isQuery ? m.query : m.headers
                return fields.first { isQuery ? $0.name.value == name : $0.name.value.lowercased() == name }?.span
                    ?? (name == ":method" ? m.methods.first?.span : nil) ?? m.span
            }
        }
    }
}

/// The Envoy front end: users' Envoy files -> the Envoy model, with the reader's diagnostics.
public struct EnvoyFrontEnd: Sendable {
    /// Reads `files` and the files their config sources name.
    public static func run(_ files: [EnvoyReader.File], sink: DiagnosticSink) -> EnvoyReadResult {
        EnvoyReader().read(files: files, into: sink)
    }
}

/// Runs the stages in order: read -> YAML -> front end (policy or Envoy) -> Envoy model ->
/// Envoy-level checks.
public struct Pipeline: Sendable {
    /// The limits every input is read under.
    public var limits: InputLimits

    /// A pipeline that reads input under `limits`.
    public init(limits: InputLimits = .default) {
        self.limits = limits
    }

    /// Reads, parses, lowers and checks the inputs at `paths`. `input` forces one front end;
    /// nil tells policies and Envoy files apart by content (`docs/envoy-input.md`).
    public func check(_ paths: [String], input: InputKind? = nil) -> FrontEndResult {
        let sink = DiagnosticSink()
        let files = PolicyInputs.read(paths, input: input, into: sink)
        return check(files: files, sink: sink, input: input)
    }

    /// The same, for files already in memory (tests, editors).
    public func check(files: [PolicyInputs.File], sink: DiagnosticSink = DiagnosticSink(), input: InputKind? = nil)
        -> FrontEndResult
    {
        var sources: [String: SourceFile] = [:]
        var documents: [PolicyDocument] = []
        var policyFiles: [String] = []
        var envoyFiles: [EnvoyReader.File] = []
        let reader = YAMLReader(limits: limits)
        let envoyReader = YAMLReader(limits: EnvoyReader.defaultLimits)
        var clock = PhaseClock()
        for f in files {
            var parsed: (root: YAMLNode?, diagnostics: [Diagnostic])?
            if input != .policy {
                // One parse tells the kinds apart; the front end that takes the file reuses it.
                let local = DiagnosticSink()
                let root = envoyReader.read(f.bytes, file: f.path, into: local)
                parsed = (root, local.all)
                let envoy = input == .envoy || root.map { EnvoyReader.kind(of: $0) != nil } ?? f.path.hasSuffix(".json")
                if envoy {
                    for d in local.all { sink.add(d) }
                    envoyFiles.append(EnvoyReader.File(path: f.path, bytes: f.bytes, root: root))
                    continue
                }
                // A JSON file found in a directory is read only when it is Envoy configuration.
                if f.fromDirectory && f.path.hasSuffix(".json") { continue }
            }
            policyFiles.append(f.path)
            sources[f.path] = SourceFile(path: f.path, bytes: f.bytes)
            var root: YAMLNode?
            if let parsed, f.bytes.count <= limits.maxFileBytes {
                // The same limits but the file size: the parse stands for the policy reader's.
                for d in parsed.diagnostics { sink.add(d) }
                root = parsed.root
            } else {
                root = reader.read(f.bytes, file: f.path, into: sink)
            }
            if let root {
                documents.append(PolicyDocument(file: f.path, root: root))
            } else if !sink.all.contains(where: { $0.span.file == f.path && $0.severity == .error }) {
                sink.add(.missingField, "the policy file is empty", at: .point(f.path), help: "start with `version: 1`")
            }
        }
        clock.lap("parse")
        var policy = Policy()
        var lowered: EnvoyConfig?
        var policyRouteTables: [RouteConfiguration] = []
        var routeAnalysis = RouteTableFindings()
        if !policyFiles.isEmpty || envoyFiles.isEmpty {
            // Nothing reads the YAML trees after lowering: the front end frees them then.
            let out = PolicyFrontEnd.run(consume documents, files: policyFiles, sink: sink) { clock.lap($0) }
            policy = out.policy
            let brokenRoutes = PolicyFrontEnd.routesWithErrors(policy, sink.all)
            // A route whose conditions already have an error (a matcher Envoy cannot express,
            // a query text that never matches) is not reported again as matching nothing.
            let keep = { (d: Diagnostic) in !(d.rule == .routeUnmatchable && brokenRoutes.contains { $0.contains(d.span) }) }
            let locate = PolicyFrontEnd.conditionLocator(policy)
            switch out {
            case .checked(_, let envoy):
                routeAnalysis = EnvoyChecks.run(envoy, sink, locate: locate, keep: keep)
                lowered = envoy
            case .withErrors(_, let tables):
                routeAnalysis = EnvoyChecks.run(policyRouteTables: tables, sink, locate: locate, keep: keep)
                policyRouteTables = tables
            }
            clock.lap("route analysis")
        }
        var envoyInput: EnvoyReadResult?
        if !envoyFiles.isEmpty {
            let read = EnvoyFrontEnd.run(envoyFiles, sink: sink)
            clock.lap("read envoy")
            for (path, source) in read.sources { sources[path] = source }
            let findings = EnvoyChecks.run(read.config, sink, input: .envoy, roots: envoyFiles.compactMap(\.root))
            routeAnalysis.merge(findings)
            clock.lap("envoy checks")
            envoyInput = read
        }
        var result = FrontEndResult(policy: policy, diagnostics: sink.sorted, sources: sources)
        result.routeAnalysis = routeAnalysis
        result.envoy = lowered
        result.policyRouteTables = lowered.map { $0.routeTables.map(\.table) } ?? policyRouteTables
        result.envoyInput = envoyInput
        return result
    }
}

extension EnvoyConfig {
    /// "2 files, 1 listener, 3 route tables, 40 routes, 5 clusters": what a run looked at.
    func inventory(files: Int) -> String {
        func n(_ count: Int, _ word: String) -> String { "\(count) \(word)\(count == 1 ? "" : "s")" }
        let tables = routeTables.map(\.table)
        let routes = tables.reduce(0) { $0 + $1.virtualHosts.reduce(0) { $0 + $1.routes.count } }
        return [
            n(files, "Envoy file"), n(listeners.count, "listener"), n(tables.count, "route table"), n(routes, "route"),
            n(clusters.count, "cluster"),
        ].joined(separator: ", ")
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

    /// The exit code when `diagnostics` stop a command before it does its work (errors, or
    /// nothing to act on): 2 for an input that cannot be read (or is over a limit), else 1.
    public static func refusal(for diagnostics: [Diagnostic]) -> Int32 {
        code(for: diagnostics, strict: false) == usageOrIO ? usageOrIO : inputErrors
    }

    /// The line that ends a command `count` warnings stopped under `--strict` (exit 1).
    public static func strictStop(warnings count: Int) -> String {
        "error: \(count) warning\(count == 1 ? "" : "s") with --strict\n"
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
    // `getenv`, not `ProcessInfo.environment`: that copies the whole environment into a
    // dictionary, a visible part of a small lint's start-up.
    private let enabled = getenv("XDSC_PROFILE") != nil
    private var last = DispatchTime.now().uptimeNanoseconds

    mutating func lap(_ name: String) {
        guard enabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        FileHandle.standardError.write(
            Data(
                "xdsc: \(name) \(String(format: "%.3f", Double(now - last) / 1e9))s rss \(Self.residentMegabytes())M\n"
                    .utf8))
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
