import Foundation
import Testing

/// Issue 8.7: nothing below a policy directory is passed over silently. Each unreadable part
/// is `unreadable-input` naming its path, `lint` and `build` exit 2, and `build` writes nothing.
@Suite struct InputDiscoveryTests {
    static let valid = """
        version: 1
        services:
          web: {endpoints: [127.0.0.1:8000]}
        listeners:
          main:
            address: 127.0.0.1:10000
            hosts:
              site:
                domains: ["*"]
                routes:
                  - {match: {prefix: /}, to: web}

        """

    /// A directory holding a valid `main.yaml`, prepared further by `setUp`, then `lint`
    /// and `build` on it; `check` sees both runs and the output directory.
    func withPolicyDirectory(
        runAs prefix: [String] = [], setUp: (URL) throws -> Void, check: (_ lint: CLIRun, _ build: CLIRun, _ out: String) throws -> Void
    ) throws {
        let dir = try CLI.temporaryDirectory()
        defer {
            // A test may leave a folder without permissions; give them back so it can be removed.
            if let names = try? FileManager.default.subpathsOfDirectory(atPath: dir.path) {
                for n in names { chmod(dir.appendingPathComponent(n).path, 0o755) }
            }
            try? FileManager.default.removeItem(at: dir)
        }
        let policies = dir.appendingPathComponent("policies")
        try FileManager.default.createDirectory(at: policies, withIntermediateDirectories: true)
        try Self.valid.write(to: policies.appendingPathComponent("main.yaml"), atomically: true, encoding: .utf8)
        try setUp(policies)
        let out = dir.appendingPathComponent("out").path
        let run: ([String]) throws -> CLIRun = { args in
            prefix.isEmpty
                ? try CLI.run(args, in: dir) : try CLI.runProgram(prefix[0], Array(prefix.dropFirst()) + [CLI.binary.path] + args, in: dir)
        }
        let lint = try run(["lint", "--format", "short", "policies"])
        let build = try run(["build", "policies", "-o", out])
        try check(lint, build, out)
    }

    func expectUnreadable(
        _ lint: CLIRun, _ build: CLIRun, out: String, path: String, saying words: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(lint.status == 2, "\(lint.stdout)\(lint.stderr)", sourceLocation: sourceLocation)
        let line = lint.stdout.split(separator: "\n").first { $0.contains("error[unreadable-input]") && $0.contains(path) }
        #expect(line != nil, "no unreadable-input naming \(path) in:\n\(lint.stdout)", sourceLocation: sourceLocation)
        #expect(line?.contains(words) == true, "\(line ?? "")", sourceLocation: sourceLocation)
        #expect(build.status == 2, "\(build.stderr)", sourceLocation: sourceLocation)
        #expect(build.stderr.contains("unreadable-input"), sourceLocation: sourceLocation)
        #expect(!FileManager.default.fileExists(atPath: out), "build wrote \(out)", sourceLocation: sourceLocation)
    }

    @Test func theValidDirectoryAloneBuilds() throws {
        try withPolicyDirectory(
            setUp: { _ in },
            check: { lint, build, out in
                #expect(lint.status == 0, "\(lint.stdout)")
                #expect(build.status == 0, "\(build.stderr)")
                #expect(FileManager.default.fileExists(atPath: out + "/bootstrap.json"))
            })
    }

    @Test func danglingPolicyLinkIsAnError() throws {
        try withPolicyDirectory(
            setUp: { dir in
                try FileManager.default.createSymbolicLink(
                    atPath: dir.appendingPathComponent("extra.yaml").path, withDestinationPath: "gone.yaml")
            },
            check: { lint, build, out in
                expectUnreadable(
                    lint, build, out: out, path: "policies/extra.yaml", saying: "symbolic link to gone.yaml, which does not exist")
            })
    }

