import Foundation
import XDSCDiagnostics
import XDSCEmit
import XDSCEnvoy
import XDSCEnvoyReader
import XDSCJSON
import XDSCPolicy
import XDSCRouteEngine
import XDSCSyntax

/// A route table ready for the engine, with the source text renderers show.
public struct LoadedRouteTable: Sendable {
    /// Where it came from: `FILE` or `FILE: listener L`.
    public var label: String
    /// The engine on the table.
    public var engine: RouteEngine
}

/// Reads route tables for `xdsc route` and `xdsc test routes`: Envoy files (a bare
/// `RouteConfiguration`, a bootstrap, a discovery response, YAML or JSON) with every field's
/// position, or policies through the pipeline.
public enum RouteInputs {
    /// The outcome of a load: the tables, the sources for snippets, and what went wrong.
    public struct Result: Sendable {
        /// The route tables read, in input order.
        public var tables: [LoadedRouteTable] = []
        /// The text of every file read, by path, for snippets.
        public var sources: [String: SourceFile] = [:]
        /// Every diagnostic of the load, sorted.
        public var diagnostics: [Diagnostic] = []
        /// The first load error in the route-check tool's words (for `xdsc test routes`).
        public var toolError: String?
        /// The configuration the Envoy files hold (listeners, clusters, endpoints), when any
        /// Envoy file was read.
        public var envoy: EnvoyConfig?
        /// Every input went through lint's whole pipeline (policies only), so `diagnostics`
        /// holds every warning `xdsc lint` reports (``StrictWarnings``).
        public var linted = false
    }

    /// Whether a parsed YAML document looks like a policy rather than Envoy configuration.
    static func isPolicy(_ root: YAMLNode) -> Bool {
        guard let m = root.mapping else { return false }
        let keys = Set(m.compactMap { $0.key.scalar?.text })
        return keys.contains("version") && !keys.contains("virtual_hosts") && !keys.contains("static_resources")
            && !keys.contains("resources")
    }

    /// Loads `paths` as Envoy files, or, when they are policies, as the Envoy configuration
    /// the policy compiles to.
    public static func load(_ paths: [String]) -> Result {
        var out = Result()
        let sink = DiagnosticSink()
        let files = PolicyInputs.read(paths, into: sink)
        let reader = YAMLReader()
        var policyFiles: [PolicyInputs.File] = []
        var envoyFiles: [EnvoyReader.File] = []
        for f in files {
            let text = String(decoding: f.bytes, as: UTF8.self)
            out.sources[f.path] = SourceFile(path: f.path, text: text)
            guard let root = reader.read(f.bytes, file: f.path, into: sink) else {
                if !sink.all.contains(where: { $0.span.file == f.path }) {
                    sink.add(.missingField, "the file is empty", at: .point(f.path))
                }
                continue
            }
            if isPolicy(root) {
                policyFiles.append(f)
                continue
            }
            envoyFiles.append(EnvoyReader.File(path: f.path, bytes: f.bytes, root: root))
            if EnvoyReader.kind(of: root) == nil {
                let keys = root.pairs.compactMap { $0.key.scalar?.text }.map { "`\($0)`" }
                out.toolError =
                    out.toolError
                    ?? "INVALID_ARGUMENT: unable to parse \(f.path) as envoy.config.route.v3.RouteConfiguration: no field named \(keys.joined(separator: ", "))"
            }
        }
        if !envoyFiles.isEmpty { loadEnvoy(envoyFiles, sink: sink, into: &out) }
        if !policyFiles.isEmpty {
            let result = Pipeline().check(files: policyFiles, sink: sink)
            for (k, v) in result.sources { out.sources[k] = v }
            if !result.hasErrors, let envoy = result.envoy {
                for (i, l) in envoy.listeners.enumerated() {
                    guard let rc = l.connectionManager.routeConfiguration else { continue }
                    var config = rc
                    let listener = result.policy.listeners.indices.contains(i) ? result.policy.listeners[i] : nil
                    config.source = listener?.span
                    let spans = listener.map { inheritedSpans(config, $0) } ?? [:]
                    out.tables.append(LoadedRouteTable(label: "listener \(l.name)", engine: RouteEngine(config, spans: spans)))
                }
            } else if result.hasErrors {
                out.toolError = out.toolError ?? "INVALID_ARGUMENT: the policy has errors"
            }
            out.diagnostics = result.diagnostics.filter { d in !sink.all.contains(d) } + sink.sorted
            out.linted = envoyFiles.isEmpty
            return out
        }
        out.diagnostics = sink.sorted
        return out
    }

