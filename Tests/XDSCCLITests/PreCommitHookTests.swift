import Foundation
import Testing

/// pre-commit from PyPI, in a virtualenv cached across runs.
enum PreCommitTool {
    /// The `pre-commit` executable, installed on first use; nil when it cannot be installed
    /// (PyPI unreachable), with the reason on standard error.
    static let path: String? = install()

    static func install() -> String? {
        let env = ProcessInfo.processInfo.environment
        let cache =
            env["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
        let venv = cache.appendingPathComponent("xdsc-tests/pre-commit-venv")
        let exe = venv.appendingPathComponent("bin/pre-commit").path
        if FileManager.default.isExecutableFile(atPath: exe) { return exe }
        do {
            try FileManager.default.createDirectory(at: venv.deletingLastPathComponent(), withIntermediateDirectories: true)
            let mk = try Tools.run("python3", ["-m", "venv", venv.path])
            guard mk.status == 0 else {
                FileHandle.standardError.write(Data("pre-commit test: python3 -m venv failed: \(mk.stderr)\n".utf8))
                return nil
            }
            let pip = try Tools.run(venv.appendingPathComponent("bin/pip").path, ["install", "--quiet", "pre-commit"])
            guard pip.status == 0, FileManager.default.isExecutableFile(atPath: exe) else {
                FileHandle.standardError.write(Data("pre-commit test: PyPI unreachable? pip said: \(pip.stderr)\n".utf8))
                try? FileManager.default.removeItem(at: venv)
                return nil
            }
            return exe
        } catch {
            FileHandle.standardError.write(Data("pre-commit test: \(error)\n".utf8))
            return nil
        }
    }
}

/// The hooks in `.pre-commit-hooks.yaml`, used the way a user's repository uses them: a
/// scratch git repository whose `.pre-commit-config.yaml` points at a snapshot of this
/// checkout's hook file, pre-commit's git hook installed, the built `xdsc` on PATH.
@Suite(.serialized) struct PreCommitHookTests {
    static let goodPolicy = """
        version: 1
        services:
          users: {endpoints: [10.0.1.10:8080]}
        listeners:
          public:
            address: 0.0.0.0:8080
            hosts:
              api:
                domains: [api.example.com]
                routes:
                  - match: {prefix: /users}
                    to: users

        """
    static let badPolicy = goodPolicy.replacingOccurrences(of: "to: users", with: "to: user")

    /// A scratch checkout: `hooks/` (a git repo holding this checkout's hook file) and
    /// `project/` (a git repo that uses it), plus the environment to run git in.
    struct Sandbox {
        let root: URL
        let project: URL
        let environment: [String: String]

        init(hooks: [String], args: [String: [String]] = [:]) throws {
            root = try CLI.temporaryDirectory()
            let hooksRepo = root.appendingPathComponent("hooks")
            project = root.appendingPathComponent("project")
            for dir in [hooksRepo, project] { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) }
            let path = CLI.binary.deletingLastPathComponent().path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
            environment = [
                "PATH": path, "PRE_COMMIT_HOME": root.appendingPathComponent("pre-commit-cache").path,
                "GIT_AUTHOR_NAME": "xdsc test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
                "GIT_COMMITTER_NAME": "xdsc test", "GIT_COMMITTER_EMAIL": "test@example.invalid",
                "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "PRE_COMMIT_COLOR": "never",
            ]
            // Snapshot the hook definitions as they are in this checkout, committed or not.
            try FileManager.default.copyItem(
                at: CLI.packageRoot.appendingPathComponent(".pre-commit-hooks.yaml"),
                to: hooksRepo.appendingPathComponent(".pre-commit-hooks.yaml"))
            try git(["init", "-q", "-b", "main"], in: hooksRepo)
            try git(["add", "."], in: hooksRepo)
            try git(["commit", "-q", "-m", "hooks"], in: hooksRepo)
            let rev = try git(["rev-parse", "HEAD"], in: hooksRepo).stdout.trimmingCharacters(in: .whitespacesAndNewlines)

            var config = "repos:\n  - repo: \(hooksRepo.path)\n    rev: \(rev)\n    hooks:\n"
            for id in hooks {
                config += "      - id: \(id)\n"
                if let a = args[id] { config += "        args: [\(a.joined(separator: ", "))]\n" }
            }
            try config.write(to: project.appendingPathComponent(".pre-commit-config.yaml"), atomically: true, encoding: .utf8)
            try git(["init", "-q", "-b", "main"], in: project)
            let install = try Tools.run(PreCommitTool.path!, ["install"], in: project, environment: environment)
            guard install.status == 0 else { throw ToolFailure("pre-commit install: \(install.stdout)\(install.stderr)") }
        }