    @Test func symlinkLoopInADirectoryIsAnError() throws {
        try withPolicyDirectory(
            setUp: { dir in
                try FileManager.default.createSymbolicLink(
                    atPath: dir.appendingPathComponent("loop.yaml").path, withDestinationPath: "loop.yaml")
            },
            check: { lint, build, out in
                expectUnreadable(lint, build, out: out, path: "policies/loop.yaml", saying: "too many levels of symbolic links")
            })
    }

    @Test func linkBackToAnEnclosingFolderIsASymlinkLoop() throws {
        try withPolicyDirectory(
            setUp: { dir in
                let sub = dir.appendingPathComponent("sub")
                try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
                try FileManager.default.createSymbolicLink(atPath: sub.appendingPathComponent("up").path, withDestinationPath: "..")
            },
            check: { lint, build, out in
                expectUnreadable(lint, build, out: out, path: "policies/sub/up", saying: "symlink loop")
            })
    }

    @Test func linkedFolderIsReadAndAFileReachedTwiceIsReadOnce() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let shared = dir.appendingPathComponent("shared")
        let policies = dir.appendingPathComponent("policies")
        try FileManager.default.createDirectory(at: shared, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: policies, withIntermediateDirectories: true)
        try Self.valid.write(to: shared.appendingPathComponent("main.yaml"), atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: policies.appendingPathComponent("a").path, withDestinationPath: "../shared")
        try FileManager.default.createSymbolicLink(atPath: policies.appendingPathComponent("b").path, withDestinationPath: "../shared")
        let r = try CLI.run(["lint", "policies"], in: dir)
        #expect(r.status == 0, "\(r.stdout)")
        #expect(r.stdout.contains("1 file, 1 service"), "\(r.stdout)")
    }

    /// The command prefix that runs a program where permission bits hold: nothing for an
    /// ordinary user; as root (who reads anything), `setpriv` to `nobody`. Cancels the test,
    /// saying why, when neither is possible.
    static func unprivileged() throws -> [String] {
        guard getuid() == 0 else { return [] }
        let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].first { FileManager.default.isExecutableFile(atPath: $0) }
        let prefix = setpriv.map { [$0, "--reuid=65534", "--regid=65534", "--clear-groups"] } ?? []
        guard let setpriv, (try? CLI.runProgram(setpriv, Array(prefix.dropFirst()) + ["true"]))?.status == 0 else {
            try Test.cancel("running as root without a working setpriv: permission bits cannot make a path unreadable")
        }
        return prefix
    }

    @Test func unlistableFolderIsAnError() throws {
        try withPolicyDirectory(
            runAs: try Self.unprivileged(),
            setUp: { dir in
                let locked = dir.appendingPathComponent("locked")
                try FileManager.default.createDirectory(at: locked, withIntermediateDirectories: true)
                try "services:\n  api: {endpoints: [127.0.0.1:9000]}\n".write(
                    to: locked.appendingPathComponent("api.yaml"), atomically: true, encoding: .utf8)
                chmod(locked.path, 0)
                // `nobody` must be able to reach the policies and create the output folder.
                chmod(dir.deletingLastPathComponent().path, 0o777)
            },
            check: { lint, build, out in
                expectUnreadable(lint, build, out: out, path: "policies/locked", saying: "permission denied")
            })
    }

    @Test func symlinkLoopOnTheCommandLineSaysSo() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("self").path, withDestinationPath: "self")
        try FileManager.default.createSymbolicLink(
            atPath: dir.appendingPathComponent("gone.yaml").path, withDestinationPath: "missing.yaml")
        let r = try CLI.run(["lint", "--format", "short", "self", "gone.yaml", "absent.yaml"], in: dir)
        #expect(r.status == 2)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(
            lines.contains("self:1:1: error[unreadable-input]: self: too many levels of symbolic links (a symlink loop)"), "\(r.stdout)")
        #expect(lines.contains { $0.hasPrefix("gone.yaml:1:1: error[unreadable-input]: gone.yaml is a symbolic link to missing.yaml") })
        #expect(lines.contains("absent.yaml:1:1: error[unreadable-input]: no such file or directory: absent.yaml"))
        #expect(!r.stdout.contains("no such file or directory: self"))
    }
}
