import XDSCJSON

/// An `--expect` file: the changes of a reviewed diff, read from its saved
/// `xdsc diff --format json` output. A later diff passes when every change it finds is one of
/// these: behaviour changes by listener, winning routes and outcomes on both sides (not the
/// example, which may change with unrelated edits); semantic changes by kind, element, name,
/// context and changed fields (not positions, which move with unrelated edits).
public struct DiffExpectations: Sendable {
    var behaviour: Set<String> = []
    var semantic: Set<String> = []

    static let separator = "\u{1F}"

    static func behaviourKey(listener: String, before: (String, String), after: (String, String)) -> String {
        [listener, before.0, before.1, after.0, after.1].joined(separator: separator)
    }

    static func semanticKey(kind: String, element: String, name: String, context: String, fields: [FieldChange]) -> String {
        let f = fields.map { [$0.path, $0.old ?? "\u{0}", $0.new ?? "\u{0}"].joined(separator: "\u{1E}") }
        return ([kind, element, name, context] + f).joined(separator: separator)
    }

    /// Reads an expect file; a usage error when it is not the JSON output of `xdsc diff`.
    public static func parse(_ text: String) -> Result<DiffExpectations, DiffUsageError> {
        let json: JSON
        do { json = try JSON.parse(text) } catch { return .failure(DiffUsageError("the expect file is not JSON: \(error.message)")) }
        guard let list = json["behaviour"]?.arrayValue else {
            return .failure(DiffUsageError("the expect file has no `behaviour` list (save the output of `xdsc diff --format json`)"))
        }
        var out = DiffExpectations()
        for item in list {
            guard let l = item["listener"]?.stringValue, let br = item["before"]?["route"]?.stringValue,
                let bo = item["before"]?["outcome"]?.stringValue, let ar = item["after"]?["route"]?.stringValue,
                let ao = item["after"]?["outcome"]?.stringValue
            else { return .failure(DiffUsageError("an entry of `behaviour` lacks listener, before or after")) }
            out.behaviour.insert(behaviourKey(listener: l, before: (br, bo), after: (ar, ao)))
        }
        // A file saved with --behaviour-only has `semantic: null`: no semantic change expected.
        for item in json["semantic"]?.arrayValue ?? [] {
            guard let kind = item["kind"]?.stringValue, let element = item["element"]?.stringValue,
                let name = item["name"]?.stringValue, let context = item["context"]?.stringValue
            else { return .failure(DiffUsageError("an entry of `semantic` lacks kind, element, name or context")) }
            let fields = (item["fields"]?.arrayValue ?? []).map {
                FieldChange(path: $0["path"]?.stringValue ?? "", old: $0["old"]?.stringValue, new: $0["new"]?.stringValue)
            }
            out.semantic.insert(semanticKey(kind: kind, element: element, name: name, context: context, fields: fields))
        }
        return .success(out)
    }

    /// The behaviour changes of `r` the file does not list.
    public func unexpectedBehaviour(_ r: DiffReport) -> [BehaviourChange] {
        r.behaviour.filter { c in
            !behaviour.contains(
                Self.behaviourKey(listener: c.listener, before: (c.before.route, c.before.outcome), after: (c.after.route, c.after.outcome))
            )
        }
    }

    /// The semantic changes of `r` the file does not list.
    public func unexpectedSemantic(_ r: DiffReport) -> [SemanticChange] {
        r.semantic.filter { c in
            !semantic.contains(
                Self.semanticKey(kind: c.kind.rawValue, element: c.element.rawValue, name: c.name, context: c.context, fields: c.fields))
        }
    }
}
