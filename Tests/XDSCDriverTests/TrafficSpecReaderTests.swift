import Testing
import XDSCDiagnostics
import XDSCDriver
import XDSCEnvoy
import XDSCProxy
import XDSCRequest

/// The traffic spec reader: the model it builds, and a positioned diagnostic for every problem.
@Suite struct TrafficSpecReaderTests {
    static func read(_ text: String) -> (TrafficSpec?, [Diagnostic]) {
        let sink = DiagnosticSink()
        let spec = TrafficSpecReader.read(path: "dir/spec.yaml", bytes: Array(text.utf8), into: sink)
        return (spec, sink.sorted)
    }

    @Test func readsEveryPart() throws {
        let (spec, diagnostics) = Self.read(
            """
            version: 1
            config: [a.yaml, /abs/b.yaml]
            seed: 42
            tests:
              - name: t
                listener: public
                request:
                  method: POST
                  url: http://api.example.com/users?x=1
                  headers: {X-Canary: "1", host: other.example.com}
                  body: hi
                  repeat: 3
                upstreams:
                  users: {fail_times: 2, fail_status: 502, delay: 250ms}
                  web: {reset: true}
                  fixed: {status: 201, headers: {a: b}, body: made}
                expect:
                  status: 200
                  body: {contains: ok}
                  headers: {x-a: v, x-b: {present: true}, x-c: {absent: true}}
                  location: http://x/
                  upstream: {service: [users, canary], endpoint: "10.0.0.1:80", requests: {users: 3}, path: /p, host: h}
                  split: {shares: {users: 90, canary: 10}, tolerance: 2.5}
              - request: {url: /only-a-path}
                expect: {upstream: {requests: 0}}
            """)
        #expect(diagnostics.isEmpty, "\(diagnostics.map(\.message))")
        let s = try #require(spec)
        #expect(s.config == ["dir/a.yaml", "/abs/b.yaml"])
        #expect(s.seed == 42)
        #expect(s.tests.count == 2)
        let t = s.tests[0]
        #expect(t.name == "t")
        #expect(t.listener?.name == "public")
        #expect(
            t.request
                == TrafficRequest(
                    method: "POST", host: "other.example.com", target: "/users?x=1", headers: [HTTPHeader("x-canary", "1")],
                    body: "hi", repeatCount: 3, urlHost: "api.example.com"))
        #expect(t.upstreams.map(\.cluster) == ["users", "web", "fixed"])
        #expect(t.upstreams[0].behaviour == MockBehaviour(failures: 2, failureStatus: 502, delay: .milliseconds(250)))
        #expect(t.upstreams[1].behaviour == MockBehaviour(failures: Int.max, reset: true))
        #expect(t.upstreams[2].behaviour.answer == MockAnswer(status: 201, headers: [HTTPHeader("a", "b")], body: "made"))
        #expect(t.expect.status == 200)
        #expect(t.expect.body == .contains("ok"))
        #expect(t.expect.headers == [.init("x-a", .equals("v")), .init("x-b", .present), .init("x-c", .absent)])
        #expect(t.expect.location == "http://x/")
        #expect(t.expect.upstream?.services == ["users", "canary"])
        #expect(t.expect.upstream?.requestsPerService == [ServiceCount("users", 3)])
        #expect(t.expect.split == SplitExpectation(shares: [ServiceCount("users", 90), ServiceCount("canary", 10)], tolerance: 2.5))
        #expect(s.tests[1].name == "test #2")
        #expect(s.tests[1].request.host == "localhost")
        #expect(s.tests[1].expect.upstream?.requests == 0)
    }

    @Test func everyProblemIsAtItsPosition() {
        let (spec, diagnostics) = Self.read(
            """
            version: 2
            tests:
              - request: {url: "ftp://x", repeat: 0}
                upstreams: {users: {fail_status: 99, delay: 5}}
                expect: {status: "x", split: {tolerance: 1}, headers: {a: {present: true, absent: true}}}
              - expect: {}
            """)
        #expect(spec == nil)
        let found = diagnostics.map { "\($0.span.start.line):\($0.span.start.column) \($0.rule.rawValue) \($0.message)" }
        #expect(
            found == [
                "1:1 missing-field the traffic spec needs `config`",
                "1:10 unsupported-version traffic spec version 2 is not supported",
                "3:20 invalid-value `ftp://x` is not an `http://HOST/PATH` or `https://HOST/PATH` URL or a path",
                "3:39 invalid-value `repeat` is 0, out of range 1..100000",
                "4:38 invalid-value `fail_status` is 99, out of range 100..599",
                "4:49 type-mismatch `delay` is a bare number; a duration needs a unit",
                "5:22 type-mismatch `status` must be an integer, but this is a string",
                "5:34 missing-field `split` needs `shares`",
                "5:79 conflicting-fields `absent` conflicts with `present`: the expectation of `a` takes only one of `equals`, `contains`, `present`, `absent`",
                "6:5 missing-field test #2 needs `request`",
            ], "\(found)")
    }

    @Test func typosGetADidYouMean() {
        let (_, diagnostics) = Self.read("config: a.yaml\ntests:\n  - request: {url: /, methd: GET}\n    expct: {}\n")
        #expect(
            diagnostics.map(\.message) == [
                "unknown key `methd` in the request; did you mean `method`?", "unknown key `expct` in test #1; did you mean `expect`?",
            ])
        #expect(diagnostics.map(\.rule) == [.unknownField, .unknownField])
    }

    @Test func readsTheHTTP2Parts() throws {
        let (spec, diagnostics) = Self.read(
            """
            config: a.yaml
            tests:
              - request: {method: POST, url: /pkg.Svc/Call, http2: true, headers: {content-type: application/grpc}}
                upstreams:
                  grpc: {headers: {content-type: application/grpc}, trailers: {grpc-status: "5"}}
                expect:
                  trailers: {grpc-status: "5", grpc-message: {absent: true}}
                  upstream: {protocol: HTTP/2}
            """)
        #expect(diagnostics.isEmpty, "\(diagnostics.map(\.message))")
        let t = try #require(spec?.tests.first)
        #expect(t.request.http2)
        #expect(t.upstreams.first?.behaviour.answer?.trailers == [HTTPHeader("grpc-status", "5")])
        #expect(t.expect.trailers == [NamedExpectation("grpc-status", .equals("5")), NamedExpectation("grpc-message", .absent)])
        #expect(t.expect.upstream?.protocol == "HTTP/2")
    }

    @Test func anUnknownProtocolIsAPositionedError() {
        let (spec, diagnostics) = Self.read(
            """
            config: a.yaml
            tests:
              - request: {url: /}
                expect: {upstream: {protocol: HTTP/3}}
            """)
        #expect(spec == nil)
        #expect(
            diagnostics.map { "\($0.span.start.line):\($0.span.start.column) \($0.message)" } == [
                "4:35 `HTTP/3` is not a protocol the upstreams see"
            ])
    }

    @Test func http2OverTLSIsARequestLikeAnother() throws {
        let (spec, diagnostics) = Self.read(
            """
            config: a.yaml
            tests:
              - request: {url: https://api.example.com/x, http2: true, headers: {te: trailers}}
                expect: {status: 200}
            """)
        #expect(diagnostics.isEmpty, "\(diagnostics.map(\.message))")
        let r = try #require(spec?.tests.first?.request)
        #expect(r.http2 && r.tls)
    }

    @Test func connectionSpecificHeadersOnHTTP2ArePositionedErrors() {
        let (spec, diagnostics) = Self.read(
            """
            config: a.yaml
            tests:
              - request:
                  url: https://api.example.com/x
                  http2: true
                  headers: {Connection: close, te: gzip, x-ok: "1", upgrade: websocket}
                expect: {status: 200}
            """)
        #expect(spec == nil)
        #expect(
            diagnostics.map { "\($0.span.start.line):\($0.span.start.column) \($0.message)" } == [
                "6:17 an HTTP/2 request cannot carry `connection`",
                "6:36 an HTTP/2 request cannot carry `te` other than `trailers`",
                "6:57 an HTTP/2 request cannot carry `upgrade`",
            ])
        // Over HTTP/1.1 the same headers are fine.
        let (_, plain) = Self.read(
            """
            config: a.yaml
            tests:
              - request: {url: /x, headers: {connection: close, upgrade: websocket}}
                expect: {status: 200}
            """)
        #expect(plain.isEmpty)
    }
}
