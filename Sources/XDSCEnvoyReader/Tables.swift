import XDSCEnvoy

/// The field tables of the Envoy v3 messages the reader knows, one per message, from the
/// `.proto` files of `envoyproxy/envoy` (`api/envoy/...`). `read` fields go into the model;
/// `ignored` ones cannot change where a request goes; `routing` ones can and are reported
/// as `unmodeled-field`; `removed` are v2 names the v3 API rejects.
enum Tables {
    // MARK: Route tables (api/envoy/config/route/v3/route.proto, route_components.proto)

    static let routeConfiguration = MessageTable(
        "RouteConfiguration",
        read: [
            "name", "virtual_hosts", "validate_clusters", "internal_only_headers", "response_headers_to_add",
            "response_headers_to_remove", "request_headers_to_add", "request_headers_to_remove",
            "most_specific_header_mutations_wins", "max_direct_response_body_size_bytes", "request_mirror_policies",
            "typed_per_filter_config", "ignore_port_in_host_matching", "vhost_header",
        ],
        ignored: ["metadata"],
        routing: ["vhds", "cluster_specifier_plugins", "ignore_path_parameters_in_path_matching"])

    static let virtualHost = MessageTable(
        "VirtualHost",
        read: [
            "name", "domains", "routes", "require_tls", "request_headers_to_add", "request_headers_to_remove",
            "response_headers_to_add", "response_headers_to_remove", "typed_per_filter_config", "virtual_clusters",
            "rate_limits", "cors", "retry_policy", "request_mirror_policies", "include_request_attempt_count",
            "include_attempt_count_in_response", "per_request_buffer_limit_bytes", "request_body_buffer_limit",
        ],
        ignored: ["metadata"],
        // Retry extensions, hedging and the timeout-retry header change what Envoy does with a
        // request; the engine and the proxy do not act on them.
        unsimulated: ["retry_policy_typed_config", "hedge_policy", "include_is_timeout_retry_header"],
        routing: ["matcher"])

    static let route = MessageTable(
        "Route",
        read: [
            "name", "match", "route", "redirect", "direct_response", "typed_per_filter_config", "request_headers_to_add",
            "request_headers_to_remove", "response_headers_to_add", "response_headers_to_remove", "per_request_buffer_limit_bytes",
            "request_body_buffer_limit",
        ],
        // Metadata, tracing (`decorator`, `tracing`) and statistics change no request.
        ignored: ["metadata", "decorator", "tracing", "stat_prefix"],
        routing: ["filter_action", "non_forwarding_action"])

    static let routeMatch = MessageTable(
        "RouteMatch",
        read: [
            "prefix", "path", "safe_regex", "connect_matcher", "path_separated_prefix", "case_sensitive", "runtime_fraction",
            "headers", "query_parameters", "grpc", "dynamic_metadata",
        ],
        routing: ["path_match_policy", "tls_context", "filter_state", "cookies"],
        removed: ["regex": "use `safe_regex: {regex: ...}`"])

    static let connectMatcher = MessageTable("RouteMatch.ConnectMatcher", read: [])
    static let grpcRouteMatchOptions = MessageTable("RouteMatch.GrpcRouteMatchOptions", read: [])

    static let headerMatcher = MessageTable(
        "HeaderMatcher",
        read: [
            "name", "exact_match", "safe_regex_match", "range_match", "present_match", "prefix_match", "suffix_match",
            "contains_match", "string_match", "invert_match", "treat_missing_header_as_empty",
        ],
        removed: ["regex_match": "use `string_match: {safe_regex: {regex: ...}}`"])

    static let int64Range = MessageTable("Int64Range", read: ["start", "end"])

    static let queryParameterMatcher = MessageTable("QueryParameterMatcher", read: ["name", "string_match", "present_match"])

    static let stringMatcher = MessageTable(
        "StringMatcher", read: ["exact", "prefix", "suffix", "safe_regex", "contains", "ignore_case"], routing: ["custom"],
        removed: ["regex": "use `safe_regex: {regex: ...}`"])

    static let regexMatcher = MessageTable(
        "RegexMatcher", read: ["regex"], ignored: ["google_re2"])

    static let runtimeFractionalPercent = MessageTable("RuntimeFractionalPercent", read: ["default_value", "runtime_key"])

    static let fractionalPercent = MessageTable("FractionalPercent", read: ["numerator", "denominator"])

    static let routeAction = MessageTable(
        "RouteAction",
        read: [
            "cluster", "cluster_header", "weighted_clusters", "prefix_rewrite", "regex_rewrite", "host_rewrite_literal",
            "timeout", "idle_timeout", "retry_policy", "request_mirror_policies", "hash_policy", "upgrade_configs",
            "cluster_not_found_response_code", "auto_host_rewrite", "host_rewrite_header", "host_rewrite_path_regex",
            "append_x_forwarded_host", "rate_limits", "include_vh_rate_limits", "cors", "max_stream_duration", "max_grpc_timeout",
            "grpc_timeout_offset", "priority",
        ],
        // Subset selection, early data, retry extensions, internal redirects, hedging and the
        // flush timeout all change how Envoy serves the route; the engine and proxy do not.
        unsimulated: [
            "metadata_match", "early_data_policy", "retry_policy_typed_config", "internal_redirect_policy",
            "internal_redirect_action", "max_internal_redirects", "hedge_policy", "flush_timeout", "host_rewrite", "path_rewrite",
        ],
        routing: ["cluster_specifier_plugin", "inline_cluster_specifier_plugin", "path_rewrite_policy"],
        removed: [
            "request_mirror_policy": "use `request_mirror_policies: [...]`",
            "use_websocket": "use `upgrade_configs: [{upgrade_type: websocket}]`",
        ])

