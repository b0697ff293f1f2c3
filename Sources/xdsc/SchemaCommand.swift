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

    // For scripts/gen-docs, which regenerates every schema this lists (so a new schema
    // cannot be left out of the committed files); private, so help, completions and the
    // man page do not show it.
    @Flag(help: ArgumentHelp("Print the schema names, one per line.", visibility: .private))
    var list = false

    func validate() throws {
        if !Schemas.names.contains(name) {
            throw ValidationError("unknown schema '\(name)'; choose \(Schemas.names.joined(separator: ", "))")
        }
    }

    func run() throws {
        if list {
            FileHandleOutput.stdout(Schemas.names.map { $0 + "\n" }.joined())
            return
        }
        FileHandleOutput.stdout(Schemas.text(name)!)
    }
}
