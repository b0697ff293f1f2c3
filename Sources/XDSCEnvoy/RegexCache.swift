import Foundation
import XDSCRegex

/// Compiled RE2 patterns shared by every matcher, so a route table is compiled once
/// however many requests it sees. A pattern RE2 rejects never matches.
public final class RegexCache: @unchecked Sendable {
    /// The process-wide cache.
    public static let shared = RegexCache()
    private let lock = NSLock()
    private var compiled: [String: RE2Pattern?] = [:]

    /// The compiled pattern, or nil when RE2 rejects it.
    public func pattern(_ source: String) -> RE2Pattern? {
        lock.lock()
        defer { lock.unlock() }
        if let hit = compiled[source] { return hit }
        let re = try? RE2Pattern(source)
        compiled[source] = .some(re)
        return re
    }
}