    static let maxStreamDuration = MessageTable(
        "MaxStreamDuration", read: ["max_stream_duration", "grpc_timeout_header_max", "grpc_timeout_header_offset"])

    static let regexMatchAndSubstitute = MessageTable("RegexMatchAndSubstitute", read: ["pattern", "substitution"])

    static let weightedCluster = MessageTable(
        "WeightedCluster", read: ["clusters", "runtime_key_prefix", "total_weight", "header_name", "use_hash_policy"])

    static let clusterWeight = MessageTable(
        "ClusterWeight",
        read: [
            "name", "weight", "cluster_header", "request_headers_to_add", "request_headers_to_remove", "response_headers_to_add",
            "response_headers_to_remove", "typed_per_filter_config", "host_rewrite_literal",
        ],
        ignored: ["metadata_match"])

    static let virtualCluster = MessageTable("VirtualCluster", read: ["name", "headers"])

    static let metadataMatcher = MessageTable("MetadataMatcher", read: ["filter", "path", "value", "invert"])
    static let pathSegment = MessageTable("MetadataMatcher.PathSegment", read: ["key"])
    static let valueMatcher = MessageTable(
        "ValueMatcher", read: ["null_match", "double_match", "string_match", "bool_match", "present_match"],
        routing: ["list_match", "or_match"])
    static let doubleMatcher = MessageTable("DoubleMatcher", read: ["range", "exact"])
    static let doubleRange = MessageTable("DoubleRange", read: ["start", "end"])

    static let retryPolicy = MessageTable(
        "RetryPolicy",
        read: [
            "retry_on", "num_retries", "per_try_timeout", "retriable_status_codes", "retriable_headers", "retriable_request_headers",
            "retry_back_off", "rate_limited_retry_back_off", "per_try_idle_timeout", "retry_host_predicate",
            "host_selection_retry_max_attempts",
        ],
        // Priority load on retries and the options predicates change where and how a retry
        // goes; the proxy does not run them (also warned at start).
        unsimulated: ["retry_priority", "retry_options_predicates"])
    static let retryHostPredicate = MessageTable("RetryPolicy.RetryHostPredicate", read: ["name", "typed_config"])
    static let retryBackOff = MessageTable("RetryPolicy.RetryBackOff", read: ["base_interval", "max_interval"])
    static let rateLimitedRetryBackOff = MessageTable("RetryPolicy.RateLimitedRetryBackOff", read: ["reset_headers", "max_interval"])
    static let resetHeader = MessageTable("RetryPolicy.ResetHeader", read: ["name", "format"])

    static let requestMirrorPolicy = MessageTable(
        "RequestMirrorPolicy", read: ["cluster", "cluster_header", "runtime_fraction", "disable_shadow_host_suffix_append"],
        ignored: ["trace_sampled"],
        unsimulated: ["host_rewrite_literal", "request_headers_mutations"])

    static let hashPolicy = MessageTable(
        "HashPolicy", read: ["header", "cookie", "connection_properties", "query_parameter", "filter_state", "terminal"])
    static let hashQueryParameter = MessageTable("HashPolicy.QueryParameter", read: ["name"])
    static let hashFilterState = MessageTable("HashPolicy.FilterState", read: ["key"])
    static let hashHeader = MessageTable("HashPolicy.Header", read: ["header_name"], ignored: ["regex_rewrite"])
    static let hashCookie = MessageTable("HashPolicy.Cookie", read: ["name"], ignored: ["ttl", "path", "attributes"])
    static let hashConnection = MessageTable("HashPolicy.ConnectionProperties", read: ["source_ip"])

    static let upgradeConfig = MessageTable("UpgradeConfig", read: ["upgrade_type", "enabled"], ignored: ["connect_config"])
    static let managerUpgradeConfig = MessageTable(
        "HttpConnectionManager.UpgradeConfig", read: ["upgrade_type", "enabled"], ignored: ["filters"])

    static let redirectAction = MessageTable(
        "RedirectAction",
        read: [
            "https_redirect", "scheme_redirect", "host_redirect", "port_redirect", "path_redirect", "prefix_rewrite",
            "response_code", "strip_query", "regex_rewrite",
        ])

    static let directResponseAction = MessageTable("DirectResponseAction", read: ["status", "body"], ignored: ["body_format"])

    static let dataSource = MessageTable(
        "DataSource", read: ["filename", "inline_bytes", "inline_string"], ignored: ["environment_variable", "watched_directory"])

    static let headerValueOption = MessageTable(
        "HeaderValueOption", read: ["header", "append", "append_action", "keep_empty_value"])
    static let headerValue = MessageTable("HeaderValue", read: ["key", "value", "raw_value"])

    // MARK: Listeners (api/envoy/config/listener/v3/)

    static let listener = MessageTable(
        "Listener",
        read: ["name", "address", "filter_chains", "default_filter_chain", "listener_filters", "per_connection_buffer_limit_bytes"],
        ignored: [
            "additional_addresses", "stat_prefix", "use_original_dst", "metadata",
            "drain_type", "listener_filters_timeout", "continue_on_listener_filters_timeout", "transparent",
            "freebind", "socket_options", "tcp_fast_open_queue_length", "traffic_direction", "udp_listener_config",
            "api_listener", "connection_balance_config", "reuse_port", "enable_reuse_port", "access_log", "tcp_backlog_size",
            "max_connections_to_accept_per_socket_event", "bind_to_port", "internal_listener", "enable_mptcp",
            "ignore_global_conn_limit", "bypass_overload_manager", "fcds_config",
            // Deprecated, still read by Envoy (`deprecated_v1.bind_to_port`, like `bind_to_port`).
            "deprecated_v1",
        ],
        routing: ["filter_chain_matcher"])

