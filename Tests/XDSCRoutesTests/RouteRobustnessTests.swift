import Testing
import XDSCRoutes

@Suite("Odd routes never crash or hang")
struct RouteRobustnessTests {
    @Test func oddRoutes() {
        let long = "/" + String(repeating: "x", count: 50_000)
        let routes: [RouteConstraint] = [
            RouteConstraint(path: .prefix("")),
            RouteConstraint(path: .exact("")),
            RouteConstraint(path: .prefix("no-slash")),
            RouteConstraint(path: .exact("/a?b")),
            RouteConstraint(path: .prefix("/é\u{0}")),
            RouteConstraint(path: .prefix(long, caseSensitive: false)),
            RouteConstraint(path: .exact(long)),
            RouteConstraint(path: .regex("(")),
            RouteConstraint(path: .regex("/x{1001}")),
            RouteConstraint(path: .pathSeparatedPrefix("/")),
            RouteConstraint(path: .prefix("/"), headers: [FieldConstraint(name: ":path", match: .prefix("/"))]),
            RouteConstraint(path: .prefix("/"), headers: [FieldConstraint(name: "X-Upper", match: .exact("v"))]),
            RouteConstraint(
                path: .prefix("/"),
                query: [
                    FieldConstraint(name: "a=b", match: .exact("v")),
                    FieldConstraint(name: "", match: .present(true)),
                ]),
            RouteConstraint(path: .prefix("/"), headers: [FieldConstraint(name: "x", match: .regex("\\bx"))]),
            RouteConstraint(
                path: .prefix("/"),
                headers: [
                    FieldConstraint(name: "x", match: .exact("a")),
                    FieldConstraint(name: "x", match: .exact("b")),
                ]),
        ]
        let r = analyze(routes)
        // Everything after the empty prefix is shadowed or undecided; nothing crashes.
        for f in r.findings where f.kind == .shadowed { #expect(f.earlier.allSatisfy { $0 < f.route }) }
        #expect(r.findings.contains { $0.route == 6 && $0.kind == .shadowed })
        #expect(r.undecidedCount > 0)
    }

    @Test func manyIdenticalRoutes() {
        let routes = (0..<3000).map { _ in RouteConstraint(path: .prefix("/same"), headers: [.method("GET")]) }
        let r = analyze(routes, sameAction: { _, _ in true })
        #expect(r.findings.count == 2999)
        #expect(r.findings.allSatisfy { $0.redundantDuplicate && $0.earlier == [0] })
    }
}
