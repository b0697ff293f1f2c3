import Foundation
import Testing
import XDSCDiagnostics
import XDSCDriver
import XDSCRequest

/// Every `fixtures/envoy/` case (a YAML file with `# expect: rule[, rule]` markers, a JSON
/// file with a `NAME.json.expect` file of `line:column rule` lines, or a directory read as
/// one run) is read as Envoy configuration and gives exactly the findings it expects.
@Suite struct EnvoyFixtureTests {
    static let dir = FixtureTests.root.appendingPathComponent("fixtures/envoy")

    static var cases: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".json") || !$0.contains(".") }.sorted()
    }

    @Test func thereAreCases() { #expect(Self.cases.count >= 5) }

    @Test(arguments: cases)
    func fixtureMatchesItsExpectations(_ name: String) throws {
        let path = Self.dir.appendingPathComponent(name).path
        let result = Pipeline().check([path])
        #expect(result.envoyInput != nil, "\(name) must be read as Envoy configuration")
        let rendered = ShortRenderer().render(result.diagnostics)
        if name.hasSuffix(".json") {
            // JSON has no comments: the expectations file names line, column and rule.
            let text = try String(contentsOfFile: path + ".expect", encoding: .utf8)
            let expected = text.split(separator: "\n").map(String.init)
            let got = result.diagnostics.map { "\($0.span.start.line):\($0.span.start.column) \($0.rule.rawValue)" }
            #expect(got == expected, "\(rendered)")
            return
        }
        var expected: [FixtureTests.Expectation] = []
        for file in result.sources.keys {
            expected += FixtureTests.expectations(in: file, text: try String(contentsOfFile: file, encoding: .utf8))
        }
        let got = result.diagnostics.map { FixtureTests.Expectation(file: $0.span.file, line: $0.span.start.line, rule: $0.rule.rawValue) }
        var unexpected = got
        var missing: [FixtureTests.Expectation] = []
        for e in expected {
            if let i = unexpected.firstIndex(of: e) { unexpected.remove(at: i) } else { missing.append(e) }
        }
        #expect(missing.isEmpty, "expected but not reported: \(missing)\n\(rendered)")
        #expect(unexpected.isEmpty, "reported but not expected: \(unexpected)\n\(rendered)")
    }

    /// The findings of Envoy input point at the Envoy tokens.
    @Test func positionsAreTheEnvoyTokens() {
        let result = Pipeline().check([Self.dir.appendingPathComponent("shadowed-routes.yaml").path])
        let shadowed = result.diagnostics.first { $0.rule == .routeShadowed }
        #expect(shadowed?.span.start == SourcePosition(line: 22, column: 17))
        #expect(shadowed?.related.first?.span.start == SourcePosition(line: 20, column: 17))
        #expect(shadowed?.witness?.curlCommand == "curl 'http://shop.example.com/api/v2'")
        let domain = result.diagnostics.first { $0.rule == .duplicateDomain }
        #expect(domain?.span.start == SourcePosition(line: 29, column: 25))
        #expect(domain?.related.first?.span.start == SourcePosition(line: 18, column: 45))
    }

    @Test func inputCanBeForced() {
        let path = Self.dir.appendingPathComponent("shadowed-routes.yaml").path
        let asPolicy = Pipeline().check([path], input: .policy)
        #expect(asPolicy.envoyInput == nil)
        #expect(asPolicy.diagnostics.contains { $0.rule == .unknownField })
        let policy = FixtureTests.root.appendingPathComponent("fixtures/build/minimal.yaml").path
        let asEnvoy = Pipeline().check([policy], input: .envoy)
        #expect(asEnvoy.envoyInput != nil)
        #expect(asEnvoy.diagnostics.map(\.rule) == [.invalidValue])
    }
}
