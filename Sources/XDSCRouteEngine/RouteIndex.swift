import XDSCEnvoy
import XDSCRequest

/// An exact first-match index of one virtual host's routes: `prefix` routes, and regex routes
/// under the literal text every match must start with, in a byte trie (case-insensitive ones
/// in a second trie over the ASCII-lower-cased path); `path` routes in tables; the rest tried
/// in order. The index only proposes candidates: each is still checked in full, in
/// declaration order, so the first route that matches wins, as in Envoy's linear scan.
struct RouteIndex: Sendable {
    /// The routes of `host`'s table that the index cannot rule out by path, in order.
    var generic: [Int] = []
    var prefixes = ByteTrie()
    var foldedPrefixes = ByteTrie()
    var exact: [Substring: [Int]] = [:]
    var exactFolded: [Substring: [Int]] = [:]

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
                if folding {
                    exactFolded[Substring(p.asciiLowercased), default: []].append(i)
                } else {
                    exact[Substring(p), default: []].append(i)
                }
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
        var candidates: [Int] = []
        if let noQuery {
            candidates.reserveCapacity(8)
            prefixes.walk(noQuery.utf8, folding: false, into: &candidates)
            if let e = exact[noQuery] { candidates += e }
            if !foldedPrefixes.isEmpty { foldedPrefixes.walk(noQuery.utf8, folding: true, into: &candidates) }
            if !exactFolded.isEmpty, let e = exactFolded[Substring(String(noQuery).asciiLowercased)] { candidates += e }
            candidates.sort()
        }
        var gi = 0
        var ci = 0
        while gi < generic.count || ci < candidates.count {
            let next: Int
            if ci < candidates.count && (gi >= generic.count || candidates[ci] < generic[gi]) {
                next = candidates[ci]
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
