import Foundation

/// Helpers for end-to-end tests that drive other programs (git, python3, make, mandoc).
enum Tools {
    /// The first executable called `name` on PATH.
    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") where !dir.isEmpty {
            let candidate = String(dir) + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs `name` (looked up on PATH) and captures its output.
    static func run(
        _ name: String, _ args: [String], in directory: URL? = nil, environment: [String: String] = [:]
    ) throws -> CLIRun {
        guard let path = name.hasPrefix("/") ? name : which(name) else {
            return CLIRun(status: 127, stdout: "", stderr: "\(name): not found on PATH")
        }
        return try CLI.runProgram(path, args, in: directory, environment: environment)
    }

    /// Whether Python can validate JSON Schemas (jsonschema and PyYAML installed).
    static let hasJSONSchemaValidator: Bool = {
        guard let r = try? run("python3", ["-c", "import jsonschema, yaml"]) else { return false }
        return r.status == 0
    }()

    /// `scripts/schema-check SCHEMA FILE...`: per file, the validator's errors (empty = valid).
    static func validate(schema: String, files: [String]) throws -> [String: [String]] {
        let script = CLI.packageRoot.appendingPathComponent("scripts/schema-check").path
        let r = try run("python3", [script, schema] + files)
        guard r.status == 0 || r.status == 1, let data = r.stdout.data(using: .utf8),
            let report = try JSONSerialization.jsonObject(with: data) as? [String: [String]]
        else {
            throw ToolFailure("schema-check failed (\(r.status)): \(r.stderr)")
        }
        return report
    }

    /// 1-based line and column of the first occurrence of `needle` in `text`.
    static func position(of needle: String, in text: String) -> (line: Int, column: Int)? {
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if let r = line.range(of: needle) {
                return (i + 1, line.unicodeScalars.distance(from: line.unicodeScalars.startIndex, to: r.lowerBound) + 1)
            }
        }
        return nil
    }

    /// Every `*.yaml`/`*.yml` below `fixtures/`, as paths relative to the package root, sorted.
    static func fixtureFiles() -> [String] {
        let root = CLI.packageRoot.appendingPathComponent("fixtures")
        guard let walker = FileManager.default.enumerator(atPath: root.path) else { return [] }
        var out: [String] = []
        while let rel = walker.nextObject() as? String {
            if rel.hasSuffix(".yaml") || rel.hasSuffix(".yml") { out.append("fixtures/" + rel) }
        }
        return out.sorted()
    }

    /// The rule ids of a fixture's `# expect: rule-id` markers.
    static func expectedRules(_ text: String) -> Set<String> {
        var rules = Set<String>()
        for line in text.split(separator: "\n") {
            guard let r = line.range(of: "# expect:") else { continue }
            for word in line[r.upperBound...].split(whereSeparator: { $0 == " " || $0 == "," }) {
                rules.insert(String(word))
            }
        }
        return rules
    }
}

struct ToolFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