    static let address = MessageTable("Address", read: ["socket_address", "pipe", "envoy_internal_address"])
    static let socketAddress = MessageTable(
        "SocketAddress", read: ["address", "port_value", "named_port"],
        ignored: ["protocol", "resolver_name", "ipv4_compat", "network_namespace_filepath"])
    static let pipe = MessageTable("Pipe", read: ["path"], ignored: ["mode"])
    static let internalAddress = MessageTable("EnvoyInternalAddress", read: ["server_listener_name"], ignored: ["endpoint_id"])

    static let filterChain = MessageTable(
        "FilterChain", read: ["filter_chain_match", "filters", "transport_socket", "name"],
        ignored: ["metadata", "transport_socket_connect_timeout"],
        // Deprecated, still honoured: Envoy adds the PROXY protocol listener filter for it.
        unsimulated: ["use_proxy_proto"],
        removed: [
            "tls_context": "use `transport_socket`",
            "on_demand_configuration": "remove it: Envoy's v3 API no longer has on-demand filter chains",
        ])

    static let filterChainMatch = MessageTable(
        "FilterChainMatch",
        read: [
            "server_names", "destination_port", "prefix_ranges", "address_suffix", "suffix_len", "direct_source_prefix_ranges",
            "source_type", "source_prefix_ranges", "source_ports", "transport_protocol", "application_protocols",
        ])

    static let listenerFilter = MessageTable(
        "ListenerFilter", read: ["name", "typed_config"], ignored: ["config_discovery", "filter_disabled"])

    static let filter = MessageTable(
        "Filter", read: ["name", "typed_config"], ignored: ["config_discovery"],
        removed: ["config": "use `typed_config` with an `@type`"])

    static let transportSocket = MessageTable(
        "TransportSocket", read: ["name", "typed_config"], removed: ["config": "use `typed_config` with an `@type`"])

    // MARK: HTTP connection manager (api/envoy/extensions/filters/network/http_connection_manager/v3/)

    static let httpConnectionManager = MessageTable(
        "HttpConnectionManager",
        read: [
            "stat_prefix", "rds", "route_config", "http_filters", "access_log", "upgrade_configs", "codec_type",
            "http2_protocol_options", "use_remote_address", "xff_num_trusted_hops", "skip_xff_append", "internal_address_config",
            "original_ip_detection_extensions", "generate_request_id", "preserve_external_request_id", "via", "http_protocol_options",
        ],
        ignored: [
            "add_user_agent", "tracing", "common_http_protocol_options", "http3_protocol_options", "server_name",
            "server_header_transformation",
            "scheme_header_transformation", "max_request_headers_kb", "stream_idle_timeout", "request_timeout",
            "request_headers_timeout", "drain_timeout", "delayed_close_timeout", "access_log_flush_interval",
            "flush_access_log_on_new_request", "access_log_options",
            "early_header_mutation_extensions",
            "always_set_request_id_in_response", "forward_client_cert_details", "set_current_client_cert_details",
            "proxy_100_continue", "represent_ipv4_remote_address_as_ipv4_mapped_ipv6",
            "request_id_extension", "local_reply_config", "stream_error_on_invalid_http_message", "proxy_status_config",
            "typed_header_validation_config", "append_x_forwarded_port", "append_local_overload",
            "add_proxy_protocol_connection_state", "forward_client_cert_matcher", "http1_safe_max_connection_duration",
            "stream_flush_timeout", "forward_proto_config", "drain_timeout_jitter",
        ],
        routing: ["scoped_routes"],
        notes: [
            "normalize_path", "merge_slashes", "path_with_escaped_slashes_action", "strip_matching_host_port",
            "strip_any_host_port", "path_normalization_options", "strip_trailing_host_dot",
        ],
        removed: ["idle_timeout": "use `common_http_protocol_options.idle_timeout`"])

    /// The `ignored` fields of `httpConnectionManager` that change how Envoy serves traffic:
    /// the proxy warns when a file sets one (`HttpConnectionManager.unkeptTrafficFields`).
    /// Every other ignored field is in `managerFieldsWithoutTrafficEffect`.
    static let managerTrafficFields: [String] = [
        "add_user_agent", "tracing", "common_http_protocol_options", "server_name",
        "server_header_transformation", "scheme_header_transformation", "max_request_headers_kb", "stream_idle_timeout",
        "request_timeout", "request_headers_timeout", "delayed_close_timeout", "early_header_mutation_extensions",
        "always_set_request_id_in_response", "forward_client_cert_details", "set_current_client_cert_details",
        "proxy_100_continue", "represent_ipv4_remote_address_as_ipv4_mapped_ipv6", "request_id_extension", "local_reply_config",
        "stream_error_on_invalid_http_message", "proxy_status_config", "typed_header_validation_config",
        "append_x_forwarded_port", "forward_client_cert_matcher", "http1_safe_max_connection_duration", "stream_flush_timeout",
        "forward_proto_config",
    ]
    /// Ignored connection manager fields that do not change traffic as the proxy serves it:
    /// statistics, access-log timing, draining and overload, HTTP/3 (warned by `codec_type`).
    static let managerFieldsWithoutTrafficEffect: [String] = [
        "http3_protocol_options", "drain_timeout", "access_log_flush_interval", "flush_access_log_on_new_request",
        "access_log_options", "append_local_overload", "add_proxy_protocol_connection_state", "drain_timeout_jitter",
    ]

