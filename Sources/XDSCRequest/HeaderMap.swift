/// An ordered, multi-valued header map with Envoy's operations (`get` joins repeats with
/// `,` as header matchers see them; `set` replaces every occurrence in place of the first).
public struct HeaderMap: Equatable, Sendable {
    /// The entries in order.
    public private(set) var entries: [HTTPHeader] = []

    /// An empty map.
    public init() {}

    /// A map of these entries.
    public init(_ entries: [HTTPHeader]) { self.entries = entries }

    /// Every value of `name`, in order.
    public func values(_ name: String) -> [String] {
        let n = name.asciiLowercased
        return entries.filter { $0.name == n }.map(\.value)
    }

    /// The values of `name` joined with `,` (no space), or nil when absent.
    public func get(_ name: String) -> String? {
        guard let i = firstIndex(name) else { return nil }
        let n = entries[i].name
        var out = entries[i].value
        for e in entries[(i + 1)...] where e.name.utf8.count == n.utf8.count && e.name == n { out += "," + e.value }
        return out
    }

    /// The first value of `name`, or nil.
    public func first(_ name: String) -> String? {
        firstIndex(name).map { entries[$0].value }
    }

    /// Whether `name` is present.
    public func has(_ name: String) -> Bool { firstIndex(name) != nil }

    /// Whether a name starts with `x-envoy-` (the router's control headers). Most requests
    /// have none: one pass over the names then answers every `x-envoy-*` lookup.
    public var hasEnvoyHeaders: Bool {
        entries.contains { Self.isEnvoyName($0.name) }
    }

    /// Whether `name` starts with `x-envoy-` and has more: its first eight bytes compared as
    /// one word (a generic prefix test cost about 80 instructions a name).
    static func isEnvoyName(_ name: String) -> Bool {
        guard name.utf8.count > 8 else { return false }
        var name = name
        return name.withUTF8 {
            UInt64(littleEndian: UnsafeRawPointer($0.baseAddress!).loadUnaligned(as: UInt64.self)) == Self.envoyPrefixWord
        }
    }

    /// `x-envoy-` as a word read little-endian (its first byte lowest).
    static let envoyPrefixWord = "x-envoy-".utf8.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }

    /// The value of the `x-envoy-*` header `name` (as ``get(_:)``), nil at once when
    /// `present` (``hasEnvoyHeaders``, asked once by the caller) is false.
    public func envoyHeader(_ name: String, present: Bool) -> String? { present ? get(name) : nil }

    /// The first entry named `name`. Names are stored lower-case and asked for lower-case
    /// (literals, the model's names), so a name is lower-cased only when it is not found as is.
    /// `host` is `:authority` when the map has no `host` entry: Envoy's request header map
    /// maps the legacy `host` name onto `:authority` in its static lookup table
    /// (source/common/http/header_map_impl.cc, `StaticLookupTable`), so a header matcher or a
    /// `cluster_header` named `host` reads the authority.
    func firstIndex(_ name: String) -> Int? {
        if let i = Self.index(of: name, in: entries) { return i }
        let n = name.asciiLowercased
        if n == "host" { return Self.index(of: ":authority", in: entries) }
        guard n != name else { return nil }
        return Self.index(of: n, in: entries)
    }

    /// The first entry named exactly `name`. Lengths are compared first: most names differ
    /// in length, and a length is read without touching the bytes.
    static func index(of name: String, in entries: [HTTPHeader]) -> Int? {
        let count = name.utf8.count
        for i in entries.indices where entries[i].name.utf8.count == count && entries[i].name == name { return i }
        return nil
    }

    /// Appends another occurrence.
    public mutating func add(_ name: String, _ value: String) { entries.append(HTTPHeader(name, value)) }

    /// Replaces every occurrence with one value at the first one's place (or at the end).
    public mutating func set(_ name: String, _ value: String) {
        let n = name.asciiLowercased
        if let i = entries.firstIndex(where: { $0.name == n }) {
            entries[i].value = value
            var j = entries.count - 1
            while j > i {
                if entries[j].name == n { entries.remove(at: j) }
                j -= 1
            }
        } else {
            entries.append(HTTPHeader(n, value))
        }
    }

    /// Removes every occurrence.
    public mutating func remove(_ name: String) {
        let n = name.asciiLowercased
        entries.removeAll { $0.name == n }
    }
}
