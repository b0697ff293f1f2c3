import ArgumentParser
import Foundation
import XDSCDiagnostics
import XDSCDriver

/// The `xdsc` command: a thin layer that parses options, calls one driver function, renders
/// diagnostics and exits with the documented code.
struct XDSC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xdsc",
        abstract: "Compile and validate Envoy configuration from a short policy language",
        discussion: """
            Exit codes: 0 success (warnings allowed unless --strict); 1 the input has errors \
            (or, for check modes, a difference was found); 2 usage error, unreadable input or \
            an internal failure.
            """,
        version: XDSCVersion.current,
        subcommands: [
            LintCommand.self, BuildCommand.self, RouteCommand.self, DiffCommand.self, RunCommand.self, TestCommand.self,
            ExplainCommand.self,
            SchemaCommand.self,
            GraphCommand.self, DocsCommand.self,
        ]
    )
}

/// Runs the command, mapping argument errors to exit code 2 as the policy language's
/// contract says (swift-argument-parser would use 64).
func runMain() -> Never {
    do {
        // A plain `xdsc lint` command line skips the parser's reflection (`LintArguments`).
        if let lint = LintArguments.plain(Array(CommandLine.arguments.dropFirst())) {
            try lint.run()
            XDSC.exit()
        }
        var command = try XDSC.parseAsRoot()
        try command.run()
        XDSC.exit()
    } catch let code as ExitCode {
        // What `exit(withError:)` does with an `ExitCode` (it prints nothing), without the
        // root command's usage text it would build first and throw away.
        exit(code.rawValue)
    } catch {
        let code = XDSC.exitCode(for: error)
        if code == .validationFailure {
            FileHandleOutput.stderr(XDSC.fullMessage(for: error) + "\n")
            exit(ExitStatus.usageOrIO)
        }
        XDSC.exit(withError: error)
    }
}
