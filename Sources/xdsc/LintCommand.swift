import ArgumentParser
import XDSCDiagnostics
import XDSCDriver

/// Output formats as command-line values.
enum FormatOption: String, ExpressibleByArgument {
    case human, short, json, sarif, github
    var format: DiagnosticFormat { DiagnosticFormat(rawValue: rawValue)! }
    static let help: ArgumentHelp = "Output format: human, short, json, sarif or github."
}

enum ColorOption: String, ExpressibleByArgument {
    case auto, always, never
    static let help: ArgumentHelp = "Colour: auto (only on a terminal, off with NO_COLOR), always or never."
}

/// `--input`: which front end reads the files.
enum InputOption: String, ExpressibleByArgument, CaseIterable {
    case auto, policy, envoy
    var kind: InputKind? { self == .auto ? nil : InputKind(rawValue: rawValue) }
    static let help: ArgumentHelp =
        "Read the files as: auto (told apart by content), policy (xdsc policies) or envoy (Envoy v3 JSON/YAML)."
}

struct LintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Check policy files or Envoy configuration and report every problem with its file, line and column"
    )

    @Option(name: .long, help: InputOption.help)
    var input: InputOption = LintOptions.defaults.input

    @Option(name: .long, help: FormatOption.help)
    var format: FormatOption = LintOptions.defaults.format

    @Flag(name: .long, help: "Exit with 1 when there are warnings.")
    var strict = LintOptions.defaults.strict

    @Option(name: .long, help: ColorOption.help)
    var color: ColorOption = LintOptions.defaults.color

    @Flag(name: .long, help: "Also print what the route analysis compared and could not decide (to stderr).")
    var verbose = LintOptions.defaults.verbose

    @Option(
        name: .customLong("emit-tests"),
        help: "Also write a traffic spec (xdsc test traffic) replaying each route finding's example request to FILE.")
    var emitTests: String?

    @Argument(help: "Policy or Envoy files, or directories (every *.yaml, *.yml and, for Envoy, *.json below them).")
    var paths: [String]

    func validate() throws {
        if paths.isEmpty { throw ValidationError("give at least one policy file or directory") }
    }

    /// The parsed options as plain values.
    var options: LintOptions {
        LintOptions(input: input, format: format, strict: strict, color: color, verbose: verbose, emitTests: emitTests, paths: paths)
    }

    func run() throws { try options.run() }
}

/// The options of one `xdsc lint` run as plain values, and the run itself. `LintCommand`
/// (swift-argument-parser) and the plain-arguments path in front of it (`LintArguments`)
/// both produce one.
struct LintOptions: Equatable {
    var input: InputOption
    var format: FormatOption
    var strict: Bool
    var color: ColorOption
    var verbose: Bool
    var emitTests: String?
    var paths: [String]

    /// Every option at its default, no paths: what `LintCommand` declares as its defaults.
    static let defaults = LintOptions(
        input: .auto, format: .human, strict: false, color: .auto, verbose: false, emitTests: nil, paths: [])

    func run() throws {
        let result = Pipeline().check(paths, input: input.kind)
        let useColor = Rendering.useColor(color.rawValue, fileDescriptor: 1)
        FileHandleOutput.stdout(Rendering.render(result, format: format.format, color: useColor))
        if verbose {
            let a = result.routeAnalysis
            var text = "route analysis: \(a.routes) routes, \(a.comparedPairs) pairs compared, \(a.undecided) undecided\n"
            for line in a.undecidedDetails { text += "  undecided: \(line)\n" }
            for e in result.envoyInput?.opaqueExtensions ?? [] {
                let at = e.source.map { " at \($0)" } ?? ""
                text += "  opaque extension: `\(e.name)` (\(e.typeURL ?? "no type"))\(at)\n"
            }
            FileHandleOutput.stderr(text)
        }
        if let emitTests { try emit(result, to: emitTests) }
        if format == .human && result.diagnostics.isEmpty {
            FileHandleOutput.stdout("no problems found: \(result.inventory)\n")
        }
        let code = ExitStatus.code(for: result.diagnostics, strict: strict)
        UntilExit.keep(result)
        throw ExitCode(code)
    }

    /// Writes the findings' example requests as a traffic spec (atomically); says so on stderr.
    private func emit(_ result: FrontEndResult, to path: String) throws {
        let spec = WitnessSpec.spec(for: result, inputs: paths, specPath: path)
        do {
            try OutputDirectory.writeFile(spec.text, to: path)
        } catch {
            FileHandleOutput.stderr("error: cannot write \(path): \(error)\n")
            throw ExitCode(ExitStatus.usageOrIO)
        }
        var text = "wrote \(spec.tests) traffic test\(spec.tests == 1 ? "" : "s") to \(path)\n"
        for s in spec.skipped { text += "  no test for \(s)\n" }
        FileHandleOutput.stderr(text)
    }
}
