import XDSCJSON
import XDSCSyntax

/// YAML nodes as JSON values, for payloads the model keeps as JSON (typed per-filter
/// configs): plain scalars typed by the YAML core schema, quoted ones as strings.
enum JSONValue {
    /// The JSON of `node`.
    static func of(_ node: YAMLNode) -> JSON {
        switch node.kind {
        case .scalar(let s):
            if s.isNull { return .null }
            if let b = s.bool { return .bool(b) }
            if let i = s.int { return .int(Int64(i)) }
            if s.isFloat, let d = Double(s.text) { return .double(d) }
            return .string(s.text)
        case .sequence(let items): return .array(items.map(of))
        case .mapping: return .object(object(of: node))
        }
    }

    /// The members of a mapping, `@type` left out (the model keeps it apart).
    static func object(of node: YAMLNode) -> JSONObject {
        var o = JSONObject()
        for p in node.pairs {
            guard let k = p.key.scalar?.text, k != "@type" else { continue }
            o[k] = of(p.value)
        }
        return o
    }
}
