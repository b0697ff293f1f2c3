import XDSCEnvoy
import XDSCRequest

/// An exact first-match index of one virtual host's routes: `prefix` routes, and regex routes
/// under the literal text every match must start with, in a byte trie (case-insensitive ones
/// in a second trie over the ASCII-lower-cased path); `path` routes in tables; the rest tried
/// in order. The index only proposes candidates: each is still checked in full, in
/// declaration order, so the first route that matches wins, as in Envoy's linear scan.
struct RouteIndex: Sendable {
    struct Node: Sendable {
        var children: [(byte: UInt8, node: Int)] = []
        var routes: [Int] = []
    }

    var nodes: [Node] = [Node()]
    var folded: [Node] = [Node()]
    var exact: [String: [Int]] = [:]
    var exactFolded: [String: [Int]] = [:]
    var hasFolded = false
    /// Routes the index cannot rule out by path, in order.
    var generic: [Int] = []

    static func insert(_ key: String, _ route: Int, into nodes: inout [Node]) {
        var n = 0
        for b in key.utf8 {
            if let c = nodes[n].children.first(where: { $0.byte == b }) {
                n = c.node
            } else {
                nodes.append(Node())
                nodes[n].children.append((b, nodes.count - 1))
                n = nodes.count - 1
            }
        }
        nodes[n].routes.append(route)
    }

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
        for (i, r) in routes.enumerated() {
            let folding = r.match.caseSensitive == false
            switch r.match.pathSpecifier {
            case .prefix(let p):
                if folding {
                    Self.insert(p.asciiLowercased, i, into: &folded)
                    hasFolded = true
                } else {
                    Self.insert(p, i, into: &nodes)
                }
            case .path(let p):
                if folding {
                    exactFolded[p.asciiLowercased, default: []].append(i)
                    hasFolded = true
                } else {
                    exact[p, default: []].append(i)
                }
            case .safeRegex(let re):
                // `case_sensitive` does not apply to regexes.
                let literal = Self.literalPrefix(re)
                if literal.isEmpty { generic.append(i) } else { Self.insert(literal, i, into: &nodes) }
            default: generic.append(i)
            }
        }
    }

    static func walk(_ nodes: [Node], _ path: Substring.UTF8View, into candidates: inout [Int]) {
        var n = 0
        candidates += nodes[0].routes
        for b in path {
            guard let c = nodes[n].children.first(where: { $0.byte == b }) else { break }
            n = c.node
            candidates += nodes[n].routes
        }
    }

    /// The first route, in declaration order, among those whose path may match, for which
    /// `accepts` holds.
    func first(_ path: String?, _ accepts: (Int) -> Bool) -> Int? {
        var candidates: [Int] = []
        if let path {
            let noQuery = EnvoyRequest.pathWithoutQuery(path)
            Self.walk(nodes, noQuery.utf8, into: &candidates)
            if let e = exact[String(noQuery)] { candidates += e }
            if hasFolded {
                let lower = Substring(String(noQuery).asciiLowercased)
                Self.walk(folded, lower.utf8, into: &candidates)
                if let e = exactFolded[String(lower)] { candidates += e }
            }
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
