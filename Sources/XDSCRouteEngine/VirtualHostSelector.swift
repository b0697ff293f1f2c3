import XDSCEnvoy
import XDSCRequest

/// A route table's virtual hosts by domain, as `RouteMatcher` keeps them: exact domains,
/// suffix and prefix wildcards (longest first), and the `*` host. Built from the domains
/// alone, so a caller that only needs to know which host a request reaches (the route
/// analysis) does not pay for the route indexes of a `RouteEngine`.
public struct VirtualHostSelector: Sendable {
    /// A selected host: its index, why, and the host value compared (lower-cased, port
    /// removed when the table ignores ports).
    public typealias Selection = (index: Int, reason: VirtualHostReason, comparedHost: String?)

    let exact: [String: (host: Int, domain: String)]
    let suffixes: [(key: [UInt8], host: Int, domain: String)]
    let prefixes: [(key: [UInt8], host: Int, domain: String)]
    let defaultHost: Int?
    let hostHeader: String
    let ignorePort: Bool

    /// The selector of `config`'s virtual hosts.
    public init(_ config: RouteConfiguration) {
        var exact: [String: (Int, String)] = [:]
        var suffixes: [(key: [UInt8], host: Int, domain: String, order: Int)] = []
        var prefixes: [(key: [UInt8], host: Int, domain: String, order: Int)] = []
        var defaultHost: Int?
        for (i, vh) in config.virtualHosts.enumerated() {
            for raw in vh.domains {
                let d = raw.asciiLowercased
                if d == "*" {
                    if defaultHost == nil { defaultHost = i }
                } else if d.hasPrefix("*") {
                    suffixes.append((Array(d.utf8.dropFirst()), i, raw, suffixes.count))
                } else if d.hasSuffix("*") {
                    prefixes.append((Array(d.utf8.dropLast()), i, raw, prefixes.count))
                } else if exact[d] == nil {
                    exact[d] = (i, raw)
                }
            }
        }
        // Longest first; Envoy's maps are keyed by length with `std::greater`.
        func order(_ a: [(key: [UInt8], host: Int, domain: String, order: Int)]) -> [(key: [UInt8], host: Int, domain: String)] {
            a.sorted { ($0.key.count, -$0.order) > ($1.key.count, -$1.order) }.map { ($0.key, $0.host, $0.domain) }
        }
        self.exact = exact
        self.suffixes = order(suffixes)
        self.prefixes = order(prefixes)
        self.defaultHost = defaultHost
        self.hostHeader = config.vhostHeader ?? ":authority"
        self.ignorePort = config.ignorePortInHostMatching
    }

    /// `RouteMatcher::findVirtualHost`.
    public func select(_ headers: HeaderMap) -> Result<Selection, NoRouteReason> {
        if exact.isEmpty && suffixes.isEmpty && prefixes.isEmpty {
            guard let d = defaultHost else { return .failure(.noVirtualHost(host: headers.first(":authority") ?? "")) }
            return .success((d, .onlyDefault, nil))
        }
        guard var host = headers.first(hostHeader) else { return .failure(.missingHost(header: hostHeader)) }
        if ignorePort, let p = Self.portStart(host) { host = String(host[..<p]) }
        host = host.asciiLowercased
        if let e = exact[host] { return .success((e.host, .exact(domain: e.domain), host)) }
        let bytes = Array(host.utf8)
        for s in suffixes where s.key.count < bytes.count && bytes.suffix(s.key.count).elementsEqual(s.key) {
            return .success((s.host, .suffixWildcard(domain: s.domain), host))
        }
        for p in prefixes where p.key.count < bytes.count && bytes.prefix(p.key.count).elementsEqual(p.key) {
            return .success((p.host, .prefixWildcard(domain: p.domain), host))
        }
        if let d = defaultHost { return .success((d, .defaultHost, host)) }
        return .failure(.noVirtualHost(host: host))
    }

    /// `HeaderUtility::getPortStart`: the last `:` unless a `]` follows it (IPv6 literal).
    static func portStart(_ host: String) -> String.Index? {
        guard let colon = host.lastIndex(of: ":") else { return nil }
        if host[colon...].contains("]") { return nil }
        return colon
    }
}
