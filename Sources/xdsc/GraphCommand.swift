import ArgumentParser
import Foundation
import XDSCDriver

enum GraphFormat: String, ExpressibleByArgument, CaseIterable {
    case dot, svg
}

struct GraphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Draw listeners, hosts, routes and services as a Graphviz graph",
        discussion: """
            Weighted splits are labelled with their weights, mirrors are dashed, redirects and \
            direct responses are nodes of their own; shadowed routes are drawn red (the graph is \
            still written, and the exit code is 1; so are warnings with --strict). svg needs Graphviz's dot on PATH. Nothing is \
            drawn when the input has other errors. Envoy files are drawn as listeners, route \
            tables, virtual hosts, routes and clusters.
            """
    )

    @Option(name: .long, help: "Output format: dot or svg.")
    var format: GraphFormat = .dot

    @Option(name: [.short, .customLong("output")], help: "Write to this file instead of standard output.")
    var output: String?

    @Option(name: .long, help: ColorOption.help)
    var color: ColorOption = .auto

    @Option(name: .long, help: InputOption.help)
    var input: InputOption = .auto

    @Flag(name: .long, help: "Treat warnings as errors: the graph is still written, and the exit code is 1.")
    var strict = false

    @Argument(help: "Policy or Envoy files, or directories (every *.yaml, *.yml and, for Envoy, *.json below them).")
    var paths: [String]

    func validate() throws {
        if paths.isEmpty { throw ValidationError("give at least one policy file or directory") }
    }

    func run() throws {
        let result = Pipeline().check(paths, input: input.kind)
        let code = ExitStatus.code(for: result.diagnostics, strict: strict)
        if !PolicyGraph.canDraw(result) {
            let useColor = Rendering.useColor(color.rawValue, fileDescriptor: 2)
            FileHandleOutput.stderr(Rendering.render(result, format: .human, color: useColor))
            throw ExitCode(code)
        }
        if !result.diagnostics.isEmpty {
            // Warnings do not stop drawing, but they are still shown.
            let useColor = Rendering.useColor(color.rawValue, fileDescriptor: 2)
            FileHandleOutput.stderr(Rendering.render(result, format: .human, color: useColor))
        }
        var text =
            result.envoyInput != nil && result.policy.files.isEmpty ? EnvoyGraph(result: result).dot() : PolicyGraph(result: result).dot()
        if format == .svg {
            do {
                text = try GraphvizRenderer.svg(text)
            } catch {
                FileHandleOutput.stderr("error: \(error)\n")
                throw ExitCode(ExitStatus.usageOrIO)
            }
        }
        if let output {
            do {
                try OutputDirectory.writeFile(text, to: output)
            } catch {
                FileHandleOutput.stderr("error: \(error)\n")
                throw ExitCode(ExitStatus.usageOrIO)
            }
        } else {
            FileHandleOutput.stdout(text)
        }
        // Shadowed routes are errors (and warnings under --strict): the graph shows them, and
        // the run still fails.
        if code != ExitStatus.success { throw ExitCode(code) }
    }
}
