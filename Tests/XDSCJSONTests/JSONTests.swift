import Testing
import XDSCJSON

/// JSON serialisation is deterministic and reads back.
@Suite struct JSONTests {
    @Test func jsonSerialisesDeterministicallyAndParsesBack() throws {
        let doc: JSON = .object([
            "z": .string("a/b \"q\" é\n"), "a": .int(-3), "e": .object([:]), "l": .array([]), "d": .double(0.1), "n": .null,
            "t": .bool(true),
        ])
        let text = doc.serialized()
        #expect(
            text == """
                {
                  "z": "a/b \\"q\\" é\\n",
                  "a": -3,
                  "e": {},
                  "l": [],
                  "d": 0.1,
                  "n": null,
                  "t": true
                }

                """)
        #expect(try JSON.parse(text) == doc)
        #expect(throws: JSONParseError.self) { try JSON.parse("{\"a\": 1,}") }
        #expect(throws: JSONParseError.self) { try JSON.parse("{} x") }
    }
}
