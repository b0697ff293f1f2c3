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
}