        @discardableResult
        func git(_ args: [String], in dir: URL? = nil, check: Bool = true) throws -> CLIRun {
            let r = try Tools.run("git", args, in: dir ?? project, environment: environment)
            if check && r.status != 0 { throw ToolFailure("git \(args.joined(separator: " ")): \(r.stdout)\(r.stderr)") }
            return r
        }

        func write(_ text: String, to file: String) throws {
            let url = project.appendingPathComponent(file)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }

        /// `git commit` of everything; the hook's output is in stdout and stderr.
        func commit(_ message: String) throws -> CLIRun {
            try git(["add", "-A"])
            return try git(["commit", "-m", message], check: false)
        }

        func remove() { try? FileManager.default.removeItem(at: root) }
    }

    @Test(.enabled(if: PreCommitTool.path != nil, "pre-commit could not be installed from PyPI (offline?)"))
    func lintHookRefusesABadPolicyAndAcceptsAGoodOne() throws {
        let box = try Sandbox(hooks: ["xdsc-lint"])
        defer { box.remove() }
        try box.write("# notes, not a policy\n", to: "README.md")
        try box.write(Self.badPolicy, to: "policy/edge.yaml")
        let refused = try box.commit("bad policy")
        let output = refused.stdout + refused.stderr
        #expect(refused.status != 0, "the bad commit went through:\n\(output)")
        let pos = try #require(Tools.position(of: "to: user", in: Self.badPolicy))
        #expect(output.contains("policy/edge.yaml:\(pos.line):\(pos.column + 4)"), "\(output)")
        #expect(output.contains("unknown-service"), "\(output)")
        #expect(output.contains("xdsc lint"), "\(output)")
        // Nothing was committed.
        #expect(try box.git(["rev-parse", "--verify", "-q", "HEAD"], check: false).status != 0)

        try box.write(Self.goodPolicy, to: "policy/edge.yaml")
        let accepted = try box.commit("good policy")
        #expect(accepted.status == 0, "\(accepted.stdout)\(accepted.stderr)")
        #expect((accepted.stdout + accepted.stderr).contains("Passed"))
        let files = try box.git(["ls-files"]).stdout
        #expect(files.contains("policy/edge.yaml") && files.contains(".pre-commit-config.yaml"))
    }

    @Test(.enabled(if: PreCommitTool.path != nil, "pre-commit could not be installed from PyPI (offline?)"))
    func lintHookSeesAPolicySplitOverFilesInOneRun() throws {
        // Two files that are only valid together: the hook must pass them to one xdsc.
        let box = try Sandbox(hooks: ["xdsc-lint"])
        defer { box.remove() }
        try box.write("version: 1\nservices:\n  users: {endpoints: [10.0.1.10:8080]}\n", to: "policy/services.yaml")
        try box.write(
            Self.goodPolicy.replacingOccurrences(of: "services:\n  users: {endpoints: [10.0.1.10:8080]}\n", with: ""),
            to: "policy/listeners.yaml")
        let r = try box.commit("split policy")
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    }

    /// Whether the `build` command exists in this binary, with `--check` and `-o`.
    static let buildCheckAvailable: Bool = {
        guard let r = try? CLI.run(["build", "--help"]), r.status == 0 else { return false }
        return r.stdout.contains("--check") && (r.stdout.contains("--output") || r.stdout.contains("-o"))
    }()

    @Test(
        .enabled(if: PreCommitTool.path != nil, "pre-commit could not be installed from PyPI (offline?)"),
        .enabled(if: Self.buildCheckAvailable, "`xdsc build --check` does not exist yet"))
    func buildCheckHookRefusesAStaleGoldenFile() throws {
        let box = try Sandbox(hooks: ["xdsc-build-check"], args: ["xdsc-build-check": ["policy/", "-o", "envoy"]])
        defer { box.remove() }
        try box.write(Self.goodPolicy, to: "policy/edge.yaml")
        let build = try CLI.run(["build", "policy/", "-o", "envoy"], in: box.project)
        #expect(build.status == 0, "\(build.stderr)")
        let first = try box.commit("policy and its Envoy config")
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")

        // Change the policy but not the committed output: refused.
        try box.write(Self.goodPolicy.replacingOccurrences(of: "prefix: /users", with: "prefix: /people"), to: "policy/edge.yaml")
        let stale = try box.commit("policy only")
        #expect(stale.status != 0, "\(stale.stdout)\(stale.stderr)")

        // Rebuild the output and commit both: accepted.
        #expect(try CLI.run(["build", "policy/", "-o", "envoy"], in: box.project).status == 0)
        let fixed = try box.commit("policy and rebuilt config")
        #expect(fixed.status == 0, "\(fixed.stdout)\(fixed.stderr)")
    }
}
