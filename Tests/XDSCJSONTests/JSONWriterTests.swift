import Testing
import XDSCTestSupport

@testable import XDSCJSON

/// The Swift JSON writer prints exactly what json-c printed before it (issue 13).
@Suite struct JSONWriterTests {

    /// Strings with every kind of byte json-c treats specially: controls, quotes, backslash,
    /// slash, DEL, non-ASCII and NUL.
    static func string(_ rng: inout SeededRNG) -> String {
        let pieces = ["a", "/", "\"", "\\", "\u{7F}", "é", "😀", "\u{0}", "\n", "\t", "\r", "\u{8}", "\u{C}", "\u{1}", "\u{1F}", " ", "key"]
        return (0..<Int.random(in: 0...6, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
    }

    static func value(_ rng: inout SeededRNG, depth: Int) -> JSON {
        switch Int.random(in: 0..<(depth > 3 ? 6 : 9), using: &rng) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .int(Int64.random(in: Int64.min...Int64.max, using: &rng))
        case 3: return .int(Int64.random(in: -20...20, using: &rng))
        case 4: return .double([0.1, -2.5, 3.0, 1e20, -0.0, 123456.789, 1e-7].randomElement(using: &rng)!)
        case 5: return .string(string(&rng))
        case 6: return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in value(&rng, depth: depth + 1) })
        default:
            var o = JSONObject()
            for _ in 0..<Int.random(in: 0...4, using: &rng) {
                // json-c reads a key up to its first NUL: keep the truncated keys distinct.
                let k = string(&rng)
                func cut(_ s: String) -> Substring { s.prefix { $0 != "\u{0}" } }
                if !o.keys.contains(where: { cut($0) == cut(k) }) {
                    o[k] = value(&rng, depth: depth + 1)
                }
            }
            return .object(o)
        }
    }

    @Test func writerMatchesJSONCByteForByte() {
        var rng = SeededRNG(seed: 13)
        for _ in 0..<3000 {
            let v = Self.value(&rng, depth: 0)
            #expect(Array(v.serialized().utf8) == Array(v.jsoncSerialized().utf8), "\(v)")
            #expect(Array(v.compactText().utf8) == Array(v.jsoncCompactText().utf8), "\(v)")
        }
    }

    @Test func serializedBytesAreTheText() {
        let v: JSON = .object(["a": .array([.int(1), .object([:]), .array([])]), "b/c": .string("x\u{1}y")])
        #expect(v.serializedBytes() == Array(v.serialized().utf8))
        #expect(v.serialized() == "{\n  \"a\": [\n    1,\n    {},\n    []\n  ],\n  \"b/c\": \"x\\u0001y\"\n}\n")
        #expect(v.compactText() == "{\"a\":[1,{},[]],\"b/c\":\"x\\u0001y\"}")
    }
}
