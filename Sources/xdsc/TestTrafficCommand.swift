import ArgumentParser
import XDSCDriver

struct TestTrafficCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "traffic",
        abstract: "Send a spec's requests through the embedded proxy and check the responses and what the upstreams saw",
        discussion: """
            SPEC is a traffic test file (YAML or JSON; `xdsc schema traffic`, docs/traffic-tests.md): \
            the configuration to serve, then tests, each a request, how upstreams behave and what \
            to expect. The proxy and one mock server per endpoint run on ephemeral loopback \
            ports. Exit codes: 0 every test passed; 1 a test failed, or the spec or the \
            configuration has errors (or, with --strict, warnings: no test runs); 2 usage error, an unreadable spec or configuration, or a \
            proxy that cannot start.
            """
    )

    @Argument(help: "The traffic test file.")
    var spec: String

    @Option(name: .long, help: "human, json or junit (JUnit XML for CI test reports).")
    var format: FormatChoice = .human

    @Flag(name: .long, help: StrictOption.help)
    var strict = false

    enum FormatChoice: String, ExpressibleByArgument {
        case human, json, junit
    }

    func run() throws {
        let out = TrafficTestCommand.run(spec: spec, format: TrafficTestCommand.Format(rawValue: format.rawValue)!, strict: strict)
        FileHandleOutput.stdout(out.stdout)
        FileHandleOutput.stderr(out.stderr)
        if out.exitCode != 0 { throw ExitCode(out.exitCode) }
    }
}
