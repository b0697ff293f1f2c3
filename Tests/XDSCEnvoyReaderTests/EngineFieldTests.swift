import Testing
import XDSCDiagnostics
import XDSCEnvoy
import XDSCEnvoyReader

/// The fields the route engine evaluates are read by the reader's tables into the model,
/// without an `unmodeled-field` warning, and their problems are said at their positions.
@Suite struct EngineFieldTests {
    static let config = """
        name: r
        most_specific_header_mutations_wins: true
        ignore_port_in_host_matching: true
        vhost_header: X-Host
        internal_only_headers: [x-internal]
        max_direct_response_body_size_bytes: 10
        request_headers_to_add: [{header: {key: a, value: "1"}, keep_empty_value: true}]
        response_headers_to_remove: [server]
        request_mirror_policies: [{cluster_header: X-Mirror, disable_shadow_host_suffix_append: true}]
        virtual_hosts:
        - name: v
          domains: ["*"]
          virtual_clusters: [{name: vc, headers: [{name: ":method", string_match: {exact: GET}}]}]
          retry_policy: {retry_on: 5xx, num_retries: 2}
          request_mirror_policies: [{cluster: shadow}]
          rate_limits: [{actions: [{remote_address: {}}]}]
          cors: {allow_origin_string_match: [{exact: x}]}
          routes:
          - match: {prefix: /m, dynamic_metadata: [{filter: auth, path: [{key: tier}], value: {string_match: {exact: gold}}}]}
            route:
              weighted_clusters:
                header_name: X-Pick
                total_weight: 10
                clusters:
                - {cluster_header: X-C, weight: 4, request_headers_to_add: [{header: {key: w, value: "1"}}]}
                - {name: b, weight: 6, host_rewrite_literal: b.example}
              host_rewrite_path_regex: {pattern: {regex: "^/(.*)$"}, substitution: "\\\\1"}
              hash_policy: [{query_parameter: {name: u}, terminal: true}, {filter_state: {key: k}}]
              cluster_not_found_response_code: NOT_FOUND
              append_x_forwarded_host: true
          - match: {prefix: /h}
            route: {cluster: c, host_rewrite_header: X-Up, include_vh_rate_limits: true}
          - match: {prefix: /r}
            redirect: {regex_rewrite: {pattern: {regex: "^/r/(.*)$"}, substitution: "/\\\\1"}}
          - match: {prefix: /d}
            direct_response: {status: 200, body: {inline_bytes: "aGk="}}
        """

    @Test func engineFieldsAreReadWithoutWarnings() throws {
        let (c, ds) = read(Self.config, file: "rc.yaml")
        #expect(ds.isEmpty, "\(summary(ds))")
        let rc = try #require(c.routeConfigurations.first)
        #expect(rc.mostSpecificHeaderMutationsWins && rc.ignorePortInHostMatching)
        #expect(rc.vhostHeader == "x-host")
        #expect(rc.internalOnlyHeaders == ["x-internal"] && rc.maxDirectResponseBodySizeBytes == 10)
        #expect(rc.requestHeadersToAdd.first?.keepEmptyValue == true && rc.responseHeadersToRemove == ["server"])
        #expect(rc.requestMirrorPolicies.first?.clusterHeader == "x-mirror")
        #expect(rc.requestMirrorPolicies.first?.disableShadowHostSuffixAppend == true)
        let vh = rc.virtualHosts[0]
        #expect(vh.virtualClusters.map(\.name) == ["vc"])
        #expect(vh.retryPolicy?.numRetries == 2 && vh.requestMirrorPolicies.map(\.cluster) == ["shadow"])
        #expect(vh.rateLimits.count == 1 && vh.cors != nil)
        let routes = vh.routes
        #expect(routes.count == 4)
        #expect(routes[0].match.dynamicMetadata.map(\.filter) == ["auth"])
        guard case .route(let a) = routes[0].action, case .weightedClusters(let w) = a.clusterSpecifier else {
            Issue.record("route 0 is not a weighted route")
            return
        }
        #expect(w.headerName == "x-pick" && w.totalWeight == 10)
        #expect(w.clusters.map(\.clusterHeader) == ["x-c", nil])
        #expect(w.clusters[0].requestHeadersToAdd.map(\.key) == ["w"] && w.clusters[1].hostRewriteLiteral == "b.example")
        #expect(a.hostRewritePathRegex == RegexRewrite(pattern: "^/(.*)$", substitution: "\\1"))
        #expect(a.hashPolicy == [.terminal(.queryParameter("u")), .filterState("k")])
        #expect(a.clusterNotFoundResponseCode == 404 && a.appendXForwardedHost)
        guard case .route(let h) = routes[1].action else { return }
        #expect(h.hostRewriteHeader == "x-up" && h.includeVirtualHostRateLimits)
        guard case .redirect(let r) = routes[2].action else { return }
        #expect(r.path == .regexRewrite(RegexRewrite(pattern: "^/r/(.*)$", substitution: "/\\1")))
        guard case .directResponse(let d) = routes[3].action else { return }
        #expect(d.body == "hi" && d.bodyIsBytes)
    }

    @Test func engineFieldProblemsAreAtTheirPositions() {
        // Two host rewrites (a oneof), a mirror with both cluster and cluster_header, a body
        // over the configured limit.
        let text = """
            max_direct_response_body_size_bytes: 2
            virtual_hosts:
            - name: v
              domains: ["*"]
              routes:
              - match: {prefix: /a}
                route: {cluster: c, host_rewrite_literal: x, host_rewrite_header: y}
              - match: {prefix: /b}
                route: {cluster: c, request_mirror_policies: [{cluster: m, cluster_header: h}]}
              - match: {prefix: /c}
                direct_response: {status: 200, body: {inline_string: toolong}}
            """
        let (_, ds) = read(text, file: "rc.yaml")
        #expect(summary(ds) == ["conflicting-fields@7:50", "conflicting-fields@9:64", "invalid-value@11:42"])
    }

    /// `ignore_path_parameters_in_path_matching` (a `RouteConfiguration` field, not an HCM one)
    /// cuts the matched path at `;`; the engine does not model it, so a table that sets it is
    /// warned about at the field (XDS030).
    @Test func ignorePathParametersIsAnUnmodeledRoutingField() {
        let (_, ds) = read("name: r\nignore_path_parameters_in_path_matching: true\nvirtual_hosts: []\n", file: "rc.yaml")
        #expect(summary(ds) == ["unmodeled-field@2:1"])
        #expect(ds.first?.code == "XDS030")
    }
}
