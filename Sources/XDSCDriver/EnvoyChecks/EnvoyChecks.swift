import XDSCDiagnostics
import XDSCEnvoy
import XDSCRoutes
import XDSCSyntax

/// A check on the Envoy model. It runs for the front ends in `inputs`, reports to the sink
/// at the spans the model keeps, and never throws for a user's mistake.
public protocol EnvoyCheck: Sendable {
    /// The rules this check can report.
    static var rules: [Rule.ID] { get }
    /// The front ends whose model this check runs on. A check whose policy counterpart on
    /// the IR says more (a did-you-mean over service names, a finding on a policy with
    /// errors) runs on Envoy input only (docs/envoy-input.md).
    static var inputs: [InputKind] { get }
    /// Checks `config` and adds each finding to `sink`.
    func run(_ config: EnvoyConfig, _ context: EnvoyCheckContext, _ sink: DiagnosticSink)
}

/// What a check knows beside the model: the front end that built it and, for Envoy input,
/// where the files name a cluster as written (where the model keeps no trace of a field, such as
/// a stats sink's `tcp_cluster_name` or a route the reader left out).
public struct EnvoyCheckContext: Sendable {
    /// The front end that built the model.
    public var input: InputKind
    /// The places each of the words asked for is written as a scalar (empty for policy input).
    public var scalars: [String: [SourceSpan]]

    /// A context for `input` with the scalars of `roots` that are one of `words` (the walk is
    /// skipped when there are none, so a large RDS file on its own costs nothing).
    public init(input: InputKind, roots: [YAMLNode] = [], words: Set<String> = []) {
        self.input = input
        var scalars: [String: [SourceSpan]] = [:]
        var stack = words.isEmpty ? [] : roots
        while let node = stack.popLast() {
            switch node.kind {
            case .scalar(let s): if words.contains(s.text) { scalars[s.text, default: []].append(node.span) }
            case .mapping(let pairs): stack += pairs.map(\.value)
            case .sequence(let items): stack += items
            }
        }
        self.scalars = scalars
    }
}

/// The checks that are about Envoy rather than the policy language: they run once, on the
/// model, for both front ends, and report at the spans the model keeps (policy tokens, or
/// positions in the user's Envoy files).
public enum EnvoyChecks {
    /// Every check but the route analysis, in the order they run.
    public static let all: [any EnvoyCheck] = [
        DuplicateDomainCheck(), UndefinedClusterCheck(), UnusedClusterCheck(), DuplicateResourceNameCheck(),
        DuplicateAddressCheck(), InvalidRegexCheck(), RetryTimeoutCheck(), RouterNotLastCheck(),
    ]

    /// Runs every Envoy-level check on `config`, adding findings to `sink`; returns the route
    /// analysis's counts. `input` says which front end built `config`; `roots` are the
    /// parsed Envoy files it came from.
    /// `locate` points an unmatchable route's finding at its condition (policy front end);
    /// `keep` drops route findings the front end already reported otherwise.
    public static func run(
        _ config: EnvoyConfig, _ sink: DiagnosticSink, input: InputKind = .policy, roots: [YAMLNode] = [],
        locate: RouteTableAnalysis.ConditionLocator? = nil, keep: (Diagnostic) -> Bool = { _ in true }
    ) -> RouteTableFindings {
        // Only cluster names are looked up (`UnusedClusterCheck`).
        let context = EnvoyCheckContext(input: input, roots: roots, words: Set(config.clusters.map(\.name)))
        for check in all where type(of: check).inputs.contains(input) { check.run(config, context, sink) }
        return analyzeRoutes(
            config.routeTables.map { ($0.table, $0.table.source ?? $0.listener?.source) }, sink, locate: locate, keep: keep)
    }

    /// The checks that read route tables alone (the duplicate domains and the route
    /// analysis), on the route tables of a policy that has errors: such a policy is never
    /// lowered whole (`EnvoyLowering.routeTables(_:)`). The other policy-input checks read
    /// listeners, which the policy lowering always builds right (the router last), so
    /// nothing is lost; their findings are the same as on the whole lowering.
    public static func run(
        policyRouteTables tables: [RouteConfiguration], _ sink: DiagnosticSink, locate: RouteTableAnalysis.ConditionLocator? = nil,
        keep: (Diagnostic) -> Bool = { _ in true }
    ) -> RouteTableFindings {
        DuplicateDomainCheck().check(tables, input: .policy, sink)
        return analyzeRoutes(tables.map { ($0, $0.source) }, sink, locate: locate, keep: keep)
    }

    /// The route analysis of each table (a table without a fallback position is skipped);
    /// the findings `keep` accepts go to `sink`.
    static func analyzeRoutes(
        _ tables: [(table: RouteConfiguration, fallback: SourceSpan?)], _ sink: DiagnosticSink,
        locate: RouteTableAnalysis.ConditionLocator?, keep: (Diagnostic) -> Bool
    ) -> RouteTableFindings {
        var findings = RouteTableFindings()
        // The hosts of a large policy are analysed on several threads, each with one memo
        // for its hosts (they repeat the same regexes); the findings come in table order.
        let analysed = tables.compactMap { t in t.fallback.map { (config: t.table, fallback: $0) } }
        RouteTableAnalysis.analyze(tables: analysed, locate: locate, into: &findings)
        for d in findings.diagnostics where keep(d) { sink.add(d) }
        return findings
    }
}

extension EnvoyConfig {
    /// Every route of every route table, with its table, in table order.
    func forEachRoute(_ body: (RouteConfiguration, VirtualHost, Route) -> Void) {
        for (_, table) in routeTables {
            for vh in table.virtualHosts {
                for r in vh.routes { body(table, vh, r) }
            }
        }
    }

    /// The clusters a route sends traffic to (its cluster, weighted clusters and mirrors).
    static func clusterReferences(_ route: Route) -> [String] {
        guard case .route(let a) = route.action else { return [] }
        var names: [String] = []
        switch a.clusterSpecifier {
        case .cluster(let c): names.append(c)
        case .weightedClusters(let w): names += w.clusters.map(\.name)
        case .clusterHeader: break
        }
        return names + a.requestMirrorPolicies.map(\.cluster)
    }
}
