import Testing
import XDSCRegex

/// The RE2 binding matches, measures and rejects patterns the way Envoy does.
@Suite struct RE2Tests {
    @Test func re2MatchesLikeEnvoy() throws {
        let re = try RE2Pattern("^/api/v[0-9]+/users/[^/]+$")
        #expect(re.fullMatch("/api/v1/users/bob"))
        #expect(!re.fullMatch("/api/v12/users/a/b"))
        #expect(re.programSize == 22)
        #expect(try RE2Pattern("/a").fullMatch("/a/b") == false)
        #expect(try RE2Pattern("/a").partialMatch("/a/b"))
        #expect(throws: RE2Error(message: "invalid perl operator: (?=")) { try RE2Pattern("(?=x)") }
        #expect(throws: RE2Error(message: "invalid escape sequence: \\1")) { try RE2Pattern("(a)\\1") }
        #expect(RE2Pattern.envoyProblem("[a-z]{1000}")?.contains("program size of 1004") == true)
        #expect(try RE2Pattern("^/v([0-9]+)/(.*)").globalReplace("/v2/x", with: "/api/\\2") == "/api/x")
    }
}
