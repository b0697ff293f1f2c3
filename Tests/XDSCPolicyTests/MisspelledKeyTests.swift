import Testing
import XDSCDiagnostics
import XDSCTestSupport

/// Issue 8.17a: a misspelled required key is one finding, the `unknown-field` whose
/// did-you-mean names the missing key; no `missing-field` for that key besides.
@Suite struct MisspelledKeyTests {
    @Test func misspelledRequiredRouteKeys() throws {
        let text = policy(
            routes: """
                      - ⟨mach⟩mach: {prefix: /users}
                        to: users
                      - match: {prefix: /orders}
                        ⟨too⟩too: orders
                      - match: {⟨prefx⟩prefx: /x}
                        to: orders
                """)
        expectDiagnostics(text, [(.unknownField, "mach"), (.unknownField, "too"), (.unknownField, "prefx")])
        let (result, _) = lintMarked([("policy.yaml", text)])
        #expect(
            result.diagnostics.map(\.message) == [
                "unknown key `mach` in route #1; did you mean `match`?",
                // Routes are numbered as written, also after one that could not be lowered.
                "unknown key `too` in route #2; did you mean `to`?",
                "unknown key `prefx` in `match`; did you mean `prefix`?",
            ])
    }

    @Test func misspelledTopLevelServiceAndListenerKeys() {
        expectDiagnostics(
            """
            ⟨version⟩verion: 1
            services:
              ⟨users⟩users: {⟨endpoints⟩endpints: [10.0.0.1:8080]}
            ⟨listeners⟩listners:
              public: {address: 0.0.0.0:8080, hosts: {api: {domains: [a.example.com], routes: [{match: {prefix: /}, to: users}]}}}
            """,
            [
                // The routes under `listners` are not read: the service is not reported unused on
                // top of the misspelled key (a cascade; docs/policy-language.md, "Top level").
                (.unknownField, "version"), (.unknownField, "endpoints"), (.unknownField, "listeners"),
            ])
        expectDiagnostics(
            policy(
                routes: """
                          - match: {prefix: /users}
                            to: users
                            rate_limit: {⟨requests⟩requets: 10, per: 1s}
                            fault: {⟨abort⟩abrot: {status: 503}}
                          - {match: {prefix: /orders}, to: orders}
                    """), [(.unknownField, "requests"), (.unknownField, "abort")])
    }

    @Test func aKeyThatIsSimplyMissingIsStillMissing() {
        // `tmeout` is taken for `timeout`, which is optional; `to` is really missing.
        expectDiagnostics(
            policy(
                routes: """
                          - ⟨route⟩match: {prefix: /users}
                            ⟨tmeout⟩tmeout: 5s
                          - {match: {prefix: /orders}, to: orders}
                    """), [(.unknownField, "tmeout"), (.missingField, "route"), (.unusedService, "users")])
    }
}