    /// Where a policy route's inherited settings are written, by the Envoy field path the
    /// decision's origins name: the policy keeps each value's provenance (route, host,
    /// listener or `defaults`), so `timeout_source` points at the line the timeout came from,
    /// not at the route that inherits it. The lowered routes carry their policy route's span.
    static func inheritedSpans(_ rc: RouteConfiguration, _ listener: PolicyListener) -> [String: SourceSpanRef] {
        var written: [SourceSpan: (timeout: SourceSpan?, retries: SourceSpan?)] = [:]
        for h in listener.hosts {
            for r in h.routes {
                let e = r.effective
                let timeout = e.timeout?.provenance.span
                let retries = e.retries?.provenance.span
                if timeout != nil || retries != nil { written[r.span] = (timeout, retries) }
            }
        }
        var spans: [String: SourceSpanRef] = [:]
        guard !written.isEmpty else { return spans }
        for (h, vh) in rc.virtualHosts.enumerated() {
            for (i, route) in vh.routes.enumerated() {
                guard let source = route.source, let w = written[source] else { continue }
                let path = "virtual_hosts[\(h)].routes[\(i)].route"
                if let t = w.timeout { spans[path + ".timeout"] = SourceSpanRef(t) }
                if let r = w.retries { spans[path + ".retry_policy"] = SourceSpanRef(r) }
            }
        }
        return spans
    }

    /// Reads Envoy files with the reader (every field at its position, `path_config_source`
    /// files followed) and makes one engine per route table, each element of a decision
    /// linked to the reader's span of the field it comes from.
    static func loadEnvoy(_ files: [EnvoyReader.File], sink: DiagnosticSink, into out: inout Result) {
        let read = EnvoyReader().read(files: files, into: sink)
        out.envoy = read.config
        for (k, v) in read.sources { out.sources[k] = v }
        var roots: [String: YAMLNode] = [:]
        for f in files { roots[f.path] = f.root }
        var tables: [(label: String, config: RouteConfiguration)] = []
        for rc in read.config.routeConfigurations { tables.append((rc.source?.file ?? "", rc)) }
        for l in read.config.listeners {
            for cm in l.connectionManagers {
                guard case .inline(let rc) = cm.routes, !tables.contains(where: { $0.config.source == rc.source && rc.source != nil })
                else { continue }
                tables.append(("\(rc.source?.file ?? ""): listener \(l.name)", rc))
            }
        }
        if tables.isEmpty && out.toolError == nil {
            for f in files { sink.add(.missingField, "no route configuration found in \(f.path)", at: f.root?.span ?? .point(f.path)) }
        }
        if out.toolError == nil, let e = sink.all.first(where: { $0.severity == .error }) {
            out.toolError =
                "INVALID_ARGUMENT: unable to parse \(e.span.file) as envoy.config.route.v3.RouteConfiguration: \(e.span): \(e.message)"
        }
        for (label, config) in tables {
            // The field paths of the table, each with the reader's span, for the decision's origins.
            var spans: [String: SourceSpanRef] = [:]
            if let source = config.source {
                // A file named by a config source: parsed again for its tree (the reader keeps none).
                if roots[source.file] == nil, let data = FileManager.default.contents(atPath: source.file) {
                    roots[source.file] = YAMLReader().read([UInt8](data), file: source.file, into: DiagnosticSink())
                }
                if let root = roots[source.file], let node = find(source, in: root) {
                    _ = toJSON(node, path: "", spans: &spans)
                }
            }
            out.tables.append(LoadedRouteTable(label: label.isEmpty ? config.name : label, engine: RouteEngine(config, spans: spans)))
        }
    }

