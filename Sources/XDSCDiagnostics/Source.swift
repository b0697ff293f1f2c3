/// A 1-based line and column; columns count Unicode scalars, as editors do.
public struct SourcePosition: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The 1-based line.
    public var line: Int
    /// The 1-based column, in Unicode scalars.
    public var column: Int

    /// A position at `line` and `column`.
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// Whether `a` sorts before `b`.
    public static func < (a: SourcePosition, b: SourcePosition) -> Bool {
        (a.line, a.column) < (b.line, b.column)
    }

    /// The text form used in messages.
    public var description: String { "\(line):\(column)" }
}

/// A range of one source file: `start` is the first character, `end` is just past the last.
public struct SourceSpan: Hashable, Sendable, CustomStringConvertible {
    /// The file's path, as shown in diagnostics.
    public var file: String
    /// The first character.
    public var start: SourcePosition
    /// Just past the last character.
    public var end: SourcePosition
    /// Set when the text was reached through a YAML alias: the span is then the alias
    /// (`*name`, where the value is used) and this is where the value is written.
    public var origin: AliasOrigin?

    /// Whether `other` lies within this span (same file, start and end inside).
    public func contains(_ other: SourceSpan) -> Bool {
        file == other.file && start <= other.start && other.end <= end
    }

    /// A range in `file` from `start` to `end`, reached through `origin` when it came from an alias.
    public init(file: String, start: SourcePosition, end: SourcePosition, origin: AliasOrigin? = nil) {
        self.file = file
        self.start = start
        self.end = end
        self.origin = origin
    }

    /// Where the value a YAML alias stands for is written (in the alias's own file).
    public struct AliasOrigin: Hashable, Sendable {
        /// The anchor's name, without `&`.
        public var anchor: String
        /// Where the anchored value starts.
        public var start: SourcePosition
        /// Just past where the anchored value ends.
        public var end: SourcePosition

        /// The value anchored as `anchor`, written from `start` to `end`.
        public init(anchor: String, start: SourcePosition, end: SourcePosition) {
            self.anchor = anchor
            self.start = start
            self.end = end
        }
    }

    /// The span of the written value behind an alias, or nil when this span is no alias.
    public var definition: SourceSpan? {
        origin.map { SourceSpan(file: file, start: $0.start, end: $0.end) }
    }

    /// A span with no extent, for places that have a position but no token (a whole file).
    public static func point(_ file: String, line: Int = 1, column: Int = 1) -> SourceSpan {
        let p = SourcePosition(line: line, column: column)
        return SourceSpan(file: file, start: p, end: p)
    }

    /// `file:line:column` of the start.
    public var description: String { "\(file):\(start.line):\(start.column)" }
}

/// The text of one input file, kept so renderers can show the offending line.
public struct SourceFile: Sendable {
    /// The file's path.
    public let path: String
    /// The file's lines, without line breaks.
    public let lines: [Substring]

    /// The source file `path` with contents `text`.
    public init(path: String, text: String) {
        self.path = path
        // A leading byte-order mark is no character of line 1 (the YAML reader drops it too),
        // so columns and carets line up with what an editor shows.
        let text = text.unicodeScalars.first == "\u{FEFF}" ? String(text.unicodeScalars.dropFirst()) : text
        self.lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? $0.dropLast() : $0
        }
    }

    /// The text of 1-based line `n`, or nil when out of range.
    public func line(_ n: Int) -> Substring? {
        n >= 1 && n <= lines.count ? lines[n - 1] : nil
    }
}
