// The JSON writer. Its output is byte for byte what json-c 0.16 prints with
// PRETTY|SPACED|NOSLASHESCAPE (pretty) or PLAIN|NOSLASHESCAPE (compact), with empty containers
// as `{}` / `[]`; a test compares the two on generated documents. It writes straight into one
// byte buffer, where json-c needed a second tree of C objects and a copy of its text.

extension JSON {
    /// Pretty JSON text: two-space indent, `"key": value`, keys in insertion order,
    /// `/` unescaped, empty containers as `{}` / `[]`, and a final newline.
    public func serialized() -> String {
        String(decoding: serializedBytes(), as: UTF8.self)
    }

    /// `serialized()` as UTF-8 bytes, without making a `String` of it.
    public func serializedBytes() -> [UInt8] {
        var w = JSONWriter(pretty: true)
        w.write(self, level: 0)
        w.out.append(UInt8(ascii: "\n"))
        return w.out
    }

    /// Compact single-line JSON (no spaces), for embedding in other output.
    public func compactText() -> String {
        var w = JSONWriter(pretty: false)
        w.write(self, level: 0)
        return String(decoding: w.out, as: UTF8.self)
    }

    /// The text a double is written as: the shortest that reads back as the same value, with
    /// `.0` on integral values (json-c's own `%.17g` is noisy).
    static func doubleText(_ d: Double) -> String {
        d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) + ".0" : "\(d)"
    }
}

struct JSONWriter {
    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
    let pretty: Bool
    var out: [UInt8] = []

    init(pretty: Bool) {
        self.pretty = pretty
        out.reserveCapacity(4096)
    }

    mutating func write(_ v: JSON, level: Int) {
        switch v {
        case .null: append("null")
        case .bool(let b): append(b ? "true" : "false")
        case .int(let i): appendInt(i)
        case .double(let d): append(JSON.doubleText(d))
        case .string(let s): appendString(s, key: false)
        case .array(let items):
            guard !items.isEmpty else { return append("[]") }
            out.append(UInt8(ascii: "["))
            for (n, item) in items.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                newline(level + 1)
                write(item, level: level + 1)
            }
            newline(level)
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            guard !o.isEmpty else { return append("{}") }
            out.append(UInt8(ascii: "{"))
            for (n, member) in o.members.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                newline(level + 1)
                appendString(member.key, key: true)
                out.append(UInt8(ascii: ":"))
                if pretty { out.append(UInt8(ascii: " ")) }
                write(member.value, level: level + 1)
            }
            newline(level)
            out.append(UInt8(ascii: "}"))
        }
    }

    mutating func newline(_ level: Int) {
        guard pretty else { return }
        out.append(UInt8(ascii: "\n"))
        for _ in 0..<(2 * level) { out.append(UInt8(ascii: " ")) }
    }

    mutating func append(_ s: String) {
        var s = s
        s.withUTF8 { out.append(contentsOf: $0) }
    }

    mutating func appendInt(_ i: Int64) {
        if i >= 0 && i < 10 {
            out.append(UInt8(ascii: "0") + UInt8(i))
        } else {
            append(String(i))
        }
    }

    /// A quoted string with json-c's escapes: `"`, `\`, `\b \f \n \r \t`, other controls as
    /// `\u00xx` (lowercase hex); `/`, DEL and non-ASCII bytes as they are. A key, which json-c
    /// takes as a C string, ends at its first NUL.
    mutating func appendString(_ s: String, key: Bool) {
        var s = s
        out.append(UInt8(ascii: "\""))
        s.withUTF8 { buf in
            var start = 0
            for i in 0..<buf.count {
                let c = buf[i]
                if c >= 0x20 && c != UInt8(ascii: "\"") && c != UInt8(ascii: "\\") { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[start..<i]))
                start = i + 1
                if c == 0 && key {
                    start = buf.count
                    break
                }
                out.append(UInt8(ascii: "\\"))
                switch c {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(c)
                case 0x08: out.append(UInt8(ascii: "b"))
                case 0x0C: out.append(UInt8(ascii: "f"))
                case 0x0A: out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "t"))
                default:
                    let hex = JSONWriter.hexDigits
                    out.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(c >> 4)], hex[Int(c & 0xF)]])
                }
            }
            if start < buf.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[start...])) }
        }
        out.append(UInt8(ascii: "\""))
    }
}
