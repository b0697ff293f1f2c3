import NIOHTTP1
import Testing
import XDSCEnvoy

@testable import XDSCProxy

/// Envoy's SAN checks (default_validator.cc, san_matcher.cc, tls/utility.cc), the transport
/// failure reason's format (ssl_socket.cc) and `auto_sni`'s host (router.cc).
@Suite struct CertificateCheckTests {
    static let sans = [
        PresentedSAN(type: .dns, value: "*.example.com"), PresentedSAN(type: .dns, value: "example.com"),
        PresentedSAN(type: .uri, value: "spiffe://prod/ns/web"), PresentedSAN(type: .email, value: "ops@example.com"),
        PresentedSAN(type: .ipAddress, value: "127.0.0.1"),
    ]

    @Test(arguments: [
        ("api.example.com", "*.example.com", true),
        ("API.Example.COM", "*.example.com", true),
        ("a.b.example.com", "*.example.com", false),
        ("example.com", "*.example.com", false),
        ("api.example.com", "api*.example.com", true),
        ("web.example.com", "api*.example.com", false),
        ("api.example.com", "*i.example.com", true),
        ("x.example.com", "xn--*.example.com", false),
        ("x.example.com", "*.*.com", false),
        ("example.com", "example.com", true),
        ("example", "*", false),
    ])
    func dnsNamesMatchAsEnvoyMatchesThem(_ name: String, _ pattern: String, _ expected: Bool) {
        #expect(CertificateCheck.dnsNameMatch(name, pattern: pattern) == expected)
    }

    @Test func anExactDNSMatcherFollowsWildcards() {
        #expect(CertificateCheck(matchers: [SubjectAltNameMatcher(.dns, .exact("users.example.com"))]).failure(Self.sans) == nil)
        // Any other kind of matcher compares the SAN's text.
        #expect(
            CertificateCheck(matchers: [SubjectAltNameMatcher(.dns, StringMatcher(.suffix("users.example.com")))]).failure(Self.sans)
                == "verify cert failed: SAN matcher")
        #expect(CertificateCheck(matchers: [SubjectAltNameMatcher(.dns, StringMatcher(.prefix("*.")))]).failure(Self.sans) == nil)
    }

    @Test func aMatcherOnlySeesSANsOfItsType() {
        let uri = SubjectAltNameMatcher(.uri, StringMatcher(.prefix("spiffe://prod/")))
        let email = SubjectAltNameMatcher(.email, .exact("ops@example.com"))
        let ip = SubjectAltNameMatcher(.ipAddress, .exact("127.0.0.1"))
        let wrongType = SubjectAltNameMatcher(.dns, .exact("ops@example.com"))
        for m in [uri, email, ip] { #expect(CertificateCheck(matchers: [m]).failure(Self.sans) == nil, "\(m)") }
        #expect(CertificateCheck(matchers: [wrongType]).failure(Self.sans) == "verify cert failed: SAN matcher")
        // One matching matcher of several is enough.
        #expect(CertificateCheck(matchers: [wrongType, ip]).failure(Self.sans) == nil)
        // A certificate without SANs matches nothing.
        #expect(CertificateCheck(matchers: [ip]).failure([]) == "verify cert failed: SAN matcher")
    }

    @Test func ignoreCaseAndRegexMatchers() {
        let upper = SubjectAltNameMatcher(.uri, StringMatcher(.exact("SPIFFE://PROD/NS/WEB"), ignoreCase: true))
        let regex = SubjectAltNameMatcher(.ipAddress, StringMatcher(.safeRegex(#"127\.0\.0\.[0-9]+"#)))
        #expect(CertificateCheck(matchers: [upper]).failure(Self.sans) == nil)
        #expect(CertificateCheck(matchers: [regex]).failure(Self.sans) == nil)
    }

    @Test func theDeprecatedFormMatchesAnyOfFourTypes() {
        let tls = UpstreamTLSContext(sni: nil, trustedCA: .file("ca"), deprecatedSubjectAltNames: [.exact("ops@example.com")])
        #expect(CertificateCheck(matchers: tls.effectiveSubjectAltNameMatchers).failure(Self.sans) == nil)
    }

    @Test func theSANListOfAutoSANValidation() {
        #expect(CertificateCheck(verifySubjectAltNames: ["shop.example.com"]).failure(Self.sans) == nil)
        #expect(CertificateCheck(verifySubjectAltNames: ["127.0.0.1"]).failure(Self.sans) == nil)
        #expect(CertificateCheck(verifySubjectAltNames: ["shop.other.org"]).failure(Self.sans) == "verify cert failed: verify SAN list")
        // Both are checked, the list first.
        let both = CertificateCheck(verifySubjectAltNames: ["shop.example.com"], matchers: [SubjectAltNameMatcher(.dns, .exact("a.b.c"))])
        #expect(both.failure(Self.sans) == "verify cert failed: SAN matcher")
    }

    @Test func theTransportFailureReasonHasEnvoysShape() {
        #expect(
            TransportFailureReason.entry(
                "Error: 268435581 error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED at /x/handshake.cc:400")
                == "|268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED")
        #expect(TransportFailureReason.entry("Error:  EOF during handshake") == nil)
        #expect(
            TransportFailureReason.certificateCheck("verify cert failed: SAN matcher")
                == "TLS_error:|268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:verify cert failed: SAN matcher:TLS_error_end"
        )
    }

    @Test(arguments: [
        ("shop.example.com:8443", "shop.example.com", false),
        ("shop.example.com", "shop.example.com", false),
        ("shop.example.com:http", "shop.example.com:http", false),
        ("127.0.0.1:80", "127.0.0.1", true),
        ("[::1]:443", "::1", true),
        ("[::1]", "::1", true),
    ])
    func theAuthorityIsParsedAsEnvoyParsesIt(_ value: String, _ host: String, _ isIP: Bool) {
        let a = UpstreamTLS.parseAuthority(value)
        #expect(a.host == host)
        #expect(a.isIP == isIP)
    }

    @Test func autoSNITakesTheRequestsHost() {
        let tls = UpstreamTLS(
            context: UpstreamTLSContext(sni: "fallback.example.com"),
            httpOptions: UpstreamHTTPProtocolOptions(autoSNI: true, autoSANValidation: true, overrideAutoSNIHeader: "x-sni"))
        let byHost = tls.forRequest(HTTPHeaders([("host", "shop.example.com:8443")]))
        #expect(byHost.serverName == "shop.example.com")
        #expect(byHost.check.verifySubjectAltNames == ["shop.example.com"])
        let byHeader = tls.forRequest(HTTPHeaders([("host", "shop.example.com"), ("x-sni", "other.example.com")]))
        #expect(byHeader.serverName == "other.example.com")
        // An IP host sets no SNI (the configured one is sent) but is still the SAN checked.
        let byIP = tls.forRequest(HTTPHeaders([("host", "127.0.0.1:8080")]))
        #expect(byIP.serverName == "fallback.example.com")
        #expect(byIP.check.verifySubjectAltNames == ["127.0.0.1"])
        // Different hosts are different pooled connections.
        #expect(byHost.connectionKey != byHeader.connectionKey)
        #expect(UpstreamTLS(context: UpstreamTLSContext(sni: "s")).forRequest(HTTPHeaders([("host", "h")])).serverName == "s")
    }
}
