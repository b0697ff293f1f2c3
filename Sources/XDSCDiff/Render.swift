import XDSCDiagnostics
import XDSCJSON
import XDSCRequest

extension DiffReport {
    func semanticTitle(_ c: SemanticChange) -> String {
        let what = c.element == .listener ? c.name : "\(c.element.rawValue) `\(c.name)`"
        let ctx = c.context.isEmpty ? "" : " (\(c.context))"
        switch c.kind {
        case .moved: return "moved \(what)\(ctx): position \(c.oldIndex ?? 0) -> \(c.newIndex ?? 0)"
        default: return "\(c.kind.rawValue) \(what)\(ctx)"
        }
    }

    func positions(_ old: DiffPosition?, _ new: DiffPosition?) -> String {
        var parts: [String] = []
        if let old { parts.append("old \(old)") }
        if let new { parts.append("new \(new)") }
        return parts.joined(separator: ", ")
    }

    func sideLine(_ s: BehaviourSide) -> String {
        s.route + (s.position.map { " (\($0))" } ?? "") + " -> " + s.outcome
    }

    func hostWords(_ c: BehaviourChange) -> String {
        switch (c.oldHost, c.newHost) {
        case (let a?, let b?) where a == b: return "host `\(a)`"
        case (let a?, let b?): return "host `\(a)` -> `\(b)`"
        case (let a?, nil): return "host `\(a)` -> none"
        case (nil, let b?): return "none -> host `\(b)`"
        case (nil, nil): return "no host"
        }
    }

    var summary: String {
        var parts: [String] = []
        if semanticComputed { parts.append(semantic.count == 1 ? "1 semantic change" : "\(semantic.count) semantic changes") }
        if behaviourComputed {
            parts.append(
                behaviour.isEmpty
                    ? "no behaviour change" : behaviour.count == 1 ? "1 behaviour change" : "\(behaviour.count) behaviour changes")
            if undecided > 0 { parts.append("\(undecided) undecided") }
        }
        return parts.joined(separator: ", ")
    }

    /// The terminal report.
    public func renderHuman() -> String {
        var out = ""
        for c in semantic {
            out += semanticTitle(c) + "\n"
            let p = positions(c.old, c.new)
            if !p.isEmpty { out += "  at: \(p)\n" }
            for f in c.fields { out += "  \(f.path): \(f.old ?? "(absent)") -> \(f.new ?? "(absent)")\n" }
        }
        if !semantic.isEmpty && !behaviour.isEmpty { out += "\n" }
        for c in behaviour {
            out += "behaviour change: \(c.example.method) \(c.example.authorityText) \(c.example.pathText)\n"
            out += "  where:  \(c.listener), \(hostWords(c))\n"
            out += "  before: \(sideLine(c.before))\n"
            out += "  after:  \(sideLine(c.after))\n"
            out += "  changes: \(c.aspects.joined(separator: ", "))\n"
            out += "  example: \(c.example.curlCommand)\n"
        }
        if undecided > 0 && behaviourComputed {
            for d in undecidedDetails.prefix(10) { out += "undecided: \(d)\n" }
        }
        if isEqual && undecided == 0 { return out + "no changes\n" }
        return out + summary + "\n"
    }

    /// A pull-request comment.
    public func renderMarkdown() -> String {
        var out = "### xdsc diff\n\n"
        if isEqual && undecided == 0 { return out + "No changes.\n" }
        out += "**\(summary)**\n\n"
        func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ") }
        if !behaviour.isEmpty {
            out += "#### Behaviour changes\n\n| request | where | before | after | changes |\n|---|---|---|---|---|\n"
            for c in behaviour {
                out +=
                    "| `\(cell("\(c.example.method) \(c.example.authorityText)\(c.example.pathText)"))` | \(cell("\(c.listener), \(hostWords(c))")) | \(cell(sideLine(c.before))) | \(cell(sideLine(c.after))) | \(cell(c.aspects.joined(separator: ", "))) |\n"
            }
            out += "\n"
        }
        if !semantic.isEmpty {
            out += "#### Semantic changes\n\n| change | at | fields |\n|---|---|---|\n"
            for c in semantic {
                let f = c.fields.map { "`\($0.path)`: \($0.old ?? "(absent)") → \($0.new ?? "(absent)")" }.joined(separator: "<br>")
                out += "| \(cell(semanticTitle(c))) | \(cell(positions(c.old, c.new))) | \(cell(f)) |\n"
            }
            out += "\n"
        }
        if undecided > 0 {
            out +=
                "\(undecided) case\(undecided == 1 ? "" : "s") could not be decided exactly and \(undecided == 1 ? "is" : "are") not shown.\n"
        }
        return out
    }

    /// `schemas/diff.v1.schema.json`.
    public func renderJSON() -> String {
        func pos(_ p: DiffPosition?) -> JSON { p?.json ?? .null }
        func opt(_ s: String?) -> JSON { s.map { .string($0) } ?? .null }
        let sem: [JSON] = semantic.map { c in
            var o: JSONObject = [
                "kind": .string(c.kind.rawValue), "element": .string(c.element.rawValue), "name": .string(c.name),
                "context": .string(c.context), "old": pos(c.old), "new": pos(c.new),
                "fields": .array(c.fields.map { .object(["path": .string($0.path), "old": opt($0.old), "new": opt($0.new)]) }),
            ]
            if c.kind == .moved {
                o.set("old_index", .int(Int64(c.oldIndex ?? 0)))
                o.set("new_index", .int(Int64(c.newIndex ?? 0)))
            }
            return .object(o)
        }
        func side(_ s: BehaviourSide) -> JSON {
            .object(["route": .string(s.route), "position": pos(s.position), "outcome": .string(s.outcome)])
        }
        let beh: [JSON] = behaviour.map { c in
            .object([
                "listener": .string(c.listener), "old_host": opt(c.oldHost), "new_host": opt(c.newHost),
                "example": .object([
                    "method": .string(c.example.method), "host": .string(c.example.authorityText), "path": .string(c.example.pathText),
                    "headers": .array(c.example.headers.map { .object(["name": .string($0.name), "value": .string($0.value)]) }),
                    "curl": .string(c.example.curlCommand),
                ]),
                "before": side(c.before), "after": side(c.after), "changes": .array(c.aspects.map { .string($0) }),
            ])
        }
        let o: JSONObject = [
            "version": .int(1), "equal": .bool(isEqual), "semantic": semanticComputed ? .array(sem) : .null,
            "behaviour": behaviourComputed ? .array(beh) : .null, "undecided": .int(Int64(undecided)),
            "undecided_details": .array(undecidedDetails.map { .string($0) }),
        ]
        return JSON.object(o).serialized()
    }
}