    /// The node of `root` whose span is `span` (the reader's span of a message).
    static func find(_ span: SourceSpan, in root: YAMLNode) -> YAMLNode? {
        if root.span == span { return root }
        switch root.kind {
        case .scalar: return nil
        case .sequence(let items):
            for i in items where i.span.start <= span.start && span.end <= i.span.end {
                if let n = find(span, in: i) { return n }
            }
        case .mapping(let pairs):
            for p in pairs where p.value.span.start <= span.start && span.end <= p.value.span.end {
                if let n = find(span, in: p.value) { return n }
            }
        }
        return nil
    }

    static func parentPath(_ p: String) -> String {
        guard let dot = p.lastIndex(where: { $0 == "." || $0 == "[" }) else { return "" }
        return String(p[..<dot])
    }

    /// The JSON value of a YAML node (plain scalars typed as YAML's core schema), recording
    /// the span of every field and list element under its proto field path.
    static func toJSON(_ node: YAMLNode, path: String, spans: inout [String: SourceSpanRef]) -> JSON {
        switch node.kind {
        case .scalar(let s):
            guard s.isPlain else { return .string(s.text) }
            if s.isNull { return .null }
            if let b = s.bool { return .bool(b) }
            if let i = s.int { return .int(Int64(i)) }
            if s.isFloat, let d = Double(s.text) { return .double(d) }
            return .string(s.text)
        case .sequence(let items):
            var out: [JSON] = []
            for (i, item) in items.enumerated() {
                let p = "\(path)[\(i)]"
                spans[p] = SourceSpanRef(item.span)
                out.append(toJSON(item, path: p, spans: &spans))
            }
            return .array(out)
        case .mapping(let pairs):
            var o = JSONObject()
            for pair in pairs {
                let key = pair.key.scalar?.text ?? ""
                let name = key == "@type" ? key : snakeCased(key)
                let p = path.isEmpty ? name : path + "." + name
                spans[p] = SourceSpanRef(SourceSpan(file: pair.key.span.file, start: pair.key.span.start, end: pair.value.span.end))
                o[key] = toJSON(pair.value, path: p, spans: &spans)
            }
            return .object(o)
        }
    }

    static func snakeCased(_ s: String) -> String {
        guard s.contains(where: \.isUppercase) else { return s }
        var out = ""
        for c in s {
            if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) }
        }
        return out
    }

    /// Reads a data file (tests) as JSON: `.pb_text` as protobuf text format, anything else
    /// with the YAML reader (which also reads JSON, trailing commas included).
    public static func readData(_ path: String, sink: DiagnosticSink) -> JSON? {
        guard let data = PolicyInputs.readFile(path, into: sink) else { return nil }
        if path.hasSuffix(".pb_text") || path.hasSuffix(".textproto") || path.hasSuffix(".pbtxt") {
            do {
                return try TextProto.parse(String(decoding: data, as: UTF8.self), repeated: TextProto.routerCheckRepeated)
            } catch {
                sink.add(.yamlSyntax, "protobuf text format: \(error.message)", at: .point(path, line: error.line, column: error.column))
                return nil
            }
        }
        guard let root = YAMLReader().read(data, file: path, into: sink) else { return nil }
        var spans: [String: SourceSpanRef] = [:]
        return toJSON(root, path: "", spans: &spans)
    }
}

/// A small reader of protobuf text format into JSON (enough for test files): fields
/// `name: value` or `name { ... }`, strings, numbers, identifiers; fields named in
/// `repeated` become lists.
public enum TextProto {
    /// A syntax error with its position.
    public struct ParseError: Error {
        /// What is wrong.
        public var message: String
        /// The 1-based line.
        public var line: Int
        /// The 1-based column.
        public var column: Int
    }

