import Testing
import XDSCJSON

@testable import XDSCEnvoy

@Suite struct DurationTests {
    @Test(arguments: [
        (Int64(0), "0s"), (5_000_000_000, "5s"), (1_500_000_000, "1.500s"), (250_000_000, "0.250s"),
        (1_000, "0.000001s"), (1, "0.000000001s"), (90_000_000_000, "90s"), (1_234_500_000, "1.234500s"),
    ])
    func printsProtobufText(nanos: Int64, text: String) {
        #expect(EnvoyDuration(nanoseconds: nanos).description == text)
        #expect(EnvoyDuration(protobufText: text)?.nanoseconds == nanos)
    }

    @Test func parsesObjectForm() {
        #expect(EnvoyDuration(json: .object(["seconds": .int(30)])) == .seconds(30))
        #expect(EnvoyDuration(json: .object(["nanos": .int(0)])) == .zero)
        #expect(EnvoyDuration(json: .object(["seconds": .string("2"), "nanos": .int(500_000_000)]))?.description == "2.500s")
    }

    @Test(arguments: ["", "s", "1", "1.s", "1.0000000001s", "abc s", "1ms"])
    func rejectsMalformed(text: String) {
        #expect(EnvoyDuration(protobufText: text) == nil)
    }
}
