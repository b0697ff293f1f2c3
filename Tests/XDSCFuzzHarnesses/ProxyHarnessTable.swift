import XDSCDiagnostics
import XDSCEnvoy
import XDSCEnvoyReader

/// The route table the proxy harness serves: every kind of local answer the downstream
/// handler gives without an upstream (direct responses with and without a body, redirects,
/// `require_tls`, no route, an unknown cluster, fault aborts and delays, a local rate limit),
/// read by the Envoy reader as `xdsc run --config` reads it.
enum ProxyHarnessTable {
    static let json = """
        {"name": "fuzz", "virtual_hosts": [
          {"name": "api", "domains": ["api.example.com", "api.example.com:80"], "routes": [
            {"name": "health", "match": {"path": "/healthz"}, "direct_response": {"status": 200, "body": {"inline_string": "ok"}}},
            {"name": "empty", "match": {"path": "/empty"}, "direct_response": {"status": 204}},
            {"name": "legacy", "match": {"prefix": "/v1/"}, "redirect": {"prefix_rewrite": "/v2/", "response_code": "PERMANENT_REDIRECT"}},
            {"name": "post", "match": {"prefix": "/post", "headers": [{"name": ":method", "string_match": {"exact": "POST"}}]},
             "direct_response": {"status": 201, "body": {"inline_string": "created"}},
             "response_headers_to_add": [{"header": {"key": "x-route", "value": "post"}}]},
            {"name": "limited", "match": {"prefix": "/limited"}, "direct_response": {"status": 200}, "typed_per_filter_config": {
               "envoy.filters.http.local_ratelimit": {
                 "@type": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
                 "stat_prefix": "rl", "token_bucket": {"max_tokens": 2, "tokens_per_fill": 2, "fill_interval": "60s"},
                 "filter_enabled": {"default_value": {"numerator": 100}}, "filter_enforced": {"default_value": {"numerator": 100}}}}},
            {"name": "abort", "match": {"prefix": "/abort"}, "route": {"cluster": "users"}, "typed_per_filter_config": {
               "envoy.filters.http.fault": {"@type": "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault",
                 "abort": {"http_status": 418, "percentage": {"numerator": 50}}}}},
            {"name": "delayed", "match": {"prefix": "/delayed"}, "direct_response": {"status": 200, "body": {"inline_string": "late"}},
             "typed_per_filter_config": {
               "envoy.filters.http.fault": {"@type": "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault",
                 "delay": {"fixed_delay": "0.3s", "percentage": {"numerator": 100}}}}},
            {"name": "missing", "match": {"prefix": "/missing"}, "route": {"cluster": "nowhere"}},
            {"name": "echo", "match": {"prefix": "/q", "query_parameters": [{"name": "a", "present_match": true}]},
             "redirect": {"https_redirect": true, "strip_query": true}}
          ]},
          {"name": "secure", "domains": ["secure.example.com"], "require_tls": "ALL", "routes": [
            {"match": {"prefix": "/"}, "direct_response": {"status": 200}}]},
          {"name": "any", "domains": ["*"], "routes": [
            {"match": {"prefix": "/"}, "direct_response": {"status": 503, "body": {"inline_string": "unavailable"}}}]}
        ]}
        """

    /// The table; the harness cannot run without it.
    static let configuration: RouteConfiguration = {
        let sink = DiagnosticSink()
        let read = EnvoyReader().read([(path: "fuzz-table.json", bytes: Array(json.utf8))], into: sink)
        let errors = sink.all.filter { $0.severity == .error }
        guard errors.isEmpty, let table = read.config.routeConfigurations.first else {
            fatalError("the proxy harness's route table does not read: \(errors.map(\.message))")
        }
        return table
    }()
}
