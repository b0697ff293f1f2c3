import ArgumentParser
import Foundation
import XDSCDiagnostics
import XDSCDriver

/// `xdsc build`: compile a policy into Envoy configuration files.
struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Compile policy files into an Envoy bootstrap (or bootstrap plus xDS files)",
        discussion: """
            Writes DIR/bootstrap.json: static listeners with inline route tables and static \
            clusters. With --xds, the bootstrap points Envoy at files instead (lds.json, \
            cds.json, rds/<listener>.json, eds/<service>.json), which Envoy watches and \
            reloads. Files are replaced atomically; nothing is written when the policy has \
            errors. --check writes nothing and prints a unified diff against DIR, exiting 1 \
            when it differs.
            """
    )

    @Argument(help: "Policy files or directories (every *.yaml and *.yml below them).")
    var paths: [String]

    @Option(name: [.short, .customLong("output")], help: "Output directory.")
    var output: String?

    @Flag(name: .long, help: "Write a bootstrap with dynamic_resources plus LDS/CDS/RDS/EDS files.")
    var xds = false

    @Option(
        name: .long,
        help: """
            With --xds: the directory Envoy reads the xDS files from (default: the output directory as given; \
            Envoy resolves a relative one against its working directory).
            """
    )
    var xdsRoot: String?

    @Flag(name: .long, help: "Print the files to standard output instead of writing them.")
    var stdout = false

    @Flag(name: .long, help: "Write nothing; print a unified diff against the output directory and exit 1 when it differs.")
    var check = false

    @Option(name: .long, help: "Output format: json or yaml.")
    var format: BuildFormatOption = .json

    @Flag(name: .long, help: "Treat warnings as errors: write nothing and exit 1 when there are warnings.")
    var strict = false

    @Option(name: .long, help: ColorOption.help)
    var color: ColorOption = .auto

    func validate() throws {
        if paths.isEmpty { throw ValidationError("give at least one policy file or directory") }
        if stdout && check { throw ValidationError("--stdout and --check cannot be combined") }
        if output == nil && !stdout { throw ValidationError("give an output directory with -o DIR (or use --stdout)") }
        if xdsRoot != nil && !xds { throw ValidationError("--xds-root only applies with --xds") }
        if output?.isEmpty == true { throw ValidationError("the output directory must not be empty (use -o . for the current one)") }
        if xdsRoot?.isEmpty == true {
            throw ValidationError("--xds-root must not be empty (use --xds-root . for Envoy's working directory)")
        }
    }

    func run() throws {
        let outDir = output ?? "."
        // The output directory as written: a relative one stays relative, so the files do not
        // depend on the checkout they were built in and `--check` passes in any of them.
        let root = xdsRoot ?? outDir
        let options = BuildOptions(xds: xds, format: format.format, xdsRoot: root)
        let result = Build.run(paths, options: options)
        let diagnostics = result.frontEnd.diagnostics
        if !diagnostics.isEmpty {
            let useColor = Rendering.useColor(color.rawValue, fileDescriptor: 2)
            FileHandleOutput.stderr(Rendering.render(result.frontEnd, format: .human, color: useColor))
        }
        let status = ExitStatus.code(for: diagnostics, strict: strict)
        guard status == ExitStatus.success, let files = result.files else { throw ExitCode(status) }

        if stdout {
            if files.count == 1 {
                FileHandleOutput.stdout(files[0].contents)
            } else {
                for f in files { FileHandleOutput.stdout("==> \(f.path) <==\n" + f.contents) }
            }
            return
        }
        if check {
            let diff = OutputDirectory.check(files, against: outDir)
            if diff.isEmpty { return }
            FileHandleOutput.stdout(diff)
            throw ExitCode(ExitStatus.inputErrors)
        }
        do {
            try OutputDirectory.write(files, to: outDir)
        } catch {
            FileHandleOutput.stderr("error: \(error)\n")
            throw ExitCode(ExitStatus.usageOrIO)
        }
    }
}

/// `--format` values of `build`.
enum BuildFormatOption: String, ExpressibleByArgument {
    case json, yaml
    var format: BuildOptions.Format { BuildOptions.Format(rawValue: rawValue)! }
}
