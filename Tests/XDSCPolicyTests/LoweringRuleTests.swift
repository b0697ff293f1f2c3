import Testing
import XDSCDiagnostics
import XDSCTestSupport

/// One test per spec rule that lowering checks, on inline YAML; each fails on any diagnostic it did not expect.
@Suite struct LoweringRuleTests {
    @Test func validPolicyHasNoDiagnostics() {
        expectDiagnostics(
            policy(
                routes: """
                          - match: {prefix: /users}
                            to: users
                          - match: {prefix: /orders}
                            to: orders
                    """), [])
    }

    @Test func unknownFieldWithDidYouMean() {
        let (result, _) = lintMarked([
            (
                "p.yaml",
                policy(
                    routes: """
                              - match: {prefix: /u}
                                to: users
                                tmeout: 5s
                        """, extraServices: "  o2: {endpoints: [10.0.0.3:1], lb: round_robin}")
            )
        ])
        let d = result.diagnostics.filter { $0.rule == .unknownField }
        #expect(d.count == 1)
        #expect(d.first?.message.contains("did you mean `timeout`?") == true)
    }

    @Test func unknownFieldPositionAndMisplacedKeyHint() {
        expectDiagnostics(
            policy(
                routes: """
                          - match: {prefix: /users}
                            to: users
                            ⟨a⟩tmeout: 5s
                          - ⟨b⟩prefix: /orders
                            match: {prefix: /orders}
                            to: orders
                    """), [(.unknownField, "a"), (.unknownField, "b")])
        let (result, _) = lintMarked([
            (
                "p.yaml",
                policy(
                    routes: """
                              - prefix: /orders
                                match: {prefix: /orders}
                                to: orders
                              - match: {prefix: /users}
                                to: users
                        """)
            )
        ])
        #expect(result.diagnostics.first?.help == "`prefix` belongs under match")
    }

    @Test func typeMismatch() {
        expectDiagnostics(
            policy(
                routes: """
                          - match: ⟨a⟩[prefix, /]
                            to: users
                          - match: {prefix: /o}
                            to: orders
                            timeout: ⟨b⟩15
                            websocket: ⟨c⟩yes
                    """), [(.typeMismatch, "a"), (.typeMismatch, "b"), (.typeMismatch, "c")])
    }

    @Test func bareNumberDurationSaysAUnitIsNeeded() {
        let (result, _) = lintMarked([
            (
                "p.yaml",
                policy(
                    routes: """
                              - match: {prefix: /u}
                                to: users
                                timeout: 15
                        """, extraServices: "  o: {endpoints: [10.0.0.9:1]}")
            )
        ])
        let d = result.diagnostics.first { $0.rule == .typeMismatch }
        #expect(d?.message.contains("needs a unit") == true)
        #expect(d?.help?.contains("15s") == true)
    }

    @Test func missingFields() {
        expectDiagnostics(
            """
            version: 1
            services:
              ⟨svc⟩users: {lb: random}
            listeners:
              ⟨l⟩public:
                hosts:
                  api:
                    domains: [a.example.com]
                    routes:
                      - ⟨r⟩to: users
                      - ⟨r2⟩match: {prefix: /u}
            """, [(.missingField, "svc"), (.missingField, "l"), (.missingField, "r"), (.missingField, "r2")])
    }

    @Test func missingActionIsReported() {
        let m = Marked(
            policy(
                routes: """
                          - ⟨r⟩match: {prefix: /u}
                          - match: {prefix: /x}
                            to: users
                          - match: {prefix: /y}
                            to: orders
                    """))
        let (result, _) = lintMarked([
            (
                "policy.yaml",
                policy(
                    routes: """
                              - ⟨r⟩match: {prefix: /u}
                              - match: {prefix: /x}
                                to: users
                              - match: {prefix: /y}
                                to: orders
                        """)
            )
        ])
        #expect(result.diagnostics.map(\.rule) == [.missingField])
        #expect(result.diagnostics.first?.span.start == m.markers["r"])
    }

