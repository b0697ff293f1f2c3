import ArgumentParser
import XDSCDriver

struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Print a JSON Schema: the policy language, the JSON diagnostics, the route decision, the diff or the traffic test spec",
        discussion:
            "The same text is committed as schemas/policy.v1.schema.json, schemas/diagnostics.v1.schema.json, schemas/route.v1.schema.json, schemas/diff.v1.schema.json and schemas/traffic.v1.schema.json."
    )

    @Argument(help: "Which schema: policy, diagnostics, route, diff or traffic.", completion: .list(Schemas.names))
    var name: String = "policy"

    func validate() throws {
        if !Schemas.names.contains(name) {
            throw ValidationError("unknown schema '\(name)'; choose policy, diagnostics, route, diff or traffic")
        }
    }

    func run() throws {
        FileHandleOutput.stdout(Schemas.text(name)!)
    }
}