    /// The repeated fields of the route-check tool's schema.
    public static let routerCheckRepeated: Set<String> = [
        "tests", "additional_request_headers", "additional_response_headers", "request_header_matches",
        "response_header_matches", "request_header_fields", "response_header_fields", "dynamic_metadata",
    ]

    /// Parses `text` as one message; fields named in `repeated` become lists.
    public static func parse(_ text: String, repeated: Set<String>) throws(ParseError) -> JSON {
        var p = Parser(bytes: Array(text.utf8), repeated: repeated)
        let o = try p.message(until: nil)
        return .object(o)
    }

    struct Parser {
        let bytes: [UInt8]
        let repeated: Set<String>
        var i = 0
        var line = 1
        var col = 1

        init(bytes: [UInt8], repeated: Set<String>) {
            self.bytes = bytes
            self.repeated = repeated
        }

        func error(_ m: String) -> ParseError { ParseError(message: m, line: line, column: col) }

        mutating func advance() {
            if bytes[i] == UInt8(ascii: "\n") {
                line += 1
                col = 1
            } else {
                col += 1
            }
            i += 1
        }

        mutating func skip() {
            while i < bytes.count {
                let c = bytes[i]
                if c == UInt8(ascii: "#") {
                    while i < bytes.count && bytes[i] != UInt8(ascii: "\n") { advance() }
                } else if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == UInt8(ascii: ",") || c == UInt8(ascii: ";") {
                    advance()
                } else {
                    return
                }
            }
        }

        mutating func identifier() -> String {
            var out: [UInt8] = []
            while i < bytes.count {
                let c = bytes[i]
                let ok =
                    (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == UInt8(ascii: "_")
                    || c == UInt8(ascii: ".") || c == UInt8(ascii: "-") || c == UInt8(ascii: "+")
                guard ok else { break }
                out.append(c)
                advance()
            }
            return String(decoding: out, as: UTF8.self)
        }

        mutating func message(until close: UInt8?) throws(ParseError) -> JSONObject {
            var o = JSONObject()
            while true {
                skip()
                if i >= bytes.count {
                    if close != nil { throw error("unexpected end of input") }
                    return o
                }
                if let close, bytes[i] == close {
                    advance()
                    return o
                }
                let name = identifier()
                if name.isEmpty { throw error("expected a field name") }
                skip()
                var value: JSON
                if i < bytes.count && bytes[i] == UInt8(ascii: ":") {
                    advance()
                    skip()
                }
                guard i < bytes.count else { throw error("expected a value for `\(name)`") }
                if bytes[i] == UInt8(ascii: "{") || bytes[i] == UInt8(ascii: "<") {
                    let end = bytes[i] == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: ">")
                    advance()
                    value = .object(try message(until: end))
                } else if bytes[i] == UInt8(ascii: "\"") || bytes[i] == UInt8(ascii: "'") {
                    value = .string(try string())
                } else {
                    let word = identifier()
                    if word == "true" || word == "True" {
                        value = .bool(true)
                    } else if word == "false" || word == "False" {
                        value = .bool(false)
                    } else if let n = Int64(word) {
                        value = .int(n)
                    } else if let d = Double(word) {
                        value = .double(d)
                    } else if !word.isEmpty {
                        value = .string(word)
                    } else {
                        throw error("expected a value for `\(name)`")
                    }
                }
                if repeated.contains(name) {
                    var list = o[name]?.arrayValue ?? []
                    list.append(value)
                    o[name] = .array(list)
                } else {
                    o[name] = value
                }
            }
        }

        mutating func string() throws(ParseError) -> String {
            let quote = bytes[i]
            advance()
            var out: [UInt8] = []
            while i < bytes.count && bytes[i] != quote {
                if bytes[i] == UInt8(ascii: "\\") && i + 1 < bytes.count {
                    advance()
                    switch bytes[i] {
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    default: out.append(bytes[i])
                    }
                    advance()
                    continue
                }
                out.append(bytes[i])
                advance()
            }
            guard i < bytes.count else { throw error("unterminated string") }
            advance()
            return String(decoding: out, as: UTF8.self)
        }
    }
}
