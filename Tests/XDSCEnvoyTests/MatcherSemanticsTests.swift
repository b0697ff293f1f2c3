import Testing
import XDSCJSON
import XDSCRequest

@testable import XDSCEnvoy

/// Issue 8.1: the Envoy model's matchers evaluate as Envoy's source does. Each table row
/// names the request and the expected verdict; the Envoy file is on each suite.
///
/// `source/common/router/config_utility.cc` (`QueryParameterMatcher::matches`) and
/// `source/common/http/utility.cc` (`QueryParamsMulti::parseQueryString`).
@Suite struct QueryParameterSemanticsTests {
    static let present = QueryParameterMatcher(name: "debug", presentMatch: true)
    static let absent = QueryParameterMatcher(name: "debug", presentMatch: false)
    static let bare = QueryParameterMatcher(name: "debug")
    static let exact1 = QueryParameterMatcher(name: "debug", stringMatch: .exact("1"))

    func match(_ m: QueryParameterMatcher, _ path: String, newBehavior: Bool = true) -> Bool {
        m.matches(firstValue: EnvoyRequest(authority: "h", path: path).queryParameter(m.name), newPresentMatchBehavior: newBehavior)
    }

    /// (path, present_match: true, present_match: false, no specifier, exact "1").
    @Test(arguments: [
        ("/", false, true, false, false),
        ("/?debug", true, false, true, false),
        ("/?debug=", true, false, true, false),
        ("/?debug=1", true, false, true, true),
        ("/?debug=2&debug=1", true, false, true, false),  // only the first value counts
        ("/?debug=1&debug=2", true, false, true, true),
        ("/?x=1&&debug=1&", true, false, true, true),
        ("/?Debug=1", false, true, false, false),  // names are case-sensitive
        ("/?deb%75g=1", false, true, false, false),  // and never percent-decoded
        ("/?debug=%31", true, false, true, false),  // nor are values
        ("/?debug=1#x", true, false, true, false),  // `#` is not special in the query parser
        ("/?xdebug=1", false, true, false, false),
        ("/debug=1", false, true, false, false),  // no `?`: no query
    ])
    func truthTable(_ path: String, _ present: Bool, _ absent: Bool, _ bare: Bool, _ exact1: Bool) {
        #expect(match(Self.present, path) == present)
        #expect(match(Self.absent, path) == absent)
        #expect(match(Self.bare, path) == bare)
        #expect(match(Self.exact1, path) == exact1)
    }

    /// Before Envoy 1.34, or with `enable_new_query_param_present_match_behavior` off, any
    /// `present_match` requires the parameter: `present_match: false` means "present".
    @Test(arguments: ["/", "/?debug", "/?debug=1", "/?other=1"])
    func legacyPresentMatch(_ path: String) {
        let isPresent = EnvoyRequest(authority: "h", path: path).queryParameter("debug") != nil
        #expect(match(Self.absent, path, newBehavior: false) == isPresent)
        #expect(match(Self.present, path, newBehavior: false) == isPresent)
        #expect(match(Self.absent, path, newBehavior: true) == !isPresent)
    }

    @Test func valueAfterTheFirstEquals() {
        let r = EnvoyRequest(authority: "h", path: "/p?a=b=c&e")
        #expect(r.queryParameter("a") == "b=c")
        #expect(r.queryParameter("e") == "")
        #expect(r.queryParameter("b") == nil)
    }

    /// Names are compared as bytes: a canonically equivalent spelling is another name.
    @Test func namesAreBytes() {
        #expect(EnvoyRequest(authority: "h", path: "/?caf\u{E9}=1").queryParameter("cafe\u{301}") == nil)
        #expect(EnvoyRequest(authority: "h", path: "/?caf\u{E9}=1").queryParameter("caf\u{E9}") == "1")
    }
}

/// `source/common/common/matchers.h` (`StringMatcherImpl::match`).
@Suite struct StringMatcherSemanticsTests {
    /// (pattern, ignore_case, value, expected).
    static let rows: [(StringMatcher.Pattern, Bool, String, Bool)] = [
        (StringMatcher.Pattern.exact("Beta"), false, "Beta", true), (.exact("Beta"), false, "beta", false),
        (.exact("Beta"), true, "bETA", true), (.exact(""), false, "", true), (.exact(""), false, "x", false),
        (.prefix("Ab"), false, "Abc", true), (.prefix("Ab"), false, "abc", false), (.prefix("Ab"), true, "aBc", true),
        (.suffix("Yz"), false, "xYz", true), (.suffix("Yz"), false, "xyz", false), (.suffix("Yz"), true, "XYZ", true),
        (.contains("Mid"), false, "aMidb", true), (.contains("Mid"), false, "amidb", false), (.contains("Mid"), true, "AMIDB", true),
        (.safeRegex("b[0-9]+"), false, "b12", true), (.safeRegex("b[0-9]+"), false, "xb12", false),  // full match
        // ASCII-only folding: `É` and `é` are different bytes to Envoy.
        (.exact("\u{E9}"), true, "\u{C9}", false),
        // Bytes, not Unicode equivalence: precomposed and decomposed `é` differ.
        (.exact("caf\u{E9}"), false, "cafe\u{301}", false), (.prefix("caf\u{E9}"), false, "cafe\u{301}x", false),
        (.exact("caf\u{E9}"), true, "CAFe\u{301}", false),
    ]