    @Test func missingVersionAndListeners() {
        let (result, _) = lintMarked([("p.yaml", "services: {}\n")])
        #expect(Set(result.diagnostics.map(\.rule)) == [.missingField])
        #expect(result.diagnostics.count == 2)
    }

    @Test func invalidValues() {
        expectDiagnostics(
            """
            version: 1
            services:
              users:
                endpoints: [⟨ep⟩"10.0.0.1:99999", {address: 10.0.0.2, port: 80, weight: ⟨w⟩0}]
                discovery: static
              dns:
                endpoints: [⟨host⟩"users.internal:80"]
                discovery: static
            listeners:
              public:
                address: ⟨addr⟩example.com:8080
                hosts:
                  api:
                    domains: [⟨dom⟩"a.*.example.com", b.example.com]
                    routes:
                      - match: {prefix: /m, methods: [⟨m⟩get]}
                        to: users
                        timeout: ⟨dur⟩5x
                      - match: {prefix: /r}
                        redirect: {host: x.example.com, code: ⟨code⟩305}
                      - match: {prefix: /d}
                        respond: {status: ⟨st⟩99}
                      - match: {prefix: /h}
                        to: dns
                        request_headers: {set: {⟨hn⟩"x bad": v}}
            """,
            [
                (.invalidValue, "ep"), (.invalidValue, "w"), (.invalidValue, "host"), (.invalidValue, "addr"), (.invalidValue, "dom"),
                (.invalidValue, "m"), (.invalidValue, "dur"), (.invalidValue, "code"), (.invalidValue, "st"), (.invalidValue, "hn"),
            ])
    }

    @Test func conflictingFields() {
        expectDiagnostics(
            policy(
                routes: """
                          - match: {prefix: /a, ⟨path⟩path: /a/b}
                            to: users
                          - match: {prefix: /r}
                            to: users
                            ⟨redir⟩redirect: {scheme: https}
                          - match: {prefix: /s}
                            respond: {status: 404}
                            ⟨rw⟩rewrite: {prefix: /x}
                          - match: {prefix: /o}
                            to: orders
                    """), [(.conflictingFields, "path"), (.conflictingFields, "redir"), (.conflictingFields, "rw")])
    }

    /// A gRPC health check conflicts only with an explicit `protocol: http1`; with `protocol`
    /// unset the service is taken to speak HTTP/2, and `http2` / `grpc` are fine.
    @Test func grpcHealthCheckConflictsOnlyWithExplicitHTTP1() {
        func services(_ proto: String) -> String {
            "  rpc:\n    endpoints: [10.0.0.5:9090]\n\(proto)    ⟨hc⟩health_check: {grpc: {service: rpc.Health}}"
        }
        let routes = """
                  - match: {prefix: /u}
                    to: users
                  - match: {prefix: /o}
                    to: orders
                  - match: {prefix: /r}
                    to: rpc
            """
        expectDiagnostics(policy(routes: routes, extraServices: services("    protocol: http1\n")), [(.conflictingFields, "hc")])
        expectDiagnostics(policy(routes: routes, extraServices: services("")), [])
        expectDiagnostics(policy(routes: routes, extraServices: services("    protocol: http2\n")), [])
        expectDiagnostics(policy(routes: routes, extraServices: services("    protocol: grpc\n")), [])
    }

