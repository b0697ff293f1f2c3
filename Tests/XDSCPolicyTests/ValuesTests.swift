import Testing
import XDSCPolicy

@Suite struct ValuesTests {
    @Test(arguments: [
        ("250ms", 250), ("1s", 1000), ("1m30s", 90_000), ("2h", 7_200_000), ("0s", 0), ("1h1m1s1ms", 3_661_001),
    ])
    func durations(_ text: String, _ ms: Int64) throws {
        #expect(try PolicyValues.duration(text).get().milliseconds == ms)
    }

    @Test(arguments: ["15", "1.5s", "5x", "s", "1s1m", "1s1s", "-1s", ""])
    func badDurations(_ text: String) {
        #expect(throws: ValueProblem.self) { try PolicyValues.duration(text).get() }
    }

    @Test func bareNumberSaysAUnitIsNeeded() {
        guard case .failure(let p) = PolicyValues.duration("15") else {
            Issue.record("accepted")
            return
        }
        #expect(p.message.contains("no unit"))
        #expect(p.help?.contains("15s") == true)
    }

    @Test func durationPrintsShortest() {
        #expect(PolicyDuration(milliseconds: 90_500).description == "1m30s500ms")
        #expect(PolicyDuration(milliseconds: 0).description == "0s")
    }

    @Test func ipLiterals() {
        #expect(PolicyValues.canonicalIP("10.0.0.1") == "10.0.0.1")
        #expect(PolicyValues.canonicalIP("::") == "::")
        #expect(PolicyValues.canonicalIP("0:0:0:0:0:0:0:1") == "::1")
        #expect(PolicyValues.canonicalIP("2001:DB8:0:0:1:0:0:1") == "2001:db8::1:0:0:1")
        #expect(PolicyValues.canonicalIP("::ffff:10.1.2.3") == "::ffff:a01:203")
        #expect(PolicyValues.canonicalIP("256.0.0.1") == nil)
        #expect(PolicyValues.canonicalIP("010.0.0.1") == nil)
        #expect(PolicyValues.canonicalIP("example.com") == nil)
        #expect(PolicyValues.canonicalIP("1::2::3") == nil)
    }

    @Test func hostPort() throws {
        let v6 = try PolicyValues.hostPort("[::1]:8080").get()
        #expect(v6.host == "::1" && v6.port == 8080 && v6.bracketed)
        #expect(throws: ValueProblem.self) { try PolicyValues.hostPort("10.0.0.1").get() }
        #expect(throws: ValueProblem.self) { try PolicyValues.hostPort("10.0.0.1:0").get() }
        #expect(throws: ValueProblem.self) { try PolicyValues.hostPort("10.0.0.1:65536").get() }
        #expect(throws: ValueProblem.self) { try PolicyValues.hostPort("::1:80").get() }
    }

    /// Every form Envoy's `RouteMatcher` (source/common/router/config_impl.cc) gives a
    /// meaning a `Host` header can meet: `*`, a leading `*` (suffix), a trailing `*`
    /// (prefix, including `HOST:*` for any port), or an exact authority.
    @Test(arguments: [
        "*", "api.example.com", "*.example.com", "*-bar.example.com", "example.*", "api.example.com:8080", "API.Example.com",
        "example.com:*", "[::1]:8080", "[::1]", "[2001:db8::1]:*", "10.0.0.1", "10.0.0.1:80", "*.example.com:8080", "*:8080",
        "example.com.", "example.com.:8080", "xn--bcher-kva.example",
    ])
    func validDomains(_ d: String) {
        #expect(PolicyValues.domainProblem(d) == nil, "\(PolicyValues.domainProblem(d)?.message ?? "")")
    }

    /// A `*` Envoy would compare as a literal character, an unbracketed or invalid IPv6
    /// address, a wildcard inside the port, a port out of range, an empty label.
    @Test(arguments: [
        "a.*.com", "**.x.com", "*.x.*", "", "a..b", "x.com:0", "x.com:http", "bad domain.com", "*" + "*",
        "example.*:8080", "example.com:8*", "*.example.com:*", "*:*", ":*", "*:", "::1", "::1:8080", "[::1", "[::g]:80",
        "[::1]x", "[::1*", "*[::1]", "x.com:65536", "x.com:", ".x.com", "example..*",
    ])
    func invalidDomains(_ d: String) {
        #expect(PolicyValues.domainProblem(d) != nil)
    }

    @Test func domainMessages() {
        #expect(PolicyValues.domainProblem("::1:8080")?.message == "domain `::1:8080`: an IPv6 address needs brackets")
        #expect(PolicyValues.domainProblem("example.com:8*")?.message == "domain `example.com:8*` has the `*` inside the port")
        #expect(PolicyValues.domainProblem("example.com:8*")?.help?.contains("`example.com:*`") == true)
        #expect(PolicyValues.domainProblem("example.*:8080")?.message.contains("in the middle") == true)
    }

    /// Endpoint hosts: a fully qualified name keeps its final dot; nothing else gets one.
    @Test(arguments: [
        ("host.internal", false, true), ("host.internal.", false, false), ("host.internal.", true, true), ("a.", true, true),
        (".", true, false), ("host..internal.", true, false), ("host.internal..", true, false), ("-a.internal.", true, false),
    ])
    func hostnames(_ name: String, _ allowTrailingDot: Bool, _ valid: Bool) {
        #expect(PolicyValues.isHostname(name, allowTrailingDot: allowTrailingDot) == valid)
    }

    @Test func names() {
        #expect(PolicyValues.isValidName("users-v2.read_x"))
        #expect(!PolicyValues.isValidName("Users"))
        #expect(!PolicyValues.isValidName("-users"))
        #expect(!PolicyValues.isValidName("users-"))
        #expect(!PolicyValues.isValidName(String(repeating: "a", count: 65)))
        #expect(PolicyValues.isValidName(String(repeating: "a", count: 64)))
    }

    @Test func methods() {
        #expect(PolicyValues.methodProblem("GET") == nil)
        #expect(PolicyValues.methodProblem("PURGE") == nil)
        #expect(PolicyValues.methodProblem("get")?.help == "write `GET`")
        #expect(PolicyValues.methodProblem("PSOT")?.help == "did you mean `POST`?")
        #expect(PolicyValues.methodProblem("GE T") != nil)
    }

    @Test func headerNames() {
        #expect(PolicyValues.headerNameProblem("x-env", allowPseudo: false) == nil)
        #expect(PolicyValues.headerNameProblem(":authority", allowPseudo: true) == nil)
        #expect(PolicyValues.headerNameProblem(":authority", allowPseudo: false) != nil)
        #expect(PolicyValues.headerNameProblem("host", allowPseudo: false) != nil)
        #expect(PolicyValues.headerNameProblem("x env", allowPseudo: false) != nil)
    }

    @Test func didYouMean() {
        #expect(PolicyValues.editDistance("tmeout", "timeout") == 1)
        #expect(PolicyValues.editDistance("hsots", "hosts") == 1)
        #expect(PolicyValues.suggestion(for: "tmeout", in: PolicyKeys.table["route"]!) == "timeout")
        #expect(PolicyValues.suggestion(for: "connect-timeout", in: PolicyKeys.table["service"]!) == "connect_timeout")
        #expect(PolicyValues.suggestion(for: "zzzzzz", in: PolicyKeys.table["route"]!) == nil)
    }
}
