import XDSCJSON

/// Writes a JSON document as block-style YAML (for `--format yaml`): keys in order,
/// strings plain when YAML reads them back as the same string, else double-quoted with
/// JSON escapes (valid YAML).
public enum YAMLText {
    /// The YAML text, ending in a newline.
    public static func render(_ json: JSON) -> String {
        var out = ""
        switch json {
        case .object(let o) where !o.isEmpty: writeObject(o, indent: 0, into: &out)
        case .array(let a) where !a.isEmpty: writeArray(a, indent: 0, into: &out)
        default: out = scalar(json) + "\n"
        }
        return out
    }

    private static func writeObject(_ o: JSONObject, indent: Int, into out: inout String) {
        let pad = String(repeating: " ", count: indent)
        for (k, v) in o.members {
            out += pad + string(k) + ":"
            writeValue(v, indent: indent, into: &out)
        }
    }

    private static func writeArray(_ a: [JSON], indent: Int, into out: inout String) {
        let pad = String(repeating: " ", count: indent)
        for v in a {
            switch v {
            case .object(let o) where !o.isEmpty:
                // The first key shares the dash's line.
                var nested = ""
                writeObject(o, indent: indent + 2, into: &nested)
                out += pad + "- " + nested.dropFirst(indent + 2)
            case .array(let inner) where !inner.isEmpty:
                out += pad + "-\n"
                writeArray(inner, indent: indent + 2, into: &out)
            default:
                out += pad + "- " + scalar(v) + "\n"
            }
        }
    }

    private static func writeValue(_ v: JSON, indent: Int, into out: inout String) {
        switch v {
        case .object(let o) where !o.isEmpty:
            out += "\n"
            writeObject(o, indent: indent + 2, into: &out)
        case .array(let a) where !a.isEmpty:
            out += "\n"
            writeArray(a, indent: indent, into: &out)
        default:
            out += " " + scalar(v) + "\n"
        }
    }

    private static func scalar(_ v: JSON) -> String {
        switch v {
        case .null: "null"
        case .bool(let b): b ? "true" : "false"
        case .int(let i): String(i)
        case .double: v.compactText()
        case .string(let s): string(s)
        case .object: "{}"
        case .array: "[]"
        }
    }

    private static let reserved: Set<String> = [
        "true", "false", "yes", "no", "on", "off", "null", "y", "n", "~",
    ]

    /// A string as a plain scalar when that is unambiguous, else double-quoted.
    static func string(_ s: String) -> String {
        let plainSafe =
            !s.isEmpty && !reserved.contains(s.lowercased())
            && s.unicodeScalars.allSatisfy { c in
                (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || "._/-".unicodeScalars.contains(c)
            }
            && !(s.first!.isNumber || s.first == "-" || s.first == ".")
        return plainSafe ? s : JSON.string(s).compactText()
    }
}