    /// CORS `max_age` is whole seconds in Envoy: a sub-second remainder is an error at the
    /// value, never truncated.
    @Test func corsMaxAgeNeedsWholeSeconds() {
        func routes(_ age: String) -> String {
            """
                      - match: {prefix: /u}
                        to: users
                        cors: {allow_origins: ["https://app.example.com"], max_age: ⟨age⟩\(age)}
                      - match: {prefix: /o}
                        to: orders
            """
        }
        expectDiagnostics(policy(routes: routes("1500ms")), [(.invalidValue, "age")])
        expectDiagnostics(policy(routes: routes("1m30s")), [])
        let (result, _) = lintMarked([("p.yaml", policy(routes: routes("1500ms")))])
        #expect(result.diagnostics.first?.help == "use whole seconds: `max_age: 1s` or `max_age: 2s`")
        #expect(result.diagnostics.first?.message.contains("`max_age` 1s500ms") == true)
        let (small, _) = lintMarked([("p.yaml", policy(routes: routes("250ms")))])
        #expect(small.diagnostics.first?.help == "use whole seconds: `max_age: 1s`")
    }

    @Test func unsupportedVersion() {
        expectDiagnostics(
            policy(
                routes: """
                          - match: {prefix: /u}
                            to: users
                          - match: {prefix: /o}
                            to: orders
                    """
            ).replacingOccurrences(of: "version: 1", with: "version: ⟨v⟩2"), [(.unsupportedVersion, "v")])
    }

    @Test func duplicateNamesAcrossFilesPointAtBoth() {
        let a = """
            version: 1
            services:
              users: {endpoints: [10.0.0.1:80]}
            listeners:
              public:
                address: 0.0.0.0:80
                hosts:
                  h:
                    domains: ["*"]
                    routes:
                      - {name: r1, match: {prefix: /a}, to: users}
                      - {name: ⟨r⟩r1, match: {prefix: /b}, to: users}
            """
        let b = """
            version: 1
            services:
              ⟨dup⟩users: {endpoints: [10.0.0.2:80]}
            """
        expectDiagnostics(files: [("a.yaml", a), ("b.yaml", b)], [(.duplicateName, "dup"), (.duplicateName, "r")])
        let (result, _) = lintMarked([("a.yaml", a), ("b.yaml", b)])
        let d = result.diagnostics.first { $0.span.file == "b.yaml" }
        #expect(d?.related.first?.span.file == "a.yaml")
    }

    @Test func aSecondDefinitionIsStillChecked() {
        // The second `public` and `users` are not kept, but what is wrong inside them is
        // reported, and the service only the second listener routes to is not unused.
        let a = """
            version: 1
            services:
              users: {endpoints: [10.0.0.1:80]}
            listeners:
              public:
                address: 0.0.0.0:80
                hosts:
                  h: {domains: ["*"], routes: [{match: {prefix: /}, to: users}]}
            """
        let b = """
            version: 1
            services:
              ⟨svc⟩users: {endpoints: [⟨port⟩10.0.0.2:0]}
              orders: {endpoints: [10.0.0.3:80]}
            listeners:
              ⟨lst⟩public:
                address: 0.0.0.0:81
                hosts:
                  h: {domains: ["*"], routes: [{match: {prefix: /}, to: orders, ⟨key⟩tmeout: 1s}]}
            """
        expectDiagnostics(
            files: [("a.yaml", a), ("b.yaml", b)],
            [(.duplicateName, "svc"), (.invalidValue, "port"), (.duplicateName, "lst"), (.unknownField, "key")])
    }

    @Test func defaultsInTwoFilesIsADuplicateKey() {
        let a =
            "version: 1\ndefaults: {timeout: 1s}\nservices: {s: {endpoints: [10.0.0.1:1]}}\nlisteners: {l: {address: 0.0.0.0:1, hosts: {h: {domains: [\"*\"], routes: [{match: {prefix: /}, to: s}]}}}}\n"
        let b = "version: 1\n⟨d⟩defaults: {timeout: 2s}\n"
        expectDiagnostics(files: [("a.yaml", a), ("b.yaml", b)], [(.duplicateKey, "d")])
    }

