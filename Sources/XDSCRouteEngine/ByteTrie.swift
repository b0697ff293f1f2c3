/// A byte trie of route prefixes in flat arrays (no per-node allocation, nothing to retain
/// while walking): node `n`'s edges are `edgeByte/edgeTarget[edgeStart[n]..<edgeStart[n+1]]`,
/// its routes `routes[routeStart[n]..<routeStart[n+1]]`. A class, so a walk retains one
/// object rather than five arrays.
final class ByteTrie: Sendable {
    let edgeStart: [Int32]
    let edgeByte: [UInt8]
    let edgeTarget: [Int32]
    let routeStart: [Int32]
    let routes: [Int]

    init(edgeStart: [Int32] = [0, 0], edgeByte: [UInt8] = [], edgeTarget: [Int32] = [], routeStart: [Int32] = [0, 0], routes: [Int] = []) {
        self.edgeStart = edgeStart
        self.edgeByte = edgeByte
        self.edgeTarget = edgeTarget
        self.routeStart = routeStart
        self.routes = routes
    }

    /// No route is indexed.
    var isEmpty: Bool { routes.isEmpty }

    /// Adds the routes of every node along `path` (ASCII-lower-cased with `folding`).
    func walk(_ path: Substring.UTF8View, folding: Bool, into candidates: inout [Int]) {
        let contiguous: Void? = path.withContiguousStorageIfAvailable { walk($0, folding: folding, into: &candidates) }
        if contiguous == nil { Array(path).withUnsafeBufferPointer { walk($0, folding: folding, into: &candidates) } }
    }

    /// The walk on the path's bytes, reading the arrays through their buffers (no bounds
    /// checks, no retains per step: a request walks a few dozen nodes).
    func walk(_ path: UnsafeBufferPointer<UInt8>, folding: Bool, into candidates: inout [Int]) {
        edgeStart.withUnsafeBufferPointer { edgeStart in
            edgeByte.withUnsafeBufferPointer { edgeByte in
                edgeTarget.withUnsafeBufferPointer { edgeTarget in
                    routeStart.withUnsafeBufferPointer { routeStart in
                        routes.withUnsafeBufferPointer { routes in
                            var n = 0
                            for i in Int(routeStart[0])..<Int(routeStart[1]) { candidates.append(routes[i]) }
                            for var b in path {
                                if folding && b &- 0x41 < 26 { b += 32 }
                                var next = -1
                                var e = Int(edgeStart[n])
                                let end = Int(edgeStart[n + 1])
                                while e < end {
                                    if edgeByte[e] == b {
                                        next = Int(edgeTarget[e])
                                        break
                                    }
                                    e += 1
                                }
                                if next < 0 { return }
                                n = next
                                let first = Int(routeStart[n])
                                let last = Int(routeStart[n + 1])
                                if first < last { for i in first..<last { candidates.append(routes[i]) } }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Builds the trie as nested nodes, then lays it out flat.
    struct Builder {
        struct Node {
            var children: [(byte: UInt8, node: Int)] = []
            var routes: [Int] = []
        }

        var nodes: [Node] = [Node()]

        mutating func insert(_ key: String.UTF8View, _ route: Int) {
            var n = 0
            for b in key {
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

        var trie: ByteTrie {
            var edgeStart: [Int32] = [0]
            var edgeByte: [UInt8] = []
            var edgeTarget: [Int32] = []
            var routeStart: [Int32] = [0]
            var routes: [Int] = []
            for node in nodes {
                for c in node.children {
                    edgeByte.append(c.byte)
                    edgeTarget.append(Int32(c.node))
                }
                edgeStart.append(Int32(edgeByte.count))
                routes += node.routes
                routeStart.append(Int32(routes.count))
            }
            return ByteTrie(edgeStart: edgeStart, edgeByte: edgeByte, edgeTarget: edgeTarget, routeStart: routeStart, routes: routes)
        }
    }
}
