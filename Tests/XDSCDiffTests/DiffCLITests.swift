import Foundation
import Testing
import XDSCJSON
import XDSCTestSupport

enum Tool {
    /// The package root (this file is Tests/XDSCDiffTests/DiffCLITests.swift).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static var binary: String {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while dir.path.hasSuffix(".xctest") || dir.lastPathComponent == "MacOS" { dir.deleteLastPathComponent() }
        let candidates = [dir.appendingPathComponent("xdsc").path, root.appendingPathComponent(".build/debug/xdsc").path]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }

    static func run(_ args: [String], in dir: URL? = nil) throws -> ProcessOutput {
        try ProcessRunner.run(binary, args, in: dir ?? root, environment: ["NO_COLOR": "1"], stdin: nil)
    }

    static func diff(_ name: String, _ extra: [String] = []) throws -> ProcessOutput {
        let base = "fixtures/diff/\(name)"
        let fm = FileManager.default
        let old =
            fm.fileExists(atPath: root.appendingPathComponent("\(base)/old/routes.yaml").path) ? "\(base)/old/routes.yaml" : "\(base)/old"
        let new =
            fm.fileExists(atPath: root.appendingPathComponent("\(base)/new/routes.yaml").path) ? "\(base)/new/routes.yaml" : "\(base)/new"
        return try run(["diff"] + extra + [old, new])
    }

    static let cases: [String] = {
        let dir = root.appendingPathComponent("fixtures/diff").path
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
    }()
}

@Suite("xdsc diff: fixture pairs against golden output")
struct DiffGoldenTests {
    @Test("every fixture pair has a golden output and matches it", arguments: Tool.cases)
    func golden(name: String) throws {
        for (format, ext) in [("human", "txt"), ("json", "json")] {
            let r = try Tool.diff(name, ["--format", format])
            let text = r.stdout + "exit \(r.status)\n"
            let path = Tool.root.appendingPathComponent("golden/diff/\(name).\(ext)")
            if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
                try FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
                try text.write(to: path, atomically: true, encoding: .utf8)
                Issue.record("golden/diff/\(name).\(ext) regenerated; review it and run again without UPDATE_GOLDEN")
                continue
            }
            let expected = try String(contentsOf: path, encoding: .utf8)
            #expect(text == expected, "golden/diff/\(name).\(ext) differs (UPDATE_GOLDEN=1 regenerates)")
            #expect(r.stderr.isEmpty, "\(r.stderr)")
        }
    }

    @Test("every reported position points at the element it names", arguments: Tool.cases)
    func positions(name: String) throws {
        let r = try Tool.diff(name, ["--format", "json"])
        let json = try JSON.parse(r.stdout)
        func check(_ pos: JSON?, _ named: String?) throws {
            guard let pos, let file = pos["file"]?.stringValue, let line = pos["line"]?.intValue, let col = pos["column"]?.intValue else {
                return
            }
            let text = try String(contentsOf: Tool.root.appendingPathComponent(file), encoding: .utf8)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            try #require(line >= 1 && Int(line) <= lines.count, "\(file):\(line)")
            let l = lines[Int(line) - 1]
            try #require(col >= 1 && Int(col) <= l.count, "\(file):\(line):\(col)")
            let rest = l.dropFirst(Int(col) - 1)
            // A route or host starts at its first key (or a flow mapping); the name sits on
            // that line or the first key is the name.
            #expect(!rest.hasPrefix(" "), "\(file):\(line):\(col) points at blank space")
            if let named, !named.hasPrefix("#") {
                #expect(
                    text.split(separator: "\n").dropFirst(Int(line) - 1).prefix(4).contains { $0.contains(named) },
                    "\(file):\(line): \(named)")
            }
        }
        for e in json["semantic"]?.arrayValue ?? [] {
            // Listeners are named `listener `NAME``; the others by their name.
            let name = e["name"]?.stringValue.map { n in n.split(separator: "`").dropFirst().first.map(String.init) ?? n }
            try check(e["old"], name)
            try check(e["new"], name)
        }
        for b in json["behaviour"]?.arrayValue ?? [] {
            for side in ["before", "after"] {
                let route = b[side]?["route"]?.stringValue ?? ""
                let name = route.split(separator: "`").dropFirst().first.map(String.init)
                try check(b[side]?["position"], name)
            }
        }
    }
}

