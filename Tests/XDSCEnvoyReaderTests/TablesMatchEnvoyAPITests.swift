import Foundation
import Testing
import XDSCTestSupport

@testable import XDSCEnvoyReader

/// Every field table of the reader against Envoy's v3 API as the schema oracle has it: the
/// message descriptors of `xds-protos` in the oracle's virtualenv. A field of the message
/// missing from its table makes the reader reject valid Envoy (`unknown-field`); a table
/// field the message lacks makes it accept what Envoy rejects; a `removed` name that is a
/// field again is the first kind of mistake with a wrong help line.
@Suite struct TablesMatchEnvoyAPITests {
    /// Each table with the full name of the message it reads (two for the table both config
    /// dump endpoint entries use).
    static let tables: [(protos: [String], table: MessageTable)] = [
        (["envoy.config.route.v3.RouteConfiguration"], Tables.routeConfiguration),
        (["envoy.config.route.v3.VirtualHost"], Tables.virtualHost),
        (["envoy.config.route.v3.Route"], Tables.route),
        (["envoy.config.route.v3.RouteMatch"], Tables.routeMatch),
        (["envoy.config.route.v3.RouteMatch.ConnectMatcher"], Tables.connectMatcher),
        (["envoy.config.route.v3.RouteMatch.GrpcRouteMatchOptions"], Tables.grpcRouteMatchOptions),
        (["envoy.config.route.v3.HeaderMatcher"], Tables.headerMatcher),
        (["envoy.type.v3.Int64Range"], Tables.int64Range),
        (["envoy.config.route.v3.QueryParameterMatcher"], Tables.queryParameterMatcher),
        (["envoy.type.matcher.v3.StringMatcher"], Tables.stringMatcher),
        (["envoy.type.matcher.v3.RegexMatcher"], Tables.regexMatcher),
        (["envoy.config.core.v3.RuntimeFractionalPercent"], Tables.runtimeFractionalPercent),
        (["envoy.type.v3.FractionalPercent"], Tables.fractionalPercent),
        (["envoy.config.route.v3.RouteAction"], Tables.routeAction),
        (["envoy.config.route.v3.RouteAction.MaxStreamDuration"], Tables.maxStreamDuration),
        (["envoy.type.matcher.v3.RegexMatchAndSubstitute"], Tables.regexMatchAndSubstitute),
        (["envoy.config.route.v3.WeightedCluster"], Tables.weightedCluster),
        (["envoy.config.route.v3.WeightedCluster.ClusterWeight"], Tables.clusterWeight),
        (["envoy.config.route.v3.VirtualCluster"], Tables.virtualCluster),
        (["envoy.type.matcher.v3.MetadataMatcher"], Tables.metadataMatcher),
        (["envoy.type.matcher.v3.MetadataMatcher.PathSegment"], Tables.pathSegment),
        (["envoy.type.matcher.v3.ValueMatcher"], Tables.valueMatcher),
        (["envoy.type.matcher.v3.DoubleMatcher"], Tables.doubleMatcher),
        (["envoy.type.v3.DoubleRange"], Tables.doubleRange),
        (["envoy.config.route.v3.RetryPolicy"], Tables.retryPolicy),
        (["envoy.config.route.v3.RetryPolicy.RetryHostPredicate"], Tables.retryHostPredicate),
        (["envoy.config.route.v3.RetryPolicy.RetryBackOff"], Tables.retryBackOff),
        (["envoy.config.route.v3.RetryPolicy.RateLimitedRetryBackOff"], Tables.rateLimitedRetryBackOff),
        (["envoy.config.route.v3.RetryPolicy.ResetHeader"], Tables.resetHeader),
        (["envoy.config.route.v3.RouteAction.RequestMirrorPolicy"], Tables.requestMirrorPolicy),
        (["envoy.config.route.v3.RouteAction.HashPolicy"], Tables.hashPolicy),
        (["envoy.config.route.v3.RouteAction.HashPolicy.QueryParameter"], Tables.hashQueryParameter),
        (["envoy.config.route.v3.RouteAction.HashPolicy.FilterState"], Tables.hashFilterState),
        (["envoy.config.route.v3.RouteAction.HashPolicy.Header"], Tables.hashHeader),
        (["envoy.config.route.v3.RouteAction.HashPolicy.Cookie"], Tables.hashCookie),
        (["envoy.config.route.v3.RouteAction.HashPolicy.ConnectionProperties"], Tables.hashConnection),
        (["envoy.config.route.v3.RouteAction.UpgradeConfig"], Tables.upgradeConfig),
        (["envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.UpgradeConfig"], Tables.managerUpgradeConfig),
        (["envoy.config.route.v3.RedirectAction"], Tables.redirectAction),
        (["envoy.config.route.v3.DirectResponseAction"], Tables.directResponseAction),
        (["envoy.config.core.v3.DataSource"], Tables.dataSource),
        (["envoy.config.core.v3.HeaderValueOption"], Tables.headerValueOption),
        (["envoy.config.core.v3.HeaderValue"], Tables.headerValue),
        (["envoy.config.listener.v3.Listener"], Tables.listener),
        (["envoy.config.core.v3.Address"], Tables.address),
        (["envoy.config.core.v3.SocketAddress"], Tables.socketAddress),
        (["envoy.config.core.v3.Pipe"], Tables.pipe),
        (["envoy.config.core.v3.EnvoyInternalAddress"], Tables.internalAddress),
        (["envoy.config.listener.v3.FilterChain"], Tables.filterChain),
        (["envoy.config.listener.v3.FilterChainMatch"], Tables.filterChainMatch),
        (["envoy.config.listener.v3.ListenerFilter"], Tables.listenerFilter),
        (["envoy.config.listener.v3.Filter"], Tables.filter),
        (["envoy.config.core.v3.TransportSocket"], Tables.transportSocket),
        (["envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"], Tables.httpConnectionManager),
        (["envoy.extensions.filters.http.router.v3.Router"], Tables.router),
        (["envoy.extensions.filters.network.http_connection_manager.v3.Rds"], Tables.rds),
        (
            ["envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.InternalAddressConfig"],
            Tables.internalAddressConfig
        ),
        (["envoy.config.core.v3.CidrRange"], Tables.cidrRange),
        (["envoy.config.core.v3.TypedExtensionConfig"], Tables.typedExtensionConfig),
        (["envoy.config.core.v3.ConfigSource"], Tables.configSource),
        (["envoy.config.core.v3.PathConfigSource"], Tables.pathConfigSource),
        (["envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter"], Tables.httpFilter),
        (["envoy.config.accesslog.v3.AccessLog"], Tables.accessLog),
        (["envoy.extensions.access_loggers.file.v3.FileAccessLog"], Tables.fileAccessLog),
        (["envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit"], Tables.localRateLimit),
        (["envoy.type.v3.TokenBucket"], Tables.tokenBucket),
        (["envoy.config.cluster.v3.Cluster"], Tables.cluster),
        (["envoy.config.cluster.v3.Cluster.EdsClusterConfig"], Tables.edsClusterConfig),
        (["envoy.config.endpoint.v3.ClusterLoadAssignment"], Tables.clusterLoadAssignment),
        (["envoy.config.endpoint.v3.LocalityLbEndpoints"], Tables.localityLbEndpoints),
        (["envoy.config.endpoint.v3.LbEndpoint"], Tables.lbEndpoint),
        (["envoy.config.endpoint.v3.Endpoint"], Tables.endpoint),
        (["envoy.config.core.v3.HealthCheck"], Tables.healthCheck),
        (["envoy.config.core.v3.HealthCheck.TcpHealthCheck"], Tables.tcpHealthCheck),
        (["envoy.config.core.v3.HealthCheck.Payload"], Tables.healthCheckPayload),
        (["envoy.config.core.v3.HealthCheck.HttpHealthCheck"], Tables.httpHealthCheck),
        (["envoy.config.core.v3.HealthCheck.GrpcHealthCheck"], Tables.grpcHealthCheck),
        (["envoy.config.cluster.v3.CircuitBreakers"], Tables.circuitBreakers),
        (["envoy.config.cluster.v3.CircuitBreakers.Thresholds"], Tables.thresholds),
        (["envoy.config.cluster.v3.OutlierDetection"], Tables.outlierDetection),
        (["envoy.config.cluster.v3.Cluster.RingHashLbConfig"], Tables.ringHashLbConfig),
        (["envoy.config.cluster.v3.Cluster.MaglevLbConfig"], Tables.maglevLbConfig),
        (["envoy.config.cluster.v3.Cluster.CommonLbConfig"], Tables.commonLbConfig),
        (["envoy.config.cluster.v3.Cluster.CommonLbConfig.ConsistentHashingLbConfig"], Tables.consistentHashingLbConfig),
        (["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"], Tables.httpProtocolOptions),
        (["envoy.config.core.v3.HttpProtocolOptions"], Tables.commonHttpProtocolOptions),
        (["envoy.config.core.v3.UpstreamHttpProtocolOptions"], Tables.upstreamHttpProtocolOptions),
        (["envoy.config.core.v3.Http2ProtocolOptions"], Tables.http2ProtocolOptions),
        (["envoy.config.core.v3.Http1ProtocolOptions"], Tables.http1ProtocolOptions),
        (["envoy.extensions.upstreams.http.v3.HttpProtocolOptions.ExplicitHttpConfig"], Tables.explicitHttpConfig),
        (["envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"], Tables.upstreamTlsContext),
        (["envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"], Tables.downstreamTlsContext),
        (["envoy.extensions.transport_sockets.tls.v3.CommonTlsContext"], Tables.commonTlsContext),
        (["envoy.extensions.transport_sockets.tls.v3.TlsParameters"], Tables.tlsParameters),
        (["envoy.extensions.transport_sockets.tls.v3.TlsCertificate"], Tables.tlsCertificate),
        (["envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext"], Tables.validationContext),
        (["envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher"], Tables.sanMatcher),
        (
            ["envoy.extensions.transport_sockets.tls.v3.CommonTlsContext.CombinedCertificateValidationContext"],
            Tables.combinedValidationContext
        ),
        (["envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig"], Tables.sdsSecretConfig),
        (["envoy.extensions.transport_sockets.tls.v3.Secret"], Tables.secret),
        (["envoy.config.bootstrap.v3.Bootstrap"], Tables.bootstrap),
        (["envoy.config.bootstrap.v3.Bootstrap.StaticResources"], Tables.staticResources),
        (["envoy.config.bootstrap.v3.Bootstrap.DynamicResources"], Tables.dynamicResources),
        (["envoy.config.bootstrap.v3.Admin"], Tables.admin),
        (["envoy.config.core.v3.Node"], Tables.node),
        (["envoy.service.discovery.v3.DiscoveryResponse"], Tables.discoveryResponse),
        (["envoy.service.discovery.v3.Resource"], Tables.resource),
        (["envoy.admin.v3.ConfigDump"], Tables.configDump),
        (["envoy.admin.v3.BootstrapConfigDump"], Tables.bootstrapConfigDump),
        (["envoy.admin.v3.ListenersConfigDump"], Tables.listenersConfigDump),
        (["envoy.admin.v3.ListenersConfigDump.StaticListener"], Tables.staticListener),
        (["envoy.admin.v3.ListenersConfigDump.DynamicListener"], Tables.dynamicListener),
        (["envoy.admin.v3.ListenersConfigDump.DynamicListenerState"], Tables.dynamicListenerState),
        (["envoy.admin.v3.ClustersConfigDump"], Tables.clustersConfigDump),
        (["envoy.admin.v3.ClustersConfigDump.StaticCluster"], Tables.staticCluster),
        (["envoy.admin.v3.ClustersConfigDump.DynamicCluster"], Tables.dynamicCluster),
        (["envoy.admin.v3.RoutesConfigDump"], Tables.routesConfigDump),
        (["envoy.admin.v3.RoutesConfigDump.StaticRouteConfig"], Tables.staticRouteConfig),
        (["envoy.admin.v3.RoutesConfigDump.DynamicRouteConfig"], Tables.dynamicRouteConfig),
        (["envoy.admin.v3.EndpointsConfigDump"], Tables.endpointsConfigDump),
        (
            ["envoy.admin.v3.EndpointsConfigDump.StaticEndpointConfig", "envoy.admin.v3.EndpointsConfigDump.DynamicEndpointConfig"],
            Tables.endpointConfig
        ),
        (["envoy.admin.v3.ScopedRoutesConfigDump"], Tables.scopedRoutesConfigDump),
        (["envoy.admin.v3.SecretsConfigDump"], Tables.secretsConfigDump),
    ]

