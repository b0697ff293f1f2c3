import ArgumentParser
import XDSCDiagnostics
import XDSCDriver

/// `--strict` with lint's meaning on the commands that read a configuration: warnings about
/// the input make the exit code 1 (the policy language's exit-code rule).
enum StrictOption {
    /// The flag's help, one wording on every command.
    static let help: ArgumentHelp = "Treat warnings about the input as errors: print them and exit 1."

    /// Under `--strict`, the warnings about `paths` (those in `diagnostics`, the command's
    /// load, and, unless the load was lint's own (`linted`), those `xdsc lint` reports:
    /// ``StrictWarnings``): printed to standard error, then exit 1. Does nothing without
    /// `--strict` or when there are none.
    static func stopOnWarnings(
        _ diagnostics: [Diagnostic], sources: [String: SourceFile], paths: [String], linted: Bool, strict: Bool
    ) throws {
        guard strict else { return }
        guard let report = StrictWarnings.collect(diagnostics, sources: sources, paths: paths, linted: linted).report else { return }
        FileHandleOutput.stderr(report)
        throw ExitCode(ExitStatus.inputErrors)
    }
}
