import XDSCJSON
import XDSCRequest

/// The version every output names.
public enum XDSCVersion {
    /// This version of xdsc.
    public static let current = "0.1.0"
}

/// SARIF 2.1.0 for code-scanning upload: the rule table from the registry, and results with
/// physical and related locations.
public struct SARIFRenderer: DiagnosticRenderer {
    /// Creates the renderer.
    public init() {}

    /// Renders `diagnostics` in this format.
    public func render(_ diagnostics: [Diagnostic]) -> String { document(diagnostics).serialized() }

    /// The SARIF document for `diagnostics`.
    public func document(_ diagnostics: [Diagnostic]) -> JSON {
        let rules = Rule.registry.rules
        let ruleTable: [JSON] = rules.map { r in
            .object([
                "id": .string(r.id.rawValue),
                "name": .string(r.code),
                "shortDescription": .object(["text": .string(r.summary)]),
                "fullDescription": .object(["text": .string(r.explanation)]),
                "help": .object(["text": .string(Self.help(r, markdown: false)), "markdown": .string(Self.help(r, markdown: true))]),
                "defaultConfiguration": .object(["level": .string(Self.level(r.severity))]),
            ])
        }
        let results: [JSON] = diagnostics.map { d in
            var o: JSONObject = [
                "ruleId": .string(d.rule.rawValue),
                "ruleIndex": .integer(rules.firstIndex { $0.id == d.rule } ?? 0),
                "level": .string(Self.level(d.severity)),
                "message": .object(["text": .string(d.help.map { "\(d.message) (help: \($0))" } ?? d.message)]),
                "locations": .array([.object(["physicalLocation": Self.physical(d.span)])]),
            ]
            if !d.related.isEmpty {
                o["relatedLocations"] = .array(
                    d.related.enumerated().map { i, r in
                        .object([
                            "id": .integer(i + 1), "physicalLocation": Self.physical(r.span),
                            "message": .object(["text": .string(r.message)]),
                        ])
                    })
            }
            if let w = d.witness {
                o["properties"] = .object([
                    "witness": .object(["curl": .string(w.curlCommand), "path": .string(w.pathText), "method": .string(w.method)])
                ])
            }
            return .object(o)
        }
        return .object([
            "$schema": .string("https://json.schemastore.org/sarif-2.1.0.json"),
            "version": .string("2.1.0"),
            "runs": .array([
                .object([
                    "tool": .object([
                        "driver": .object([
                            "name": .string("xdsc"), "version": .string(XDSCVersion.current),
                            "informationUri": .string("https://www.envoyproxy.io/docs/envoy/latest/"),
                            "rules": .array(ruleTable),
                        ])
                    ]),
                    "columnKind": .string("unicodeCodePoints"),
                    "results": .array(results),
                ])
            ]),
        ])
    }

    /// A rule's help: its explanation with the failing and fixed examples, then the same
    /// for Envoy input when the rule runs there too.
    static func help(_ r: Rule, markdown: Bool) -> String {
        func part(_ explanation: String, _ failing: String, _ fixed: String) -> String {
            let (open, close) = markdown ? ("```yaml\n", "\n```") : ("", "")
            return "\(explanation)\n\nFailing:\n\(open)\(failing)\(close)\n\nFixed:\n\(open)\(fixed)\(close)"
        }
        var out = part(r.explanation, r.failingExample, r.fixedExample)
        if let e = r.onEnvoyInput { out += "\n\n" + part(e.explanation, e.failingExample, e.fixedExample) }
        return out
    }

    static func level(_ s: Severity) -> String {
        switch s {
        case .error: "error"
        case .warning: "warning"
        case .note: "note"
        }
    }

    static func physical(_ span: SourceSpan) -> JSON {
        var region: JSONObject = ["startLine": .integer(span.start.line), "startColumn": .integer(span.start.column)]
        if span.end > span.start {
            region["endLine"] = .integer(span.end.line)
            region["endColumn"] = .integer(span.end.column)
        }
        return .object(["artifactLocation": .object(["uri": .string(uriReference(span.file))]), "region": .object(region)])
    }

    /// A file path as an RFC 3986 URI reference, as SARIF's `artifactLocation.uri` requires:
    /// every byte of the UTF-8 path is percent-encoded (upper-case hex) except the unreserved
    /// characters and `/`, so spaces, `%`, `#`, `?`, `:` and non-ASCII are all safe.
    static func uriReference(_ path: String) -> String {
        var out = ""
        for b in path.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "/"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                let hex = String(b, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }
}

/// GitHub Actions workflow commands: `::error file=...,line=...,col=...,title=...::message`.
public struct GitHubRenderer: DiagnosticRenderer {
    /// Creates the renderer.
    public init() {}

    /// Renders `diagnostics` in this format.
    public func render(_ diagnostics: [Diagnostic]) -> String {
        diagnostics.map { d in
            let command = d.severity == .error ? "error" : (d.severity == .warning ? "warning" : "notice")
            var props = [
                "file=\(Self.property(d.span.file))", "line=\(d.span.start.line)", "col=\(d.span.start.column)",
            ]
            if d.span.end.line == d.span.start.line, d.span.end.column > d.span.start.column {
                props += ["endLine=\(d.span.end.line)", "endColumn=\(d.span.end.column)"]
            }
            props.append("title=\(Self.property("xdsc \(d.rule.rawValue) (\(d.code))"))")
            var text = d.message
            if let h = d.help { text += "\nhelp: \(h)" }
            for r in d.related { text += "\n\(r.span): \(r.message)" }
            if let w = d.witness { text += "\nexample: \(w.curlCommand)" }
            return "::\(command) \(props.joined(separator: ","))::\(Self.data(text))\n"
        }.joined()
    }

    static func data(_ s: String) -> String {
        s.unicodeScalars.map { c -> String in
            switch c {
            case "%": "%25"
            case "\r": "%0D"
            case "\n": "%0A"
            default: String(c)
            }
        }.joined()
    }

    static func property(_ s: String) -> String {
        data(s).unicodeScalars.map { c -> String in
            switch c {
            case ":": "%3A"
            case ",": "%2C"
            default: String(c)
            }
        }.joined()
    }
}