@Suite("xdsc diff: exit codes and CI options")
struct DiffCLITests {
    @Test("equal is 0, different is 1, a missing side is 2")
    func exitCodes() throws {
        #expect(try Tool.diff("refactor").status == 0)
        #expect(try Tool.diff("route-changed").status == 1)
        let r = try Tool.run(["diff", "fixtures/diff/nope", "fixtures/diff/refactor/new"])
        #expect(r.status == 2)
        #expect(try Tool.run(["diff", "fixtures/diff/refactor/new"]).status == 2)
    }

    @Test("a side with errors is not compared and exits 1, as every command does for errors in its input")
    func sideWithErrors() throws {
        let r = try Tool.run(["diff", "fixtures/lint/duplicate-key.yaml", "fixtures/diff/refactor/new"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("duplicate-key.yaml:"))
        #expect(r.stderr.contains("cannot compare: fixtures/lint/duplicate-key.yaml has errors"))
        #expect(r.stdout.isEmpty)
    }

    @Test("--fail-on behaviour accepts a refactor that only moves routes")
    func failOnBehaviour() throws {
        let r = try Tool.diff("reorder-disjoint", ["--fail-on", "behaviour"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("moved route `users`"))
        #expect(r.stdout.contains("no behaviour change"))
        #expect(try Tool.diff("reorder-overlap", ["--fail-on", "behaviour"]).status == 1)
    }

    @Test("--semantic-only and --behaviour-only")
    func parts() throws {
        let s = try Tool.diff("route-changed", ["--semantic-only"])
        #expect(s.stdout.contains("changed route `users`") && !s.stdout.contains("behaviour change:"))
        let b = try Tool.diff("route-changed", ["--behaviour-only"])
        #expect(!b.stdout.contains("changed route") && b.stdout.contains("behaviour change: GET api.example.com /users"))
        #expect(try Tool.diff("reorder-disjoint", ["--behaviour-only"]).status == 0)
    }

    @Test("--expect passes the reviewed behaviour change and fails on any other")
    func expect() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("xdsc-diff-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let saved = try Tool.diff("route-changed", ["--format", "json"]).stdout
        let file = dir.appendingPathComponent("expect.json")
        try saved.write(to: file, atomically: true, encoding: .utf8)
        #expect(try Tool.diff("route-changed", ["--expect", file.path]).status == 0)
        #expect(try Tool.diff("reorder-overlap", ["--expect", file.path]).status == 1)
        // The reviewed semantic changes pass too; a file of behaviour changes only leaves the
        // semantic change unexpected unless only behaviour counts.
        let behaviourOnly = dir.appendingPathComponent("behaviour.json")
        try Tool.diff("route-changed", ["--format", "json", "--behaviour-only"]).stdout.write(
            to: behaviourOnly, atomically: true, encoding: .utf8)
        #expect(try Tool.diff("route-changed", ["--expect", behaviourOnly.path]).status == 1)
        #expect(try Tool.diff("route-changed", ["--expect", behaviourOnly.path, "--fail-on", "behaviour"]).status == 0)
        // A semantic change the file does not list fails (a refactor's move here).
        #expect(try Tool.diff("reorder-disjoint", ["--expect", file.path]).status == 1)
        #expect(try Tool.diff("reorder-disjoint", ["--expect", file.path, "--fail-on", "behaviour"]).status == 0)
        try "{}".write(to: file, atomically: true, encoding: .utf8)
        #expect(try Tool.diff("route-changed", ["--expect", file.path]).status == 2)
    }

    @Test("markdown for a pull request")
    func markdown() throws {
        let r = try Tool.diff("route-changed", ["--format", "markdown"])
        #expect(r.stdout.hasPrefix("### xdsc diff\n"))
        #expect(r.stdout.contains("| `GET api.example.com/users` |"))
        #expect(try Tool.diff("refactor", ["--format", "markdown"]).stdout.contains("No changes."))
    }

    @Test("a policy against its own build output: no change; Envoy terms on a mixed diff, policy terms on policies")
    func policyAgainstBuild() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("xdsc-diff-build-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let policy = "fixtures/diff/hosts/new/api.yaml"
        let plain = dir.appendingPathComponent("plain")
        let xds = dir.appendingPathComponent("xds")
        try #require(try Tool.run(["build", policy, "-o", plain.path]).status == 0)
        try #require(try Tool.run(["build", "--xds", policy, "-o", xds.path]).status == 0)
        // The static bootstrap holds the same clusters, listeners and tables.
        let same = try Tool.run(["diff", policy, plain.appendingPathComponent("bootstrap.json").path])
        #expect(same.status == 0, "\(same.stdout)\(same.stderr)")
        #expect(same.stdout == "no changes\n")
        // Either way round.
        #expect(try Tool.run(["diff", plain.appendingPathComponent("bootstrap.json").path, policy]).status == 0)
        // xDS files: the clusters become EDS and the listener names its table through RDS,
        // which the semantic diff says in Envoy terms; no request behaves differently.
        let x = try Tool.run(["diff", "--format", "json", policy, xds.appendingPathComponent("bootstrap.json").path])
        #expect(x.status == 1, "\(x.stderr)")
        let json = try JSON.parse(x.stdout)
        #expect(json["behaviour"]?.arrayValue?.isEmpty == true, "\(x.stdout)")
        let elements = Set((json["semantic"]?.arrayValue ?? []).compactMap { $0["element"]?.stringValue })
        #expect(elements == ["cluster", "listener"], "\(x.stdout)")
        let human = try Tool.run(["diff", "--behaviour-only", policy, xds.appendingPathComponent("bootstrap.json").path])
        #expect(human.status == 0 && human.stdout == "no changes\n", "\(human.stdout)")
        // Policies against policies: services and hosts.
        let p = try Tool.diff("hosts", ["--semantic-only"])
        #expect(p.stdout.contains("removed service `legacy`") && p.stdout.contains("added host `status` (listener `public`)"))
        #expect(try Tool.diff("tls").stdout.contains("changed virtual host `api`"))
    }

    @Test("--git reads the paths at a revision without touching the work tree")
    func git() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("xdsc-diff-git-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("policies"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func git(_ args: [String]) throws {
            let r = try ProcessRunner.run(
                "/usr/bin/env", ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"] + args, in: dir,
                environment: [:], stdin: nil)
            try #require(r.status == 0, "git \(args): \(r.stderr)")
        }
        let policy = dir.appendingPathComponent("policies/api.yaml")
        let old = try String(contentsOf: Tool.root.appendingPathComponent("fixtures/diff/route-changed/old/api.yaml"), encoding: .utf8)
        let new = try String(contentsOf: Tool.root.appendingPathComponent("fixtures/diff/route-changed/new/api.yaml"), encoding: .utf8)
        try git(["init", "-q"])
        try old.write(to: policy, atomically: true, encoding: .utf8)
        try git(["add", "."])
        try git(["commit", "-q", "-m", "one"])
        try git(["tag", "v1"])
        try new.write(to: policy, atomically: true, encoding: .utf8)
        // Work tree against the revision.
        let r = try Tool.run(["diff", "--git", "v1", "--", "policies"], in: dir)
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stdout.contains("before: route `users` (v1/policies/api.yaml:13:13) -> users"), "\(r.stdout)")
        #expect(r.stdout.contains("after:  route `users` (policies/api.yaml:13:13) -> users-v2 (90%), users (10%)"), "\(r.stdout)")
        // Two revisions; the work tree is left alone.
        try git(["commit", "-q", "-am", "two"])
        let r2 = try Tool.run(["diff", "--git", "v1", "HEAD", "--", "policies"], in: dir)
        #expect(r2.status == 1)
        #expect(r2.stdout.contains("(HEAD/policies/api.yaml:13:13)"), "\(r2.stdout)")
        #expect(try String(contentsOf: policy, encoding: .utf8) == new)
        #expect(try Tool.run(["diff", "--git", "v1", "v1", "--", "policies"], in: dir).status == 0)
        #expect(try Tool.run(["diff", "--git", "nosuchrev", "--", "policies"], in: dir).status == 2)
    }
}
