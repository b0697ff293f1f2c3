import Testing
import XDSCDiagnostics
import XDSCPolicy
import XDSCTestSupport

@Suite struct InheritanceTests {
    let text = """
        version: 1
        defaults:
          timeout: ⟨dt⟩10s
          idle_timeout: ⟨di⟩1m
          connect_timeout: ⟨dc⟩3s
          retries: {attempts: 3, retry_on: [5xx]}
          request_headers:
            set: {⟨dx⟩x-env: prod, x-keep: a}
            remove: [x-internal]
        services:
          users: {endpoints: [10.0.0.1:80]}
          orders: {endpoints: [10.0.0.2:80], connect_timeout: ⟨sc⟩1s}
        listeners:
          public:
            address: 0.0.0.0:80
            timeout: ⟨lt⟩20s
            hosts:
              api:
                domains: ["*"]
                timeout: ⟨ht⟩30s
                retries: ⟨hr⟩{attempts: 1, retry_on: [reset]}
                request_headers:
                  add: {⟨hx⟩x-env: staging}
                routes:
                  - match: {prefix: /a}
                    to: users
                    timeout: ⟨rt⟩5s
                    retries: ⟨rr⟩none
                    request_headers:
                      set: {⟨ri⟩x-internal: yes-really}
                  - match: {prefix: /b}
                    to: orders
        """

    @Test func nearestLevelWinsWithProvenance() throws {
        let (result, markers) = lintMarked([("p.yaml", text)])
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let routes = try #require(result.policy.listeners.first?.hosts.first?.routes)
        let a = routes[0].effective
        let b = routes[1].effective
        #expect(a.timeout?.value == .seconds(5))
        #expect(a.timeout?.provenance == Provenance(.route, span(markers["rt"]!, 2)))
        #expect(b.timeout?.value == .seconds(30))
        #expect(b.timeout?.provenance.level == .host)
        #expect(b.timeout?.provenance.span?.start == markers["ht"]!.1)
        #expect(b.idleTimeout?.provenance.level == .defaults)
        #expect(b.idleTimeout?.provenance.span?.start == markers["di"]!.1)
        // retries are replaced as a whole, and `none` disables them.
        if case .disabled = a.retries?.value {} else { Issue.record("route retries should be disabled") }
        guard case .policy(let p) = b.retries?.value else {
            Issue.record("host retries expected")
            return
        }
        #expect(p.attempts?.value == 1)
        #expect(p.on.map(\.value) == ["reset"])
        #expect(b.retries?.provenance.span?.start == markers["hr"]!.1)
    }

    @Test func headerOperationsMergePerHeader() throws {
        let (result, markers) = lintMarked([("p.yaml", text)])
        let routes = try #require(result.policy.listeners.first?.hosts.first?.routes)
        func ops(_ r: Int) -> [String: ResolvedHeaderOp] {
            Dictionary(uniqueKeysWithValues: routes[r].effective.requestHeaders.map { ($0.name, $0) })
        }
        let a = ops(0)
        let b = ops(1)
        // The host's `add` beats the defaults' `set` for x-env.
        #expect(b["x-env"]?.operation == .add("staging"))
        #expect(b["x-env"]?.provenance.span?.start == markers["hx"]!.1)
        #expect(b["x-keep"]?.operation == .set("a"))
        #expect(b["x-internal"]?.operation == .remove)
        // The route's `set` beats the defaults' `remove`.
        #expect(a["x-internal"]?.operation == .set("yes-really"))
        #expect(a["x-internal"]?.provenance.level == .route)
        #expect(routes[0].effective.requestHeaders.map(\.name) == ["x-env", "x-keep", "x-internal"])
    }

    @Test func connectTimeoutFromDefaultsOrService() throws {
        let (result, markers) = lintMarked([("p.yaml", text)])
        let users = try #require(result.policy.service(named: "users"))
        let orders = try #require(result.policy.service(named: "orders"))
        #expect(users.connectTimeout.value == .seconds(3))
        #expect(users.connectTimeout.provenance.span?.start == markers["dc"]!.1)
        #expect(orders.connectTimeout.value == .seconds(1))
        #expect(orders.connectTimeout.provenance.level == .service)
        #expect(users.discovery.value == .static && users.discovery.provenance == .builtin)
    }

    @Test func discoveryIsInferredFromEndpoints() throws {
        let (result, _) = lintMarked([("p.yaml", text.replacingOccurrences(of: "[10.0.0.2:80]", with: "[orders.internal:80]"))])
        #expect(result.policy.service(named: "orders")?.discovery.value == .strictDNS)
    }

    func span(_ m: (String, SourcePosition), _ length: Int) -> SourceSpan {
        SourceSpan(file: m.0, start: m.1, end: SourcePosition(line: m.1.line, column: m.1.column + length))
    }
}
