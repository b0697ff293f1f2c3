/// A 1-based line and column; columns count Unicode scalars, as editors do.
public struct SourcePosition: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public static func < (a: SourcePosition, b: SourcePosition) -> Bool {
        (a.line, a.column) < (b.line, b.column)
    }

    public var description: String { "\(line):\(column)" }
}

/// A range of one source file: `start` is the first character, `end` is just past the last.
public struct SourceSpan: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var start: SourcePosition
    public var end: SourcePosition

    public init(file: String, start: SourcePosition, end: SourcePosition) {
        self.file = file
        self.start = start
        self.end = end
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
    public let path: String
    public let lines: [Substring]

    public init(path: String, text: String) {
        self.path = path
        // Split the scalars, not the characters: "\r\n" is one Character, never equal to "\n".
        self.lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map {
            let line = Substring($0)
            return line.hasSuffix("\r") ? line.dropLast() : line
        }
    }

    /// The text of 1-based line `n`, or nil when out of range.
    public func line(_ n: Int) -> Substring? {
        n >= 1 && n <= lines.count ? lines[n - 1] : nil
    }
}
