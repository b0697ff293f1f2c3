import Testing
import XDSCDiagnostics
import XDSCEnvoy
import XDSCEnvoyReader

/// The retry policy's host predicates, `host_selection_retry_max_attempts` and
/// `per_try_idle_timeout`, and a cluster's `max_requests_per_connection` and upstream
/// `idle_timeout`: read into the model and written back; what Envoy refuses is an error; what
/// the proxy does not run is `unsimulated-field` or kept for the start-up warning.
@Suite struct RetryHostsAndConnectionLimitsTests {
    static let previousHosts = "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate"

    @Test func hostPredicatesAndTheIdleTimeoutAreReadAndWrittenBack() throws {
        let body = """
            {"retry_on": "5xx", "per_try_idle_timeout": "0.25s", "host_selection_retry_max_attempts": "5",
             "retry_host_predicate": [
               {"name": "anything", "typed_config": {"@type": "\(Self.previousHosts)"}},
               {"name": "envoy.retry_host_predicates.omit_canary_hosts"}]}
            """
        let (c, ds) = read(RetryPolicyFieldsTests.policy(body), file: "rc.json")
        #expect(ds.isEmpty, "\(summary(ds))")
        let p = try #require(RetryPolicyFieldsTests.retryPolicy(c))
        // By the type URL first (the name does not matter then), else by the name.
        #expect(p.retryHostPredicates == [.previousHosts, .omitCanaryHosts])
        #expect(p.hostSelectionRetryMaxAttempts == 5)
        #expect(p.perTryIdleTimeout == .milliseconds(250))
        // The canary predicate needs endpoint metadata, which the model does not keep.
        #expect(p.unsimulatedFields == ["retry_host_predicate envoy.retry_host_predicates.omit_canary_hosts"])
        let json = p.json.compactText()
        #expect(json.contains(#""per_try_idle_timeout":"0.250s""#), "\(json)")
        #expect(json.contains(#""host_selection_retry_max_attempts":5"#), "\(json)")
        let (again, more) = read(RetryPolicyFieldsTests.policy(json), file: "rc.json")
        #expect(more.isEmpty, "\(summary(more))")
        #expect(RetryPolicyFieldsTests.retryPolicy(again) == p)
    }

    @Test func aPredicateWithoutExtensionIsRefused() {
        let (c, ds) = read(RetryPolicyFieldsTests.policy(#"{"retry_host_predicate": [{}]}"#), file: "rc.json")
        let errors = ds.filter { $0.severity == .error }.map(\.message)
        #expect(errors == ["a retry host predicate needs `typed_config` (or `name`): Envoy finds no extension for it"], "\(errors)")
        #expect((RetryPolicyFieldsTests.retryPolicy(c)?.retryHostPredicates ?? []) == [])
    }

    @Test func retryPriorityAndOptionsPredicatesAreUnsimulated() throws {
        let body = """
            {"retry_priority": {"name": "envoy.retry_priorities.previous_priorities", "typed_config": {
               "@type": "type.googleapis.com/envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig",
               "update_frequency": 2}},
             "retry_options_predicates": [{"name": "x"}]}
            """
        let (c, ds) = read(RetryPolicyFieldsTests.policy(body), file: "rc.json")
        let warned = ds.filter { $0.rule == .unsimulatedField }.map(\.message)
        #expect(warned.count == 2, "\(summary(ds))")
        #expect(warned.allSatisfy { $0.contains("of `RetryPolicy` changes how Envoy serves these requests") })
        #expect(RetryPolicyFieldsTests.retryPolicy(c)?.unsimulatedFields == ["retry_priority", "retry_options_predicates"])
    }

    @Test func aRoutesHedgePolicyIsKeptForTheStartUpWarning() throws {
        let (c, ds) = read(
            table(route: #"{"match": {"prefix": "/"}, "route": {"cluster": "c", "hedge_policy": {"hedge_on_per_try_timeout": true}}}"#),
            file: "rc.json")
        #expect(ds.map(\.rule) == [.unsimulatedField], "\(summary(ds))")
        guard case .route(let a)? = c.routeConfigurations.first?.virtualHosts.first?.routes.first?.action else {
            Issue.record("no route action")
            return
        }
        #expect(a.unsimulatedFields == ["hedge_policy"])
    }

    static let typedOptions = """
        typed_extension_protocol_options: {envoy.extensions.upstreams.http.v3.HttpProtocolOptions: {"@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions, explicit_http_config: {http_protocol_options: {}}, common_http_protocol_options: {max_requests_per_connection: 3, idle_timeout: 2s}}}
        """

    @Test(arguments: [
        typedOptions,
        "common_http_protocol_options: {max_requests_per_connection: 3, idle_timeout: 2s}",
        // The deprecated cluster field.
        "max_requests_per_connection: 3\n    common_http_protocol_options: {idle_timeout: 2s}",
    ])
    func maxRequestsPerConnectionAndIdleTimeoutAreRead(_ field: String) throws {
        let r = read(HTTP2OptionsTests.cluster(with: field))
        #expect(r.diagnostics.isEmpty, "\(summary(r.diagnostics))")
        let c = try #require(r.config.clusters.first)
        #expect(c.maxRequestsPerConnection == 3)
        #expect(c.upstreamIdleTimeout == .seconds(2))
        #expect(c.unkeptTrafficFields == [])
        // Written back in the typed options, and read back the same.
        let json = c.json.compactText()
        #expect(json.contains(#""common_http_protocol_options":{"idle_timeout":"2s","max_requests_per_connection":3}"#), "\(json)")
    }

    @Test func bothMaxRequestsPerConnectionFieldsAreRefused() {
        for common in [Self.typedOptions, "common_http_protocol_options: {max_requests_per_connection: 3}"] {
            let r = read(HTTP2OptionsTests.cluster(with: common + "\n    max_requests_per_connection: 2"))
            let errors = r.diagnostics.filter { $0.severity == .error }.map(\.message)
            #expect(
                errors == [
                    "Envoy refuses a cluster with both `max_requests_per_connection` and `common_http_protocol_options.max_requests_per_connection`"
                ], "\(errors)")
        }
    }

    @Test func theOtherCommonOptionsAreWarnedAsUnkept() throws {
        let r = read(HTTP2OptionsTests.cluster(with: "common_http_protocol_options: {max_connection_duration: 60s, max_headers_count: 10}"))
        #expect(r.diagnostics.isEmpty, "\(summary(r.diagnostics))")
        let c = try #require(r.config.clusters.first)
        #expect(
            c.unkeptTrafficFields == [
                "common_http_protocol_options.max_connection_duration", "common_http_protocol_options.max_headers_count",
            ])
        #expect(c.maxRequestsPerConnection == nil)
    }
}
