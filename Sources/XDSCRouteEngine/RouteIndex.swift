import XDSCEnvoy

/// An exact first-match index of one virtual host's routes: case-sensitive `prefix` routes
/// in a byte trie, case-sensitive `path` routes in a table, the rest tried in order. The
/// first route whose candidates pass every condition wins, as in Envoy's linear scan.
struct RouteIndex: Sendable {
    struct Node: Sendable {
        var children: [(byte: UInt8, node: Int)] = []
        var routes: [Int] = []
    }

    var nodes: [Node] = [Node()]
    var exact: [String: [Int]] = [:]
    /// Routes the index cannot rule out by path, in order.
    var generic: [Int] = []

    init(_ routes: [Route]) {
        for (i, r) in routes.enumerated() {
            guard r.match.caseSensitive != false else {
                generic.append(i)
                continue
            }
            switch r.match.pathSpecifier {
            case .prefix(let p):
                var n = 0
                for b in p.utf8 {
                    if let c = nodes[n].children.first(where: { $0.byte == b }) {
                        n = c.node
                    } else {
                        nodes.append(Node())
                        nodes[n].children.append((b, nodes.count - 1))
                        n = nodes.count - 1
                    }
                }
                nodes[n].routes.append(i)
            case .path(let p): exact[p, default: []].append(i)
            default: generic.append(i)
            }
        }
    }

    /// The first route, in declaration order, among those whose path may match, for which
    /// `accepts` holds.
    func first(_ path: String?, _ accepts: (Int) -> Bool) -> Int? {
        var candidates: [Int] = []
        if let path {
            let noQuery = RouteEngine.pathWithoutQuery(path)
            var n = 0
            candidates += nodes[0].routes
            for b in noQuery.utf8 {
                guard let c = nodes[n].children.first(where: { $0.byte == b }) else { break }
                n = c.node
                candidates += nodes[n].routes
            }
            if let e = exact[String(noQuery)] { candidates += e }
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
