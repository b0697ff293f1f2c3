// Sets of Unicode code points (RE2 "runes", surrogates included) and their UTF-8 byte encoding.

/// A set of code points as sorted, disjoint, non-adjacent closed ranges.
struct CharClass: Equatable, Sendable {
    static let maxRune: UInt32 = 0x10FFFF

    private(set) var ranges: [ClosedRange<UInt32>] = []

    init() {}
    init(_ ranges: [ClosedRange<UInt32>]) {
        for r in ranges { insert(r) }
    }
    init(scalar: UInt32) { ranges = [scalar...scalar] }

    static let all = CharClass([0...maxRune])
    /// RE2's `.` without `(?s)`: everything except `\n`.
    static let anyButNewline = CharClass([0...9, 11...maxRune])

    var isEmpty: Bool { ranges.isEmpty }

    mutating func insert(_ r: ClosedRange<UInt32>) {
        // Small classes: a linear merge keeps this simple and is fast enough.
        var lo = r.lowerBound
        var hi = r.upperBound
        var out: [ClosedRange<UInt32>] = []
        out.reserveCapacity(ranges.count + 1)
        var placed = false
        for x in ranges {
            if x.upperBound &+ 1 < lo {
                out.append(x)
            } else if hi &+ 1 < x.lowerBound {
                if !placed {
                    out.append(lo...hi)
                    placed = true
                }
                out.append(x)
            } else {
                lo = min(lo, x.lowerBound)
                hi = max(hi, x.upperBound)
            }
        }
        if !placed { out.append(lo...hi) }
        ranges = out
    }

    mutating func formUnion(_ other: CharClass) {
        for r in other.ranges { insert(r) }
    }

    func inverted() -> CharClass {
        var out = CharClass()
        var next: UInt32 = 0
        for r in ranges {
            if r.lowerBound > next { out.ranges.append(next...(r.lowerBound - 1)) }
            next = r.upperBound &+ 1
        }
        if !ranges.isEmpty, ranges.last!.upperBound >= CharClass.maxRune { return out }
        if next <= CharClass.maxRune { out.ranges.append(next...CharClass.maxRune) }
        return out
    }

    func contains(_ c: UInt32) -> Bool {
        ranges.contains { $0.contains(c) }
    }

    var hasNonASCII: Bool { ranges.contains { $0.upperBound > 0x7F } }

    /// RE2's simple case folding restricted to what ASCII letters fold with: the other
    /// ASCII case, plus U+212A KELVIN SIGN for k/K and U+017F LONG S for s/S.
    /// Callers reject classes with non-ASCII members under `(?i)` before calling this.
    func caseFolded() -> CharClass {
        var out = self
        for r in ranges {
            let lo = max(r.lowerBound, 0x41)
            let hi = min(r.upperBound, 0x7A)
            if lo > hi { continue }
            for c in lo...hi {
                var other: UInt32? = nil
                if (0x41...0x5A).contains(c) { other = c + 32 } else if (0x61...0x7A).contains(c) { other = c - 32 }
                guard let o = other else { continue }
                out.insert(o...o)
                let lower = c | 0x20
                if lower == 0x6B { out.insert(0x212A...0x212A) }  // k
                if lower == 0x73 { out.insert(0x17F...0x17F) }  // s
            }
        }
        return out
    }
}

/// A sequence of byte ranges: one UTF-8 encoded code point range.
typealias ByteSeq = [ClosedRange<UInt8>]

enum UTF8Ranges {
    /// Byte-range sequences whose union encodes exactly the code points of `cls` in UTF-8.
    /// When the class covers all of U+0080...U+10FFFF it uses RE2's looser encoding (it
    /// accepts some overlong and out-of-range sequences), so that `.` and negated classes
    /// behave as RE2 does on raw bytes.
    static func sequences(_ cls: CharClass) -> [ByteSeq] {
        var out: [ByteSeq] = []
        let coversHigh = cls.ranges.contains { $0.lowerBound <= 0x80 && $0.upperBound >= CharClass.maxRune }
        for r in cls.ranges {
            if r.lowerBound <= 0x7F {
                out.append([UInt8(r.lowerBound)...UInt8(min(r.upperBound, 0x7F))])
            }
            if coversHigh { continue }
            let lo = max(r.lowerBound, 0x80)
            if lo > r.upperBound { continue }
            split(lo, r.upperBound, &out)
        }
        if coversHigh {
            out.append([0xC2...0xDF, 0x80...0xBF])
            out.append([0xE0...0xEF, 0x80...0xBF, 0x80...0xBF])
            out.append([0xF0...0xF4, 0x80...0xBF, 0x80...0xBF, 0x80...0xBF])
        }
        return out
    }

    private static func encodedLength(_ c: UInt32) -> Int {
        c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4
    }

    private static func encode(_ c: UInt32, _ n: Int) -> [UInt8] {
        switch n {
        case 1: return [UInt8(c)]
        case 2: return [UInt8(0xC0 | (c >> 6)), UInt8(0x80 | (c & 0x3F))]
        case 3: return [UInt8(0xE0 | (c >> 12)), UInt8(0x80 | ((c >> 6) & 0x3F)), UInt8(0x80 | (c & 0x3F))]
        default:
            return [
                UInt8(0xF0 | (c >> 18)), UInt8(0x80 | ((c >> 12) & 0x3F)),
                UInt8(0x80 | ((c >> 6) & 0x3F)), UInt8(0x80 | (c & 0x3F)),
            ]
        }
    }

    private static func split(_ lo: UInt32, _ hi: UInt32, _ out: inout [ByteSeq]) {
        // First split where the encoded length changes.
        let bounds: [UInt32] = [0x7F, 0x7FF, 0xFFFF]
        for b in bounds where lo <= b && hi > b {
            split(lo, b, &out)
            split(b + 1, hi, &out)
            return
        }
        let n = encodedLength(lo)
        // Then split until every byte position is an independent range.
        if n > 1 {
            for i in 1..<n {
                let m: UInt32 = (1 << (6 * UInt32(i))) - 1
                if lo & ~m != hi & ~m {
                    if lo & m != 0 {
                        split(lo, lo | m, &out)
                        split((lo | m) + 1, hi, &out)
                        return
                    }
                    if hi & m != m {
                        split(lo, (hi & ~m) - 1, &out)
                        split(hi & ~m, hi, &out)
                        return
                    }
                }
            }
        }
        let a = encode(lo, n)
        let b = encode(hi, n)
        out.append((0..<n).map { a[$0]...b[$0] })
    }
}
