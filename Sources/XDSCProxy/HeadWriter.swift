/// Copies an HTTP/1.1 head (the upstream request encoder's, the downstream codec's) into
/// memory sized for it.
struct HeadWriter {
    let base: UnsafeMutableRawPointer
    /// The bytes available at `base`: a write past them traps rather than corrupting memory.
    let capacity: Int
    var at = 0

    /// Copies `s` when every byte passes `test`; false (nothing copied) otherwise.
    @discardableResult
    mutating func put(_ s: String, _ test: (UInt8) -> Bool = { _ in true }) -> Bool {
        var s = s
        let n = s.withUTF8 { bytes -> Int in
            for b in bytes where !test(b) { return -1 }
            precondition(at + bytes.count <= capacity, "head larger than measured")
            if let from = bytes.baseAddress { (base + at).copyMemory(from: from, byteCount: bytes.count) }
            return bytes.count
        }
        guard n >= 0 else { return false }
        at += n
        return true
    }

    mutating func literal(_ s: StaticString) {
        precondition(at + s.utf8CodeUnitCount <= capacity, "head larger than measured")
        (base + at).copyMemory(from: s.utf8Start, byteCount: s.utf8CodeUnitCount)
        at += s.utf8CodeUnitCount
    }

    /// `name: value` and CRLF, unchecked.
    mutating func field(_ name: String, _ value: String) {
        put(name)
        literal(": ")
        put(value)
        literal("\r\n")
    }

    /// A number from 100 to 999 (a status code) as its three digits.
    mutating func threeDigits(_ n: Int) {
        precondition((100...999).contains(n) && at + 3 <= capacity, "head larger than measured")
        (base + at).storeBytes(of: UInt8(ascii: "0") + UInt8(n / 100), as: UInt8.self)
        (base + at + 1).storeBytes(of: UInt8(ascii: "0") + UInt8(n / 10 % 10), as: UInt8.self)
        (base + at + 2).storeBytes(of: UInt8(ascii: "0") + UInt8(n % 10), as: UInt8.self)
        at += 3
    }
}
