import Foundation
import XDSCJSON

/// Paths of the package and of the shared material beside it, for every test target.
public enum TestPaths {
    /// The package root (this file is Tests/XDSCTestSupport/TestPaths.swift).
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The shared material CI places next to the package (`../shared`).
    public static let shared: URL = packageRoot.deletingLastPathComponent().appendingPathComponent("shared")

    /// The Envoy route-table-check corpus, or nil when absent.
    public static var routerCheckCorpus: URL? {
        let dir = shared.appendingPathComponent("conformance/envoy-router-check")
        return FileManager.default.fileExists(atPath: dir.path) ? dir : nil
    }

    /// The schema oracle, or nil when absent.
    public static var schemaCheck: URL? {
        let tool = shared.appendingPathComponent("tools/envoy-schema-check/envoy-schema-check")
        return FileManager.default.isExecutableFile(atPath: tool.path) ? tool : nil
    }
}

/// Runs `executable` with `arguments` and waits for it.
public func runProcess(_ executable: String, _ arguments: [String], currentDirectory: URL? = nil) throws -> ProcessOutput {
    try ProcessRunner.run(executable, arguments, in: currentDirectory)
}

/// Reads a YAML (or lenient JSON) file as JSON through PyYAML, or nil when Python or
/// PyYAML is unavailable. Only tests use this; the product reads YAML with libyaml.
public func loadYAMLAsJSON(_ file: URL) throws -> JSON? {
    let script = "import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1], encoding='utf-8'))))"
    guard let out = try? runProcess("/usr/bin/env", ["python3", "-c", script, file.path]), out.status == 0 else { return nil }
    return try JSON.parse(out.stdout)
}
