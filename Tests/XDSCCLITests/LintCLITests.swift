import Foundation
import Testing

/// `xdsc lint` as a user runs it: output formats, exit codes, inputs.
@Suite struct LintCLITests {
    static let typo = """
        version: 1
        services:
          users: {endpoints: [10.0.0.1:8080]}
        listeners:
          public:
            address: 0.0.0.0:8080
            hosts:
              api:
                domains: [api.example.com]
                routes:
                  - match: {prefix: /}
                    to: users
                    tmeout: 5s
        """

    func withPolicy(_ text: String, name: String = "policy.yaml", _ body: (URL) throws -> Void) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
        try body(dir)
    }

    @Test func exampleIsClean() throws {
        let r = try CLI.run(["lint", "fixtures/example"])
        #expect(r.status == 0)
        #expect(r.stdout.hasPrefix("no problems found: 1 file, 4 services"))
    }

    @Test func typoShowsLineColumnAndSuggestion() throws {
        try withPolicy(Self.typo) { dir in
            let r = try CLI.run(["lint", "policy.yaml"], in: dir)
            #expect(r.status == 1)
            #expect(r.stdout.contains("error[unknown-field]: unknown key `tmeout` in route #1; did you mean `timeout`?"))
            #expect(r.stdout.contains("--> policy.yaml:13:13"))
            #expect(r.stdout.contains("13 |             tmeout: 5s\n   |             ^^^^^^ unknown key"))
            #expect(!r.stdout.contains("\u{1B}["), "no colour when not on a terminal")
        }
    }

    @Test func shortFormat() throws {
        try withPolicy(Self.typo) { dir in
            let r = try CLI.run(["lint", "--format", "short", "policy.yaml"], in: dir)
            #expect(r.stdout == "policy.yaml:13:13: error[unknown-field]: unknown key `tmeout` in route #1; did you mean `timeout`?\n")
        }
    }

    @Test func jsonFormatHasTheSpecShape() throws {
        try withPolicy(Self.typo) { dir in
            let r = try CLI.run(["lint", "--format", "json", "policy.yaml"], in: dir)
            #expect(r.status == 1)
            let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            let diags = try #require(doc["diagnostics"] as? [[String: Any]])
            #expect(diags.count == 1)
            #expect(diags[0]["severity"] as? String == "error")
            #expect(diags[0]["rule"] as? String == "unknown-field")
            #expect(diags[0]["code"] as? String == "XDS003")
            let loc = try #require(diags[0]["location"] as? [String: Any])
            #expect(loc["file"] as? String == "policy.yaml")
            #expect(loc["line"] as? Int == 13)
            #expect(loc["column"] as? Int == 13)
            #expect((diags[0]["related"] as? [Any])?.isEmpty == true)
            let summary = try #require(doc["summary"] as? [String: Int])
            #expect(summary == ["errors": 1, "warnings": 0])
        }
    }

    @Test func colourAlwaysAndNoColor() throws {
        try withPolicy(Self.typo) { dir in
            let always = try CLI.run(["lint", "--color", "always", "policy.yaml"], in: dir)
            #expect(always.stdout.contains("\u{1B}[1;31merror[unknown-field]"))
            let auto = try CLI.run(["lint", "policy.yaml"], in: dir, environment: ["NO_COLOR": "1"])
            #expect(!auto.stdout.contains("\u{1B}["))
        }
    }

    @Test func warningsPassUnlessStrict() throws {
        let text =
            Self.typo.replacingOccurrences(of: "        tmeout: 5s", with: "")
            + "\n  # unused\n".replacingOccurrences(of: "\n  # unused\n", with: "")
        let withUnused = text.replacingOccurrences(
            of: "  users: {endpoints: [10.0.0.1:8080]}", with: "  users: {endpoints: [10.0.0.1:8080]}\n  old: {endpoints: [10.0.0.2:8080]}")
        try withPolicy(withUnused) { dir in
            let normal = try CLI.run(["lint", "--format", "short", "policy.yaml"], in: dir)
            #expect(normal.status == 0)
            #expect(normal.stdout.contains("warning[unused-service]"))
            let strict = try CLI.run(["lint", "--strict", "policy.yaml"], in: dir)
            #expect(strict.status == 1)
        }
    }

    @Test func missingPathExitsTwo() throws {
        let r = try CLI.run(["lint", "--format", "short", "does/not/exist.yaml"])
        #expect(r.status == 2)
        #expect(r.stdout.contains("error[unreadable-input]: no such file or directory: does/not/exist.yaml"))
    }

    @Test func emptyDirectoryExitsTwo() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "not yaml".write(to: dir.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        let r = try CLI.run(["lint", "--format", "short", dir.path])
        #expect(r.status == 2)
        #expect(r.stdout.contains("holds no policy files"))
    }

    @Test func unreadableFileExitsTwo() throws {
        // Root reads everything: the run is made as `nobody` then (or the test is cancelled).
        let prefix = try InputDiscoveryTests.unprivileged()
        try withPolicy(Self.typo) { dir in
            let file = dir.appendingPathComponent("policy.yaml")
            try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: file.path)
            let args = ["lint", "--format", "short", "policy.yaml"]
            let r =
                prefix.isEmpty
                ? try CLI.run(args, in: dir) : try CLI.runProgram(prefix[0], Array(prefix.dropFirst()) + [CLI.binary.path] + args, in: dir)
            #expect(r.status == 2)
            #expect(
                r.stdout.contains("policy.yaml:1:1: error[unreadable-input]: cannot read policy.yaml: permission denied"), "\(r.stdout)")
        }
    }

    @Test func usageErrorsExitTwo() throws {
        #expect(try CLI.run(["lint", "--format", "xml", "x.yaml"]).status == 2)
        #expect(try CLI.run(["lint"]).status == 2)
        #expect(try CLI.run(["frobnicate"]).status == 2)
    }

    @Test func binaryAndMalformedInputNeverCrash() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cases: [(String, [UInt8])] = [
            ("binary.yaml", [0xFF, 0xFE, 0x00, 0x01, 0x80]),
            ("tabs.yaml", Array("a:\n\tb: 1\n".utf8)),
            ("empty.yaml", []),
            ("scalar.yaml", Array("just a string\n".utf8)),
            ("list.yaml", Array("- 1\n- 2\n".utf8)),
            ("deep.yaml", Array((String(repeating: "[", count: 500) + String(repeating: "]", count: 500)).utf8)),
        ]
        for (name, bytes) in cases {
            try Data(bytes).write(to: dir.appendingPathComponent(name))
            let r = try CLI.run(["lint", "--format", "short", name], in: dir)
            #expect(r.status == 1, "\(name): \(r.stdout) \(r.stderr)")
            #expect(r.stdout.hasPrefix("\(name):"), "\(name): \(r.stdout)")
            #expect(r.stderr.isEmpty, "\(name): \(r.stderr)")
        }
    }

    @Test func directoryIsOnePolicyInPathOrder() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("policy/.hidden"), withIntermediateDirectories: true)
        try "version: 1\nservices:\n  users: {endpoints: [10.0.0.1:80]}\n".write(
            to: dir.appendingPathComponent("policy/b-services.yml"), atomically: true, encoding: .utf8)
        try Self.typo.replacingOccurrences(of: "        tmeout: 5s", with: "").replacingOccurrences(
            of: "services:\n  users: {endpoints: [10.0.0.1:8080]}\n", with: ""
        )
        .write(to: dir.appendingPathComponent("policy/a-listeners.yaml"), atomically: true, encoding: .utf8)
        try "garbage: [".write(to: dir.appendingPathComponent("policy/.hidden/x.yaml"), atomically: true, encoding: .utf8)
        let r = try CLI.run(["lint", "policy"], in: dir)
        #expect(r.status == 0, "\(r.stdout)")
        #expect(r.stdout.contains("2 files, 1 service, 1 listener"))
    }
}
