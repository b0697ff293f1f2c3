import Testing
import XDSCDiagnostics
import XDSCTestSupport

/// Issue 8.15: of two operations on one header, the one written first is "first defined
/// here", whichever operation (`add`, `set`, `remove`) each is.
@Suite struct HeaderOperationTests {
    func expectRepeat(_ headers: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let text = policy(
            routes: """
                      - match: {prefix: /users}
                        to: users
                        request_headers: \(headers)
                      - {match: {prefix: /orders}, to: orders}
                """)
        expectDiagnostics(text, [(.duplicateKey, "second")], sourceLocation: sourceLocation)
        let (result, markers) = lintMarked([("policy.yaml", text)])
        let d = try #require(result.diagnostics.first, sourceLocation: sourceLocation)
        #expect(d.related.map(\.message) == ["first defined here"], sourceLocation: sourceLocation)
        #expect(d.related.first?.span.start == markers["first"]?.1, sourceLocation: sourceLocation)
    }

    @Test func addThenSet() throws {
        try expectRepeat(#"{add: {⟨first⟩x-a: "1"}, set: {⟨second⟩x-a: "2"}}"#)
    }

    @Test func setThenAdd() throws {
        try expectRepeat(#"{set: {⟨first⟩x-a: "1"}, add: {⟨second⟩X-A: "2"}}"#)
    }

    @Test func removeThenSet() throws {
        try expectRepeat(#"{remove: [⟨first⟩x-a], set: {⟨second⟩x-a: "2"}}"#)
    }

    @Test func addThenRemove() throws {
        try expectRepeat(#"{add: {⟨first⟩x-a: "1"}, remove: [⟨second⟩x-a]}"#)
    }

    @Test func operationsKeepTheirWrittenOrder() throws {
        let (result, _) = lintMarked([
            (
                "policy.yaml",
                policy(
                    routes: """
                              - match: {prefix: /users}
                                to: users
                                request_headers: {add: {x-c: "3", x-a: "1"}, set: {x-d: "4", x-b: "2"}, remove: [x-f, x-e]}
                              - {match: {prefix: /orders}, to: orders}
                        """)
            )
        ])
        #expect(result.diagnostics.isEmpty)
        let ops = try #require(result.policy.listeners.first?.hosts.first?.routes.first?.settings.requestHeaders)
        #expect(ops.add.map(\.name.value) == ["x-c", "x-a"])
        #expect(ops.set.map(\.name.value) == ["x-d", "x-b"])
        #expect(ops.remove.map(\.value) == ["x-f", "x-e"])
    }
}
