import Testing
import XDSCEnvoy

/// Address literals as Envoy parses (`inet_pton`) and prints (`inet_ntop`) them, CIDR ranges,
/// and `isInternalAddress` / `isLoopbackAddress` (source/common/network/utility.cc).
@Suite struct IPAddressTests {
    @Test func literalsParseAsInetPtonDoes() {
        #expect(IPAddress("203.0.113.7")?.bytes == [203, 0, 113, 7])
        for bad in [
            "", "1.2.3", "1.2.3.4.5", "01.2.3.4", "256.1.1.1", "1.2.3.4:80", "[::1]", "a.b.c.d", " 1.2.3.4", "1:2:3:4:5:6:7:8:9", ":::",
            "1::2::3",
        ] {
            #expect(IPAddress(bad) == nil, "\(bad)")
        }
        #expect(IPAddress("::1")?.bytes == Array(repeating: 0, count: 15) + [1])
        #expect(IPAddress("::ffff:10.0.0.1")?.bytes == Array(repeating: 0, count: 10) + [0xFF, 0xFF, 10, 0, 0, 1])
        #expect(IPAddress("1:2:3:4:5:6:7:8") != nil)
        #expect(IPAddress("1:2:3:4:5:6:1.2.3.4") != nil)
    }

    @Test func textIsInetNtops() {
        let cases = [
            "2001:DB8:0:0:0:0:0:1": "2001:db8::1", "0:0:0:0:0:0:0:0": "::", "1:0:0:2:0:0:0:3": "1:0:0:2::3",
            "1:0:2:3:4:5:6:7": "1:0:2:3:4:5:6:7", "::FFFF:192.0.2.1": "::ffff:192.0.2.1", "fd00::": "fd00::",
        ]
        for (input, text) in cases { #expect(IPAddress(input)?.description == text, "\(input)") }
    }

    @Test func internalAndLoopbackAddressesAreEnvoys() {
        for a in ["10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "127.0.0.1", "fd12::1", "::1"] {
            #expect(IPAddress(a)?.isRFC1918OrRFC4193 == true, "\(a)")
        }
        // Only 127.0.0.1 of 127/8 counts, as Envoy compares with INADDR_LOOPBACK.
        for a in ["172.32.0.1", "192.169.0.1", "11.0.0.1", "127.0.0.2", "fc00::1", "203.0.113.7"] {
            #expect(IPAddress(a)?.isRFC1918OrRFC4193 == false, "\(a)")
        }
        #expect(IPAddress("127.0.0.1")?.isLoopback == true)
        #expect(IPAddress("127.0.0.2")?.isLoopback == false)
        #expect(IPAddress("::1")?.isLoopback == true)
    }

    @Test func cidrRangesMatchTheirPrefixInTheirFamily() throws {
        let r = CidrRange(addressPrefix: try #require(IPAddress("10.20.0.0")), prefixLength: 14)
        #expect(r.contains(try #require(IPAddress("10.23.255.1"))))
        #expect(!r.contains(try #require(IPAddress("10.24.0.1"))))
        #expect(!r.contains(try #require(IPAddress("::ffff:10.20.0.1"))))
        let all = CidrRange(addressPrefix: try #require(IPAddress("0.0.0.0")), prefixLength: 0)
        #expect(all.contains(try #require(IPAddress("203.0.113.7"))))
        let v6 = CidrRange(addressPrefix: try #require(IPAddress("2001:db8::")), prefixLength: 32)
        #expect(v6.contains(try #require(IPAddress("2001:db8:1::5"))))
        #expect(!v6.contains(try #require(IPAddress("2001:db9::5"))))
        let internalConfig = HttpConnectionManager.InternalAddressConfig(cidrRanges: [r])
        #expect(internalConfig.isInternal(try #require(IPAddress("10.21.0.1"))))
        #expect(!internalConfig.isInternal(try #require(IPAddress("192.168.0.1"))))
        // Without ranges: the RFC 1918 / RFC 4193 addresses.
        #expect(HttpConnectionManager.InternalAddressConfig().isInternal(try #require(IPAddress("192.168.0.1"))))
    }
}
