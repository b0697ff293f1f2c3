import ArgumentParser
import XDSCDiagnostics
import XDSCDriver
import XDSCRequest

struct RouteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "route",
        abstract: "Show where Envoy sends one request: the virtual host, every route tried, the winner and the outcome",
        discussion: """
            Reads Envoy route configurations (--config: a RouteConfiguration, a bootstrap or a \
            discovery response, YAML or JSON) or policies, and routes METHOD URL as Envoy does. \
            Exit codes: 0 a route matched; 1 no route (Envoy's 404, response flag NR) or the \
            configuration has errors (or, with --strict, warnings: nothing is routed); 2 usage \
            error or unreadable input.
            """
    )

    @Option(name: .long, help: "An Envoy configuration file (repeatable).")
    var config: [String] = []

    @Option(name: [.customShort("H"), .long], help: "A request header, 'name: value' (repeatable; 'host: x' sets :authority).")
    var header: [String] = []

    @Option(name: .long, help: "The stream's random value (runtime fractions, weighted clusters).")
    var random: UInt64 = 0

    @Flag(name: .long, help: "Mark the request internal (x-envoy-internal: true).")
    var `internal` = false

    @Option(name: .long, help: "The listener whose route table to use, when there are several.")
    var listener: String?

    @Option(name: .long, help: "Output format: human or json.")
    var format: RouteFormat = .human

    @Flag(name: .long, help: StrictOption.help)
    var strict = false

    @Argument(help: "Policy files, then METHOD and URL (http://host/path?query).")
    var arguments: [String] = []

    enum RouteFormat: String, ExpressibleByArgument { case human, json }

    func validate() throws {
        if arguments.count < 2 { throw ValidationError("give METHOD and URL, e.g. xdsc route --config envoy.yaml GET http://example.com/") }
        if config.isEmpty && arguments.count < 3 { throw ValidationError("give --config FILE or policy files before METHOD URL") }
    }

    func run() throws {
        let method = arguments[arguments.count - 2]
        let url = arguments[arguments.count - 1]
        let request: EnvoyRequestBox
        switch RouteExplain.request(method: method, url: url, headers: header, randomValue: random, internal: `internal`) {
        case .failure(let e):
            FileHandleOutput.stderr("error: \(e.message)\n")
            throw ExitCode(ExitStatus.usageOrIO)
        case .success(let r): request = EnvoyRequestBox(r)
        }
        let inputs = config + arguments.dropLast(2)
        let loaded = RouteInputs.load(inputs)
        let errors = loaded.diagnostics.filter { $0.severity == .error }
        if !errors.isEmpty || loaded.tables.isEmpty {
            let renderer = HumanRenderer(sources: loaded.sources, color: false)
            FileHandleOutput.stderr(renderer.render(errors))
            if loaded.tables.isEmpty && errors.isEmpty { FileHandleOutput.stderr("error: no route configuration found\n") }
            throw ExitCode(ExitStatus.refusal(for: errors))
        }
        try StrictOption.stopOnWarnings(loaded.diagnostics, sources: loaded.sources, paths: inputs, linted: loaded.linted, strict: strict)
        var tables = loaded.tables
        if let listener {
            tables = tables.filter { $0.label.hasSuffix("listener \(listener)") }
            if tables.isEmpty {
                FileHandleOutput.stderr("error: no route table for listener `\(listener)`\n")
                throw ExitCode(ExitStatus.usageOrIO)
            }
        }
        let (text, anyMatched) = RouteExplain.render(tables, request.value, json: format == .json, sources: loaded.sources)
        FileHandleOutput.stdout(text)
        if !anyMatched { throw ExitCode(ExitStatus.inputErrors) }
    }
}

/// Holds the parsed request.
struct EnvoyRequestBox {
    let value: RouteExplain.Request
    init(_ v: RouteExplain.Request) { value = v }
}
