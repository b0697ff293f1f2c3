import ArgumentParser
import Foundation
import XDSCDiagnostics
import XDSCDiff
import XDSCDriver

struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show what changed between two versions of a configuration, and which requests now behave differently",
        discussion: """
            Each side is a policy file or directory, or an Envoy route configuration (as xdsc route \
            --config reads it). With --git REV [REV2] and the paths after a double dash, the sides are the paths at REV and at REV2 \
            (default: the work tree), read with git without touching the work tree. Exit codes: 0 no \
            change; 1 a change (of the kind --fail-on names, not listed in --expect), or a side with errors \
            (or, with --strict, warnings; printed, nothing is compared); 2 usage error or unreadable input.
            """
    )

    enum DiffFormat: String, ExpressibleByArgument { case human, json, markdown }
    enum FailOn: String, ExpressibleByArgument { case any, behaviour }

    @Option(name: .long, help: "Output format: human, json or markdown (a pull-request comment).")
    var format: DiffFormat = .human

    @Flag(name: .long, help: "Only the semantic diff (what changed in the configuration).")
    var semanticOnly = false

    @Flag(name: .long, help: "Only the behavioural diff (which requests behave differently).")
    var behaviourOnly = false

    @Option(name: .long, help: "Which changes make the exit code 1: any (default) or behaviour.")
    var failOn: FailOn = .any

    @Option(
        name: .long,
        help: "A saved xdsc diff --format json output of the reviewed change: the changes it lists do not make the exit code 1.")
    var expect: String?

    @Flag(name: .long, help: StrictOption.help)
    var strict = false

    @Option(
        name: .long, parsing: .upToNextOption,
        help: "Compare the paths given after a double dash at REV with REV2 (default: the work tree).")
    var git: [String] = []

    @Argument(help: "OLD and NEW (files or directories), or with --git the paths to compare.")
    var paths: [String] = []

    func validate() throws {
        if semanticOnly && behaviourOnly { throw ValidationError("give at most one of --semantic-only and --behaviour-only") }
        if !git.isEmpty {
            if git.count > 2 { throw ValidationError("--git takes one or two revisions") }
            if paths.isEmpty { throw ValidationError("give the paths to compare after --: xdsc diff --git main -- policies/") }
        } else if paths.count != 2 {
            throw ValidationError("give OLD and NEW, e.g. xdsc diff old/ new/, or --git REV -- PATHS")
        }
    }

    func fail(_ message: String) -> ExitCode {
        FileHandleOutput.stderr("error: \(message)\n")
        return ExitCode(ExitStatus.usageOrIO)
    }

    func loadOrFail(_ paths: [String]) throws -> DiffInputs.Loaded {
        let l = DiffInputs.load(paths)
        if l.failed {
            let errors = l.diagnostics.filter { $0.severity == .error }
            FileHandleOutput.stderr(HumanRenderer(sources: l.sources, color: false).render(errors))
            // As every command: 1 for errors in the input, 2 when it cannot be read.
            FileHandleOutput.stderr("error: cannot compare: \(paths.joined(separator: " ")) has errors\n")
            throw ExitCode(ExitStatus.code(for: errors, strict: false))
        }
        // A side is read to compare, not linted (no route analysis): under --strict its
        // warnings are lint's, `route-overlap` included.
        try StrictOption.stopOnWarnings(l.diagnostics, sources: l.sources, paths: paths, linted: false, strict: strict)
        return l
    }

    func run() throws {
        var expected: DiffExpectations?
        if let expect {
            guard let data = FileManager.default.contents(atPath: expect) else { throw fail("cannot read \(expect)") }
            switch DiffExpectations.parse(String(decoding: data, as: UTF8.self)) {
            case .failure(let e): throw fail("\(expect): \(e.message)")
            case .success(let s): expected = s
            }
        }
        let old: DiffInputs.Loaded
        let new: DiffInputs.Loaded
        if git.isEmpty {
            old = try loadOrFail([paths[0]])
            new = try loadOrFail([paths[1]])
        } else {
            let fm = FileManager.default
            let tmp = fm.temporaryDirectory.appendingPathComponent("xdsc-diff-\(ProcessInfo.processInfo.processIdentifier)").path
            defer { try? fm.removeItem(atPath: tmp) }
            let cwd = fm.currentDirectoryPath
            func atRevision(_ rev: String) throws -> [String] {
                switch DiffInputs.checkout(revision: rev, paths: paths, into: tmp) {
                case .failure(let e): throw fail(e.message)
                case .success(let p): return p
                }
            }
            let oldPaths = try atRevision(git[0])
            let newPaths = git.count == 2 ? try atRevision(git[1]) : nil
            // Work-tree side first, with the paths as given.
            let worktree = newPaths == nil ? try loadOrFail(paths) : nil
            // Revision copies are read relative to the temporary root, so positions read
            // `REV/path:line:col`.
            guard fm.changeCurrentDirectoryPath(tmp) else { throw fail("cannot enter the revision copies in \(tmp)") }
            defer { _ = fm.changeCurrentDirectoryPath(cwd) }
            old = try loadOrFail(oldPaths)
            new = try worktree ?? loadOrFail(newPaths!)
        }
        let parts: ConfigDiff.Parts = semanticOnly ? .semanticOnly : behaviourOnly ? .behaviourOnly : .both
        let report = ConfigDiff.diff(old: old.side, new: new.side, parts: parts)
        switch format {
        case .human: FileHandleOutput.stdout(report.renderHuman())
        case .json: FileHandleOutput.stdout(report.renderJSON())
        case .markdown: FileHandleOutput.stdout(report.renderMarkdown())
        }
        // With --expect, only changes the reviewed diff does not list count.
        let behaviour = expected?.unexpectedBehaviour(report) ?? report.behaviour
        let semantic = failOn == .behaviour ? [] : expected?.unexpectedSemantic(report) ?? report.semantic
        if !behaviour.isEmpty || !semantic.isEmpty { throw ExitCode(ExitStatus.inputErrors) }
    }
}
