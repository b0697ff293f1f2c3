import Foundation
import Testing

/// `xdsc diff --format json` output, as committed under golden/diff, is valid against
/// schemas/diff.v1.schema.json, and a broken report is not.
@Suite struct DiffSchemaTests {
    @Test func goldenDiffOutputsMatchTheSchema() throws {
        let dir = CLI.packageRoot.appendingPathComponent("golden/diff")
        let tmp = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: tmp) }
        var files: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() where name.hasSuffix(".json") {
            // The golden file ends with the exit-code line; the JSON is what precedes it.
            let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
            let json = text.components(separatedBy: "\nexit ").first! + "\n"
            let out = tmp.appendingPathComponent(name)
            try json.write(to: out, atomically: true, encoding: .utf8)
            files.append(out.path)
        }
        #expect(files.count >= 5)
        let bad = tmp.appendingPathComponent("bad.json")
        try #"{"version": 1, "equal": "no"}"#.write(to: bad, atomically: true, encoding: .utf8)
        let schema = CLI.packageRoot.appendingPathComponent("schemas/diff.v1.schema.json").path
        let report = try Tools.validate(schema: schema, files: files + [bad.path])
        for f in files { #expect(report[f] == [], "\(f): \(report[f] ?? [])") }
        #expect(!(report[bad.path] ?? []).isEmpty)
    }
}