    @Test(arguments: rows)
    func truthTable(_ pattern: StringMatcher.Pattern, _ ignoreCase: Bool, _ value: String, _ expected: Bool) {
        #expect(StringMatcher(pattern, ignoreCase: ignoreCase).matches(value) == expected)
    }
}

/// `source/common/http/header_utility.h` (`HeaderDataPresentMatch`, `HeaderDataBaseImpl`):
/// header values joined with `,`.
@Suite struct HeaderMatcherSemanticsTests {
    /// One row: specifier, invert, treat_missing_as_empty, verdicts for [absent, "", "v"].
    struct Row: Sendable, CustomTestStringConvertible {
        let spec: HeaderMatcher.Specifier?
        let invert: Bool
        let missingEmpty: Bool
        let expected: [Bool]
        init(_ spec: HeaderMatcher.Specifier?, _ invert: Bool, _ missingEmpty: Bool, _ expected: [Bool]) {
            (self.spec, self.invert, self.missingEmpty, self.expected) = (spec, invert, missingEmpty, expected)
        }
        var testDescription: String { "\(String(describing: spec)) invert=\(invert) missingEmpty=\(missingEmpty)" }
    }

    static let rows: [Row] = [
        Row(.present(true), false, false, [false, true, true]),
        Row(.present(true), true, false, [true, false, false]),
        Row(.present(false), false, false, [true, false, false]),
        Row(.present(false), true, false, [false, true, true]),
        Row(.present(true), false, true, [true, true, true]),  // missing counts as present-and-empty
        Row(.present(false), true, true, [true, true, true]),
        Row(nil, false, false, [false, true, true]),  // no specifier: present
        Row(nil, true, false, [true, false, false]),
        Row(.string(.exact("v")), false, false, [false, false, true]),
        Row(.string(.exact("v")), true, false, [false, true, false]),  // missing never matches, even inverted
        Row(.string(.exact("v")), true, true, [true, true, false]),
        Row(.string(.exact("")), false, true, [true, true, false]),
        Row(.deprecatedExact(""), false, false, [false, true, true]),  // empty exact_match: any present value
        Row(.string(StringMatcher(.prefix("v"))), true, true, [true, true, false]),
    ]

    @Test(arguments: rows)
    func truthTable(_ row: Row) {
        let m = HeaderMatcher(name: "x-a", row.spec, invertMatch: row.invert, treatMissingHeaderAsEmpty: row.missingEmpty)
        let values: [String?] = [nil, "", "v"]
        let got = values.map { v in
            m.matches(
                headerValue: EnvoyRequest(authority: "h", path: "/", headers: v.map { [HTTPHeader("x-a", $0)] } ?? []).headerMap.get("x-a"))
        }
        #expect(got == row.expected)
    }

    @Test func repeatedHeadersAreJoinedWithAComma() {
        let r = EnvoyRequest(
            authority: "h", path: "/", headers: [HTTPHeader("X-A", "one"), HTTPHeader("x-b", "z"), HTTPHeader("x-a", "two")])
        #expect(r.headerMap.get("x-a") == "one,two")
        #expect(HeaderMatcher(name: "x-a", .string(.exact("one,two"))).matches(headerValue: r.headerMap.get("x-a")))
        #expect(!HeaderMatcher(name: "x-a", .string(.exact("two"))).matches(headerValue: r.headerMap.get("x-a")))
    }

    /// `range_match` parses with `absl::SimpleAtoi`: surrounding whitespace and a sign are
    /// accepted, anything else (and overflow) is no match.
    @Test(arguments: [
        ("5", true), (" 5\t", true), ("+5", true), ("-5", false), ("0", true), ("10", false), ("5x", false), ("", false),
        ("0x5", false), ("5,6", false), ("99999999999999999999", false), ("+", false), ("- 5", false),
    ])
    func rangeMatch(_ value: String, _ expected: Bool) {
        #expect(HeaderMatcher(name: "x-n", .range(start: 0, end: 10)).matches(headerValue: value) == expected)
    }

    @Test func simpleAtoiBounds() {
        #expect(HeaderMatcher.simpleAtoi("-9223372036854775808") == Int64.min)
        #expect(HeaderMatcher.simpleAtoi("9223372036854775807") == Int64.max)
        #expect(HeaderMatcher.simpleAtoi("9223372036854775808") == nil)
    }
}
