import ArgumentParser
import XDSCDriver

struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Print a JSON Schema: the policy language, the JSON diagnostics, the route decision or the diff",
        discussion:
            "The same text is committed as schemas/policy.v1.schema.json, schemas/diagnostics.v1.schema.json, schemas/route.v1.schema.json and schemas/diff.v1.schema.json."
    )

    @Argument(help: "Which schema: policy, diagnostics, route or diff.", completion: .list(Schemas.names))
    var name: String = "policy"

    func validate() throws {
        if !Schemas.names.contains(name) {
            throw ValidationError("unknown schema '\(name)'; choose policy, diagnostics, route or diff")
        }
    }

    func run() throws {
        FileHandleOutput.stdout(Schemas.text(name)!)
    }
}