    /// `envoy.extensions.filters.http.router.v3.Router` (router.proto).
    static let router = MessageTable(
        "Router", read: ["suppress_envoy_headers", "respect_expected_rq_timeout"],
        ignored: routerTrafficFields + routerFieldsWithoutTrafficEffect)
    /// The `ignored` fields of `router` that change traffic: `strict_check_headers` answers 400
    /// to a malformed control header, `upstream_http_filters` run on each upstream request.
    /// The proxy warns when a file sets one (`RouterFilterConfig.unkeptTrafficFields`).
    static let routerTrafficFields: [String] = ["strict_check_headers", "upstream_http_filters"]
    /// Router fields without an effect on the traffic: statistics, tracing, upstream logs.
    static let routerFieldsWithoutTrafficEffect: [String] = [
        "dynamic_stats", "start_child_span", "upstream_log", "upstream_log_options", "suppress_grpc_request_failure_code_stats",
    ]

    static let rds = MessageTable("Rds", read: ["config_source", "route_config_name"])
    static let internalAddressConfig = MessageTable("InternalAddressConfig", read: ["unix_sockets", "cidr_ranges"])
    static let cidrRange = MessageTable("CidrRange", read: ["address_prefix", "prefix_len"])
    static let typedExtensionConfig = MessageTable("TypedExtensionConfig", read: ["name", "typed_config"])

    static let configSource = MessageTable(
        "ConfigSource", read: ["path", "path_config_source", "ads", "api_config_source", "self"],
        ignored: ["initial_fetch_timeout", "resource_api_version", "authorities"])
    static let pathConfigSource = MessageTable("PathConfigSource", read: ["path"], ignored: ["watched_directory"])

    static let httpFilter = MessageTable(
        "HttpFilter", read: ["name", "typed_config"], ignored: ["config_discovery", "is_optional", "disabled"],
        removed: ["config": "use `typed_config` with an `@type`"])

    static let accessLog = MessageTable("AccessLog", read: ["name", "typed_config"], ignored: ["filter"])

    static let fileAccessLog = MessageTable(
        "FileAccessLog", read: ["path"], ignored: ["format", "json_format", "typed_json_format", "log_format"])

    static let localRateLimit = MessageTable(
        "LocalRateLimit", read: ["stat_prefix", "token_bucket", "filter_enabled", "filter_enforced"],
        ignored: [
            "status", "request_headers_to_add_when_not_enforced", "response_headers_to_add", "descriptors", "stage",
            "local_rate_limit_per_downstream_connection", "local_cluster_rate_limit", "enable_x_ratelimit_headers",
            "vh_rate_limits", "always_consume_default_token_bucket", "rate_limited_as_resource_exhausted",
            "rate_limits", "max_dynamic_descriptors",
        ])
    static let tokenBucket = MessageTable("TokenBucket", read: ["max_tokens", "tokens_per_fill", "fill_interval"])

    // MARK: Clusters and endpoints (api/envoy/config/cluster/v3/, endpoint/v3/)

    static let cluster = MessageTable(
        "Cluster",
        read: [
            "name", "type", "eds_cluster_config", "connect_timeout", "lb_policy", "load_assignment", "health_checks",
            "circuit_breakers", "typed_extension_protocol_options", "http2_protocol_options", "outlier_detection",
            "transport_socket", "ring_hash_lb_config", "maglev_lb_config", "upstream_http_protocol_options", "common_lb_config",
            "max_requests_per_connection", "common_http_protocol_options",
        ],
        ignored: [
            "transport_socket_matches", "alt_stat_name", "cluster_type", "per_connection_buffer_limit_bytes",
            "http_protocol_options", "dns_refresh_rate", "dns_jitter", "dns_failure_refresh_rate", "respect_dns_ttl",
            "dns_lookup_family", "dns_resolvers", "use_tcp_for_dns_lookups", "dns_resolution_config",
            "typed_dns_resolver_config", "wait_for_warm_on_init", "cleanup_interval", "upstream_bind_config",
            "lb_subset_config", "original_dst_lb_config",
            "least_request_lb_config", "round_robin_lb_config", "metadata", "protocol_selection",
            "upstream_connection_options", "close_connections_on_host_health_failure", "ignore_health_on_host_removal",
            "filters", "load_balancing_policy", "lrs_server", "lrs_report_endpoint_metrics", "track_timeout_budgets",
            "upstream_config", "track_cluster_stats", "preconnect_policy", "connection_pool_per_downstream_connection",
            "transport_socket_matcher",
        ],
        removed: [
            "hosts": "use `load_assignment`", "tls_context": "use `transport_socket`",
            "extension_protocol_options": "use `typed_extension_protocol_options`",
        ])

