/// How serious a finding is. Errors fail `lint` and stop `build`; warnings fail only
/// under `--strict`.
public enum Severity: String, Sendable, Comparable, CaseIterable {
    case error, warning, note

    private var rank: Int {
        switch self {
        case .error: 0
        case .warning: 1
        case .note: 2
        }
    }

    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

/// Another place involved in a finding: the first definition of a duplicate, the earlier
/// route that shadows this one.
public struct RelatedLocation: Hashable, Sendable {
    public var message: String
    public var span: SourceSpan

    public init(_ message: String, at span: SourceSpan) {
        self.message = message
        self.span = span
    }
}

/// A concrete request that demonstrates a finding (a route overlap or shadow).
public struct ExampleRequest: Hashable, Sendable {
    public var method: String
    public var host: String
    /// The path with its query string.
    public var path: String
    public var headers: [Header]

    public struct Header: Hashable, Sendable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(method: String, host: String, path: String, headers: [Header] = []) {
        self.method = method
        self.host = host
        self.path = path
        self.headers = headers
    }

    /// The request as a `curl` command line (single-quoted for POSIX shells) that sends
    /// exactly this request: a present-but-empty header as `-H 'name;'` (curl drops a
    /// header written `name: ` with nothing after it), bytes curl or HTTP/1.1 will not carry
    /// raw in a URL (space, controls, non-ASCII) percent-encoded, `-g` when the URL holds
    /// `[]{}`, which curl would otherwise read as a glob, and `-I` for `HEAD`.
    public var curlCommand: String {
        var parts = ["curl"]
        // `-X HEAD` makes curl wait for a body that never comes; `-I` sends HEAD properly.
        if method == "HEAD" {
            parts.append("-I")
        } else if method != "GET" {
            parts += ["-X", method]
        }
        for h in headers {
            parts += ["-H", shellQuote(h.value.isEmpty ? "\(h.name);" : "\(h.name): \(h.value)")]
        }
        let url = "http://\(host)\(ExampleRequest.urlEncoded(path))"
        if url.contains(where: { "[]{}".contains($0) }) { parts.append("-g") }
        parts.append(shellQuote(url))
        return parts.joined(separator: " ")
    }

    /// `target` with every byte outside visible ASCII percent-encoded; everything else
    /// (including `%`) is kept, since Envoy matches the target as sent, without decoding.
    static func urlEncoded(_ target: String) -> String {
        var out = ""
        for b in target.utf8 {
            if (0x21...0x7E).contains(b) {
                out.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                out += "%" + (b < 0x10 ? "0" : "") + String(b, radix: 16, uppercase: true)
            }
        }
        return out
    }

    private func shellQuote(_ s: String) -> String {
        "'" + s.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }
}

/// One finding. Passes create these and add them to a `DiagnosticSink`; renderers print them.
public struct Diagnostic: Hashable, Sendable {
    public var rule: Rule.ID
    public var severity: Severity
    /// Lower-case, no final period, names in backticks.
    public var message: String
    public var span: SourceSpan
    /// A short label printed under the caret.
    public var label: String?
    public var related: [RelatedLocation]
    /// Why: background for the reader.
    public var notes: [String]
    /// What to do.
    public var help: String?
    public var witness: ExampleRequest?

    public init(
        _ rule: Rule.ID, _ message: String, at span: SourceSpan, severity: Severity? = nil, label: String? = nil,
        related: [RelatedLocation] = [], notes: [String] = [], help: String? = nil, witness: ExampleRequest? = nil
    ) {
        self.rule = rule
        self.severity = severity ?? Rule.registry[rule].severity
        self.message = message
        self.span = span
        self.label = label
        self.related = related
        self.notes = notes
        self.help = help
        self.witness = witness
    }

    /// The stable code of the rule, e.g. `XDS003`.
    public var code: String { Rule.registry[rule].code }
}

/// Collects diagnostics from every pass; nothing prints from inside a pass.
public final class DiagnosticSink: @unchecked Sendable {
    public private(set) var all: [Diagnostic] = []

    public init() {}

    public func add(_ d: Diagnostic) { all.append(d) }

    public func add(
        _ rule: Rule.ID, _ message: String, at span: SourceSpan, label: String? = nil,
        related: [RelatedLocation] = [], notes: [String] = [], help: String? = nil
    ) {
        all.append(Diagnostic(rule, message, at: span, label: label, related: related, notes: notes, help: help))
    }

    public var errorCount: Int { all.count { $0.severity == .error } }
    public var warningCount: Int { all.count { $0.severity == .warning } }
    public var hasErrors: Bool { all.contains { $0.severity == .error } }

    /// Sorted by file, line, column, then rule; exact duplicates removed.
    public var sorted: [Diagnostic] { Diagnostic.ordered(all) }
}

extension Diagnostic {
    /// The order every renderer uses: file, line, column, severity, rule, message.
    public static func ordered(_ list: [Diagnostic]) -> [Diagnostic] {
        var seen = Set<Diagnostic>()
        return list.filter { seen.insert($0).inserted }.sorted { a, b in
            if a.span.file != b.span.file { return a.span.file < b.span.file }
            if a.span.start != b.span.start { return a.span.start < b.span.start }
            if a.severity != b.severity { return a.severity < b.severity }
            if a.rule != b.rule { return a.rule.rawValue < b.rule.rawValue }
            return a.message < b.message
        }
    }
}
