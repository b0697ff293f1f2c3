import Foundation
import Testing
import XDSCDiagnostics
import XDSCDriver
import XDSCTestSupport

/// Every `fixtures/lint/` case (a file, or a directory read as one policy) must produce
/// exactly the diagnostics its `# expect: rule[, rule]` comments name, on those lines.
@Suite struct FixtureTests {
    static let root = TestPaths.packageRoot

    static var cases: [String] {
        let dir = root.appendingPathComponent("fixtures/lint")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") || !$0.contains(".") }.sorted()
    }

    struct Expectation: Hashable, CustomStringConvertible {
        var file: String
        var line: Int
        var rule: String
        var description: String { "\(file):\(line): \(rule)" }
    }

    static func expectations(in file: String, text: String) -> [Expectation] {
        var out: [Expectation] = []
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard let r = line.range(of: "# expect:") else { continue }
            for rule in line[r.upperBound...].split(separator: ",") {
                out.append(Expectation(file: file, line: i + 1, rule: rule.trimmingCharacters(in: .whitespaces)))
            }
        }
        return out
    }

    @Test func thereAreFixturesForEveryRule() {
        let texts = Self.cases.flatMap { name -> [String] in
            let url = Self.root.appendingPathComponent("fixtures/lint/\(name)")
            let files =
                name.hasSuffix(".yaml")
                ? [url]
                : ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).map {
                    url.appendingPathComponent($0)
                }
            return files.compactMap { try? String(contentsOf: $0, encoding: .utf8) }
        }
        // Envoy-input rules have their fixtures under fixtures/envoy.
        let envoy = FixtureTests.root.appendingPathComponent("fixtures/envoy")
        let envoyTexts = (FileManager.default.enumerator(atPath: envoy.path)?.allObjects as? [String] ?? []).compactMap {
            try? String(contentsOf: envoy.appendingPathComponent($0), encoding: .utf8)
        }
        let all = (texts + envoyTexts).joined(separator: "\n")
        for rule in Rule.ID.allCases where rule != .unreadableInput {
            #expect(all.contains("# expect: \(rule.rawValue)"), "no fixture expects \(rule.rawValue)")
        }
    }

    @Test(arguments: cases)
    func fixtureMatchesItsExpectations(_ name: String) throws {
        // Absolute paths: tests run in parallel, so the working directory is not ours to change.
        let path = Self.root.appendingPathComponent("fixtures/lint/\(name)").path
        let result = Pipeline().check([path])
        var expected: [Expectation] = []
        for file in result.sources.keys {
            expected += Self.expectations(in: file, text: try String(contentsOfFile: file, encoding: .utf8))
        }
        let got = result.diagnostics.map { Expectation(file: $0.span.file, line: $0.span.start.line, rule: $0.rule.rawValue) }
        let missing = expected.filter { e in !got.contains(e) }
        var unexpected = got
        for e in expected { if let i = unexpected.firstIndex(of: e) { unexpected.remove(at: i) } }
        let rendered = ShortRenderer().render(result.diagnostics)
        #expect(missing.isEmpty, "expected but not reported: \(missing)\n\(rendered)")
        #expect(unexpected.isEmpty, "reported but not expected: \(unexpected)\n\(rendered)")
    }
}
