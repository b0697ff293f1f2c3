// Reads of a mapping's keys in place, for readers that test keys without making a `String`
// of each (issue 13: lowering asks every key of every mapping whether it is known).

extension YAMLTree {
    /// The record a child reference shows (an alias shows its target, with the same text).
    @inline(__always)
    func target(_ ref: Int32) -> Int32 { ref >= 0 ? ref : views[Int(~ref)].target }
}

extension YAMLNode.Pairs {
    /// Calls `body(i, key)` for each pair `i`, in order, with the UTF-8 bytes of its key read
    /// in place (nil for a key that is no scalar): one call for a whole mapping, where a
    /// reader that tests every key of every mapping asked the tree once per key (issue 13).
    public func forEachKeyBytes(_ body: (Int, UnsafeBufferPointer<UInt8>?) throws -> Void) rethrows {
        let tree = tree
        try tree.text.withUnsafeBufferPointer { text in
            try tree.records.withUnsafeBufferPointer { records in
                try tree.children.withUnsafeBufferPointer { children in
                    for i in 0..<count {
                        let index = tree.target(children[first + 2 * i])
                        let r = records[Int(index)]
                        guard r.kind.style != nil else {
                            try body(i, nil)
                            continue
                        }
                        let from = Int(r.first)
                        try body(i, UnsafeBufferPointer(rebasing: text[from..<from + tree.count(of: r, index)]))
                    }
                }
            }
        }
    }

    /// The key of the pair at position `i` (without making the value's node).
    public func key(at i: Int) -> YAMLNode {
        precondition(i >= 0 && i < count, "pair index out of range")
        return tree.node(tree.children[first + 2 * i], under: view)
    }

    /// The value of the pair at position `i` (without making the key's node).
    public func value(at i: Int) -> YAMLNode {
        precondition(i >= 0 && i < count, "pair index out of range")
        return tree.node(tree.children[first + 2 * i + 1], under: view)
    }
}
