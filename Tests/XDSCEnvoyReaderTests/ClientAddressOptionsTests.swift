import Testing
import XDSCEnvoy
import XDSCEnvoyReader
import XDSCTestSupport

/// What the proxy reads of the connection manager's client address settings:
/// `skip_xff_append`, `internal_address_config`, `original_ip_detection_extensions`,
/// `generate_request_id`, `preserve_external_request_id`.
@Suite struct ClientAddressOptionsTests {
    @Test func theSettingsAreReadAndTheDefaultsAreEnvoys() {
        let r = read(
            HTTP2OptionsTests.listener(
                """
                          use_remote_address: true
                          skip_xff_append: true
                          generate_request_id: false
                          preserve_external_request_id: true
                          internal_address_config:
                            unix_sockets: true
                            cidr_ranges: [{address_prefix: 10.0.0.0, prefix_len: 8}, {address_prefix: "fd00::", prefix_len: 8}]
                """))
        #expect(r.diagnostics.filter { $0.severity == .error }.isEmpty)
        let cm = r.config.listeners.first?.connectionManager
        #expect(cm?.skipXffAppend == true)
        #expect(cm?.generateRequestId == false)
        #expect(cm?.preserveExternalRequestId == true)
        #expect(cm?.internalAddressConfig?.unixSockets == true)
        #expect(cm?.internalAddressConfig?.cidrRanges.map { "\($0.addressPrefix)/\($0.prefixLength)" } == ["10.0.0.0/8", "fd00::/8"])
        let plain = read(HTTP2OptionsTests.listener("")).config.listeners.first?.connectionManager
        #expect(plain?.skipXffAppend == false)
        #expect(plain?.generateRequestId == true)
        #expect(plain?.preserveExternalRequestId == false)
        // No `internal_address_config`: no address is internal (Envoy 1.33 on).
        #expect(plain?.internalAddressConfig == nil)
    }

    @Test func aMalformedCIDRRangeIsAnError() {
        let r = read(
            HTTP2OptionsTests.listener(
                """
                          internal_address_config:
                            cidr_ranges: [{address_prefix: 10.0.0, prefix_len: 8}, {address_prefix: 10.0.0.0, prefix_len: 33}]
                """))
        #expect(
            r.diagnostics.filter { $0.severity == .error }.map(\.message) == [
                "`10.0.0` is not an IP address", "prefix length 33 is longer than the address `10.0.0.0`",
            ])
        #expect(r.config.listeners.first?.connectionManager.internalAddressConfig?.cidrRanges == [])
    }

    @Test func originalIPDetectionExtensionsAreKeptAndCannotBeMixedWithRemoteAddress() {
        let ext = """
                      original_ip_detection_extensions:
                      - name: envoy.http.original_ip_detection.custom_header
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.http.original_ip_detection.custom_header.v3.CustomHeaderConfig
                          header_name: x-real-ip
            """
        let alone = read(HTTP2OptionsTests.listener(ext))
        #expect(alone.diagnostics.filter { $0.severity == .error }.isEmpty)
        #expect(
            alone.config.listeners.first?.connectionManager.originalIPDetectionExtensions.map(\.name) == [
                "envoy.http.original_ip_detection.custom_header"
            ])
        let mixed = read(
            HTTP2OptionsTests.listener(ext + "\n          use_remote_address: true\n          xff_num_trusted_hops: 2"))
        #expect(
            mixed.diagnostics.filter { $0.severity == .error }.map(\.message) == [
                "original IP detection extensions and `use_remote_address` may not be mixed",
                "original IP detection extensions and `xff_num_trusted_hops` may not be mixed",
            ])
    }

    @Test func theSettingsAreWrittenBack() throws {
        var cm = try #require(read(HTTP2OptionsTests.listener("")).config.listeners.first?.connectionManager)
        cm.skipXffAppend = true
        cm.generateRequestId = false
        cm.preserveExternalRequestId = true
        cm.internalAddressConfig = .init(cidrRanges: [CidrRange(addressPrefix: try #require(IPAddress("192.168.0.0")), prefixLength: 16)])
        let o = cm.typedConfig.fields
        #expect(o["skip_xff_append"] == .bool(true))
        #expect(o["generate_request_id"] == .bool(false))
        #expect(o["preserve_external_request_id"] == .bool(true))
        #expect(
            o["internal_address_config"]
                == .object(["cidr_ranges": .array([.object(["address_prefix": .string("192.168.0.0"), "prefix_len": .int(16)])])]))
    }
}
