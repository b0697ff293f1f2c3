import ArgumentParser
import XDSCDriver

struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract:
            "Print a JSON Schema: the policy language, the JSON diagnostics, the route decision, the diff, the traffic test spec or its results",
        discussion:
            "The same text is committed as schemas/NAME.v1.schema.json: \(Schemas.names.map { "schemas/\(Schemas.fileName($0))" }.joined(separator: ", "))."
    )

    @Argument(help: "Which schema: \(Schemas.names.joined(separator: ", ")).", completion: .list(Schemas.names))
    var name: String = "policy"

    func validate() throws {
        if !Schemas.names.contains(name) {
            throw ValidationError("unknown schema '\(name)'; choose \(Schemas.names.joined(separator: ", "))")
        }
    }

    func run() throws {
        FileHandleOutput.stdout(Schemas.text(name)!)
    }
}
