import Foundation
import Testing
import XDSCDiagnostics
import XDSCDriver
import XDSCJSON
import XDSCPolicy
import XDSCRequest

/// The JSON Schemas: committed files match `xdsc schema`, a real validator (Python
/// jsonschema) accepts the valid fixtures and rejects the broken ones, the policy schema
/// names exactly the keys the parser accepts, and real `lint --format json` output conforms.
@Suite struct SchemaTests {
    static let policySchema = CLI.packageRoot.appendingPathComponent("schemas/policy.v1.schema.json").path
    static let diagnosticsSchema = CLI.packageRoot.appendingPathComponent("schemas/diagnostics.v1.schema.json").path

    /// Rules the schema must catch: the shape of one file is wrong.
    static let structuralRules: Set<String> = ["type-mismatch", "unknown-field", "conflicting-fields", "unsupported-version"]
    /// Rules only the whole policy shows; a file with only these must pass the schema, or the
    /// schema is stricter than the language.
    static let semanticRules: Set<String> = [
        "unknown-service", "duplicate-name", "duplicate-domain", "duplicate-address", "invalid-regex", "route-shadowed",
        "route-overlap", "unused-service", "retry-timeout", "ineffective-setting", "unsupported-matcher",
        // Not semantic, but the schema accepts the older spelling too (marked `deprecated`).
        "deprecated-field",
    ]
    /// Fixtures that are not YAML a JSON tool could read the same way.
    static let unreadableRules: Set<String> = ["yaml-syntax", "duplicate-key", "input-limit", "unreadable-input"]

    @Test(arguments: Schemas.names)
    func committedSchemaIsWhatXdscPrints(name: String) throws {
        let r = try CLI.run(["schema", name])
        #expect(r.status == 0)
        let committed = try String(contentsOf: CLI.packageRoot.appendingPathComponent("schemas/\(name).v1.schema.json"), encoding: .utf8)
        #expect(r.stdout == committed, "schemas/\(name).v1.schema.json is out of date; run scripts/gen-docs")
    }