    /// The `ignored` fields of `cluster` that change how Envoy serves traffic: the proxy warns
    /// when a file sets one (`Cluster.unkeptTrafficFields`). Every other ignored field is in
    /// `clusterFieldsWithoutTrafficEffect`.
    static let clusterTrafficFields: [String] = [
        "transport_socket_matches", "cluster_type", "per_connection_buffer_limit_bytes", "http_protocol_options", "dns_refresh_rate",
        "dns_jitter", "dns_failure_refresh_rate",
        "respect_dns_ttl", "dns_lookup_family", "dns_resolvers", "use_tcp_for_dns_lookups", "dns_resolution_config",
        "typed_dns_resolver_config", "upstream_bind_config", "lb_subset_config", "original_dst_lb_config",
        "least_request_lb_config", "round_robin_lb_config", "protocol_selection", "upstream_connection_options",
        "close_connections_on_host_health_failure", "ignore_health_on_host_removal", "filters", "load_balancing_policy",
        "upstream_config", "preconnect_policy", "connection_pool_per_downstream_connection", "transport_socket_matcher",
    ]
    /// Ignored cluster fields that do not change traffic: names and statistics, metadata,
    /// load reporting, start-up warming, ORIGINAL_DST clean-up.
    static let clusterFieldsWithoutTrafficEffect: [String] = [
        "alt_stat_name", "metadata", "wait_for_warm_on_init", "cleanup_interval", "lrs_server", "lrs_report_endpoint_metrics",
        "track_timeout_budgets", "track_cluster_stats",
    ]
    /// Every ignored `common_lb_config` field changes traffic (panic threshold, zone-aware
    /// and locality-weighted balancing, merge windows, host status overrides).
    static let commonLbTrafficFields: [String] = [
        "healthy_panic_threshold", "zone_aware_lb_config", "locality_weighted_lb_config", "update_merge_window",
        "ignore_new_hosts_until_first_hc", "close_connections_on_host_set_change", "override_host_status",
    ]

    static let edsClusterConfig = MessageTable("EdsClusterConfig", read: ["eds_config", "service_name"])

    static let clusterLoadAssignment = MessageTable(
        "ClusterLoadAssignment", read: ["cluster_name", "endpoints"], ignored: ["named_endpoints", "policy"])

    static let localityLbEndpoints = MessageTable(
        "LocalityLbEndpoints", read: ["lb_endpoints"],
        ignored: ["locality", "metadata", "leds_cluster_locality_config", "load_balancing_weight", "priority", "proximity"],
        // Deprecated endpoints list (a oneof with `leds_cluster_locality_config`): not read.
        routing: ["load_balancer_endpoints"])

    static let lbEndpoint = MessageTable(
        "LbEndpoint", read: ["endpoint", "load_balancing_weight"], ignored: ["endpoint_name", "health_status", "metadata"])

    static let endpoint = MessageTable(
        "Endpoint", read: ["address", "hostname"], ignored: ["health_check_config", "additional_addresses"])

    static let healthCheck = MessageTable(
        "HealthCheck",
        read: [
            "timeout", "interval", "unhealthy_threshold", "healthy_threshold", "http_health_check", "tcp_health_check",
            "grpc_health_check", "custom_health_check", "reuse_connection",
        ],
        ignored: [
            "initial_jitter", "interval_jitter", "interval_jitter_percent", "alt_port",
            "no_traffic_interval", "no_traffic_healthy_interval", "unhealthy_interval", "unhealthy_edge_interval",
            "healthy_edge_interval", "event_log_path", "event_logger", "event_service", "always_log_health_check_failures",
            "always_log_health_check_success", "tls_options", "transport_socket_match_criteria",
        ])
    static let tcpHealthCheck = MessageTable("TcpHealthCheck", read: ["send", "receive"], ignored: ["proxy_protocol_config"])
    static let healthCheckPayload = MessageTable("Payload", read: ["text", "binary"])
    static let httpHealthCheck = MessageTable(
        "HttpHealthCheck", read: ["path", "codec_client_type", "host", "expected_statuses", "retriable_statuses"],
        ignored: [
            "send", "receive", "response_buffer_size", "request_headers_to_add", "request_headers_to_remove",
            "service_name_matcher", "method",
        ],
        removed: ["use_http2": "use `codec_client_type: HTTP2`", "service_name": "use `service_name_matcher`"])
    static let grpcHealthCheck = MessageTable(
        "GrpcHealthCheck", read: ["service_name", "authority"], ignored: ["initial_metadata"])

    static let circuitBreakers = MessageTable("CircuitBreakers", read: ["thresholds"], ignored: ["per_host_thresholds"])
    static let thresholds = MessageTable(
        "CircuitBreakers.Thresholds", read: ["priority", "max_connections", "max_pending_requests", "max_requests", "max_retries"],
        ignored: ["retry_budget", "track_remaining", "max_connection_pools"])

    static let outlierDetection = MessageTable(
        "OutlierDetection",
        read: [
            "consecutive_5xx", "interval", "base_ejection_time", "max_ejection_percent", "enforcing_consecutive_5xx",
            "enforcing_success_rate", "success_rate_minimum_hosts", "success_rate_request_volume", "success_rate_stdev_factor",
            "consecutive_gateway_failure", "enforcing_consecutive_gateway_failure", "split_external_local_origin_errors",
            "consecutive_local_origin_failure", "enforcing_consecutive_local_origin_failure", "enforcing_local_origin_success_rate",
            "failure_percentage_threshold", "enforcing_failure_percentage", "enforcing_failure_percentage_local_origin",
            "failure_percentage_minimum_hosts", "failure_percentage_request_volume", "max_ejection_time", "max_ejection_time_jitter",
            "successful_active_health_check_uneject_host", "always_eject_one_host",
        ],
        ignored: ["monitors", "detect_degraded_hosts"])
    static let ringHashLbConfig = MessageTable(
        "Cluster.RingHashLbConfig", read: ["minimum_ring_size", "maximum_ring_size", "hash_function"])
    static let maglevLbConfig = MessageTable("Cluster.MaglevLbConfig", read: ["table_size"])
    static let commonLbConfig = MessageTable(
        "Cluster.CommonLbConfig", read: ["consistent_hashing_lb_config"],
        ignored: [
            "healthy_panic_threshold", "zone_aware_lb_config", "locality_weighted_lb_config", "update_merge_window",
            "ignore_new_hosts_until_first_hc", "close_connections_on_host_set_change", "override_host_status",
        ])
    static let consistentHashingLbConfig = MessageTable(
        "ConsistentHashingLbConfig", read: ["use_hostname_for_hashing", "hash_balance_factor"])

