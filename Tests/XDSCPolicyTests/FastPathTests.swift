import Testing
import XDSCDiagnostics
import XDSCSyntax

@testable import XDSCPolicy

/// Issue 13: lowering's fast paths (key signatures, the byte reader of durations) give
/// exactly what the general code gives.
@Suite struct FastPathTests {
    func mapping(_ text: String) throws -> YAMLNode {
        try #require(YAMLReader().read(Array(text.utf8), file: "f.yaml", into: DiagnosticSink()))
    }

    @Test func keysWithTheSameSignatureAreToldApart() throws {
        // Same length and first byte: one signature bit for all of them.
        let keys = ["axb", "ayb", "azb", "b", "other"]
        #expect(Set(keys.prefix(3).map(KeySignature.of)).count == 1)
        let sink = DiagnosticSink()
        let f = try #require(Fields(try mapping("ayb: 1\nb: 2\naqb: 3\n"), context: "t", what: "t", keys: keys, sink: sink))
        #expect(f.value("ayb")?.scalar?.text == "1" && f.value("b")?.scalar?.text == "2")
        #expect(!f.has("axb") && !f.has("azb") && !f.has("other") && !f.has("aqb"))
        // `aqb` shares the signature too, yet is reported as unknown.
        #expect(sink.all.map(\.rule) == [.unknownField] && sink.all[0].message.contains("`aqb`"))
        #expect(f.hasAny(KnownKeys(["azb", "ayb"])) && !f.hasAny(KnownKeys(["axb", "other"])))
    }

    @Test func routesWithoutPolicyKeysLowerNoSettings() throws {
        let sink = DiagnosticSink()
        let f = try #require(Fields(try mapping("name: r\nmatch: {prefix: /}\nto: s\n"), context: "route", what: "r", sink: sink))
        #expect(!f.hasAny(KnownKeys.policy) && sink.all.isEmpty)
        let g = try #require(Fields(try mapping("to: s\nretries: none\n"), context: "route", what: "r", sink: sink))
        #expect(g.hasAny(KnownKeys.policy))
        #expect(PolicyKeyLowering(sink: sink).settings(g).retries != nil)
    }

    @Test func theByteReaderOfDurationsAgreesWithTheFullOne() {
        // Every string of up to four of these pieces: well-formed and broken durations alike.
        let pieces = ["0", "1", "30", "007", "99999999999", "h", "m", "s", "ms", "x", ".", " ", "-"]
        var texts = [""]
        var frontier = [""]
        for _ in 0..<4 {
            frontier = frontier.flatMap { t in pieces.map { t + $0 } }
            texts += frontier
        }
        var fast = 0
        for t in texts {
            let full = try? PolicyValues.duration(t).get()
            if let d = PolicyValues.simpleDuration(t) {
                fast += 1
                #expect(full == d, "\(t)")
            } else if full != nil {
                // Only digit runs too long for the quick overflow bound, and spaces (which
                // a plain scalar never has at its ends), may leave the fast path.
                #expect(t.contains("99999999999") || t.contains(" "), "`\(t)` is a plain duration the fast path missed")
            }
        }
        #expect(fast > 400)
    }

    @Test func aZeroDurationIsStillRefusedWhereItMustBePositive() throws {
        let sink = DiagnosticSink()
        let f = try #require(Fields(try mapping("connect_timeout: 0s\ntimeout: 0s\n"), context: "defaults", what: "d", sink: sink))
        #expect(f.duration("timeout")?.value.milliseconds == 0)
        #expect(f.duration("connect_timeout", positive: true) == nil)
        #expect(sink.all.map(\.rule) == [.invalidValue])
    }
}
