import ArgumentParser
import XDSCDriver

struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run tests against a configuration",
        subcommands: [TestRoutesCommand.self, TestTrafficCommand.self]
    )
}

struct TestRoutesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "routes",
        abstract: "Run Envoy route-table-check tests (router_check_tool's format and command line)",
        discussion: """
            CONFIG is a RouteConfiguration (YAML or JSON), or any input xdsc lint reads (a \
            policy too); TESTS is an envoy.RouterCheckToolSchema.Validation in JSON, YAML or \
            protobuf text format. Exit codes: 0 every test passed and coverage is met; 1 a test \
            failed, coverage is below --fail-under, the configuration or the test file has errors, \
            or (with --strict) the configuration has warnings; 2 usage error or unreadable input \
            (where router_check_tool exits 1).
            """
    )

    @Option(
        name: [.customShort("c"), .customLong("config-path")], help: "The route configuration (repeatable for a policy in several files).")
    var config: [String] = []

    @Option(name: [.customShort("t"), .customLong("test-path")], help: "The test file.")
    var tests: String?

    @Flag(name: [.customShort("d"), .long], help: "Print passing test names too.")
    var details = false

    @Flag(name: .customLong("only-show-failures"), help: "Print failing tests only.")
    var onlyShowFailures = false

    @Option(name: [.customShort("f"), .customLong("fail-under")], help: "Fail when route coverage is below this percentage.")
    var failUnder: Double = 0

    @Flag(name: .long, help: "Score coverage by the share of each route's fields the tests assert.")
    var covall = false

    @Flag(name: .customLong("detailed-coverage"), help: "Name each route no test covers.")
    var detailedCoverage = false

    @Flag(
        name: .customLong("disable-deprecation-check"), help: "Accepted for compatibility; xdsc reports deprecated fields as lint warnings."
    )
    var disableDeprecationCheck = false

    @Flag(name: .long, help: StrictOption.help)
    var strict = false

    func validate() throws {
        if config.isEmpty || tests == nil { throw ValidationError("Both --config-path/c and --test-path/t are mandatory") }
    }

    func run() throws {
        var options = RouteTestRunner.Options()
        options.details = details
        options.onlyShowFailures = onlyShowFailures
        options.failUnder = failUnder
        options.coverAll = covall
        options.detailedCoverage = detailedCoverage
        options.strict = strict
        let out = RouteTestCommand.run(config: config, tests: tests!, options: options)
        FileHandleOutput.stdout(out.stdout)
        FileHandleOutput.stderr(out.stderr)
        if out.exitCode != 0 { throw ExitCode(out.exitCode) }
    }
}
