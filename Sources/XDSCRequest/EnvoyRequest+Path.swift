extension EnvoyRequest {
    /// `Http::PathUtil::removeQueryAndFragment`: the path as path matchers see it, everything
    /// before the first `?` or `#` byte. Bytes, not characters: a `?` followed by a combining
    /// mark still ends the path, as in Envoy.
    public static func pathWithoutQuery(_ path: String) -> Substring {
        func cut(_ b: UInt8) -> Bool { b == UInt8(ascii: "?") || b == UInt8(ascii: "#") }
        // Scanned as a byte buffer when the string is contiguous (every native string is).
        if let offset = path.utf8.withContiguousStorageIfAvailable({ $0.firstIndex(where: cut) ?? $0.count }) {
            if offset == path.utf8.count { return path[...] }
            return path[..<path.utf8.index(path.utf8.startIndex, offsetBy: offset)]
        }
        return path[..<(path.utf8.firstIndex(where: cut) ?? path.endIndex)]
    }

    /// The first value of query parameter `name` in `path`, or nil when absent, as Envoy's
    /// `QueryParamsMulti::parseQueryString` (`source/common/http/utility.cc`) reads it:
    /// everything after the first `?` (a `#` is not special there: the connection manager
    /// rejects or strips fragments before routing), split on `&`, the name ending at the
    /// first `=`; a key without `=` has the value `""`; names and values are compared as
    /// bytes and never percent-decoded.
    public static func queryParameter(_ name: String, in path: String) -> String? {
        let bytes = Array(path.utf8)
        guard let q = bytes.firstIndex(of: UInt8(ascii: "?")) else { return nil }
        let key = Array(name.utf8)
        for pair in bytes[(q + 1)...].split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: false) {
            let eq = pair.firstIndex(of: UInt8(ascii: "=")) ?? pair.endIndex
            if pair[..<eq].elementsEqual(key) {
                return eq == pair.endIndex ? "" : String(decoding: pair[(eq + 1)...], as: UTF8.self)
            }
        }
        return nil
    }

    /// The first value of query parameter `name` in this request's path (see
    /// `queryParameter(_:in:)`).
    public func queryParameter(_ name: String) -> String? { Self.queryParameter(name, in: path ?? "") }
}
