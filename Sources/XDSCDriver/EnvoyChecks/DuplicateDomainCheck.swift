import XDSCDiagnostics
import XDSCEnvoy
import XDSCRequest

/// Envoy rejects a route configuration in which two virtual hosts share a domain (compared
/// after ASCII lower-casing), or two use `*` (`RouteMatcher` in
/// source/common/router/config_impl.cc). One check for both inputs: a policy listener is one
/// route configuration and its hosts are the virtual hosts, so only the words differ.
public struct DuplicateDomainCheck: EnvoyCheck {
    /// The rules this check can report.
    public static let rules: [Rule.ID] = [.duplicateDomain]
    /// Both front ends.
    public static let inputs: [InputKind] = [.policy, .envoy]
    /// Creates the check.
    public init() {}

    /// Checks every route table of `config` and adds each finding to `sink`.
    public func run(_ config: EnvoyConfig, _ context: EnvoyCheckContext, _ sink: DiagnosticSink) {
        check(config.routeTables.map(\.table), input: context.input, sink)
    }

    /// Checks each of `tables`, built by the `input` front end, and adds each finding to
    /// `sink` (also on the route tables alone of a policy with errors).
    public func check(_ tables: [RouteConfiguration], input: InputKind, _ sink: DiagnosticSink) {
        let words = Words(input)
        for table in tables {
            var first: [String: (host: String, span: SourceSpan?)] = [:]
            for vh in table.virtualHosts {
                for (i, d) in vh.domains.enumerated() {
                    let key = d.asciiLowercased
                    let span = i < vh.domainSources.count ? vh.domainSources[i] : vh.source
                    guard let prior = first[key] else {
                        first[key] = (vh.name, span)
                        continue
                    }
                    guard let span else { continue }
                    sink.add(
                        .duplicateDomain, Self.message(d, key: key, host: vh.name, prior: prior.host, table: table.name, words),
                        at: span, label: "duplicate domain",
                        related: prior.span.map { [RelatedLocation("first listed here", at: $0)] } ?? [],
                        notes: ["Envoy rejects the route configuration: domains must be unique (case-insensitive)"],
                        help: "keep the domain in one \(words.host)")
                }
            }
        }
    }

    /// What a virtual host and a route configuration are called in each input's language.
    struct Words {
        var host: String
        var table: String
        init(_ input: InputKind) {
            (host, table) = input == .policy ? ("host", "listener") : ("virtual host", "route configuration")
        }
    }

    // MARK: Messages

    static func message(_ domain: String, key: String, host: String, prior: String, table: String, _ w: Words) -> String {
        if key == "*" {
            return "a second `*` \(w.host) in \(w.table) `\(table)`: only one \(w.host) may catch every domain"
        }
        if prior == host { return "domain `\(domain)` is listed twice in \(w.host) `\(host)`" }
        return "domain `\(domain)` is already served by \(w.host) `\(prior)` in \(w.table) `\(table)`"
    }
}
