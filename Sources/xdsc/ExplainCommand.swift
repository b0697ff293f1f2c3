import ArgumentParser
import XDSCDiagnostics
import XDSCDriver

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Explain a rule: what it checks, why, a failing and a fixed example",
        discussion: "RULE is a rule id such as duplicate-key or a code such as XDS002."
    )

    @Flag(name: .long, help: "List every rule with its code, severity and summary.")
    var list = false

    @Argument(help: "The rule id or code.", completion: .list(Rule.ID.allCases.map(\.rawValue)))
    var rule: String?

    func validate() throws {
        if rule == nil && !list { throw ValidationError("give a rule id or code, or --list") }
    }

    func run() throws {
        if list {
            FileHandleOutput.stdout(RuleDocs.list())
            return
        }
        switch RuleDocs.lookup(rule!) {
        case .found(let r):
            FileHandleOutput.stdout(RuleDocs.explanation(r))
        case .unknown(let suggestion):
            FileHandleOutput.stderr("error: " + RuleDocs.unknownMessage(rule!, suggestion: suggestion) + "\n")
            throw ExitCode(ExitStatus.usageOrIO)
        }
    }
}
