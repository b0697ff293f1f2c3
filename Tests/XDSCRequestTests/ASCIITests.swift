import Testing
import XDSCRequest

@Suite struct ASCIITests {
    @Test func lowerCasesOnlyASCIILetters() {
        #expect("Content-Type".asciiLowercased == "content-type")
        #expect("X-Very-Long-Header-Name-Over-15".asciiLowercased == "x-very-long-header-name-over-15")
        #expect("already-lower".asciiLowercased == "already-lower")
        #expect("".asciiLowercased == "")
        // Non-ASCII letters stay as they are (`absl::AsciiStrToLower`); `@`, `[` and `` ` `` border A-Z and a-z.
        #expect("ÉCOLE-Über".asciiLowercased == "École-Über")
        #expect("@AZ[`az{".asciiLowercased == "@az[`az{")
    }

    /// The word-at-a-time scan against a byte-by-byte reference: every byte value at every
    /// position of strings from 0 to 24 bytes (small and heap strings, whole words and tails).
    @Test func agreesWithAByteByByteLowerCasing() {
        func reference(_ bytes: [UInt8]) -> [UInt8] { bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 32 : $0 } }
        for length in 0...24 {
            for position in 0..<max(length, 1) {
                for byte in UInt8(0)...UInt8(0x7F) where length > 0 {
                    var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                    bytes[position] = byte
                    let s = String(decoding: bytes, as: UTF8.self)
                    #expect(Array(s.asciiLowercased.utf8) == reference(bytes), "\(bytes)")
                }
            }
        }
        // Non-ASCII bytes in a word fall back to the byte scan, capitals next to them still count.
        #expect("ééééAé".asciiLowercased == "ééééaé")
        #expect("éééééééZ".asciiLowercased == "éééééééz")
        #expect("éééééééé".asciiLowercased == "éééééééé")
    }
}
