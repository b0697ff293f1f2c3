import Testing
import XDSCAutomata

@Suite("Language relations")
struct LanguageTests {
    @Test func prefixContainsExact() {
        #expect(Language.literal("/apis").isSubset(of: .prefix("/api")) == true)
        #expect(Language.prefix("/api").isSubset(of: .literal("/apis")) == false)
        #expect(Language.prefix("/api").intersects(.literal("/apis")) == true)
        #expect(Language.prefix("/apis").isSubset(of: .prefix("/api")) == true)
        #expect(Language.prefix("/api").isSubset(of: .prefix("/apis")) == false)
        #expect(Language.prefix("/a").intersects(.prefix("/b")) == false)
    }

    @Test func regexWithinPrefix() {
        let users = Language.regex("/users/[0-9]+")
        #expect(users.isSubset(of: .prefix("/users/")) == true)
        #expect(Language.prefix("/users/").isSubset(of: users) == false)
        #expect(users.intersects(.literal("/users/42")) == true)
        #expect(users.intersects(.literal("/users/x")) == false)
        #expect(Language.regex("^/users/[0-9]+$").isEquivalent(to: users) == true)
        #expect(Language.regex("/users/\\d+").isEquivalent(to: users) == true)
        #expect(Language.regex("/users/\\d{1,}").isEquivalent(to: users) == true)
        #expect(Language.regex("/users/[0-9]*").isSubset(of: users) == false)
    }

    @Test func caseInsensitive() {
        let ci = Language.prefix("/api", caseInsensitive: true)
        #expect(Language.literal("/API/x").isSubset(of: ci) == true)
        #expect(Language.prefix("/Api").isSubset(of: ci) == true)
        #expect(ci.isSubset(of: .prefix("/api")) == false)
        #expect(Language.regex("(?i)/api.*").contains("/aPi/x") == true)
        // Envoy folds ASCII only: byte-wise folding does not touch non-ASCII.
        #expect(Language.literal("/é", caseInsensitive: true).contains("/É") == false)
        #expect(Language.literal("/x-1", caseInsensitive: true).contains("/X-1") == true)
    }

    @Test func negatedClassVersusDot() {
        // [^/] matches "\n" (RE2 negated classes include newline) while . does not.
        let a = Language.regex("[^/]+")
        let b = Language.regex(".*")
        #expect(a.isSubset(of: b) == false)
        #expect(a.subtracting(b).shortestMember() == [10])
        #expect(a.intersects(b) == true)
        #expect(Language.regex("(?s)[^/]+").isSubset(of: .regex("(?s).*")) == true)
        #expect(Language.regex("[^/\\n]+").isSubset(of: b) == true)
    }

    @Test func algebra() {
        let x = Language.prefix("/a")
        let y = Language.prefix("/a/b")
        #expect(x.subtracting(y).contains("/a/c") == true)
        #expect(x.subtracting(y).contains("/a/b/c") == false)
        #expect(x.union(.literal("/z")).contains("/z") == true)
        #expect(x.intersection(.literal("/z")).isEmpty == true)
        #expect(x.complement().contains("/b") == true)
        #expect(x.complement().complement().isEquivalent(to: x) == true)
        #expect(Language.empty.isEmpty == true)
        #expect(Language.any.isUniversal == true)
        #expect(Language.any.contains([0, 255, 10]) == true)
        #expect(Language.suffix(".php").contains("/x/index.php") == true)
        #expect(Language.contains("admin").contains("/x/admin/y") == true)
        #expect(Language.regex("a^b").isEmpty == true)
        #expect(Language.regex("(a|^b)c").contains("bc") == true)
        #expect(Language.regex("(a|^b)c").contains("abc") == false)
    }

    @Test func witnessesReadWell() {
        #expect(Language.prefix("/api").shortestMemberString() == "/api")
        #expect(Language.regex("/users/[0-9]+").shortestMemberString() == "/users/0")
        #expect(Language.regex("/x/[^/]+").shortestMemberString() == "/x/a")
        #expect(Language.regex("[^a-z]").shortestMemberString() == "0")
        #expect(Language.regex("/[[:punct:]]x|/yy").shortestMemberString() == "/yy")
        #expect(Language.empty.shortestMember() == nil)
        #expect(Language.regex("\\bx").shortestMember() == nil)
    }

    @Test func literalPrefixes() {
        #expect(Language.regexLiteralPrefix("/api/v[0-9]+/users") == Array("/api/v".utf8))
        #expect(Language.regexLiteralPrefix("^/api/.*$") == Array("/api/".utf8))
        #expect(Language.regexLiteralPrefix("(?i)/api") == Array("/".utf8))
        #expect(Language.regexLiteralPrefix("a+b") == Array("a".utf8))
        #expect(Language.regexLiteralPrefix("ab?c") == Array("a".utf8))
        #expect(Language.regexLiteralPrefix("(/a|/b)") == [])
        #expect(Language.regexLiteralPrefix("(?:/v1)/x\\.y") == Array("/v1/x.y".utf8))
        #expect(Language.regexLiteralPrefix("\\bx") == [])
    }

    @Test func undecidedPropagates() {
        let u = Language.regex("\\pL+")
        #expect(u.isUndecided)
        #expect(u.union(.any).isUndecided)
        #expect(Language.any.intersects(u) == nil)
        #expect(u.complement().isUndecided)
        #expect(Language.regexUnsupportedReason("\\pL") != nil)
        #expect(Language.regexUnsupportedReason("/a.*") == nil)
    }
}

@Suite("Direct automaton checks")
struct DirectCheckTests {
    @Test func literalAndExtensionChecks() {
        #expect(Language.regex("/a").isSubset(ofLiteral: Array("/a".utf8)) == true)
        #expect(Language.regex("/a|/b").isSubset(ofLiteral: Array("/a".utf8)) == false)
        #expect(Language.regex("/ab?").isSubset(ofLiteral: Array("/a".utf8)) == false)
        #expect(Language.empty.isSubset(ofLiteral: Array("/a".utf8)) == true)
        let noQ: [UInt8] = [0x3F, 0x23]
        #expect(Language.regex("/a\\C*").containsAllExtensions(of: Array("/a".utf8), avoiding: noQ) == true)
        #expect(Language.regex("/a.*").containsAllExtensions(of: Array("/a".utf8), avoiding: noQ) == false)
        #expect(Language.regex("/a[^?#]*").containsAllExtensions(of: Array("/a".utf8), avoiding: noQ) == false)  // UTF-8 only
        #expect(Language.regex("/\\C*").containsAllExtensions(of: Array("/x/y".utf8), avoiding: noQ) == true)
        #expect(Language.prefix("/").subtracting(.contains("?")).containsAllExtensions(of: Array("/z".utf8), avoiding: noQ) == true)
        #expect(Language.prefix("/").subtracting(.contains("?")).containsAllExtensions(of: Array("/z".utf8), avoiding: []) == false)
    }
}
