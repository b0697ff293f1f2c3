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

    /// Whether `a` sorts before `b`.
    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

/// Another place involved in a finding: the first definition of a duplicate, the earlier
/// route that shadows this one.
public struct RelatedLocation: Hashable, Sendable {
    /// What the related location is.
    public var message: String
    /// Where this was written.
    public var span: SourceSpan

    /// A related location `span`, described by `message`.
    public init(_ message: String, at span: SourceSpan) {
        self.message = message
        self.span = span
    }
}

/// A concrete request that demonstrates a finding (a route overlap or shadow).
public struct ExampleRequest: Hashable, Sendable {
    /// The request method.
    public var method: String
    /// The request's host (`:authority`).
    public var host: String
    /// The path with its query string.
    public var path: String
    /// The request headers.
    public var headers: [Header]

    /// One request header.
    public struct Header: Hashable, Sendable {
        /// The header name.
        public var name: String
        /// The header value.
        public var value: String
        /// A header `name: value`.
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// A request of `method` to `host` and `path`, with `headers`.
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
    /// The rule that reported it.
    public var rule: Rule.ID
    /// The severity.
    public var severity: Severity
    /// Lower-case, no final period, names in backticks.
    public var message: String
    /// Where this was written.
    public var span: SourceSpan
    /// A short label printed under the caret.
    public var label: String?
    /// Other places the finding involves.
    public var related: [RelatedLocation]
    /// Why: background for the reader.
    public var notes: [String]
    /// What to do.
    public var help: String?
    /// An example request that shows the finding, when there is one.
    public var witness: ExampleRequest?

    /// A diagnostic of `rule` at `span`, with its message and optional details.
    public init(
        _ rule: Rule.ID, _ message: String, at span: SourceSpan, severity: Severity? = nil, label: String? = nil,
        related: [RelatedLocation] = [], notes: [String] = [], help: String? = nil, witness: ExampleRequest? = nil
    ) {
        self.rule = rule
        self.severity = severity ?? Rule.registry[rule].severity
        self.message = message
        self.span = span
        self.label = label
        // A finding on a value used through an alias is shown at the alias (`*name`); say
        // where the value is written too.
        var related = related
        if let definition = span.definition {
            let note = RelatedLocation("`&\(span.origin!.anchor)` defined here", at: definition)
            // Once, also for a diagnostic rebuilt from another's parts.
            if !related.contains(note) { related.append(note) }
        }
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
    /// Every diagnostic added, in the order added.
    public private(set) var all: [Diagnostic] = []

    /// An empty sink.
    public init() {}

    /// Adds `d`.
    public func add(_ d: Diagnostic) { all.append(d) }

    /// Adds a diagnostic of `rule` at `span` with its message and optional details.
    public func add(
        _ rule: Rule.ID, _ message: String, at span: SourceSpan, label: String? = nil,
        related: [RelatedLocation] = [], notes: [String] = [], help: String? = nil
    ) {
        all.append(Diagnostic(rule, message, at: span, label: label, related: related, notes: notes, help: help))
    }

    /// The number of errors added.
    public var errorCount: Int { all.count { $0.severity == .error } }
    /// The number of warnings added.
    public var warningCount: Int { all.count { $0.severity == .warning } }
    /// Whether any error was added.
    public var hasErrors: Bool { all.contains { $0.severity == .error } }

    /// Sorted by file, line, column, then rule; exact duplicates removed.
    public var sorted: [Diagnostic] { Diagnostic.ordered(all) }
}

extension Diagnostic {
    /// The order every renderer uses: file, line, column, severity, rule, message. Exact
    /// duplicates are removed, and so is a finding at an alias that is also made, with the
    /// same words, where the aliased value is written: it is about the value, not the use.
    public static func ordered(_ list: [Diagnostic]) -> [Diagnostic] {
        struct Key: Hashable {
            let rule: Rule.ID
            let message: String
            let file: String
            let start: SourcePosition
        }
        // Every place a finding is made; an alias inside an aliased value is "written" at
        // its own token, so a finding through both aliases is kept only innermost.
        let written = Set(list.map { Key(rule: $0.rule, message: $0.message, file: $0.span.file, start: $0.span.start) })
        var seen = Set<Diagnostic>()
        return list.filter { d in
            if let o = d.span.origin, written.contains(Key(rule: d.rule, message: d.message, file: d.span.file, start: o.start)) {
                return false
            }
            return seen.insert(d).inserted
        }.sorted { a, b in
            if a.span.file != b.span.file { return a.span.file < b.span.file }
            if a.span.start != b.span.start { return a.span.start < b.span.start }
            if a.severity != b.severity { return a.severity < b.severity }
            if a.rule != b.rule { return a.rule.rawValue < b.rule.rawValue }
            return a.message < b.message
        }
    }
}
