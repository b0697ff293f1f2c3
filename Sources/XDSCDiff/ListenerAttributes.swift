import XDSCEnvoy
import XDSCJSON

/// A listener's own attributes as the semantic diff compares them: its address, and per
/// filter chain the match (server names, other match fields), the network filters in order,
/// the downstream TLS, and the HTTP connection manager's stat prefix, route source (the RDS
/// route configuration name and config source; an inline table is compared as a table of its
/// own) and HTTP filters in order. Field names follow the Envoy JSON.
public enum ListenerAttributes {
    /// The listener as a named element of ``DiffSide``.
    public static func element(_ l: Listener) -> DiffSide.NamedElement {
        DiffSide.NamedElement(name: l.name, json: json(l), source: l.source)
    }

    /// The attributes as JSON.
    public static func json(_ l: Listener) -> JSON {
        var o = JSONObject()
        o["address"] = l.address.json
        if l.tlsInspector { o["listener_filters"] = .array([.string("envoy.filters.listener.tls_inspector")]) }
        o["filter_chains"] = .array(l.filterChains.map(chain))
        if let d = l.defaultFilterChain { o["default_filter_chain"] = chain(d) }
        return .object(o)
    }

    static func chain(_ c: FilterChain) -> JSON {
        var o = JSONObject()
        o.set("name", c.name.map(JSON.string))
        var match = JSONObject()
        if !c.serverNames.isEmpty { match["server_names"] = .array(c.serverNames.map(JSON.string)) }
        match.set("transport_protocol", c.transportProtocol.map(JSON.string))
        // The reader keeps the other match fields by name only.
        if !c.otherMatchFields.isEmpty { match["other_fields"] = .array(c.otherMatchFields.map(JSON.string)) }
        if !match.isEmpty { o["filter_chain_match"] = .object(match) }
        var filters: [JSON] = []
        if let hcm = c.connectionManager { filters.append(connectionManager(hcm)) }
        filters += c.otherFilters.map(\.json)
        o["filters"] = .array(filters)
        o.set("transport_socket", c.tls.map { $0.transportSocket.json })
        return .object(o)
    }

    static func connectionManager(_ m: HttpConnectionManager) -> JSON {
        var o = JSONObject()
        o["name"] = .string("envoy.filters.network.http_connection_manager")
        o["stat_prefix"] = .string(m.statPrefix)
        if case .rds(let source, let name) = m.routes {
            o["rds"] = .object(["route_config_name": .string(name), "config_source": source.json])
        }
        o["http_filters"] = .array(m.filters.map(httpFilter))
        if !m.accessLog.isEmpty { o["access_log"] = .array(m.accessLog.map(\.entry.json)) }
        if let r = m.rateLimit { o["local_rate_limit"] = r.typedConfig.json }
        return .object(o)
    }

    static func httpFilter(_ f: HTTPFilter) -> JSON {
        var o = JSONObject()
        o["name"] = .string(f.name)
        if let t = f.typeURL { o["typed_config"] = .object(["@type": .string(t)]) }
        return .object(o)
    }
}
