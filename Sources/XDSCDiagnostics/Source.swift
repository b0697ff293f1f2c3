import Synchronization

/// A 1-based line and column; columns count Unicode scalars, as editors do.
public struct SourcePosition: Hashable, Comparable, Sendable, CustomStringConvertible {
    // 32 bits each: every node and located value of a large policy carries two positions, and
    // no input within the limits has 2^31 lines or columns.
    private var line32: Int32
    private var column32: Int32

    /// The 1-based line.
    public var line: Int {
        get { Int(line32) }
        set { line32 = Int32(clamping: newValue) }
    }
    /// The 1-based column, in Unicode scalars.
    public var column: Int {
        get { Int(column32) }
        set { column32 = Int32(clamping: newValue) }
    }

    /// A position at `line` and `column`.
    public init(line: Int, column: Int) {
        self.line32 = Int32(clamping: line)
        self.column32 = Int32(clamping: column)
    }

    /// Whether `a` sorts before `b`.
    public static func < (a: SourcePosition, b: SourcePosition) -> Bool {
        (a.line, a.column) < (b.line, b.column)
    }

    /// The text form used in messages.
    public var description: String { "\(line):\(column)" }
}

/// A range of one source file: `start` is the first character, `end` is just past the last.
///
/// 24 bytes (issue 13): the file's path and the alias origin are interned once into
/// process-wide tables and kept here as small ids. A large policy keeps a span for every
/// located value, and as a `String` plus a box the path and origin made a span 40 bytes
/// (and a retain and release on every copy).
public struct SourceSpan: Hashable, Sendable, CustomStringConvertible {
    /// The file, interned (compare these rather than `file`, which reads the path back).
    public private(set) var fileID: FileID
    // 0 when the span is no alias; else 1 + the origin's index in the table.
    private var originID: UInt32
    /// The first character.
    public var start: SourcePosition
    /// Just past the last character.
    public var end: SourcePosition

    /// The file's path, as shown in diagnostics.
    public var file: String {
        get { fileID.path }
        set { fileID = FileID(newValue) }
    }

    /// Set when the text was reached through a YAML alias: the span is then the alias
    /// (`*name`, where the value is used) and this is where the value is written.
    public var origin: AliasOrigin? {
        get { originID == 0 ? nil : SpanTables.shared.origin(originID) }
        set { originID = newValue.map { SpanTables.shared.intern($0) } ?? 0 }
    }

    /// A file's path, interned: equal paths have equal ids, in one process.
    public struct FileID: Hashable, Sendable {
        let raw: UInt32

        /// The id of `path`, adding it to the table on first use.
        public init(_ path: String) { raw = SpanTables.shared.intern(path) }

        /// The path this id stands for.
        public var path: String { SpanTables.shared.path(raw) }
    }

    /// Whether `other` lies within this span (same file, start and end inside).
    public func contains(_ other: SourceSpan) -> Bool {
        fileID == other.fileID && start <= other.start && other.end <= end
    }

    /// A range in `file` from `start` to `end`, reached through `origin` when it came from an alias.
    public init(file: String, start: SourcePosition, end: SourcePosition, origin: AliasOrigin? = nil) {
        self.init(fileID: FileID(file), start: start, end: end, origin: origin)
    }

    /// A range in the file `fileID` names (interned once per file by its reader).
    public init(fileID: FileID, start: SourcePosition, end: SourcePosition, origin: AliasOrigin? = nil) {
        self.fileID = fileID
        self.originID = origin.map { SpanTables.shared.intern($0) } ?? 0
        self.start = start
        self.end = end
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
        origin.map { SourceSpan(fileID: fileID, start: $0.start, end: $0.end) }
    }

    /// A span with no extent, for places that have a position but no token (a whole file).
    public static func point(_ file: String, line: Int = 1, column: Int = 1) -> SourceSpan {
        let p = SourcePosition(line: line, column: column)
        return SourceSpan(file: file, start: p, end: p)
    }

    /// `file:line:column` of the start.
    public var description: String { "\(file):\(start.line):\(start.column)" }
}

/// The interned paths and alias origins of every span of the process. Ids are handed out in
/// the order first seen and never leave the process (nothing prints or sorts by them), so
/// output stays deterministic. The tables only grow: a run has a few files, and origins
/// only for the values reached through aliases.
final class SpanTables: Sendable {
    static let shared = SpanTables()

