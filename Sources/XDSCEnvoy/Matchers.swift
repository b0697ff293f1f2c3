import XDSCJSON
import XDSCRequest

/// `envoy.type.matcher.v3.StringMatcher`.
public struct StringMatcher: Equatable, Sendable, EnvoyEncodable {
    /// The `match_pattern` oneof.
    public enum Pattern: Equatable, Sendable {
        case exact(String)
        case prefix(String)
        case suffix(String)
        /// `safe_regex: {regex: ...}`: an RE2 full match.
        case safeRegex(String)
        case contains(String)
    }

    /// What to compare with.
    public var pattern: Pattern
    /// Compare ASCII case-insensitively (ignored for regexes, as in Envoy).
    public var ignoreCase: Bool

    /// A string matcher.
    public init(_ pattern: Pattern, ignoreCase: Bool = false) {
        self.pattern = pattern
        self.ignoreCase = ignoreCase
    }

    /// An exact matcher.
    public static func exact(_ s: String) -> StringMatcher { StringMatcher(.exact(s)) }

    /// A matcher from its JSON form as written in a filter configuration (`exact`, `prefix`,
    /// `suffix`, `contains`, `safe_regex.regex`, `ignore_case`); nil when it sets no pattern.
    public init?(json: JSON) {
        let ignoreCase = json["ignore_case"]?.boolValue ?? false
        if let s = json["exact"]?.stringValue {
            self.init(.exact(s), ignoreCase: ignoreCase)
        } else if let s = json["prefix"]?.stringValue {
            self.init(.prefix(s), ignoreCase: ignoreCase)
        } else if let s = json["suffix"]?.stringValue {
            self.init(.suffix(s), ignoreCase: ignoreCase)
        } else if let s = json["contains"]?.stringValue {
            self.init(.contains(s), ignoreCase: ignoreCase)
        } else if let r = json["safe_regex"]?["regex"]?.stringValue {
            self.init(.safeRegex(r), ignoreCase: ignoreCase)
        } else {
            return nil
        }
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        var o = JSONObject()
        switch pattern {
        case .exact(let s): o["exact"] = .string(s)
        case .prefix(let s): o["prefix"] = .string(s)
        case .suffix(let s): o["suffix"] = .string(s)
        case .safeRegex(let r): o["safe_regex"] = .object(["regex": .string(r)])
        case .contains(let s): o["contains"] = .string(s)
        }
        if ignoreCase { o["ignore_case"] = .bool(true) }
        return .object(o)
    }

    /// Envoy's `StringMatcherImpl::match` (`source/common/common/matchers.h`): byte
    /// comparisons (never Unicode equivalence), ASCII-only case folding for `ignore_case`.
    public func matches(_ value: String) -> Bool {
        switch pattern {
        case .exact(let s):
            return ignoreCase ? value.asciiLowercased.utf8.elementsEqual(s.asciiLowercased.utf8) : value.utf8.elementsEqual(s.utf8)
        case .prefix(let s):
            return ignoreCase ? value.asciiLowercased.utf8.starts(with: s.asciiLowercased.utf8) : value.utf8.starts(with: s.utf8)
        case .suffix(let s):
            return ignoreCase
                ? value.asciiLowercased.utf8.reversed().starts(with: s.asciiLowercased.utf8.reversed())
                : value.utf8.reversed().starts(with: s.utf8.reversed())
        case .contains(let s):
            if s.isEmpty { return true }
            let (v, n) = ignoreCase ? (value.asciiLowercased, s.asciiLowercased) : (value, s)
            return Array(v.utf8).containsSubsequence(Array(n.utf8))
        case .safeRegex(let r):
            return RegexCache.shared.pattern(r)?.fullMatch(value) ?? false
        }
    }
}

/// `envoy.config.route.v3.HeaderMatcher`.
public struct HeaderMatcher: Equatable, Sendable, EnvoyEncodable {
    /// The `header_match_specifier` oneof, modern forms plus the deprecated ones a user's
    /// configuration may still contain.
    public enum Specifier: Equatable, Sendable {
        /// `string_match`.
        case string(StringMatcher)
        /// `present_match`.
        case present(Bool)
        /// `range_match {start, end}`: `start <= value < end` on a base-10 int64.
        case range(start: Int64, end: Int64)
        /// Deprecated `exact_match`; an empty string matches any present value.
        case deprecatedExact(String)
    }

    /// The header name (lower-case; `:method`, `:authority`, `:path` for pseudo-headers).
    public var name: String
    /// The match, or nil for "present".
    public var specifier: Specifier?
    /// `invert_match`.
    public var invertMatch: Bool
    /// `treat_missing_header_as_empty`.
    public var treatMissingHeaderAsEmpty: Bool

    /// A header matcher.
    public init(name: String, _ specifier: Specifier?, invertMatch: Bool = false, treatMissingHeaderAsEmpty: Bool = false) {
        self.name = name
        self.specifier = specifier
        self.invertMatch = invertMatch
        self.treatMissingHeaderAsEmpty = treatMissingHeaderAsEmpty
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        var o = JSONObject()
        o["name"] = .string(name)
        switch specifier {
        case .deprecatedExact(let s): o["exact_match"] = .string(s)
        case .range(let start, let end):
            o["range_match"] = .object(["start": .int(start), "end": .int(end)])
        case .present(let p): o["present_match"] = .bool(p)
        case .string(let m): o["string_match"] = m.json
        case nil: break
        }
        if invertMatch { o["invert_match"] = .bool(true) }
        if treatMissingHeaderAsEmpty { o["treat_missing_header_as_empty"] = .bool(true) }
        return .object(o)
    }