    /// `scripts/gen-docs` regenerates what `schema --list` prints; schemas/ holds exactly
    /// those files, so a new schema cannot be forgotten and a dropped one cannot linger.
    @Test func schemaListIsWhatGenDocsAndTheDirectoryHold() throws {
        let r = try CLI.run(["schema", "--list"])
        #expect(r.status == 0)
        #expect(r.stdout == Schemas.names.map { $0 + "\n" }.joined())
        let dir = CLI.packageRoot.appendingPathComponent("schemas").path
        let committed = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".schema.json") }.sorted()
        #expect(committed == Schemas.names.map(Schemas.fileName).sorted())
        let script = try String(contentsOf: CLI.packageRoot.appendingPathComponent("scripts/gen-docs"), encoding: .utf8)
        #expect(script.contains("schema --list"), "scripts/gen-docs must take the schema names from `xdsc schema --list`")
        let help = try CLI.run(["schema", "--help"])
        #expect(!help.stdout.contains("--list"), "`--list` is for the generator, not the help")
    }

    @Test func unknownSchemaIsAUsageError() throws {
        let r = try CLI.run(["schema", "envoy"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("choose policy, diagnostics, route, diff, traffic, traffic-results"))
    }

    @Test func policySchemaNamesExactlyTheParsersKeys() throws {
        let schema = try JSON.parse(String(contentsOfFile: Self.policySchema, encoding: .utf8))
        let defs = try #require(schema["$defs"]?.objectValue)
        for (context, keys) in PolicyKeys.table.sorted(by: { $0.key < $1.key }) {
            let def = try #require(context == "top" ? schema : defs[context], "no schema for `\(context)`")
            #expect(def["additionalProperties"] == .bool(false), "`\(context)` must be closed")
            let properties = try #require(def["properties"]?.objectValue, "`\(context)` has no properties")
            #expect(Set(properties.keys) == Set(keys), "`\(context)`: schema \(properties.keys.sorted()) vs parser \(keys.sorted())")
        }
        // And no closed mapping in the schema that the parser does not know.
        for key in defs.keys where defs[key]?["additionalProperties"] == .bool(false) {
            #expect(PolicyKeys.table[key] != nil, "schema def `\(key)` is not a parser context")
        }
    }

    @Test func trafficSchemaNamesExactlyTheReadersKeys() throws {
        let schema = try JSON.parse(
            String(contentsOf: CLI.packageRoot.appendingPathComponent("schemas/traffic.v1.schema.json"), encoding: .utf8))
        let defs = try #require(schema["$defs"]?.objectValue)
        for (context, keys) in TrafficSpecKeys.table.sorted(by: { $0.key < $1.key }) {
            let def = try #require(context == "top" ? schema : defs[context], "no schema for `\(context)`")
            #expect(def["additionalProperties"] == .bool(false), "`\(context)` must be closed")
            let properties = try #require(def["properties"]?.objectValue, "`\(context)` has no properties")
            #expect(Set(properties.keys) == Set(keys), "`\(context)`: schema \(properties.keys.sorted()) vs reader \(keys.sorted())")
        }
        for key in defs.keys { #expect(TrafficSpecKeys.table[key] != nil, "schema def `\(key)` is not a reader context") }
    }

    @Test(.enabled(if: Tools.hasJSONSchemaValidator, "needs python3 with jsonschema and PyYAML"))
    func trafficSchemaAcceptsTheExampleSpec() throws {
        let schema = CLI.packageRoot.appendingPathComponent("schemas/traffic.v1.schema.json").path
        let specs = ["fixtures/traffic/shop.yaml", "fixtures/traffic/retries.yaml"]
        let report = try Tools.validate(schema: schema, files: specs)
        for spec in specs { #expect(report[spec] == [], "\(spec)") }
    }

    @Test func everyKeyHasADescription() throws {
        let traffic = CLI.packageRoot.appendingPathComponent("schemas/traffic.v1.schema.json").path
        for path in [Self.policySchema, Self.diagnosticsSchema, traffic] {
            let schema = try JSON.parse(String(contentsOfFile: path, encoding: .utf8))
            var missing: [String] = []
            func walk(_ node: JSON, _ where_: String) {
                switch node {
                case .object(let o):
                    if let props = o["properties"]?.objectValue {
                        for key in props.keys where props[key]?["description"]?.stringValue?.isEmpty != false {
                            missing.append("\(where_)/properties/\(key)")
                        }
                    }
                    for key in o.keys { walk(o[key]!, "\(where_)/\(key)") }
                case .array(let a):
                    for (i, item) in a.enumerated() { walk(item, "\(where_)/\(i)") }
                default: break
                }
            }
            walk(schema, "#")
            #expect(missing.isEmpty, "keys without a description in \(path): \(missing)")
        }
    }

    @Test func diagnosticsSchemaNamesEveryRule() throws {
        let schema = try JSON.parse(String(contentsOfFile: Self.diagnosticsSchema, encoding: .utf8))
        let rules = schema["$defs"]?["diagnostic"]?["properties"]?["rule"]?["enum"]?.arrayValue?.compactMap(\.stringValue)
        #expect(rules == Rule.ID.allCases.map(\.rawValue))
        let codes = schema["$defs"]?["diagnostic"]?["properties"]?["code"]?["enum"]?.arrayValue?.compactMap(\.stringValue)
        #expect(codes == Rule.registry.rules.map(\.code))
    }

    @Test(.enabled(if: Tools.hasJSONSchemaValidator, "needs python3 with jsonschema and PyYAML"))
    func validatorAcceptsValidFixturesAndRejectsBrokenOnes() throws {
        var valid: [String] = []
        var broken: [String] = []
        // Traffic specs have their own schema (trafficSchemaAcceptsTheExampleSpec).
        for file in Tools.fixtureFiles() where !file.hasPrefix("fixtures/traffic/") {
            let text = try String(contentsOf: CLI.packageRoot.appendingPathComponent(file), encoding: .utf8)
            let expected = Tools.expectedRules(text)
            if expected.isEmpty || expected.isSubset(of: Self.semanticRules) {
                // A fixture without markers that is not a policy file (e.g. Envoy input) is not ours.
                if text.split(separator: "\n").contains(where: { $0.hasPrefix("version:") }) { valid.append(file) }
            } else if expected.isDisjoint(with: Self.unreadableRules), !expected.isDisjoint(with: Self.structuralRules) {
                broken.append(file)
            }
        }
        #expect(valid.count >= 2 && broken.count >= 3, "too few fixtures: \(valid) \(broken)")
        let report = try Tools.validate(schema: Self.policySchema, files: valid + broken)
        for file in valid {
            #expect(report[file] == [], "\(file) has a valid shape but the schema says: \(report[file] ?? [])")
        }
        for file in broken {
            #expect(report[file]?.isEmpty == false, "\(file) has structural errors but the schema accepts it")
        }
    }

    @Test(.enabled(if: Tools.hasJSONSchemaValidator, "needs python3 with jsonschema and PyYAML"))
    func lintJSONOutputConformsToTheDiagnosticsSchema() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var inputs: [[String]] = [
            ["fixtures/schema/full.yaml"],
            ["fixtures/schema/type-bare-number.yaml"],
            ["fixtures/schema/type-list-for-map.yaml"],
            ["fixtures/schema/type-string-for-list.yaml"],
            ["fixtures/schema/unknown-key.yaml"],
            ["fixtures/schema/semantic-duplicate-domain.yaml"],
            ["fixtures/schema/minimal.yaml", "fixtures/schema/full.yaml"],
            ["fixtures/no-such-file.yaml"],
        ]
        // Every lint fixture too (a file, or a directory read as one policy), so findings
        // from passes added later are checked against the contract as soon as they have one.
        let lintDir = CLI.packageRoot.appendingPathComponent("fixtures/lint")
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: lintDir.path)) ?? []).sorted() {
            inputs.append(["fixtures/lint/\(name)"])
        }
        var outputs: [String] = []
        var sawRelated = false
        for (i, args) in inputs.enumerated() {
            let r = try CLI.run(["lint", "--format", "json"] + args)
            #expect([0, 1, 2].contains(r.status))
            sawRelated = sawRelated || r.stdout.contains("\"related\": [\n")
            let out = dir.appendingPathComponent("lint-\(i).json")
            try r.stdout.write(to: out, atomically: true, encoding: .utf8)
            outputs.append(out.path)
        }
        #expect(sawRelated, "no output exercised `related`")
        // No pass produces an example request on these inputs yet; render one directly.
        let witness = Diagnostic(
            .routeOverlap, "route `b` overlaps route `a`", at: .point("p.yaml", line: 3, column: 5),
            related: [RelatedLocation("earlier route", at: .point("p.yaml", line: 1, column: 3))], help: "reorder",
            witness: EnvoyRequest(method: "POST", authority: "api.example.com", path: "/a?x=1", headers: [HTTPHeader("x-env", "prod")])
        )
        let witnessFile = dir.appendingPathComponent("witness.json")
        try JSONRenderer().render([witness]).write(to: witnessFile, atomically: true, encoding: .utf8)
        outputs.append(witnessFile.path)
        // A document that breaks the contract must be rejected, or the schema proves nothing.
        let bad = dir.appendingPathComponent("bad.json")
        try """
        {"diagnostics": [{"severity": "error", "rule": "no-such-rule", "code": "XDS001", "message": "m",
          "location": {"file": "a.yaml", "line": 0, "column": 1}, "related": []}],
         "summary": {"errors": 1, "warnings": 0}}
        """.write(to: bad, atomically: true, encoding: .utf8)
        let report = try Tools.validate(schema: Self.diagnosticsSchema, files: outputs + [bad.path])
        for out in outputs {
            #expect(report[out] == [], "\(out): \(report[out] ?? [])")
        }
        #expect((report[bad.path] ?? []).count == 2, "\(report[bad.path] ?? [])")
    }
}