    static let httpProtocolOptions = MessageTable(
        "HttpProtocolOptions",
        read: [
            "explicit_http_config", "use_downstream_protocol_config", "auto_config", "upstream_http_protocol_options",
            "common_http_protocol_options",
        ],
        ignored: ["http_filters", "header_validation_config"],
        // Cluster-wide route policies: they change how Envoy retries, hashes, mirrors and
        // ejects for every route to the cluster; the engine and the proxy do not act on them.
        unsimulated: ["retry_policy", "hash_policy", "request_mirror_policies", "outlier_detection"])
    /// `envoy.config.core.v3.HttpProtocolOptions` of a cluster (api/envoy/config/core/v3/protocol.proto).
    static let commonHttpProtocolOptions = MessageTable(
        "HttpProtocolOptions", read: ["idle_timeout", "max_requests_per_connection"],
        ignored: [
            "max_connection_duration", "max_headers_count", "max_response_headers_kb", "max_stream_duration",
            "headers_with_underscores_action",
        ])
    /// Every ignored field of a cluster's `common_http_protocol_options` changes traffic (warned).
    static let commonHttpTrafficFields: [String] = [
        "max_connection_duration", "max_headers_count", "max_response_headers_kb", "max_stream_duration", "headers_with_underscores_action",
    ]
    static let upstreamHttpProtocolOptions = MessageTable(
        "UpstreamHttpProtocolOptions", read: ["auto_sni", "auto_san_validation", "override_auto_sni_header"])
    /// `envoy.config.core.v3.Http2ProtocolOptions` (api/envoy/config/core/v3/protocol.proto).
    static let http2ProtocolOptions = MessageTable(
        "Http2ProtocolOptions", read: ["max_concurrent_streams"],
        ignored: [
            "hpack_table_size", "initial_stream_window_size", "initial_connection_window_size", "allow_connect",
            "allow_metadata", "max_outbound_frames", "max_outbound_control_frames",
            "max_consecutive_inbound_frames_with_empty_payload", "max_inbound_priority_frames_per_stream",
            "max_inbound_window_update_frames_per_data_frame_sent", "stream_error_on_invalid_http_messaging",
            "override_stream_error_on_invalid_http_message", "custom_settings_parameters", "connection_keepalive",
            "use_oghttp2_codec", "max_metadata_size",
        ])
    /// `envoy.config.core.v3.Http1ProtocolOptions` (api/envoy/config/core/v3/protocol.proto), of a
    /// connection manager: every ignored field changes how Envoy parses or answers (warned).
    static let http1ProtocolOptions = MessageTable(
        "Http1ProtocolOptions", read: ["accept_http_10"],
        ignored: [
            "allow_absolute_url", "default_host_for_http_10", "header_key_format", "enable_trailers", "allow_chunked_length",
            "override_stream_error_on_invalid_http_message", "send_fully_qualified_url", "use_balsa_parser", "allow_custom_methods",
            "ignore_http_11_upgrade",
        ])
    static let explicitHttpConfig = MessageTable(
        "ExplicitHttpConfig", read: ["http_protocol_options", "http2_protocol_options", "http3_protocol_options"])

    // MARK: TLS (api/envoy/extensions/transport_sockets/tls/v3/)

    static let upstreamTlsContext = MessageTable(
        "UpstreamTlsContext", read: ["common_tls_context", "sni"],
        ignored: ["allow_renegotiation", "max_session_keys", "enforce_rsa_key_usage", "auto_host_sni", "auto_sni_san_validation"])
    static let downstreamTlsContext = MessageTable(
        "DownstreamTlsContext", read: ["common_tls_context", "require_client_certificate"],
        ignored: [
            "require_sni", "session_ticket_keys", "session_ticket_keys_sds_secret_config",
            "disable_stateless_session_resumption", "disable_stateful_session_resumption", "session_timeout",
            "ocsp_staple_policy", "full_scan_certs_on_sni_mismatch", "prefer_client_ciphers",
        ])
    static let commonTlsContext = MessageTable(
        "CommonTlsContext",
        read: [
            "tls_certificates", "tls_certificate_sds_secret_configs", "validation_context",
            "validation_context_sds_secret_config", "combined_validation_context", "alpn_protocols", "tls_params",
        ],
        ignored: [
            "tls_certificate_provider_instance", "custom_tls_certificate_selector",
            "tls_certificate_certificate_provider", "tls_certificate_certificate_provider_instance",
            "validation_context_certificate_provider", "validation_context_certificate_provider_instance",
            "custom_handshaker", "key_log",
        ])
    static let tlsParameters = MessageTable(
        "TlsParameters", read: ["tls_minimum_protocol_version", "tls_maximum_protocol_version"],
        ignored: ["cipher_suites", "ecdh_curves", "signature_algorithms", "compliance_policies"])
    static let tlsCertificate = MessageTable(
        "TlsCertificate", read: ["certificate_chain", "private_key"],
        ignored: [
            "pkcs12", "watched_directory", "private_key_provider", "password", "ocsp_staple", "signed_certificate_timestamp",
        ])
    static let validationContext = MessageTable(
        "CertificateValidationContext", read: ["trusted_ca", "match_typed_subject_alt_names", "match_subject_alt_names"],
        ignored: [
            "ca_certificate_provider_instance", "system_root_certs", "watched_directory", "verify_certificate_spki",
            "verify_certificate_hash", "require_signed_certificate_timestamp", "crl",
            "allow_expired_certificate", "trust_chain_verification", "custom_validator_config",
            "only_verify_leaf_cert_crl", "max_verify_depth",
        ],
        removed: ["verify_subject_alt_name": "use `match_typed_subject_alt_names`"])
    static let sanMatcher = MessageTable("SubjectAltNameMatcher", read: ["san_type", "matcher", "oid"])
    static let combinedValidationContext = MessageTable(
        "CombinedCertificateValidationContext", read: ["default_validation_context", "validation_context_sds_secret_config"],
        ignored: ["validation_context_certificate_provider", "validation_context_certificate_provider_instance"])
    static let sdsSecretConfig = MessageTable("SdsSecretConfig", read: ["name"], ignored: ["sds_config"])
    static let secret = MessageTable(
        "Secret", read: ["name"],
        ignored: ["tls_certificate", "session_ticket_keys", "validation_context", "generic_secret"])

