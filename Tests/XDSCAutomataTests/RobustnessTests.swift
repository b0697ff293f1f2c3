import Testing
import XDSCAutomata

@Suite("Odd input never crashes or hangs")
struct RobustnessTests {
    @Test func explodingSubsetConstructionIsUndecided() {
        // (a|b)*a(a|b){20} needs 2^21 DFA states: beyond the cap, so undecided.
        let l = Language.regex("(a|b)*a(a|b){20}")
        #expect(l.isUndecided)
        #expect(Language.regex("(a|b)*a(a|b){5}").isUndecided == false)
    }

    @Test func oddRegexes() {
        for p in [
            "", "()", "(|)", "a{0}", "a{0,0}", "[^\\x00-\\x{10FFFF}]", "\\Q", "\\Qa\\\\E", "((((((((((a))))))))))*",
            String(repeating: "(", count: 300) + "a" + String(repeating: ")", count: 300), "a{1000}", "\\x{10FFFF}",
            "[\\x{D800}-\\x{DFFF}]", "(?i)(?-i)(?s)(?U)x", "(?P<n>a)(?P<m>b)", "\u{0}", "[[:word:]-.]+",
        ] {
            let l = Language.regex(p)
            _ = l.isEmpty
            _ = l.shortestMember()
            _ = l.complement().isEmpty
        }
        #expect(Language.regex("").contains("") == true)
        #expect(Language.regex("a{0}").isEquivalent(to: .literal("")) == true)
        #expect(Language.regex("[^\\x00-\\x{10FFFF}]").isEmpty == true)
        #expect(Language.regex(String(repeating: "(", count: 300) + "a" + String(repeating: ")", count: 300)).isUndecided)
    }
}
