import Foundation
import Testing
import XDSCDiagnostics
import XDSCDriver
import XDSCTestSupport

/// The issue's proof for the route findings: every example request of the lint fixtures,
/// sent through the proxy, reaches what the route the finding names does.
@Suite struct WitnessReplayTests {
    /// Every lint and Envoy fixture (files, and the folders that hold one configuration).
    static var inputs: [String] {
        let fm = FileManager.default
        var out: [String] = []
        for dir in ["fixtures/lint", "fixtures/envoy", "fixtures/example"] {
            let names = (try? fm.contentsOfDirectory(atPath: TestPaths.packageRoot.appendingPathComponent(dir).path)) ?? []
            for n in names.sorted() where n.hasSuffix(".yaml") || n.hasSuffix(".json") || !n.contains(".") {
                out.append(dir + "/" + n)
            }
        }
        return out
    }

    @Test func everyWitnessReachesTheRouteItsFindingNames() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("xdsc-witness-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = TestPaths.packageRoot.path
        var ran = 0
        var withFindings: [String] = []
        var notRunnable: [String] = []
        var noTest: [String] = []
        for input in Self.inputs {
            let result = Pipeline().check([root + "/" + input])
            let findings = result.diagnostics.filter { [.routeShadowed, .routeOverlap].contains($0.rule) && $0.witness != nil }
            guard !findings.isEmpty else { continue }
            withFindings.append(input)
            let specPath = dir.appendingPathComponent(input.replacingOccurrences(of: "/", with: "_") + ".traffic.yaml").path
            let spec = WitnessSpec.spec(for: result, inputs: [root + "/" + input], specPath: specPath)
            noTest += spec.skipped
            #expect(spec.tests + spec.skipped.count == findings.count, "\(input): every finding is a test or a reason")
            try spec.text.write(toFile: specPath, atomically: true, encoding: .utf8)
            let out = TrafficTestCommand.run(spec: specPath, format: .human)
            // A fixture whose configuration has other errors (a duplicate key...) cannot be
            // served: exit 1 with no results.
            if out.results == nil {
                #expect(out.exitCode == 1, "\(input): \(out.stderr)")
                let blocking = result.diagnostics.filter { $0.severity == .error && !TrafficTestCommand.tolerated.contains($0.rule) }
                #expect(!blocking.isEmpty, "\(input) has no error but is not served:\n\(out.stderr)")
                notRunnable.append("\(input): \(blocking.count) other error(s), e.g. \(blocking.first?.rule.rawValue ?? "-")")
                continue
            }
            #expect(out.exitCode == 0, "\(input):\n\(out.stdout)\(out.stderr)")
            #expect(out.results?.count == spec.tests)
            ran += out.results?.count ?? 0
        }
        print("witness replay: \(ran) witnesses sent through the proxy from \(withFindings.count) fixtures with findings")
        for s in noTest { print("  no test: \(s)") }
        for s in notRunnable { print("  not served: \(s)") }
        #expect(withFindings.count >= 5)
        // fixtures/envoy/dynamic's listener selects its only chain by SNI without the
        // tls_inspector, so it serves no plain-text request (in Envoy neither): no test.
        #expect(ran >= 11)
        #expect(noTest.contains { $0.contains("fixtures/envoy/dynamic/rds.yaml") && $0.contains("plain-text connection") })
    }
}
