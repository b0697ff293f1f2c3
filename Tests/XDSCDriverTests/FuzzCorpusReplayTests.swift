import Foundation
import Testing
import XDSCFuzzHarnesses
import XDSCTestSupport

/// Replays every file of the fuzz corpus (Tests/fuzz/corpus/<harness>/, kept by `make fuzz`)
/// through its harness body, so a regression a fuzzer once found fails CI without a fuzzer.
@Suite("Fuzz corpus replay")
struct FuzzCorpusReplayTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fuzz/corpus")

    static let harnesses = ["lint", "regex", "shadowing", "envoy", "proxy"]

    /// The harness body a corpus directory belongs to.
    static func violation(_ harness: String, _ bytes: [UInt8]) -> Violation? {
        switch harness {
        case "lint": LintHarness.violation(bytes)
        case "regex": RegexHarness.violation(bytes)
        case "shadowing": ShadowingHarness.violation(bytes)
        case "envoy": EnvoyHarness.violation(bytes)
        case "proxy": ProxyHarness.violation(bytes)
        default: "no harness `\(harness)`"
        }
    }

    static func inputs(_ harness: String) throws -> [URL] {
        let dir = corpus.appendingPathComponent(harness)
        return try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
            .filter { !$0.lastPathComponent.hasPrefix(".") }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    @Test("every corpus file keeps its harness's invariants", arguments: harnesses)
    func replay(harness: String) throws {
        let files = try Self.inputs(harness)
        #expect(!files.isEmpty, "corpus directory Tests/fuzz/corpus/\(harness) is empty")
        for file in files {
            let bytes = try [UInt8](Data(contentsOf: file))
            let violation = Self.violation(harness, bytes)
            #expect(violation == nil, "\(harness)/\(file.lastPathComponent): \(violation ?? "")")
        }
    }

    /// The envoy harness's seeds, which `scripts/fuzz` takes from ../shared at run time and
    /// keeps out of the corpus: the shared conformance configs (bootstraps and route tables).
    @Test("every shared Envoy conformance config keeps the envoy harness's invariants")
    func sharedEnvoySeeds() throws {
        let dirs = ["conformance/envoy-configs/configs", "conformance/envoy-router-check"].map {
            TestPaths.shared.appendingPathComponent($0)
        }
        var count = 0
        for dir in dirs {
            let files = try #require(FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil), "missing \(dir.path)")
            for case let file as URL in files where file.pathExtension == "yaml" && !file.lastPathComponent.contains(".golden.") {
                let violation = EnvoyHarness.violation(try [UInt8](Data(contentsOf: file)))
                #expect(violation == nil, "\(file.lastPathComponent): \(violation ?? "")")
                count += 1
            }
        }
        #expect(count >= 20, "only \(count) shared Envoy configs found")
    }

    /// Open findings (Tests/fuzz/crashes/shadowing/, where `scripts/fuzz` puts new
    /// reproducers): each still breaks the harness's invariants, recorded as a known issue.
    /// When a fix lands, this test fails ("known issue not recorded"): move the file into the
    /// corpus. No open findings (the directory empty or missing) is fine.
    @Test("open findings of the shadowing harness still reproduce")
    func openShadowingFindings() throws {
        let dir = Self.corpus.deletingLastPathComponent().appendingPathComponent("crashes/shadowing")
        let files =
            (try? FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil))?
            .filter { !$0.lastPathComponent.hasPrefix(".") } ?? []
        for file in files {
            let bytes = try [UInt8](Data(contentsOf: file))
            withKnownIssue("XDSCRoutes: \(file.lastPathComponent)") {
                let violation = ShadowingHarness.violation(bytes)
                #expect(violation == nil, "\(violation ?? "")")
            }
        }
    }

    /// Fixed findings (`<harness>/regression-<name>`): named here so that deleting one of
    /// the files fails, not only a violation.
    @Test(
        "fixed findings keep their harness's invariants",
        arguments: [
            "shadowing/regression-overlap-example",
            "shadowing/regression-present-match-treat-missing",
            "shadowing/regression-inverted-empty-exact-match",
            "shadowing/regression-inverted-regex-header-witness",
            "shadowing/regression-authority-example-host",
            "proxy/regression-error-after-close",
            "proxy/regression-head-413-body",
        ])
    func fixedFinding(path: String) throws {
        let bytes = try [UInt8](Data(contentsOf: Self.corpus.appendingPathComponent(path)))
        let harness = String(path.prefix { $0 != "/" })
        let violation = Self.violation(harness, bytes)
        #expect(violation == nil, "\(violation ?? "")")
    }
}
