import Testing
import XDSCEnvoy
import XDSCEnvoyReader
import XDSCJSON
import XDSCTestSupport

/// What the proxy needs of a cluster's outlier detection and consistent hashing.
@Suite struct UpstreamFeatureFieldsTests {
    static func cluster(_ fields: String) -> String {
        """
        static_resources:
          clusters:
          - name: c
            connect_timeout: 1s
        \(fields)
            load_assignment: {cluster_name: c, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 10.0.0.1, port_value: 80}}}}]}]}
        """
    }

    @Test func outlierDetectionFieldsAreRead() throws {
        let r = read(
            Self.cluster(
                """
                    outlier_detection:
                      consecutive_5xx: 2
                      consecutive_gateway_failure: 3
                      enforcing_consecutive_gateway_failure: 100
                      split_external_local_origin_errors: true
                      consecutive_local_origin_failure: 4
                      max_ejection_time: 60s
                      max_ejection_time_jitter: 0.5s
                      always_eject_one_host: true
                      success_rate_minimum_hosts: 3
                      enforcing_failure_percentage: 50
                """))
        #expect(r.diagnostics.filter { $0.severity == .error }.isEmpty, "\(summary(r.diagnostics))")
        let od = try #require(r.config.clusters.first?.outlierDetection)
        #expect(od.consecutive5xx == 2 && od.consecutiveGatewayFailure == 3 && od.enforcingConsecutiveGatewayFailure == 100)
        #expect(od.splitExternalLocalOriginErrors == true && od.consecutiveLocalOriginFailure == 4)
        #expect(od.maxEjectionTime == .seconds(60) && od.maxEjectionTimeJitter == .milliseconds(500))
        #expect(od.alwaysEjectOneHost == true && od.successRateMinimumHosts == 3 && od.enforcingFailurePercentage == 50)
        // Written back as read.
        let json = od.json.compactText()
        #expect(json.contains("\"consecutive_gateway_failure\":3") && json.contains("\"always_eject_one_host\":true"))
    }

    @Test func ringHashAndMaglevSettingsAreRead() throws {
        let r = read(
            Self.cluster(
                """
                    lb_policy: RING_HASH
                    ring_hash_lb_config: {minimum_ring_size: 64, maximum_ring_size: 128, hash_function: MURMUR_HASH_2}
                    maglev_lb_config: {table_size: 7}
                """))
        #expect(r.diagnostics.filter { $0.severity == .error }.isEmpty, "\(summary(r.diagnostics))")
        let c = try #require(r.config.clusters.first)
        #expect(c.ringHashConfig == RingHashLbConfig(minimumRingSize: 64, maximumRingSize: 128, hashFunction: .murmurHash2))
        #expect(c.maglevTableSize == 7)
        #expect(read(Self.cluster("    ring_hash_lb_config: {minimum_ring_size: 9000000}")).diagnostics.contains { $0.severity == .error })
    }
}
