/// A radix trie of route paths in flat arrays (no per-node allocation, nothing to retain
/// while walking; chains of single-child nodes are merged, so a walk visits the branch
/// points, not every byte). Node `n` is reached over the bytes
/// `labels[ints[labelStart + n]..<ints[labelStart + n + 1]]`; its children are
/// `ints[edgeTarget + e]` for `e` in `ints[edgeStart + n]..<ints[edgeStart + n + 1]`, found
/// by the first byte of their label, `edgeByte[e]`; the routes whose prefix ends at `n` are
/// `ints[routes + i]` for `i` in `ints[routeStart + n]..<ints[routeStart + n + 1]`, those
/// whose exact path ends there likewise under `exactStart`/`exactRoutes`.
final class ByteTrie: Sendable {
    let ints: [Int32]
    /// The first label byte of each edge's target, then every node's label.
    let bytes: [UInt8]
    let edgeStart: Int
    let edgeTarget: Int
    let routeStart: Int
    let routes: Int
    let exactStart: Int
    let exactRoutes: Int
    let labelStart: Int
    /// Where the labels start in `bytes`.
    let labels: Int
    /// No route is indexed.
    let isEmpty: Bool
    /// How many routes the trie holds (a bound on what one walk writes).
    let routeCount: Int

    init(_ builder: Builder = Builder()) {
        // Compressed nodes in breadth-first order: the uncompressed node each stands for, its
        // label written straight into `labelBytes` (node `n`'s label ends at `labelStart[n + 1]`).
        var order: [Int] = [0]
        var labelBytes: [UInt8] = []
        var labelStart: [Int32] = [0, 0]
        var edgeStart: [Int32] = [0]
        var edgeByte: [UInt8] = []
        var edgeTarget: [Int32] = []
        var routeStart: [Int32] = [0]
        var routes: [Int32] = []
        var exactStart: [Int32] = [0]
        var exactRoutes: [Int32] = []
        var i = 0
        while i < order.count {
            let node = builder.nodes[order[i]]
            for c in node.children {
                edgeByte.append(c.byte)
                edgeTarget.append(Int32(order.count))
                labelBytes.append(c.byte)
                var m = c.node
                while builder.nodes[m].children.count == 1 && builder.nodes[m].routes.isEmpty && builder.nodes[m].exact.isEmpty {
                    labelBytes.append(builder.nodes[m].children[0].byte)
                    m = builder.nodes[m].children[0].node
                }
                labelStart.append(Int32(labelBytes.count))
                order.append(m)
            }
            edgeStart.append(Int32(edgeTarget.count))
            for r in node.routes { routes.append(Int32(r)) }
            routeStart.append(Int32(routes.count))
            for r in node.exact { exactRoutes.append(Int32(r)) }
            exactStart.append(Int32(exactRoutes.count))
            i += 1
        }
        let sections = [edgeStart, edgeTarget, routeStart, routes, exactStart, exactRoutes, labelStart]
        var offsets: [Int] = []
        var ints: [Int32] = []
        for s in sections {
            offsets.append(ints.count)
            ints += s
        }
        self.ints = ints
        self.bytes = edgeByte + labelBytes
        self.labels = edgeByte.count
        (self.edgeStart, self.edgeTarget, self.routeStart) = (offsets[0], offsets[1], offsets[2])
        (self.routes, self.exactStart, self.exactRoutes, self.labelStart) = (offsets[3], offsets[4], offsets[5], offsets[6])
        self.isEmpty = routes.isEmpty && exactRoutes.isEmpty
        self.routeCount = routes.count + exactRoutes.count
    }

    /// Writes the prefix routes of every node along `path` and, when the whole path is a
    /// key, its exact routes (ASCII-lower-cased with `folding`) to `out` from `count` on.
    /// False, with `count` past `out`'s end, when they do not fit.
    func walk(_ path: UnsafeBufferPointer<UInt8>, folding: Bool, into out: UnsafeMutableBufferPointer<Int32>, count: inout Int) -> Bool {
        ints.withUnsafeBufferPointer { ints in
            bytes.withUnsafeBufferPointer { bytes in
                let capacity = out.count
                var written = count
                defer { count = written }
                var n = 0
                var pos = 0
                var first = Int(ints[routeStart])
                var last = Int(ints[routeStart + 1])
                while true {
                    // The routes filed at node `n`.
                    if first < last {
                        if written + (last - first) > capacity {
                            written += last - first
                            return false
                        }
                        for i in first..<last {
                            out[written] = ints[routes + i]
                            written += 1
                        }
                    }
                    if pos == path.count { break }
                    var b = path[pos]
                    if folding && b &- 0x41 < 26 { b += 32 }
                    var next = -1
                    var e = Int(ints[edgeStart + n])
                    let end = Int(ints[edgeStart + n + 1])
                    while e < end {
                        if bytes[e] == b {
                            next = Int(ints[edgeTarget + e])
                            break
                        }
                        e += 1
                    }
                    if next < 0 { return true }
                    // The rest of the label must follow in the path.
                    var k = labels + Int(ints[labelStart + next]) + 1
                    let to = labels + Int(ints[labelStart + next + 1])
                    pos += 1
                    if pos + (to - k) > path.count { return true }
                    if !folding {
                        // Eight bytes at a time, then the tail.
                        let a = UnsafeRawPointer(path.baseAddress!)
                        let l = UnsafeRawPointer(bytes.baseAddress!)
                        while to - k >= 8 {
                            if a.loadUnaligned(fromByteOffset: pos, as: UInt64.self) != l.loadUnaligned(fromByteOffset: k, as: UInt64.self)
                            {
                                return true
                            }
                            k += 8
                            pos += 8
                        }
                    }
                    while k < to {
                        var c = path[pos]
                        if folding && c &- 0x41 < 26 { c += 32 }
                        if bytes[k] != c { return true }
                        k += 1
                        pos += 1
                    }
                    n = next
                    first = Int(ints[routeStart + n])
                    last = Int(ints[routeStart + n + 1])
                }
                // The whole path was consumed: the exact paths ending here.
                first = Int(ints[exactStart + n])
                last = Int(ints[exactStart + n + 1])
                if written + (last - first) > capacity {
                    written += last - first
                    return false
                }
                for i in first..<last {
                    out[written] = ints[exactRoutes + i]
                    written += 1
                }
                return true
            }
        }
    }

    /// Builds the trie as nested nodes; ``ByteTrie/init(_:)`` lays it out flat.
    struct Builder {
        struct Node {
            var children: [(byte: UInt8, node: Int)] = []
            var routes: [Int] = []
            var exact: [Int] = []
        }

        var nodes: [Node] = [Node()]

        /// Files `route` under `key`: as a prefix, or as an exact path.
        mutating func insert(_ key: String.UTF8View, _ route: Int, exact: Bool = false) {
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
            if exact { nodes[n].exact.append(route) } else { nodes[n].routes.append(route) }
        }

        var trie: ByteTrie { ByteTrie(self) }
    }
}
