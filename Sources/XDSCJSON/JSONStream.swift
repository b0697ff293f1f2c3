// The streaming JSON writer: the same bytes as `JSON.serializedBytes()` / `compactText()`,
// written container by container, so a large document never exists as a tree. Subtrees
// given as `JSON` values go through the tree writer at the current depth, which is what keeps
// the two byte-identical.

/// Writes one JSON document piece by piece (open a container, a key, a value, close it) in
/// the tree writer's format, handing the bytes to `sink` whenever more than `flushBytes` are
/// buffered and at `finish()`.
public struct JSONStream {
    /// One open container: whether it is an object, and how many entries it has so far.
    struct Frame {
        var isObject: Bool
        var count = 0
    }

    var writer: JSONWriter
    var frames: [Frame] = []
    /// True between a key and its value.
    var afterKey = false
    let flushBytes: Int
    let sink: (UnsafeBufferPointer<UInt8>) -> Void

    /// A stream in the pretty (`serializedBytes()`) or compact (`compactText()`) format.
    public init(pretty: Bool, flushBytes: Int = 1 << 16, sink: @escaping (UnsafeBufferPointer<UInt8>) -> Void) {
        writer = JSONWriter(pretty: pretty)
        self.flushBytes = flushBytes
        self.sink = sink
    }

    /// Writes `document` through a stream and returns its bytes: what `body` writes, with the
    /// pretty format's final newline.
    public static func bytes(pretty: Bool = true, _ body: (inout JSONStream) -> Void) -> [UInt8] {
        var out: [UInt8] = []
        var stream = JSONStream(pretty: pretty) { out.append(contentsOf: $0) }
        body(&stream)
        stream.finish()
        return out
    }

    /// Opens an object (as the next value).
    public mutating func beginObject() {
        startValue()
        writer.out.append(UInt8(ascii: "{"))
        frames.append(Frame(isObject: true))
    }

    /// Opens an array (as the next value).
    public mutating func beginArray() {
        startValue()
        writer.out.append(UInt8(ascii: "["))
        frames.append(Frame(isObject: false))
    }

    /// Closes the innermost object or array; an empty one is `{}` / `[]`.
    public mutating func end() {
        let frame = frames.removeLast()
        if frame.count > 0 { writer.newline(frames.count) }
        writer.out.append(frame.isObject ? UInt8(ascii: "}") : UInt8(ascii: "]"))
        flushIfFull()
    }

    /// The next member's key, in the innermost object.
    public mutating func key(_ k: String) {
        precondition(frames.last?.isObject == true && !afterKey, "a key outside an object")
        separate()
        writer.appendString(k, key: true)
        writer.out.append(UInt8(ascii: ":"))
        if writer.pretty { writer.out.append(UInt8(ascii: " ")) }
        afterKey = true
    }

    /// A whole value (written as the tree writer writes it at this depth).
    public mutating func value(_ v: JSON) {
        startValue()
        writer.write(v, level: frames.count)
        flushIfFull()
    }

    /// A member: `key` then `value`.
    public mutating func member(_ k: String, _ v: JSON) {
        key(k)
        value(v)
    }

    /// Ends the document (the pretty format's final newline) and hands over what is left.
    public mutating func finish() {
        precondition(frames.isEmpty, "an open container at the end of the document")
        if writer.pretty { writer.out.append(UInt8(ascii: "\n")) }
        flush()
    }

    /// Before a value: in an array, the separator and line break of a new element; after a
    /// key, nothing.
    mutating func startValue() {
        if afterKey {
            afterKey = false
            return
        }
        if let last = frames.last {
            precondition(!last.isObject, "a value without a key in an object")
            separate()
        }
    }

    /// The `,` before every entry but the first, then the entry's line break.
    mutating func separate() {
        if frames[frames.count - 1].count > 0 { writer.out.append(UInt8(ascii: ",")) }
        frames[frames.count - 1].count += 1
        writer.newline(frames.count)
    }

    mutating func flushIfFull() {
        if writer.out.count >= flushBytes { flush() }
    }

    mutating func flush() {
        guard !writer.out.isEmpty else { return }
        writer.out.withUnsafeBufferPointer { sink($0) }
        writer.out.removeAll(keepingCapacity: true)
    }
}
