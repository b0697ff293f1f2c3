import Foundation
import Testing
import XDSCDriver
import XDSCJSON
import XDSCTestSupport

/// `fixtures/build/<case>.yaml` -> `golden/build/<case>/` (static bootstrap) and
/// `golden/build/<case>-xds/` (bootstrap + xDS files). `UPDATE_GOLDEN=1` rewrites the
/// goldens, and that run still fails so it is never mistaken for a pass.
@Suite struct BuildGoldenTests {
    /// The directory written into `path_config_source` in the xDS goldens: where a
    /// deployment would place the files.
    static let xdsRoot = "/etc/envoy/xdsc"
    static let updateCommand = "UPDATE_GOLDEN=1 swift test --filter XDSCEnvoyTests.BuildGoldenTests"

    static var cases: [String] {
        let dir = TestPaths.packageRoot.appendingPathComponent("fixtures/build")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
    }

    static func build(_ name: String, xds: Bool) -> BuildResult {
        let fixture = TestPaths.packageRoot.appendingPathComponent("fixtures/build/\(name).yaml").path
        return Build.run([fixture], options: BuildOptions(xds: xds, format: .json, xdsRoot: xdsRoot))
    }

    static func goldenDir(_ name: String, xds: Bool) -> URL {
        TestPaths.packageRoot.appendingPathComponent("golden/build/\(name)\(xds ? "-xds" : "")")
    }

    @Test func everyFixtureHasACase() {
        #expect(Self.cases.count >= 3)
    }

    @Test(arguments: cases, [false, true])
    func golden(_ name: String, xds: Bool) throws {
        let result = Self.build(name, xds: xds)
        #expect(result.frontEnd.diagnostics.isEmpty, "fixture \(name) must be clean: \(result.frontEnd.diagnostics.map(\.message))")
        let files = try #require(result.files)
        let dir = Self.goldenDir(name, xds: xds)
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try? FileManager.default.removeItem(at: dir)
            try OutputDirectory.write(files, to: dir.path)
            Issue.record("regenerated \(dir.path); run again without UPDATE_GOLDEN to verify")
            return
        }
        let diff = OutputDirectory.check(files, against: dir.path)
        let extra = Set(goldenFiles(dir)).subtracting(files.map(\.path)).sorted()
        if !diff.isEmpty || !extra.isEmpty {
            Issue.record(
                """
                golden mismatch for \(name)\(xds ? " --xds" : ""):
                \(diff)\(extra.isEmpty ? "" : "files no longer produced: \(extra)\n")
                to accept the new output run: \(Self.updateCommand)
                """)
        }
    }

    @Test(arguments: cases)
    func deterministic(_ name: String) {
        #expect(Self.build(name, xds: true).files == Self.build(name, xds: true).files)
    }

    /// The schema oracle accepts every golden file: the static bootstrap alone, and each
    /// case's xDS files in one call.
    @Test(arguments: cases, [false, true])
    func oracleAcceptsGolden(_ name: String, xds: Bool) throws {
        guard let tool = TestPaths.schemaCheck else {
            print("skipped: ../shared/tools/envoy-schema-check is absent")
            return
        }
        let dir = Self.goldenDir(name, xds: xds)
        let files = goldenFiles(dir).map { dir.appendingPathComponent($0).path }
        try #require(!files.isEmpty, "no golden files in \(dir.path); run \(Self.updateCommand)")
        let out = try runProcess(tool.path, files)
        #expect(
            out.status == 0 && out.stdout.isEmpty && out.stderr.isEmpty,
            "envoy-schema-check on \(name)\(xds ? "-xds" : ""):\n\(out.stdout)\(out.stderr)")
    }

    /// `--format yaml` output says the same as the JSON goldens and the oracle accepts it.
    @Test(arguments: cases)
    func yamlOutput(_ name: String) throws {
        guard let tool = TestPaths.schemaCheck else {
            print("skipped: ../shared/tools/envoy-schema-check is absent")
            return
        }
        let fixture = TestPaths.packageRoot.appendingPathComponent("fixtures/build/\(name).yaml").path
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("xdsc-yaml-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = try #require(Build.run([fixture], options: BuildOptions(xds: true, format: .yaml, xdsRoot: Self.xdsRoot)).files)
        try OutputDirectory.write(files, to: dir.path)
        #expect(files.allSatisfy { $0.path.hasSuffix(".yaml") })
        let out = try runProcess(tool.path, files.map { dir.appendingPathComponent($0.path).path })
        #expect(out.status == 0 && out.stdout.isEmpty && out.stderr.isEmpty, "\(out.stdout)\(out.stderr)")
        // The static bootstrap in YAML reads back as the JSON golden with .yaml paths.
        let staticFiles = try #require(Build.run([fixture], options: BuildOptions(format: .yaml)).files)
        let yamlFile = dir.appendingPathComponent("static.yaml")
        try staticFiles[0].contents.write(to: yamlFile, atomically: true, encoding: .utf8)
        if let back = try loadYAMLAsJSON(yamlFile) {
            let golden = try String(contentsOf: Self.goldenDir(name, xds: false).appendingPathComponent("bootstrap.json"), encoding: .utf8)
            #expect(back == (try JSON.parse(golden)))
        }
    }

    /// Every key of the policy language appears in some build fixture.
    @Test func fixturesCoverEverySpecKey() throws {
        let keys = [
            "version", "node", "admin", "defaults", "services", "listeners", "endpoints", "address", "port", "weight",
            "discovery", "protocol", "lb", "connect_timeout", "tls", "sni", "ca_file", "verify_san", "health_check", "http",
            "tcp", "grpc", "service", "interval", "timeout", "healthy_threshold", "unhealthy_threshold", "circuit_breaker",
            "max_connections", "max_pending_requests", "max_requests", "max_retries", "outlier_detection", "consecutive_5xx",
            "base_ejection_time", "max_ejection_percent", "cert_file", "key_file", "access_log", "hosts", "domains", "routes",
            "name", "match", "prefix", "path", "regex", "case_sensitive", "methods", "headers", "query", "exact", "suffix",
            "contains", "present", "invert", "to", "redirect", "scheme", "host", "code", "strip_query", "respond", "status",
            "body", "rewrite", "pattern", "substitution", "mirror", "percent", "hash_on", "header", "cookie", "source_ip",
            "websocket", "fault", "delay", "fixed", "abort", "idle_timeout", "retries", "attempts", "on", "per_try_timeout",
            "status_codes", "request_headers", "response_headers", "add", "set", "remove", "cors", "allow_origins",
            "allow_methods", "allow_headers", "expose_headers", "max_age", "allow_credentials", "rate_limit", "requests", "per",
            "id", "cluster",
        ]
        let dir = TestPaths.packageRoot.appendingPathComponent("fixtures/build")
        var text = ""
        for c in Self.cases { text += try String(contentsOf: dir.appendingPathComponent("\(c).yaml"), encoding: .utf8) }
        let missing = keys.filter { k in
            !text.contains("\(k):") && !text.contains("{\(k):")
        }
        #expect(missing.isEmpty, "spec keys no build fixture uses: \(missing)")
        #expect(text.contains("retries: none"))
    }

    private func goldenFiles(_ dir: URL) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: dir.path) else { return [] }
        var out: [String] = []
        while let rel = walker.nextObject() as? String {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent(rel).path, isDirectory: &isDir), !isDir.boolValue {
                out.append(rel)
            }
        }
        return out.sorted()
    }
}
