import ArgumentParser
import XDSCDriver

struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Print a JSON Schema: the policy language or the JSON diagnostics",
        discussion: "The same text is committed as schemas/policy.v1.schema.json and schemas/diagnostics.v1.schema.json."
    )

    @Argument(help: "Which schema: policy or diagnostics.", completion: .list(Schemas.names))
    var name: String = "policy"

    func validate() throws {
        if !Schemas.names.contains(name) {
            throw ValidationError("unknown schema '\(name)'; choose policy or diagnostics")
        }
    }

    func run() throws {
        FileHandleOutput.stdout(Schemas.text(name)!)
    }
}
