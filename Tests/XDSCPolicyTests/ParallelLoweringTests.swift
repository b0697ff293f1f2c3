import Testing
import XDSCDiagnostics
import XDSCSyntax

@testable import XDSCPolicy

/// Issue 13: the hosts of a large listener are lowered on several threads, and their
/// inheritance resolved there; the diagnostics (in the order added), the routes and their
/// effective policy, and the services referenced are exactly those of one thread.
@Suite struct ParallelLoweringTests {
    /// Hosts of routes with a problem here and there: every host has findings, so an order
    /// taken from the threads rather than the hosts would show.
    func policyText(hosts: Int, routes: Int) -> String {
        var lines = ["version: 1", "services:"]
        for s in 0..<5 { lines.append("  svc-\(s): {endpoints: [10.0.0.\(s + 1):8080]}") }
        lines += ["listeners:", "  public:", "    address: 0.0.0.0:8080", "    timeout: 20s", "    hosts:"]
        for h in 0..<hosts {
            lines += ["      h\(h):", "        domains: [h\(h).example.com]"]
            if h % 2 == 0 { lines.append("        timeout: \(h + 1)s") }
            lines.append("        routes:")
            for r in 0..<routes {
                // A repeated name, an unknown key, a bad method, a header matched twice, an
                // unknown service, a mirror, a route-level timeout.
                let name = r % 97 == 5 ? "r\(r - 1)" : "r\(r)"
                lines.append("          - name: \(name)")
                switch r % 6 {
                case 0: lines.append("            match: {prefix: /a/\(r), methods: [GET, GOT]}")
                case 1: lines.append("            match: {path: /p/\(r), headers: {x-a: '1', X-A: '2'}}")
                case 2: lines.append("            match: {regex: \"/re/\(r)/[0-9]+\"}")
                default: lines.append("            match: {prefix: /m/\(r)/}")
                }
                lines.append("            to: \(r % 53 == 7 ? "nosuch-\(h)" : "svc-\(r % 5)")")
                if r % 31 == 3 { lines.append("            tmeout: 3s") }
                if r % 10 == 0 { lines.append("            timeout: \(r % 9 + 1)s") }
                if r % 41 == 9 { lines.append("            mirror: svc-\((r + 1) % 5)") }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    struct Lowered {
        var diagnostics: [String]
        var routes: [String]
        var referenced: Set<String>
    }

    func lower(_ text: String, workers: Int) throws -> Lowered {
        let sink = DiagnosticSink()
        let root = try #require(YAMLReader().read(Array(text.utf8), file: "p.yaml", into: sink))
        let policy = Lowering(sink: sink, workers: workers).lower([PolicyDocument(file: "p.yaml", root: root)])
        var routes: [String] = []
        for l in policy.listeners {
            for h in l.hosts {
                for r in h.routes {
                    let timeout = r.effective.timeout.map { "\($0.value) \($0.provenance)" } ?? "-"
                    routes.append("\(h.name.value) \(r.index) \(r.displayName) \(r.span) \(timeout) \(r.mirror?.service.value ?? "-")")
                }
            }
        }
        let diagnostics = sink.all.map { "\($0.rule) \($0.span) \($0.message) \($0.related.map { "\($0.span)" })" }
        return Lowered(diagnostics: diagnostics, routes: routes, referenced: policy.referencedServiceNames)
    }

    @Test func severalThreadsLowerAsOneDoes() throws {
        let text = policyText(hosts: 7, routes: 700)
        let one = try lower(text, workers: 1)
        let several = try lower(text, workers: 4)
        // The input has findings in every host, and the routes are all there.
        #expect(one.routes.count == 7 * 700)
        for h in 0..<7 { #expect(one.diagnostics.contains { $0.contains("nosuch-\(h)") || $0.contains("host `h\(h)`") }) }
        #expect(one.diagnostics.count > 7 * 20)
        #expect(one.referenced.contains("nosuch-6") && one.referenced.contains("svc-4"))
        #expect(several.diagnostics == one.diagnostics)
        #expect(several.routes == one.routes)
        #expect(several.referenced == one.referenced)
    }

    @Test func theDefaultThreadsLowerAsOneDoes() throws {
        // Above `Parallel.minimumRoutes`: the default takes every processor.
        let text = policyText(hosts: 3, routes: Parallel.minimumRoutes / 2)
        let one = try lower(text, workers: 1)
        let sink = DiagnosticSink()
        let root = try #require(YAMLReader().read(Array(text.utf8), file: "p.yaml", into: sink))
        _ = Lowering(sink: sink).lower([PolicyDocument(file: "p.yaml", root: root)])
        #expect(!one.diagnostics.isEmpty)
        #expect(sink.all.map { "\($0.rule) \($0.span) \($0.message) \($0.related.map { "\($0.span)" })" } == one.diagnostics)
    }
}
