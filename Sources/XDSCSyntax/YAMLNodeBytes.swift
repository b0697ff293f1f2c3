// Reads of a scalar's bytes in place, for readers that test keys and values without making a
// `String` of each (issue 13: lowering asks every key of every mapping whether it is known,
// and looks keys up by name many times per mapping).

extension YAMLTree {
    /// The record a child reference shows (an alias shows its target, with the same text).
    @inline(__always)
    func target(_ ref: Int32) -> Int32 { ref >= 0 ? ref : views[Int(~ref)].target }

    /// The length and first byte of the text of scalar record `index` (first 0 when empty);
    /// nil for a collection.
    @inline(__always)
    func scalarHead(_ index: Int32) -> (count: Int, first: UInt8)? {
        let r = records[Int(index)]
        guard r.kind.style != nil else { return nil }
        let count = count(of: r, index)
        return (count, count == 0 ? 0 : text[Int(r.first)])
    }

    /// Whether record `index` is a scalar whose text is exactly `s`.
    @inline(__always)
    func scalar(_ index: Int32, equals s: String) -> Bool {
        let r = records[Int(index)]
        return r.kind.style != nil && text(of: r, index, equals: s)
    }
}

extension YAMLNode {
    /// The length in UTF-8 bytes and the first byte (0 when empty) of a scalar's text, read
    /// in place; nil for a mapping or a sequence.
    public var scalarHead: (count: Int, first: UInt8)? { tree.scalarHead(index) }

    /// Whether this is a scalar whose text is exactly `s` (compared as bytes, in place).
    public func scalarEquals(_ s: String) -> Bool { tree.scalar(index, equals: s) }

    /// Calls `body` with the UTF-8 bytes of a scalar's text, read in place (no `String` is
    /// made); nil for a mapping or a sequence.
    public func withScalarBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R? {
        let r = tree.records[Int(index)]
        guard r.kind.style != nil else { return nil }
        let count = tree.count(of: r, index)
        return try tree.text.withUnsafeBufferPointer { all in
            try body(UnsafeBufferPointer(rebasing: all[Int(r.first)..<Int(r.first) + count]))
        }
    }
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

    /// `scalarHead` of the key at position `i`, read without making a node.
    public func keyHead(at i: Int) -> (count: Int, first: UInt8)? {
        precondition(i >= 0 && i < count, "pair index out of range")
        return tree.scalarHead(tree.target(tree.children[first + 2 * i]))
    }

    /// Whether the key at position `i` is a scalar whose text is exactly `s`, read without
    /// making a node.
    public func key(at i: Int, equals s: String) -> Bool {
        precondition(i >= 0 && i < count, "pair index out of range")
        return tree.scalar(tree.target(tree.children[first + 2 * i]), equals: s)
    }
}
