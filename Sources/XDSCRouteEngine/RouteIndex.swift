import XDSCEnvoy
import XDSCRequest

/// An exact first-match index of one virtual host's routes: `prefix` routes, regex routes
/// under the literal text every match must start with, and `path` routes as exact keys, in a
/// byte trie (case-insensitive ones in a second trie over the ASCII-lower-cased path); the
/// rest tried in order. The index only proposes candidates: each is still checked in full, in
/// declaration order, so the first route that matches wins, as in Envoy's linear scan.
struct RouteIndex: Sendable {
    /// The routes of `host`'s table that the index cannot rule out by path, in order.
    var generic: [Int] = []
    var prefixes = ByteTrie()
    var foldedPrefixes = ByteTrie()

    /// The literal text every full match of `regex` starts with: leading characters that
    /// cannot be syntax, minus the last one when a quantifier follows it; "" when the
    /// pattern has an alternation anywhere (then no prefix is certain).
    static func literalPrefix(_ regex: String) -> String {
        if regex.contains("|") { return "" }
        var bytes = Array(regex.utf8)[...]
        if bytes.first == UInt8(ascii: "^") { bytes = bytes.dropFirst() }
        var out: [UInt8] = []
        for b in bytes {
            let literal =
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == UInt8(ascii: "/")
                || b == UInt8(ascii: "_") || b == UInt8(ascii: "-") || b == UInt8(ascii: "=") || b == UInt8(ascii: "&")
            if literal {
                out.append(b)
                continue
            }
            if [UInt8(ascii: "*"), UInt8(ascii: "?"), UInt8(ascii: "{"), UInt8(ascii: "+")].contains(b), !out.isEmpty { out.removeLast() }
            break
        }
        return String(decoding: out, as: UTF8.self)
    }

    init(_ routes: [Route]) {
        var prefixes = ByteTrie.Builder()
        var folded = ByteTrie.Builder()
        for (i, r) in routes.enumerated() {
            let folding = r.match.caseSensitive == false
            switch r.match.pathSpecifier {
            case .prefix(let p):
                if folding { folded.insert(p.asciiLowercased.utf8, i) } else { prefixes.insert(p.utf8, i) }
            case .path(let p):
                if folding { folded.insert(p.asciiLowercased.utf8, i, exact: true) } else { prefixes.insert(p.utf8, i, exact: true) }
            case .safeRegex(let re):
                // `case_sensitive` does not apply to regexes.
                let literal = Self.literalPrefix(re)
                if literal.isEmpty { generic.append(i) } else { prefixes.insert(literal.utf8, i) }
            default: generic.append(i)
            }
        }
        self.prefixes = prefixes.trie
        self.foldedPrefixes = folded.trie
    }

    /// The first route, in declaration order, among those whose path may match, for which
    /// `accepts` holds. `noQuery` is the request's path without query (nil when it has none).
    func first(_ noQuery: Substring?, _ accepts: (Int) -> Bool) -> Int? {
        guard let noQuery else { return merge(UnsafeMutableBufferPointer(start: nil, count: 0), accepts) }
        let found: Int?? = noQuery.utf8.withContiguousStorageIfAvailable { first($0, accepts) }
        if let found { return found }
        return Array(noQuery.utf8).withUnsafeBufferPointer { first($0, accepts) }
    }

    /// ``first(_:_:)`` on the path's bytes. The candidates go to a buffer on the stack; a path
    /// under more prefixes than it holds walks again into one sized for every route.
    func first(_ path: UnsafeBufferPointer<UInt8>, _ accepts: (Int) -> Bool) -> Int? {
        func collect(_ out: UnsafeMutableBufferPointer<Int32>) -> Int? {
            var count = 0
            guard prefixes.walk(path, folding: false, into: out, count: &count),
                foldedPrefixes.isEmpty || foldedPrefixes.walk(path, folding: true, into: out, count: &count)
            else { return nil }
            return count
        }
        let fitted: Int?? = withUnsafeTemporaryAllocation(of: Int32.self, capacity: 32) { out in
            collect(out).map { merge(UnsafeMutableBufferPointer(rebasing: out[..<$0]), accepts) }
        }
        if let fitted { return fitted }
        return withUnsafeTemporaryAllocation(of: Int32.self, capacity: prefixes.routeCount + foldedPrefixes.routeCount) { out in
            merge(UnsafeMutableBufferPointer(rebasing: out[..<(collect(out) ?? 0)]), accepts)
        }
    }

    /// The candidates (sorted here) and the generic routes, in declaration order, until one
    /// is accepted.
    func merge(_ candidates: UnsafeMutableBufferPointer<Int32>, _ accepts: (Int) -> Bool) -> Int? {
        // Insertion sort: a handful of candidates, mostly in order already.
        if candidates.count > 1 {
            for i in 1..<candidates.count {
                let x = candidates[i]
                var j = i
                while j > 0 && candidates[j - 1] > x {
                    candidates[j] = candidates[j - 1]
                    j -= 1
                }
                candidates[j] = x
            }
        }
        return generic.withUnsafeBufferPointer { generic in
            var gi = 0
            var ci = 0
            while gi < generic.count || ci < candidates.count {
                let next: Int
                if ci < candidates.count && (gi >= generic.count || Int(candidates[ci]) < generic[gi]) {
                    next = Int(candidates[ci])
                    ci += 1
                } else {
                    next = generic[gi]
                    gi += 1
                }
                if accepts(next) { return next }
            }
            return nil
        }
    }
}
