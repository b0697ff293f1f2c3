import Testing
import XDSCTestSupport

@testable import XDSCJSON

/// The streaming writer writes the tree writer's bytes, whichever parts of a document are
/// streamed container by container and whichever are given whole (issue 13).
@Suite struct JSONStreamTests {
    /// Writes `v` to `stream`, opening its containers one by one or, at random, giving a
    /// subtree whole.
    static func write(_ v: JSON, to stream: inout JSONStream, _ rng: inout SeededRNG) {
        switch v {
        case .array(let items) where Bool.random(using: &rng):
            stream.beginArray()
            for item in items { write(item, to: &stream, &rng) }
            stream.end()
        case .object(let o) where Bool.random(using: &rng):
            stream.beginObject()
            for m in o.members {
                stream.key(m.key)
                write(m.value, to: &stream, &rng)
            }
            stream.end()
        default:
            stream.value(v)
        }
    }

    static func streamed(_ v: JSON, pretty: Bool, flushBytes: Int, _ rng: inout SeededRNG) -> [UInt8] {
        var out: [UInt8] = []
        var stream = JSONStream(pretty: pretty, flushBytes: flushBytes) { out.append(contentsOf: $0) }
        write(v, to: &stream, &rng)
        stream.finish()
        return out
    }

    @Test func streamMatchesTheTreeWriterByteForByte() {
        var rng = SeededRNG(seed: 1313)
        for n in 0..<3000 {
            let v = JSONWriterTests.value(&rng, depth: 0)
            let flushBytes = n % 2 == 0 ? 1 : 1 << 16
            #expect(Self.streamed(v, pretty: true, flushBytes: flushBytes, &rng) == v.serializedBytes(), "\(v)")
            #expect(Self.streamed(v, pretty: false, flushBytes: flushBytes, &rng) == Array(v.compactText().utf8), "\(v)")
        }
    }

    @Test func emptyContainersAndMembers() {
        let bytes = JSONStream.bytes { s in
            s.beginObject()
            s.key("a")
            s.beginArray()
            s.value(.int(1))
            s.beginObject()
            s.end()
            s.beginArray()
            s.end()
            s.end()
            s.member("b/c", .string("x\u{1}y"))
            s.end()
        }
        #expect(String(decoding: bytes, as: UTF8.self) == "{\n  \"a\": [\n    1,\n    {},\n    []\n  ],\n  \"b/c\": \"x\\u0001y\"\n}\n")
    }
}
