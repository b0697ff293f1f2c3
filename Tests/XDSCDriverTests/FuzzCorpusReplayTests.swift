import Foundation
import Testing
import XDSCFuzzHarnesses

/// Replays every file of the fuzz corpus (Tests/fuzz/corpus/<harness>/, kept by `make fuzz`)
/// through its harness body, so a regression a fuzzer once found fails CI without a fuzzer.
@Suite("Fuzz corpus replay")
struct FuzzCorpusReplayTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fuzz/corpus")

    static let harnesses = ["lint", "regex", "shadowing"]

    /// The harness body a corpus directory belongs to.
    static func violation(_ harness: String, _ bytes: [UInt8]) -> Violation? {
        switch harness {
        case "lint": LintHarness.violation(bytes)
        case "regex": RegexHarness.violation(bytes)
        case "shadowing": ShadowingHarness.violation(bytes)
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

    /// Open findings (Tests/fuzz/crashes/): each fails its strict invariant today. When a fix
    /// lands, this test fails ("known issue not recorded"): move the file into the corpus.
    @Test(
        "open findings of the shadowing harness",
        arguments: [
            "open-present-match-treat-missing-as-empty",
            "open-inverted-empty-exact-match",
            "open-inverted-regex-header-witness",
        ])
    func openShadowingFinding(name: String) throws {
        let file = Self.corpus.deletingLastPathComponent().appendingPathComponent("crashes/shadowing/\(name)")
        let bytes = try [UInt8](Data(contentsOf: file))
        withKnownIssue("XDSCRoutes: \(name)") {
            let violation = ShadowingHarness.violation(bytes, strict: true)
            #expect(violation == nil, "\(violation ?? "")")
        }
    }

    /// Fixed findings of the shadowing harness, replayed in the strict form they once broke.
    @Test("fixed findings of the shadowing harness keep the strict invariant", arguments: ["regression-overlap-example"])
    func fixedShadowingFinding(name: String) throws {
        let bytes = try [UInt8](Data(contentsOf: Self.corpus.appendingPathComponent("shadowing/\(name)")))
        let violation = ShadowingHarness.violation(bytes, strict: true)
        #expect(violation == nil, "\(violation ?? "")")
    }
}