    /// Envoy's `HeaderUtility::matchHeaders` for one matcher. `value` is every occurrence of
    /// the header joined with `,`, or nil when the header is absent.
    public func matches(headerValue value: String?) -> Bool {
        var value = value
        if value == nil && treatMissingHeaderAsEmpty { value = "" }
        guard let value else {
            // Absent: only a presence matcher can hold, and then only in its inverted sense.
            switch specifier {
            case .present(let p): return p == invertMatch
            case nil: return invertMatch
            default: return false
            }
        }
        let specific: Bool
        switch specifier {
        case nil: specific = true
        case .present(let p): specific = p
        case .string(let m): specific = m.matches(value)
        case .deprecatedExact(let s): specific = s.isEmpty || s == value
        case .range(let start, let end):
            if let v = Self.simpleAtoi(value) { specific = start <= v && v < end } else { specific = false }
        }
        return specific != invertMatch
    }
}

extension HeaderMatcher {
    /// `absl::SimpleAtoi` into an int64, as `range_match` parses a header: ASCII whitespace
    /// around the number is ignored, one `+` or `-` sign, base-10 digits, nil on overflow.
    public static func simpleAtoi(_ text: String) -> Int64? {
        guard let (negative, digits) = atoiDigits(text) else { return nil }
        var v: Int64 = 0
        for d in digits {
            let digit = Int64(d - 0x30)
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (r, o2) = negative ? m.subtractingReportingOverflow(digit) : m.addingReportingOverflow(digit)
            if o1 || o2 { return nil }
            v = r
        }
        return v
    }

    /// `absl::SimpleAtoi` into a uint64 (the weighted-cluster `header_name` value): as the
    /// int64 form, and a `-` sign fails.
    public static func simpleAtoiUnsigned(_ text: String) -> UInt64? {
        guard let (negative, digits) = atoiDigits(text), !negative else { return nil }
        var v: UInt64 = 0
        for d in digits {
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (r, o2) = m.addingReportingOverflow(UInt64(d - 0x30))
            if o1 || o2 { return nil }
            v = r
        }
        return v
    }

    /// The sign and the digits of an `absl::SimpleAtoi` input: ASCII whitespace around it
    /// ignored, one optional sign, then base-10 digits only.
    static func atoiDigits(_ text: String) -> (negative: Bool, digits: ArraySlice<UInt8>)? {
        let ws: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D]
        var b = Array(text.utf8)[...]
        while let f = b.first, ws.contains(f) { b = b.dropFirst() }
        while let l = b.last, ws.contains(l) { b = b.dropLast() }
        var negative = false
        if let f = b.first, f == UInt8(ascii: "+") || f == UInt8(ascii: "-") {
            negative = f == UInt8(ascii: "-")
            b = b.dropFirst()
        }
        guard !b.isEmpty, b.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return (negative, b)
    }
}

/// `envoy.config.route.v3.QueryParameterMatcher`.
public struct QueryParameterMatcher: Equatable, Sendable, EnvoyEncodable {
    /// The parameter name.
    public var name: String
    /// `string_match`, or nil with `presentMatch`.
    public var stringMatch: StringMatcher?
    /// `present_match`; with neither field set the parameter must be present.
    public var presentMatch: Bool?

    /// A query parameter matcher.
    public init(name: String, stringMatch: StringMatcher? = nil, presentMatch: Bool? = nil) {
        self.name = name
        self.stringMatch = stringMatch
        self.presentMatch = presentMatch
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        var o = JSONObject()
        o["name"] = .string(name)
        o.set("string_match", stringMatch)
        o.set("present_match", presentMatch.map(JSON.bool))
        return .object(o)
    }

    /// Envoy's `ConfigUtility::QueryParameterMatcher::matches`
    /// (`source/common/router/config_utility.cc`) on the first value of the parameter (not
    /// percent-decoded), or nil when it is absent. `present_match` is a presence test since
    /// Envoy 1.34, behind the runtime guard
    /// `envoy.reloadable_features.enable_new_query_param_present_match_behavior` (on by
    /// default); with `newPresentMatchBehavior: false` (older Envoys, or the guard off) any
    /// `present_match`, `false` included, requires the parameter.
    public func matches(firstValue value: String?, newPresentMatchBehavior: Bool = true) -> Bool {
        if newPresentMatchBehavior, let presentMatch { return (value != nil) == presentMatch }
        guard let value else { return false }
        if presentMatch != nil { return true }
        guard let stringMatch else { return true }
        return stringMatch.matches(value)
    }
}

extension Array where Element == UInt8 {
    func containsSubsequence(_ needle: [UInt8]) -> Bool {
        guard needle.count <= count else { return false }
        if needle.isEmpty { return true }
        for i in 0...(count - needle.count) where self[i] == needle[0] {
            if self[i..<(i + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }
}
