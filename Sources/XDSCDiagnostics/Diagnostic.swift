import XDSCRequest

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
    /// An example request that shows the finding (a route overlap or shadow), when there is
    /// one; renderers show its method, authority, path, extra headers and `curlCommand`.
    public var witness: EnvoyRequest?

    /// A diagnostic of `rule` at `span`, with its message and optional details.
    public init(
        _ rule: Rule.ID, _ message: String, at span: SourceSpan, severity: Severity? = nil, label: String? = nil,
        related: [RelatedLocation] = [], notes: [String] = [], help: String? = nil, witness: EnvoyRequest? = nil
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
            let file: SourceSpan.FileID
            let start: SourcePosition
        }
        // Every place a finding is made; an alias inside an aliased value is "written" at
        // its own token, so a finding through both aliases is kept only innermost.
        let written = Set(list.map { Key(rule: $0.rule, message: $0.message, file: $0.span.fileID, start: $0.span.start) })
        var seen = Set<Diagnostic>()
        return list.filter { d in
            if let o = d.span.origin, written.contains(Key(rule: d.rule, message: d.message, file: d.span.fileID, start: o.start)) {
                return false
            }
            return seen.insert(d).inserted
        }.sorted { a, b in
            // Paths by their ids first: reading a path back takes the span tables' lock.
            if a.span.fileID != b.span.fileID { return a.span.file < b.span.file }
            if a.span.start != b.span.start { return a.span.start < b.span.start }
            if a.severity != b.severity { return a.severity < b.severity }
            if a.rule != b.rule { return a.rule.rawValue < b.rule.rawValue }
            return a.message < b.message
        }
    }
}