    /// Issue 8.1: Envoy's query matcher has no invert and `present_match: false` is not
    /// "absent" on every Envoy: each is reported at the key that asks for it; header
    /// matchers, which Envoy can invert, are accepted.
    @Test func inexpressibleQueryMatchers() {
        expectDiagnostics(
            """
            version: 1
            services: {web: {endpoints: [10.0.0.1:80]}}
            listeners:
              l:
                address: 0.0.0.0:80
                hosts:
                  h:
                    domains: ["*"]
                    routes:
                      - match: {prefix: /1, query: {debug: {⟨absent⟩present: false}}}
                        to: web
                      - match: {prefix: /2, query: {channel: {exact: beta, ⟨inv⟩invert: true}}}
                        to: web
                      - match: {prefix: /3, query: {t: {present: true, ⟨inv2⟩invert: true}}}
                        to: web
                      - match: {prefix: /4, query: {t: {present: false, ⟨dbl⟩invert: true}}}
                        to: web
                      - match: {prefix: /5, query: {t: {regex: "a.*", ⟨inv3⟩invert: true}}}
                        to: web
                      - match: {prefix: /q, query: {t: {present: true, invert: false}, u: {prefix: x}}}
                        to: web
                      - match: {prefix: /h, headers: {x-a: {present: false}, x-b: {exact: v, invert: true}}}
                        to: web
                      - match: {prefix: /}
                        to: web
            """,
            [
                (.unsupportedMatcher, "absent"), (.unsupportedMatcher, "inv"), (.unsupportedMatcher, "inv2"),
                (.unsupportedMatcher, "dbl"), (.unsupportedMatcher, "inv3"),
            ])
    }

    /// Audit (issue 8.1): `grpc: false` lowers to nothing, so it is reported, not dropped.
    @Test func grpcFalseIsIneffective() {
        expectDiagnostics(
            """
            version: 1
            services: {web: {endpoints: [10.0.0.1:80]}}
            listeners:
              l:
                address: 0.0.0.0:80
                hosts:
                  h:
                    domains: ["*"]
                    routes:
                      - match: {prefix: /a, grpc: ⟨f⟩false}
                        to: web
                      - match: {prefix: /b, grpc: true}
                        to: web
            """, [(.ineffectiveSetting, "f")])
    }

    /// Audit (issue 8.1): query text Envoy's parser can never produce is reported at the
    /// name or value; the same text in a header, or in a regex, is fine.
    @Test func queryTextThatNeverMatches() {
        expectDiagnostics(
            """
            version: 1
            services: {web: {endpoints: [10.0.0.1:80]}}
            listeners:
              l:
                address: 0.0.0.0:80
                hosts:
                  h:
                    domains: ["*"]
                    routes:
                      - match: {prefix: /a, query: {⟨eq⟩"a=b": "1", c: ⟨amp⟩"x&y", d: {prefix: ⟨hash⟩"p#"}, e: {regex: "x&y"}}}
                        to: web
                      - match: {prefix: /b, query: {⟨nh⟩"n#": {present: true}}, headers: {x-h: "x&y#z=1"}}
                        to: web
            """,
            [(.invalidValue, "eq"), (.invalidValue, "amp"), (.invalidValue, "hash"), (.invalidValue, "nh")])
        let (result, _) = lintMarked([
            (
                "p.yaml",
                """
                version: 1
                services: {web: {endpoints: [10.0.0.1:80]}}
                listeners:
                  l:
                    address: 0.0.0.0:80
                    hosts: {h: {domains: ["*"], routes: [{match: {prefix: /, query: {c: "x&y"}}, to: web}]}}
                """
            )
        ])
        #expect(result.diagnostics.map(\.message) == ["query value `x&y` can never match: Envoy splits the query at `&`"])
        #expect(result.diagnostics.first?.help?.contains("`x%26y`") == true)
    }

