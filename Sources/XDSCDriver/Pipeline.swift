import Foundation
import XDSCAnalysis
import XDSCDiagnostics
import XDSCEmit
import XDSCEnvoy
import XDSCPolicy
import XDSCRoutes
import XDSCSyntax

/// What a front-end run produced: the policy (when it could be built), every diagnostic,
/// and the source text renderers show.
public struct FrontEndResult: Sendable {
    public var policy: Policy
    public var diagnostics: [Diagnostic]
    public var sources: [String: SourceFile]
    /// Counts of the route shadowing analysis (for `--verbose`).
    public var routeAnalysis = RouteTableFindings()
    /// The Envoy configuration the route analysis ran on; `build` emits it as is.
    public var envoy: EnvoyConfig?

    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
}

/// Runs the stages in order: read -> YAML -> IR -> analysis passes.
public struct Pipeline: Sendable {
    public var limits: InputLimits

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
            policy.files = files.map(\.path)
            clock.lap("lower")
            PolicyPasses.run(policy, sink) { clock.lap($0) }
        }
        let envoy = EnvoyLowering.lower(policy)
        let routeAnalysis = Self.analyzeRoutes(envoy, policy)
        for d in routeAnalysis.diagnostics { sink.add(d) }
        clock.lap("route analysis")
        var result = FrontEndResult(policy: policy, diagnostics: sink.sorted, sources: sources)
        result.routeAnalysis = routeAnalysis
        result.envoy = envoy
        return result
    }

    /// Route shadowing and overlap, decided on the Envoy configuration the policy lowers to,
    /// so the analysis sees exactly what Envoy will match (methods as `:method` matchers,
    /// gRPC as a content-type rule).
    static func analyzeRoutes(_ config: EnvoyConfig, _ policy: Policy) -> RouteTableFindings {
        var findings = RouteTableFindings()
        for (listener, source) in zip(config.listeners, policy.listeners) {
            guard let routes = listener.connectionManager.routeConfiguration else { continue }
            RouteTableAnalysis.analyze(routes, fallback: source.span, into: &findings)
        }
        return findings
    }
}

/// The documented exit codes: 0 success, 1 errors in the input (or warnings under
/// `--strict`, or a difference in check modes), 2 usage error, unreadable input or an
/// internal failure.
public enum ExitStatus {
    public static let success: Int32 = 0
    public static let inputErrors: Int32 = 1
    public static let usageOrIO: Int32 = 2

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
        FileHandle.standardError.write(Data("xdsc: \(name) \(String(format: "%.3f", Double(now - last) / 1e9))s\n".utf8))
        last = now
    }
}
