import Testing
import XDSCTestSupport

@testable import XDSCAutomata

/// `Language.triageRegex` must give exactly the answers building the language gives: the
/// same undecided reason, and "non-empty" only for an exact, non-empty language.
@Suite("Regex triage agrees with the built language")
struct RegexTriageTests {
    /// `/` then visible ASCII without `?` and `#` (the route analysis's path universe).
    static let paths = Language.literal([0x2F], thenStarOf: [0x21...0x22, 0x24...0x3E, 0x40...0x7E])
    static let universes: [(String, Language)] = [
        ("paths", paths), ("any", .any), ("no ?#", Language.contains("?").union(.contains("#")).complement()),
    ]

    static func check(_ pattern: String, _ name: String, _ universe: Language) -> RegexTriage {
        let (triage, prefix) = Language.triageRegex(pattern, within: universe)
        let built = Language.regex(pattern).intersection(universe)
        #expect(prefix == Language.regexFoldedLiteralPrefix(pattern), "\(pattern)")
        switch triage {
        case .undecided(let reason):
            #expect(built.undecidedReason == reason, "\(pattern) in \(name)")
        case .nonEmpty:
            #expect(built.undecidedReason == nil, "\(pattern) in \(name)")
            #expect(built.isEmpty == false, "\(pattern) in \(name)")
        case .unknown:
            break
        }
        return triage
    }

    @Test("hand-picked patterns")
    func handPicked() {
        let cases: [(String, RegexTriage)] = [
            ("/re/123/[0-9]+", .nonEmpty),
            ("^/api/v[0-9]+/users/[a-z]+$", .nonEmpty),
            ("(?i)/Export\\.(csv|json)", .nonEmpty),
            ("/a\\.b/(x|y)*z?", .nonEmpty),
            // Empty inside the path universe: left to the automaton.
            ("/é/[a-z]", .unknown),
            ("/a\\?b", .unknown),
            ("[^/].*", .unknown),
            ("/a$b", .unknown),
            // Too many NFA states outside the chain for the bound (`[^/]` has UTF-8 sequences).
            ("^/api/v[0-9]+/users/[^/]+$", .unknown),
            ("/(a|b|c|d|e|f|g|h|i|j|k|l|m|n|o|p|q|r|s|t|u|v)[0-9]", .unknown),
            ("(a", .undecided("invalid regex: missing )")),
            ("(?=x)", .undecided("lookahead is not supported")),
            ("a{1001}", .undecided("invalid repetition size")),
            ("((a{100}){100}){100}", .undecided("automaton too large")),
        ]
        for (p, expected) in cases {
            let got = Self.check(p, "paths", Self.paths)
            // The reasons come from the parser; the test pins the decision, the reason is
            // compared with the built language in `check`.
            switch (expected, got) {
            case (.undecided, .undecided), (.nonEmpty, .nonEmpty), (.unknown, .unknown): break
            default: Issue.record("\(p): expected \(expected), got \(got)")
            }
        }
    }

    @Test("random patterns in three universes", arguments: [11, 22, 33] as [UInt64])
    func random(seed: UInt64) {
        var gen = RandomRegexTests.Gen(rng: SeededRNG(seed: seed))
        var nonEmpty = 0
        for _ in 0..<150 {
            var p = gen.regex(2)
            switch Int.random(in: 0..<4, using: &gen.rng) {
            case 0: p = "/" + p
            case 1: p = "^/api/" + p + "$"
            case 2: p = "(?i)/v1/" + p
            default: break
            }
            for (name, u) in Self.universes where Self.check(p, name, u) == .nonEmpty { nonEmpty += 1 }
        }
        // The triage must decide a good part of these cheaply (about a third of the 450
        // checks; many are empty in the path universe), or it saves nothing.
        #expect(nonEmpty > 100)
    }
}
