/// The explicit limits on input, so any file is read in bounded time and memory.
public struct InputLimits: Sendable {
    /// Largest policy file read, in bytes.
    public var maxFileBytes: Int = 16 << 20
    /// Deepest nesting of mappings and lists.
    public var maxDepth: Int = 64
    /// Most aliases (`*name`) in one file.
    public var maxAliases: Int = 10_000
    /// Most nodes that expanding aliases may add to one file (alias bombs); nodes written
    /// out in the file do not count, so a large policy is never mistaken for a bomb.
    public var maxExpandedNodes: Int = 1_000_000

    /// The default limits.
    public init() {}

    /// The default limits.
    public static let `default` = InputLimits()
}
