/// A static bootstrap with one listener `public` on 0.0.0.0:8080 whose route table `public`
/// has one virtual host `web` (`*`) with `routes` (indented as list items at column 1), the
/// HTTP filters `filters` (default: the router) and the clusters named in `clusters`;
/// `hostFields` are more fields of the virtual host (indented as its `domains`).
/// Marked text (`⟨a⟩`) may be used in every argument.
func envoyBootstrap(
    routes: String, clusters: [String], filters: String? = nil, listeners: String = "", extraClusters: String = "",
    hostFields: String = ""
) -> String {
    func indent(_ s: String, _ n: Int) -> String {
        s.split(separator: "\n", omittingEmptySubsequences: false).map { String(repeating: " ", count: n) + $0 }.joined(separator: "\n")
    }
    let router = """
        - name: envoy.filters.http.router
          typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
        """
    let clusterText = clusters.map { name in
        """
        - name: \(name)
          load_assignment:
            cluster_name: \(name)
            endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 10.0.0.1, port_value: 80}}}}]}]
        """
    }
    return """
        static_resources:
          listeners:
          - name: public
            address:
              socket_address: {address: 0.0.0.0, port_value: 8080}
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: public
                  route_config:
                    name: public
                    virtual_hosts:
                    - name: web
                      domains: ["*"]
        \(indent(hostFields, 14))
                      routes:
        \(indent(routes, 14))
                  http_filters:
        \(indent(filters ?? router, 10))
        \(indent(listeners, 2))
          clusters:
        \(indent((clusterText + (extraClusters.isEmpty ? [] : [extraClusters])).joined(separator: "\n"), 2))
        """
}