    @Test func inexpressibleQueryMatcherMessages() {
        let (result, _) = lintMarked([
            (
                "p.yaml",
                """
                version: 1
                services: {web: {endpoints: [10.0.0.1:80]}}
                listeners:
                  l:
                    address: 0.0.0.0:80
                    hosts:
                      h:
                        domains: ["*"]
                        routes:
                          - {match: {prefix: /, query: {debug: {present: false}}}, to: web}
                          - {match: {prefix: /, query: {t: {present: false, invert: true}}}, to: web}
                """
            )
        ])
        let d = result.diagnostics.filter { $0.rule == .unsupportedMatcher }
        #expect(
            d.map(\.message) == [
                "Envoy cannot match the absence of query parameter `debug` on every version",
                "`present: false` with `invert: true` on query parameter `t` is a double negation",
            ])
        #expect(d.first?.help?.contains("`present: true`") == true)
        #expect(d.first?.help?.contains("put a route before this one") == true)
        #expect(d.last?.help == "write `t: {present: true}`")
        #expect(d.allSatisfy { $0.severity == .error })
    }

    /// Issue 8.9: forms Envoy accepts are accepted; near misses are reported at the value.
    @Test func domainAndEndpointGrammar() {
        expectDiagnostics(
            """
            version: 1
            services:
              fqdn: {endpoints: [host.internal.:80, {address: other.internal., port: 81}]}
              bad: {endpoints: [⟨ep⟩"host..internal.:80"]}
            listeners:
              l:
                address: 0.0.0.0:80
                hosts:
                  a:
                    domains: ["example.com:*", "[::1]:8080", "*:8443", example.org.]
                    routes: [{match: {prefix: /}, to: fqdn}]
                  b:
                    domains: [⟨mid⟩"example.*:8080", ⟨v6⟩"::1:8080", ⟨port⟩"example.net:80*"]
                    routes: [{match: {prefix: /}, to: bad, rewrite: {host: ⟨rw⟩"*.example.com"}}]
            """,
            [(.invalidValue, "ep"), (.invalidValue, "mid"), (.invalidValue, "v6"), (.invalidValue, "port"), (.invalidValue, "rw")])
    }

    @Test func everyErrorIsReportedInOneRun() {
        let (result, _) = lintMarked([
            (
                "p.yaml",
                """
                version: 1
                services:
                  users: {endpoints: [10.0.0.1:80], lb: fastest}
                listeners:
                  l:
                    address: 0.0.0.0:99999
                    hosts:
                      h:
                        domains: ["*"]
                        routes:
                          - {match: {prefix: /, bogus: 1}, to: usr}
                """
            )
        ])
        #expect(Set(result.diagnostics.map(\.rule)) == [.invalidValue, .unknownField, .unknownService, .unusedService])
    }

    /// Every required list or map that is present but empty is one mistake with one rule,
    /// `invalid-value` (a value out of range), at the empty value; `missing-field` is for a
    /// key that is absent (the policy language's rule table).
    @Test func emptyRequiredListsAreInvalidValuesAtTheValue() {
        expectDiagnostics(
            """
            version: 1
            services:
              users:
                endpoints: ⟨e⟩[]
            listeners:
              public:
                address: 0.0.0.0:8080
                hosts:
                  api:
                    domains: ⟨d⟩[]
                    routes: ⟨r⟩[]
                  web:
                    domains: [web.example.com]
                    routes:
                      - match: {prefix: /}
                        to: users
              admin:
                address: 0.0.0.0:8081
                hosts: ⟨h⟩{}
            """, [(.invalidValue, "e"), (.invalidValue, "d"), (.invalidValue, "r"), (.invalidValue, "h")])
        expectDiagnostics(
            """
            version: 1
            listeners: ⟨l⟩{}
            """, [(.invalidValue, "l")])
        // Absent keys stay `missing-field`, at the mapping that lacks them.
        expectDiagnostics(
            """
            version: 1
            services:
              ⟨e⟩users: {protocol: http1}
            listeners:
              public:
                address: 0.0.0.0:8080
                hosts:
                  ⟨d⟩api:
                    routes:
                      - match: {prefix: /}
                        to: users
            """, [(.missingField, "e"), (.missingField, "d")])
    }
}
