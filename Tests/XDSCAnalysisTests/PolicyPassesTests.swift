import Testing
import XDSCAnalysis
import XDSCDiagnostics
import XDSCPolicy
import XDSCSyntax

/// The passes of a large policy run side by side (issue 13); what they report, and its
/// order, is what they report one after the other.
@Suite struct PolicyPassesTests {
    @Test func sideBySideReportsWhatOneAfterTheOtherReports() throws {
        var text = """
            version: 1
            services:
              users: {endpoints: [10.0.0.1:8080]}
              spare: {endpoints: [10.0.0.2:8080]}
            listeners:
              public:
                address: 0.0.0.0:8080
                hosts:

            """
        for h in 0..<3 {
            text += "      h\(h):\n        domains: [h\(h).example.com]\n        routes:\n"
            for r in 0..<1500 {
                // Every 50th route sends traffic to an unknown service; `spare` is unused.
                let to = r % 50 == 1 ? "user" : "users"
                text += "          - {match: {prefix: /p/\(r)}, to: \(to)}\n"
            }
        }
        let lowering = DiagnosticSink()
        let root = try #require(YAMLReader().read(Array(text.utf8), file: "p.yaml", into: lowering))
        let policy = Lowering(sink: lowering).lower([PolicyDocument(file: "p.yaml", root: root)])
        #expect(!lowering.hasErrors)
        let oneByOne = DiagnosticSink()
        for pass in PolicyPasses.all { pass.run(policy, oneByOne) }
        let sideBySide = DiagnosticSink()
        var laps: [String] = []
        PolicyPasses.run(policy, sideBySide) { laps.append($0) }
        #expect(laps == ["passes"])
        #expect(oneByOne.all.filter { $0.rule == .unknownService }.count == 3 * 30)
        #expect(oneByOne.all.contains { $0.rule == .unusedService })
        #expect(sideBySide.all == oneByOne.all)
    }
}