    // MARK: Bootstrap and documents (api/envoy/config/bootstrap/v3/, service/discovery/v3/, admin/v3/)

    static let bootstrap = MessageTable(
        "Bootstrap", read: ["node", "static_resources", "dynamic_resources", "admin"],
        ignored: [
            "node_context_params", "cluster_manager", "hds_config", "flags_path", "stats_sinks", "deferred_stat_options",
            "stats_config", "stats_flush_interval", "stats_flush_on_admin", "watchdog", "watchdogs", "tracing",
            "layered_runtime", "overload_manager", "enable_dispatcher_stats", "header_prefix",
            "stats_server_version_override", "use_tcp_for_dns_lookups", "dns_resolution_config",
            "typed_dns_resolver_config", "bootstrap_extensions", "fatal_actions", "config_sources",
            "default_config_source", "default_socket_interface", "certificate_provider_instances", "inline_headers",
            "perf_tracing_file_path", "default_regex_engine", "xds_delegate_extension", "xds_config_tracker_extension",
            "listener_manager", "application_log_config", "grpc_async_client_manager_config", "memory_allocator_manager",
            "stats_eviction_interval",
        ],
        removed: ["runtime": "use `layered_runtime`"])
    static let staticResources = MessageTable("StaticResources", read: ["listeners", "clusters", "secrets"])
    static let dynamicResources = MessageTable(
        "DynamicResources", read: ["lds_config", "cds_config"],
        ignored: ["lds_resources_locator", "cds_resources_locator", "ads_config"],
        removed: ["deprecated_v1": "remove it: v1 settings are gone from the v3 API"])
    static let admin = MessageTable(
        "Admin", read: ["address"],
        ignored: ["access_log", "access_log_path", "profile_path", "socket_options", "ignore_global_conn_limit", "allow_paths"])
    static let node = MessageTable(
        "Node", read: ["id", "cluster"],
        ignored: [
            "metadata", "dynamic_parameters", "locality", "user_agent_name", "user_agent_version",
            "user_agent_build_version", "extensions", "client_features", "listening_addresses",
        ],
        removed: ["build_version": "use `user_agent_name` and `user_agent_version`"])

    static let discoveryResponse = MessageTable(
        "DiscoveryResponse", read: ["resources"],
        ignored: ["version_info", "canary", "type_url", "nonce", "control_plane", "resource_errors"])
    static let resource = MessageTable(
        "Resource", read: ["name", "resource"], ignored: ["aliases", "version", "ttl", "cache_control", "metadata", "resource_name"])

    static let configDump = MessageTable("ConfigDump", read: ["configs"])
    static let bootstrapConfigDump = MessageTable("BootstrapConfigDump", read: ["bootstrap"], ignored: ["last_updated"])
    static let listenersConfigDump = MessageTable(
        "ListenersConfigDump", read: ["static_listeners", "dynamic_listeners"], ignored: ["version_info"])
    static let staticListener = MessageTable("StaticListener", read: ["listener"], ignored: ["last_updated"])
    static let dynamicListener = MessageTable(
        "DynamicListener", read: ["name", "active_state"],
        ignored: ["warming_state", "draining_state", "error_state", "client_status"])
    static let dynamicListenerState = MessageTable(
        "DynamicListenerState", read: ["listener"], ignored: ["version_info", "last_updated"])
    static let clustersConfigDump = MessageTable(
        "ClustersConfigDump", read: ["static_clusters", "dynamic_active_clusters"],
        ignored: ["version_info", "dynamic_warming_clusters"])
    static let staticCluster = MessageTable("StaticCluster", read: ["cluster"], ignored: ["last_updated"])
    static let dynamicCluster = MessageTable(
        "DynamicCluster", read: ["cluster"], ignored: ["version_info", "last_updated", "error_state", "client_status"])
    static let routesConfigDump = MessageTable(
        "RoutesConfigDump", read: ["static_route_configs", "dynamic_route_configs"])
    static let staticRouteConfig = MessageTable("StaticRouteConfig", read: ["route_config"], ignored: ["last_updated"])
    static let dynamicRouteConfig = MessageTable(
        "DynamicRouteConfig", read: ["route_config"], ignored: ["version_info", "last_updated", "error_state", "client_status"])
    static let endpointsConfigDump = MessageTable(
        "EndpointsConfigDump", read: ["static_endpoint_configs", "dynamic_endpoint_configs"])
    static let endpointConfig = MessageTable(
        "EndpointConfig", read: ["endpoint_config"], ignored: ["version_info", "last_updated", "error_state", "client_status"])
    static let scopedRoutesConfigDump = MessageTable(
        "ScopedRoutesConfigDump", read: [], routing: ["inline_scoped_route_configs", "dynamic_scoped_route_configs"])
    static let secretsConfigDump = MessageTable(
        "SecretsConfigDump", read: [], ignored: ["static_secrets", "dynamic_active_secrets", "dynamic_warming_secrets"])
}