    /// Fields the tables know from Envoy's source that are newer than the oracle's API
    /// (`xds-protos` 1.85.0): message -> field -> where it comes from. Each must still be
    /// missing from the oracle's message, so the list shrinks when the oracle catches up.
    static let newerThanOracle: [String: [String: String]] = [
        "envoy.config.route.v3.RouteMatch": ["cookies": "cookie matchers, ../shared/reference/envoy-routing.md"],
        "envoy.config.cluster.v3.OutlierDetection": ["detect_degraded_hosts": "passive degraded-host detection, Envoy 1.38"],
        "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager": [
            "forward_proto_config": "http_connection_manager.proto field 61",
            "drain_timeout_jitter": "http_connection_manager.proto field 62",
        ],
    ]

    /// Every table the reader builds is in `tables`: each `MessageTable(` of the reader's
    /// sources is a `static let` of `Tables.swift`, and there are as many as listed here.
    @Test func everyTableIsListed() throws {
        let dir = TestPaths.packageRoot.appendingPathComponent("Sources/XDSCEnvoyReader")
        var declared = 0
        for file in try FileManager.default.contentsOfDirectory(atPath: dir.path) where file.hasSuffix(".swift") {
            let text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
            let made = text.components(separatedBy: "MessageTable(").count - 1
            if file == "Tables.swift" {
                declared = text.components(separatedBy: " = MessageTable(").count - 1
                #expect(made == declared, "every table of Tables.swift is a `static let`")
            } else {
                #expect(made == 0, "\(file) builds a table of its own; put it in Tables.swift and in this test")
            }
        }
        #expect(declared == Self.tables.count)
        let names = Self.tables.flatMap(\.protos)
        #expect(Set(names).count == names.count, "a message is listed twice")
    }

