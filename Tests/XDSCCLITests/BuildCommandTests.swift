import Foundation
import Testing

/// End-to-end tests of `xdsc build`.
@Suite struct BuildCommandTests {
    static let fixture = CLI.packageRoot.appendingPathComponent("fixtures/build/minimal.yaml").path

    @Test func writesBootstrapThenChecksClean() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out").path
        let first = try CLI.run(["build", Self.fixture, "-o", out])
        #expect(first.status == 0, "\(first.stderr)")
        let golden = try String(contentsOf: CLI.packageRoot.appendingPathComponent("golden/build/minimal/bootstrap.json"), encoding: .utf8)
        #expect(try String(contentsOfFile: out + "/bootstrap.json", encoding: .utf8) == golden)
        let check = try CLI.run(["build", Self.fixture, "-o", out, "--check"])
        #expect(check.status == 0 && check.stdout.isEmpty)
    }

    @Test func checkPrintsADiffAndWritesNothing() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out").path
        _ = try CLI.run(["build", Self.fixture, "-o", out])
        let path = out + "/bootstrap.json"
        let edited = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "10000", with: "10001")
        try edited.write(toFile: path, atomically: true, encoding: .utf8)
        let check = try CLI.run(["build", Self.fixture, "-o", out, "--check"])
        #expect(check.status == 1)
        #expect(check.stdout.contains("-            \"port_value\": 10001,") || check.stdout.contains("-            \"port_value\": 10001"))
        #expect(check.stdout.contains("+            \"port_value\": 10000"))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == edited)
        let xdsCheck = try CLI.run(["build", Self.fixture, "-o", out, "--check", "--xds"])
        #expect(xdsCheck.status == 1)
        #expect(!FileManager.default.fileExists(atPath: out + "/lds.json"))
    }

    @Test func errorsWriteNothing() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let policy = dir.appendingPathComponent("bad.yaml")
        try
            "version: 1\nlisteners:\n  a:\n    address: 0.0.0.0:8080\n    hosts: {h: {domains: [x], routes: [{match: {prefix: /}, to: nope}]}}\n"
            .write(to: policy, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("out").path
        let r = try CLI.run(["build", policy.path, "-o", out])
        #expect(r.status == 1)
        #expect(r.stderr.contains("unknown-service"))
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func xdsLayoutAndStdout() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out").path
        let r = try CLI.run(["build", Self.fixture, "-o", out, "--xds", "--xds-root", "/etc/envoy/xdsc"])
        #expect(r.status == 0, "\(r.stderr)")
        for f in ["bootstrap.json", "lds.json", "cds.json", "rds/main.json", "eds/web.json"] {
            let golden = try String(contentsOf: CLI.packageRoot.appendingPathComponent("golden/build/minimal-xds/\(f)"), encoding: .utf8)
            #expect(try String(contentsOfFile: out + "/" + f, encoding: .utf8) == golden, "\(f)")
        }
        let s = try CLI.run(["build", Self.fixture, "--stdout"])
        #expect(s.status == 0 && s.stdout.hasPrefix("{\n  \"static_resources\""))
        let y = try CLI.run(["build", Self.fixture, "--stdout", "--format", "yaml"])
        #expect(y.status == 0 && y.stdout.hasPrefix("static_resources:\n"))
    }

    @Test func usageErrors() throws {
        #expect(try CLI.run(["build", Self.fixture]).status == 2)
        #expect(try CLI.run(["build", Self.fixture, "--stdout", "--check"]).status == 2)
        #expect(try CLI.run(["build", Self.fixture, "-o", "x", "--format", "xml"]).status == 2)
    }

    @Test func strictWarningsWriteNothing() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let policy = dir.appendingPathComponent("p.yaml")
        try """
        version: 1
        services:
          g: {endpoints: [10.0.0.1:80]}
          unused: {endpoints: [10.0.0.2:80]}
        listeners:
          l: {address: 0.0.0.0:80, hosts: {h: {domains: ["*"], routes: [{match: {prefix: /}, to: g}]}}}

        """.write(to: policy, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("out").path
        let strict = try CLI.run(["build", policy.path, "-o", out, "--strict"])
        #expect(strict.status == 1 && strict.stderr.contains("unused-service"))
        #expect(!FileManager.default.fileExists(atPath: out))
        let lax = try CLI.run(["build", policy.path, "-o", out])
        #expect(lax.status == 0 && lax.stderr.contains("unused-service"))
        #expect(FileManager.default.fileExists(atPath: out + "/bootstrap.json"))
    }

    @Test func directoryOfFilesIsOnePolicy() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let policies = dir.appendingPathComponent("policy")
        try FileManager.default.createDirectory(at: policies, withIntermediateDirectories: true)
        try "version: 1\nservices:\n  g: {endpoints: [10.0.0.1:80]}\n".write(
            to: policies.appendingPathComponent("a-services.yaml"), atomically: true, encoding: .utf8)
        try "version: 1\nlisteners:\n  l: {address: 0.0.0.0:80, hosts: {h: {domains: [\"*\"], routes: [{match: {prefix: /}, to: g}]}}}\n"
            .write(
                to: policies.appendingPathComponent("b-listeners.yaml"), atomically: true, encoding: .utf8)
        let r = try CLI.run(["build", policies.path, "--stdout"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"cluster\": \"g\""))
    }

    /// Every file of `dir`, relative path -> bytes.
    static func tree(_ dir: URL) -> [String: Data] {
        var out: [String: Data] = [:]
        let walker = FileManager.default.enumerator(atPath: dir.path)
        while let rel = walker?.nextObject() as? String {
            if let d = FileManager.default.contents(atPath: dir.appendingPathComponent(rel).path) { out[rel] = d }
        }
        return out
    }

    /// `--xds -o rel/` writes the output directory as given into the bootstrap, so two
    /// checkouts in different folders build identical bytes and each `--check`s clean.
    @Test func xdsOutputDoesNotDependOnTheCheckoutFolder() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let policy = try String(contentsOfFile: Self.fixture, encoding: .utf8)
        var trees: [[String: Data]] = []
        for checkout in ["one", "elsewhere/two"] {
            let root = dir.appendingPathComponent(checkout)
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            try policy.write(to: root.appendingPathComponent("policy.yaml"), atomically: true, encoding: .utf8)
            let r = try CLI.run(["build", "--xds", "policy.yaml", "-o", "envoy/"], in: root)
            #expect(r.status == 0, "\(r.stderr)")
            trees.append(Self.tree(root.appendingPathComponent("envoy")))
        }
        #expect(trees[0].count == 5)
        #expect(trees[0] == trees[1])
        let bootstrap = String(decoding: trees[0]["bootstrap.json"] ?? Data(), as: UTF8.self)
        #expect(bootstrap.contains("\"path\": \"envoy/lds.json\""), "\(bootstrap)")
        #expect(!bootstrap.contains(dir.path))
        // Each checkout checks clean (and, the bytes being equal, against the other's output).
        let check = try CLI.run(
            ["build", "--xds", "--check", "policy.yaml", "-o", "envoy/"], in: dir.appendingPathComponent("elsewhere/two"))
        #expect(check.status == 0 && check.stdout.isEmpty, "\(check.stdout)")
        // `--xds-root` still overrides.
        let rooted = try CLI.run(["build", "--xds", Self.fixture, "--stdout", "--xds-root", "/srv/envoy/"])
        #expect(rooted.stdout.contains("\"path\": \"/srv/envoy/lds.json\""))
        #expect(try CLI.run(["build", Self.fixture, "-o", ""]).status == 2)
    }

    /// A write failure is a plain message naming the path and the reason, exit 2, and
    /// nothing is half-written. Tests run as root, so unwritable means "a regular file where
    /// a directory must go", which stops root too.
    @Test func writeErrorsNameThePathAndTheReason() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let blocker = dir.appendingPathComponent("not-a-dir")
        try "x\n".write(to: blocker, atomically: true, encoding: .utf8)
        let r = try CLI.run(["build", Self.fixture, "-o", blocker.path + "/out"])
        #expect(r.status == 2)
        #expect(r.stderr == "error: cannot write `\(blocker.path)`: not a directory\n")
        #expect(try String(contentsOf: blocker, encoding: .utf8) == "x\n")

        // An existing output directory whose `eds` is a file: `rds/` would be created first;
        // the failure removes it again and leaves the old bootstrap and no temporaries.
        let out = dir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try "old\n".write(to: out.appendingPathComponent("bootstrap.json"), atomically: true, encoding: .utf8)
        try "".write(to: out.appendingPathComponent("eds"), atomically: true, encoding: .utf8)
        let x = try CLI.run(["build", "--xds", Self.fixture, "-o", out.path + "/"])
        #expect(x.status == 2)
        #expect(x.stderr == "error: cannot write `\(out.path)/eds`: not a directory\n")
        #expect(!x.stderr.contains("NSCocoaErrorDomain") && !x.stderr.contains("operation could not be completed"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).sorted() == ["bootstrap.json", "eds"])
        #expect(try String(contentsOf: out.appendingPathComponent("bootstrap.json"), encoding: .utf8) == "old\n")

        // A directory where an output file belongs.
        let clash = dir.appendingPathComponent("clash")
        try FileManager.default.createDirectory(at: clash.appendingPathComponent("bootstrap.json"), withIntermediateDirectories: true)
        let c = try CLI.run(["build", Self.fixture, "-o", clash.path])
        #expect(c.status == 2)
        #expect(c.stderr == "error: cannot write `\(clash.path)/bootstrap.json`: is a directory\n")

        // `graph -o` reports the same way.
        let g = try CLI.run(["graph", Self.fixture, "-o", blocker.path + "/g.dot"])
        #expect(g.status == 2)
        #expect(g.stderr == "error: cannot write `\(blocker.path)/g.dot`: not a directory\n")
    }

    /// `--check` reports every file `build` would delete as stale, even an empty one, and
    /// exits 1; `build` then deletes it. A directory named like an output file is neither
    /// reported nor deleted.
    @Test func checkReportsStaleFilesEvenWhenEmpty() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out").path
        #expect(try CLI.run(["build", "--xds", Self.fixture, "-o", out]).status == 0)
        #expect(try CLI.run(["build", "--xds", "--check", Self.fixture, "-o", out]).status == 0)
        for (name, body) in [("rds/old.json", ""), ("eds/gone.yaml", "")] {
            #expect(FileManager.default.createFile(atPath: out + "/" + name, contents: Data(body.utf8)))
            let check = try CLI.run(["build", "--xds", "--check", Self.fixture, "-o", out])
            #expect(check.status == 1, "\(name)")
            #expect(check.stdout == "--- \(out)/\(name)\n+++ /dev/null\n")
            #expect(FileManager.default.fileExists(atPath: out + "/" + name))
            #expect(try CLI.run(["build", "--xds", Self.fixture, "-o", out]).status == 0)
            #expect(!FileManager.default.fileExists(atPath: out + "/" + name))
        }
        try FileManager.default.createDirectory(atPath: out + "/rds/keep.json", withIntermediateDirectories: true)
        #expect(try CLI.run(["build", "--xds", "--check", Self.fixture, "-o", out]).status == 0)
        #expect(try CLI.run(["build", "--xds", Self.fixture, "-o", out]).status == 0)
        #expect(FileManager.default.fileExists(atPath: out + "/rds/keep.json"))
    }
}