/// Every enum the reader reads, with the proto enum it is (TablesMatchEnvoyAPITests checks
/// each against Envoy's API).
enum EnumTables {
    static let codecType = EnumTable(
        "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.CodecType",
        numberedInOrder: HttpConnectionManager.CodecType.allCases.map { ($0.rawValue, $0) })
    static let sanType = EnumTable<SubjectAltNameMatcher.SANType>(
        "envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher.SanType",
        [("EMAIL", 1, .email), ("DNS", 2, .dns), ("URI", 3, .uri), ("IP_ADDRESS", 4, .ipAddress), ("OTHER_NAME", 5, .otherName)])
    static let tlsProtocol = EnumTable(
        "envoy.extensions.transport_sockets.tls.v3.TlsParameters.TlsProtocol",
        numberedInOrder: ["TLS_AUTO", "TLSv1_0", "TLSv1_1", "TLSv1_2", "TLSv1_3"].map { ($0, $0) })
    static let discoveryType = EnumTable<Cluster.DiscoveryType>(
        "envoy.config.cluster.v3.Cluster.DiscoveryType",
        numberedInOrder: [
            ("STATIC", .static), ("STRICT_DNS", .strictDNS), ("LOGICAL_DNS", .logicalDNS), ("EDS", .eds), ("ORIGINAL_DST", .originalDst),
        ])
    /// CLUSTER_PROVIDED and LOAD_BALANCING_POLICY_CONFIG have no model value (nil).
    static let lbPolicy = EnumTable<Cluster.LbPolicy?>(
        "envoy.config.cluster.v3.Cluster.LbPolicy",
        [
            ("ROUND_ROBIN", 0, .roundRobin), ("LEAST_REQUEST", 1, .leastRequest), ("RING_HASH", 2, .ringHash), ("RANDOM", 3, .random),
            ("MAGLEV", 5, .maglev), ("CLUSTER_PROVIDED", 6, nil), ("LOAD_BALANCING_POLICY_CONFIG", 7, nil),
        ])
    static let routingPriority = EnumTable<RoutingPriority>(
        "envoy.config.core.v3.RoutingPriority", numberedInOrder: [("DEFAULT", .default), ("HIGH", .high)])
    static let hashFunction = EnumTable<RingHashLbConfig.HashFunction>(
        "envoy.config.cluster.v3.Cluster.RingHashLbConfig.HashFunction",
        numberedInOrder: [("XX_HASH", .xxHash), ("MURMUR_HASH_2", .murmurHash2)])
    /// HTTP3 health checks are made over HTTP/1.1.
    static let codecClientType = EnumTable<HealthCheck.CodecClientType>(
        "envoy.type.v3.CodecClientType", numberedInOrder: [("HTTP1", .http1), ("HTTP2", .http2), ("HTTP3", .http1)])
    static let tlsRequirement = EnumTable<VirtualHost.TLSRequirement>(
        "envoy.config.route.v3.VirtualHost.TlsRequirementType",
        numberedInOrder: [("NONE", .none), ("EXTERNAL_ONLY", .externalOnly), ("ALL", .all)])
    static let denominator = EnumTable<FractionalPercent.Denominator>(
        "envoy.type.v3.FractionalPercent.DenominatorType",
        numberedInOrder: [("HUNDRED", .hundred), ("TEN_THOUSAND", .tenThousand), ("MILLION", .million)])
    static let clusterNotFoundResponseCode = EnumTable<Int>(
        "envoy.config.route.v3.RouteAction.ClusterNotFoundResponseCode",
        numberedInOrder: [("SERVICE_UNAVAILABLE", 503), ("NOT_FOUND", 404), ("INTERNAL_SERVER_ERROR", 500)])
    static let resetHeaderFormat = EnumTable(
        "envoy.config.route.v3.RetryPolicy.ResetHeaderFormat",
        numberedInOrder: RateLimitedRetryBackOff.Format.allCases.map { ($0.rawValue, $0) })
    static let redirectResponseCode = EnumTable<RedirectAction.ResponseCode>(
        "envoy.config.route.v3.RedirectAction.RedirectResponseCode",
        numberedInOrder: [
            ("MOVED_PERMANENTLY", .movedPermanently), ("FOUND", .found), ("SEE_OTHER", .seeOther),
            ("TEMPORARY_REDIRECT", .temporaryRedirect), ("PERMANENT_REDIRECT", .permanentRedirect),
        ])
    static let headerAppendAction = EnumTable<HeaderValueOption.AppendAction>(
        "envoy.config.core.v3.HeaderValueOption.HeaderAppendAction",
        numberedInOrder: [
            ("APPEND_IF_EXISTS_OR_ADD", .appendIfExistsOrAdd), ("ADD_IF_ABSENT", .addIfAbsent),
            ("OVERWRITE_IF_EXISTS_OR_ADD", .overwriteIfExistsOrAdd), ("OVERWRITE_IF_EXISTS", .overwriteIfExists),
        ])

    /// Every table above.
    static let all: [any EnumValues] = [
        codecType, sanType, tlsProtocol, discoveryType, lbPolicy, routingPriority, hashFunction, codecClientType, tlsRequirement,
        denominator, clusterNotFoundResponseCode, resetHeaderFormat, redirectResponseCode, headerAppendAction,
    ]
}