    /// What the oracle's descriptors say of one message.
    struct APIMessage: Decodable {
        /// Field name -> `current`, `deprecated` (accepted with a warning) or `disallowed`
        /// (deprecated and disallowed by default: Envoy rejects it).
        var fields: [String: String]
        var oneofs: [String]
        var reserved: [String]
    }

    /// Imports the generated modules the oracle imports (Envoy's v3 packages, `xds`, `udpa`),
    /// so their descriptors are in the default pool.
    static let importAPI = #"""
        import importlib, json, pkgutil, re, sys
        for top in ("envoy", "xds", "udpa"):
            pkg = importlib.import_module(top)
            for mod in pkgutil.walk_packages(pkg.__path__, top + ".", onerror=lambda _n: None):
                if not mod.name.endswith("_pb2"):
                    continue
                if top == "envoy" and not (re.search(r"\.v3[a-z0-9]*\.", mod.name) or mod.name.startswith("envoy.annotations.")):
                    continue
                try:
                    importlib.import_module(mod.name)
                except Exception:
                    pass

        """#

    /// Reads the messages named on stdin from the generated modules the oracle imports
    /// (Envoy's v3 packages, `xds`, `udpa`) and prints them as JSON; null for an unknown name.
    static let describe =
        importAPI + #"""
            from envoy.annotations import deprecation_pb2
            from google.protobuf import descriptor_pb2, descriptor_pool
            pool = descriptor_pool.Default()
            out = {}
            for name in json.load(sys.stdin):
                try:
                    d = pool.FindMessageTypeByName(name)
                except KeyError:
                    out[name] = None
                    continue
                proto = descriptor_pb2.DescriptorProto()
                d.CopyToProto(proto)
                fields = {}
                for f in d.fields:
                    o = f.GetOptions()
                    if o.Extensions[deprecation_pb2.disallowed_by_default]:
                        fields[f.name] = "disallowed"
                    else:
                        fields[f.name] = "deprecated" if o.deprecated else "current"
                out[name] = {"fields": fields, "oneofs": [o.name for o in d.oneofs], "reserved": list(proto.reserved_name)}
            json.dump(out, sys.stdout, sort_keys=True)
            """#

    /// The oracle's Python, after its own `setup` made or checked the virtualenv.
    static func oraclePython() throws -> String {
        let tool = try #require(TestPaths.schemaCheck)
        let setup = tool.deletingLastPathComponent().appendingPathComponent("setup").path
        let made = try ProcessRunner.run("/bin/bash", [setup])
        try #require(made.status == 0, "envoy-schema-check setup failed:\n\(made.stdout)\(made.stderr)")
        let env = ProcessInfo.processInfo.environment
        let cache = env["XDG_CACHE_HOME"] ?? (NSHomeDirectory() + "/.cache")
        let venv = env["ENVOY_SCHEMA_CHECK_VENV"] ?? (cache + "/envoy-schema-check")
        return venv + "/bin/python"
    }

    @Test(.enabled(if: TestPaths.schemaCheck != nil, "../shared/tools/envoy-schema-check not found"))
    func everyTableMatchesTheOraclesAPI() throws {
        let names = Self.tables.flatMap(\.protos)
        let input = String(decoding: try JSONEncoder().encode(names), as: UTF8.self)
        let run = try ProcessRunner.run(try Self.oraclePython(), ["-c", Self.describe], stdin: input)
        try #require(run.status == 0, "describing the messages failed:\n\(run.stderr)")
        let api = try JSONDecoder().decode([String: APIMessage?].self, from: Data(run.stdout.utf8))

        for (protos, table) in Self.tables {
            var fields: [String: String] = [:]
            var newer: [String: String] = [:]
            for name in protos {
                guard let message = api[name] ?? nil else {
                    Issue.record("\(name) (table `\(table.name)`) is not a message of the oracle's API")
                    continue
                }
                fields.merge(message.fields) { a, _ in a }
                newer.merge(Self.newerThanOracle[name] ?? [:]) { a, _ in a }
            }
            let listed = Set(table.names)
            let removed = Set(table.fields.compactMap { name, use in if case .removed = use { name } else { nil } })
            let accepted = Set(fields.filter { $0.value != "disallowed" }.keys)
            let where_ = protos.joined(separator: " / ")

            let lacking = accepted.subtracting(listed).sorted()
            #expect(lacking.isEmpty, "fields of \(where_) missing from table `\(table.name)` (read as unknown): \(lacking)")
            let unknown = listed.subtracting(fields.keys).subtracting(newer.keys).sorted()
            #expect(unknown.isEmpty, "table `\(table.name)` has fields \(where_) does not: \(unknown)")
            let rejected = listed.intersection(fields.filter { $0.value == "disallowed" }.keys).sorted()
            #expect(rejected.isEmpty, "table `\(table.name)` accepts fields Envoy rejects by default: \(rejected)")
            let back = removed.intersection(accepted).sorted()
            #expect(back.isEmpty, "table `\(table.name)` calls current fields of \(where_) removed: \(back)")
            for (field, origin) in newer.sorted(by: { $0.key < $1.key }) {
                #expect(listed.contains(field), "`\(field)` (\(origin)) is not in table `\(table.name)`")
                #expect(fields[field] == nil, "the oracle's \(where_) has `\(field)` now: drop it from `newerThanOracle`")
            }
        }
    }

    /// Reads the enums named on stdin as `describe` reads messages: value name -> [number,
    /// status], the status as for fields; null for an unknown name.
    static let describeEnums =
        importAPI + #"""
            from envoy.annotations import deprecation_pb2
            from google.protobuf import descriptor_pool
            pool = descriptor_pool.Default()
            out = {}
            for name in json.load(sys.stdin):
                try:
                    e = pool.FindEnumTypeByName(name)
                except KeyError:
                    out[name] = None
                    continue
                values = {}
                for v in e.values:
                    o = v.GetOptions()
                    if o.Extensions[deprecation_pb2.disallowed_by_default_enum]:
                        status = "disallowed"
                    else:
                        status = "deprecated" if o.deprecated else "current"
                    values[v.name] = [v.number, status]
                out[name] = values
            json.dump(out, sys.stdout, sort_keys=True)
            """#

    /// Values of an enum the reader refuses on purpose, by enum: Envoy rejects them too.
    static let refusedValues: [String: [String: String]] = [
        "envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher.SanType": [
            "SAN_TYPE_UNSPECIFIED": "`san_type` must be set (the proto's `defined_only`, `not_in: [0]`)"
        ]
    ]

    /// Each enum the reader reads has every value of the API's enum, by its proto name and
    /// number, and no other: a missing value makes the reader reject valid Envoy, a wrong
    /// number reads a numeric value as another one.
    @Test(.enabled(if: TestPaths.schemaCheck != nil, "../shared/tools/envoy-schema-check not found"))
    func everyEnumMatchesTheOraclesAPI() throws {
        let names = EnumTables.all.map(\.proto)
        #expect(Set(names).count == names.count, "an enum is listed twice")
        let input = String(decoding: try JSONEncoder().encode(names), as: UTF8.self)
        let run = try ProcessRunner.run(try Self.oraclePython(), ["-c", Self.describeEnums], stdin: input)
        try #require(run.status == 0, "describing the enums failed:\n\(run.stderr)")
        let api = try JSONDecoder().decode([String: [String: [JSONNumberOrText]]?].self, from: Data(run.stdout.utf8))
        for table in EnumTables.all {
            guard let values = api[table.proto] ?? nil else {
                Issue.record("\(table.proto) is not an enum of the oracle's API")
                continue
            }
            let refused = Self.refusedValues[table.proto] ?? [:]
            let ours = Dictionary(table.values.map { ($0.name, $0.number) }, uniquingKeysWith: { a, _ in a })
            for (name, info) in values.sorted(by: { $0.key < $1.key }) {
                guard case .number(let number) = info.first, case .text(let status) = info.last else { continue }
                if status == "disallowed" || refused[name] != nil {
                    #expect(ours[name] == nil, "\(table.proto): `\(name)` is refused by Envoy but read")
                    continue
                }
                #expect(
                    ours[name] == number, "\(table.proto): `\(name)` = \(number) is read as \(ours[name].map(String.init) ?? "unknown")")
            }
            let unknown = Set(ours.keys).subtracting(values.keys).sorted()
            #expect(unknown.isEmpty, "\(table.proto) has no values \(unknown)")
            for name in refused.keys {
                #expect(values[name] != nil, "\(table.proto): the refused `\(name)` is not a value any more")
            }
        }
    }

    /// Every enum table is a `static let` of `EnumTables` listed in `EnumTables.all`, and every
    /// enum field is read through one (no list of values at a call site).
    @Test func everyEnumTableIsListed() throws {
        let dir = TestPaths.packageRoot.appendingPathComponent("Sources/XDSCEnvoyReader")
        for file in try FileManager.default.contentsOfDirectory(atPath: dir.path) where file.hasSuffix(".swift") {
            let text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
            if file == "Tables.swift" {
                #expect(text.components(separatedBy: " = EnumTable").count - 1 == EnumTables.all.count)
            } else if file != "MessageReader.swift" {
                #expect(!text.contains("EnumTable("), "\(file) builds an enum table of its own")
            }
            let calls = text.components(separatedBy: "enumeration(").dropFirst()
            for call in calls where !call.hasPrefix("_ field") {
                #expect(call.prefix(120).contains("EnumTables."), "\(file): an enum read without a table: enumeration(\(call.prefix(60))")
            }
        }
    }

    /// A number or a string of the enum description.
    enum JSONNumberOrText: Decodable {
        case number(Int)
        case text(String)
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let n = try? c.decode(Int.self) { self = .number(n) } else { self = .text(try c.decode(String.self)) }
        }
    }
}