    private struct State {
        var paths: [String] = []
        var pathIDs: [String: UInt32] = [:]
        var origins: [SourceSpan.AliasOrigin] = []
        var originIDs: [SourceSpan.AliasOrigin: UInt32] = [:]
    }
    private let state = Mutex(State())

    func intern(_ path: String) -> UInt32 {
        state.withLock { s in
            if let id = s.pathIDs[path] { return id }
            let id = UInt32(s.paths.count)
            s.paths.append(path)
            s.pathIDs[path] = id
            return id
        }
    }

    func path(_ id: UInt32) -> String { state.withLock { $0.paths[Int(id)] } }

    /// 1 + the origin's index (0 means no origin).
    func intern(_ origin: SourceSpan.AliasOrigin) -> UInt32 {
        state.withLock { s in
            if let id = s.originIDs[origin] { return id }
            s.origins.append(origin)
            let id = UInt32(s.origins.count)
            s.originIDs[origin] = id
            return id
        }
    }

    func origin(_ id: UInt32) -> SourceSpan.AliasOrigin { state.withLock { $0.origins[Int(id) - 1] } }
}

/// The text of one input file, kept so renderers can show the offending line.
public struct SourceFile: Sendable {
    /// The file's path.
    public let path: String
    /// The file's bytes as read (shared with the reader's copy, never copied again: a large
    /// policy is read once and its text kept once), and where the text starts in them (after
    /// a byte-order mark).
    private let bytes: [UInt8]
    private let textStart: Int
    /// The UTF-8 offset where each line starts; a line ends before the next one's start
    /// (minus its `\n`, and a `\r` before that) or at the end of the text. Kept instead of a
    /// substring per line: a large policy has hundreds of thousands of lines, and only the
    /// few with a diagnostic are ever shown. 32 bits each (a file within the input limits
    /// is far below 4 GiB), and found only when a line is first asked for: most runs show
    /// none, and the index of a large policy is a megabyte (issue 13).
    private let index: LineIndex

    /// The file's lines, without line breaks.
    public var lines: [Substring] { (1...index.starts(of: bytes, from: textStart).count).map { line($0)! } }

    /// The source file `path` with contents `text`.
    public init(path: String, text: String) {
        self.init(path: path, bytes: Array(text.utf8))
    }

    /// The source file `path` whose contents are the UTF-8 `bytes` (invalid sequences are
    /// shown as U+FFFD, as `String(decoding:as:)` reads them).
    public init(path: String, bytes: [UInt8]) {
        self.path = path
        // A leading byte-order mark is no character of line 1 (the YAML reader drops it too),
        // so columns and carets line up with what an editor shows.
        self.textStart = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        self.bytes = bytes
        self.index = LineIndex()
    }

    /// The text of 1-based line `n`, or nil when out of range.
    public func line(_ n: Int) -> Substring? {
        let starts = index.starts(of: bytes, from: textStart)
        guard n >= 1 && n <= starts.count else { return nil }
        let from = Int(starts[n - 1])
        // Past the `\n` that ends this line, or the end of the text.
        var to = n < starts.count ? Int(starts[n]) - 1 : bytes.count
        if to > from, bytes[to - 1] == UInt8(ascii: "\r") { to -= 1 }
        return Substring(String(decoding: bytes[from..<to], as: UTF8.self))
    }

    /// The line starts of one file, found on first use (shared by the file's copies).
    private final class LineIndex: Sendable {
        private let cache = Mutex<[UInt32]?>(nil)

        func starts(of bytes: [UInt8], from textStart: Int) -> [UInt32] {
            cache.withLock { cached in
                if let cached { return cached }
                // Split on the UTF-8 bytes: splitting by `Character` costs more than parsing
                // the YAML, and would read "\r\n" as one character, never equal to "\n". A
                // line ends at every `\n`; a `\r` before it belongs to the break. Both are
                // ASCII, so each cut falls on a character boundary.
                var starts = [UInt32(textStart)]
                bytes.withUnsafeBufferPointer { p in
                    for i in textStart..<p.count where p[i] == UInt8(ascii: "\n") { starts.append(UInt32(truncatingIfNeeded: i + 1)) }
                }
                cached = starts
                return starts
            }
        }
    }
}
