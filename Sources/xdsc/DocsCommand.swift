import ArgumentParser
import XDSCDriver

/// Prints generated documentation; `scripts/gen-docs` writes it into `docs/`.
struct DocsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "docs",
        abstract: "Print generated documentation (used by scripts/gen-docs)",
        shouldDisplay: false
    )

    @Argument(help: "Which document: rules.")
    var document: String

    func validate() throws {
        if document != "rules" { throw ValidationError("unknown document '\(document)'; choose rules") }
    }

    func run() throws {
        FileHandleOutput.stdout(RuleDocs.markdown())
    }
}
