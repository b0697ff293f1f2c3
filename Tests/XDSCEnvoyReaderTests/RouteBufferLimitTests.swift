import Testing
import XDSCEnvoy
import XDSCEnvoyReader
import XDSCJSON

/// A route's and a virtual host's request body buffer limits (`request_body_buffer_limit`,
/// the legacy `per_request_buffer_limit_bytes`): read, written back, range-checked, and
/// combined as config_impl.h's `requestBodyBufferLimit()` combines them.
@Suite struct RouteBufferLimitTests {
    /// A table whose host and route set the fields given (JSON members, or "" for none).
    static func table(host: String, route: String) -> String {
        let h = host.isEmpty ? "" : host + ","
        let r = route.isEmpty ? "" : route + ","
        return #"{"name":"r","virtual_hosts":[{"name":"v","domains":["*"],"# + h
            + #""routes":[{"match":{"prefix":"/"},"# + r + #""route":{"cluster":"c"}}]}]}"#
    }

    static func readRoute(host: String, route: String) throws -> (VirtualHost, Route) {
        let (config, ds) = read(table(host: host, route: route), file: "r.json")
        #expect(ds.filter { $0.severity == .error }.isEmpty, "\(summary(ds))")
        let vh = try #require(config.routeConfigurations.first?.virtualHosts.first)
        return (vh, try #require(vh.routes.first))
    }

    @Test func bothLevelsAreReadAndWrittenBack() throws {
        let (vh, route) = try Self.readRoute(
            host: #""per_request_buffer_limit_bytes":1024,"request_body_buffer_limit":"2048""#,
            route: #""per_request_buffer_limit_bytes":{"value":4096},"request_body_buffer_limit":8192"#)
        #expect(vh.perRequestBufferLimitBytes == 1024)
        #expect(vh.requestBodyBufferLimit == 2048)
        #expect(route.perRequestBufferLimitBytes == 4096)
        #expect(route.requestBodyBufferLimit == 8192)
        let host = vh.json.compactText()
        #expect(host.contains(#""per_request_buffer_limit_bytes":1024"#))
        #expect(host.contains(#""request_body_buffer_limit":2048"#))
        let r = route.json.compactText()
        #expect(r.contains(#""per_request_buffer_limit_bytes":4096"#))
        #expect(r.contains(#""request_body_buffer_limit":8192"#))
    }

    /// The new field before the legacy one; at each, the route's before the host's.
    @Test(
        arguments: [
            ("", "", nil),
            (#""per_request_buffer_limit_bytes":10"#, "", 10),
            ("", #""per_request_buffer_limit_bytes":20"#, 20),
            (#""per_request_buffer_limit_bytes":10"#, #""per_request_buffer_limit_bytes":20"#, 20),
            (#""request_body_buffer_limit":30"#, #""per_request_buffer_limit_bytes":20"#, 30),
            (#""request_body_buffer_limit":30"#, #""request_body_buffer_limit":40"#, 40),
            (#""per_request_buffer_limit_bytes":10"#, #""request_body_buffer_limit":0"#, 0),
        ] as [(String, String, UInt64?)])
    func theRoutesLimitFollowsEnvoysPrecedence(host: String, route: String, expected: UInt64?) throws {
        let (vh, r) = try Self.readRoute(host: host, route: route)
        #expect(r.effectiveBufferLimit(host: vh) == expected)
    }

    @Test func aLegacyLimitOutsideUInt32IsAnError() {
        let (_, ds) = read(Self.table(host: "", route: #""per_request_buffer_limit_bytes":4294967296"#), file: "r.json")
        #expect(ds.contains { $0.severity == .error && $0.message.contains("per_request_buffer_limit_bytes") }, "\(summary(ds))")
    }
}
