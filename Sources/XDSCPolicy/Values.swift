import XDSCRequest

/// Parsers for the scalar forms of the policy language. Each returns the value or a
/// problem text (lower-case, no final period) for an `invalid-value` diagnostic.
public enum PolicyValues {
    /// The pattern of service, listener, host and route names.
    public static let namePattern = "[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?"

    /// `s.hasPrefix("/")`, from the first two bytes when they settle it: `/` and then an
    /// ASCII byte (or nothing) is a whole character, as nothing ASCII but a line feed after a
    /// carriage return extends one.
    static func startsWithSlash(_ s: String) -> Bool {
        let u = s.utf8
        guard let first = u.first, first == UInt8(ascii: "/") else { return false }
        let second = u.index(after: u.startIndex)
        if second == u.endIndex || u[second] < 0x80 { return true }
        return s.hasPrefix("/")
    }

    /// Names of services, listeners, hosts and routes.
    public static func isValidName(_ s: String) -> Bool {
        // On the UTF-8 bytes, never copied: every route and service name passes here.
        func edge(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) }
        func inner(_ c: UInt8) -> Bool { edge(c) || c == 0x2E || c == 0x5F || c == 0x2D }
        func valid<C: Collection>(_ b: C) -> Bool where C.Element == UInt8 {
            guard (1...64).contains(b.count), let first = b.first else { return false }
            var last = first
            for c in b {
                guard inner(c) else { return false }
                last = c
            }
            return edge(first) && edge(last)
        }
        return s.utf8.withContiguousStorageIfAvailable(valid) ?? valid(s.utf8)
    }

    /// The common well-formed duration (`250ms`, `1m30s`: digits and units from largest to
    /// smallest, nothing else), read from the bytes; nil for anything else, which
    /// `duration(_:)` then reads and reports exactly as before.
    static func simpleDuration(_ text: String) -> PolicyDuration? {
        var total: Int64 = 0
        var lastRank = -1
        var n: Int64 = -1
        var sawM = false
        for c in text.utf8 {
            if sawM {
                sawM = false
                if c == UInt8(ascii: "s") {
                    // `ms`
                    guard n >= 0, 3 > lastRank else { return nil }
                    lastRank = 3
                    total += n
                    n = -1
                    continue
                }
                // `m` alone, then this byte.
                guard n >= 0, 1 > lastRank else { return nil }
                lastRank = 1
                total += n * 60_000
                n = -1
            }
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                // Long digit runs take the full reader. Below 10^12, no amount times an
                // hour's milliseconds, plus a total within the limit, overflows.
                guard n < 100_000_000_000 else { return nil }
                n = (n < 0 ? 0 : n * 10) + Int64(c &- UInt8(ascii: "0"))
            case UInt8(ascii: "h"):
                guard n >= 0, 0 > lastRank else { return nil }
                lastRank = 0
                total += n * 3_600_000
                n = -1
            case UInt8(ascii: "m"):
                sawM = true
            case UInt8(ascii: "s"):
                guard n >= 0, 2 > lastRank else { return nil }
                lastRank = 2
                total += n * 1000
                n = -1
            default:
                return nil
            }
            if total > 315_576_000_000_000 { return nil }
        }
        if sawM {
            guard n >= 0, 1 > lastRank else { return nil }
            lastRank = 1
            total += n * 60_000
            n = -1
        }
        guard n < 0, lastRank >= 0, total <= 315_576_000_000_000 else { return nil }
        return PolicyDuration(milliseconds: total)
    }

    /// `250ms`, `1s`, `1m30s`, `2h`: integer amounts with units in decreasing order.
    public static func duration(_ text: String) -> Result<PolicyDuration, ValueProblem> {
        let t = text.trimmingSpaces
        if t.isEmpty { return .failure(ValueProblem("empty duration", help: "write a duration such as `5s`")) }
        if t.allSatisfy({ $0.isASCII && $0.isNumber }) {
            return .failure(ValueProblem("duration `\(t)` has no unit", help: "add a unit: `\(t)s` or `\(t)ms` (units ms, s, m, h)"))
        }
        if t.hasPrefix("-") { return .failure(ValueProblem("duration `\(t)` is negative")) }
        let units: [(String, Int64)] = [("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)]
        var total: Int64 = 0
        var rest = Substring(t)
        var lastRank = -1
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, let n = Int64(digits) else {
                if rest.first == "." || digits.isEmpty && rest.contains(".") {
                    return .failure(ValueProblem("duration `\(t)` has a fraction", help: "use a smaller unit, e.g. `1500ms` for 1.5s"))
                }
                return .failure(ValueProblem("`\(t)` is not a duration", help: "write e.g. `250ms`, `1s`, `1m30s` or `2h`"))
            }
            rest = rest.dropFirst(digits.count)
            if rest.first == "." {
                return .failure(ValueProblem("duration `\(t)` has a fraction", help: "use a smaller unit, e.g. `1500ms` for 1.5s"))
            }
            let unit: String
            if rest.hasPrefix("ms") {
                unit = "ms"
            } else if let c = rest.first, "hms".contains(c) {
                unit = String(c)
            } else {
                let u = rest.prefix { !($0.isASCII && $0.isNumber) }
                return .failure(
                    ValueProblem(
                        u.isEmpty ? "duration `\(t)` has no unit" : "unknown duration unit `\(u)` in `\(t)`",
                        help: "units are ms, s, m and h"))
            }
            rest = rest.dropFirst(unit.count)
            let rank = units.firstIndex { $0.0 == unit }!
            if rank <= lastRank {
                return .failure(ValueProblem("units in `\(t)` must go from largest to smallest, each once", help: "write e.g. `1m30s`"))
            }
            lastRank = rank
            let (mul, o1) = n.multipliedReportingOverflow(by: units[rank].1)
            let (sum, o2) = total.addingReportingOverflow(mul)
            if o1 || o2 || sum > 315_576_000_000_000 {
                return .failure(ValueProblem("duration `\(t)` is too long"))
            }
            total = sum
        }
        return .success(PolicyDuration(milliseconds: total))
    }

    /// An IPv4 or IPv6 literal in canonical text form, or nil.
    public static func canonicalIP(_ s: String) -> String? {
        if let v4 = ipv4(s) { return v4.map(String.init).joined(separator: ".") }
        if let v6 = ipv6(s) { return formatIPv6(v6) }
        return nil
    }

    static func ipv4(_ s: String) -> [Int]? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [Int] = []
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy({ $0.isASCII && $0.isNumber }), let v = Int(p), v <= 255 else { return nil }
            // Leading zeros are ambiguous (octal in some parsers); Envoy's inet_pton rejects them.
            if p.count > 1 && p.first == "0" { return nil }
            out.append(v)
        }
        return out
    }

    static func ipv6(_ s: String) -> [UInt16]? {
        guard s.contains(":"), !s.isEmpty else { return nil }
        var text = Substring(s)
        var tail: [UInt16] = []
        // An embedded IPv4 tail (::ffff:1.2.3.4).
        if let lastColon = text.lastIndex(of: ":"), text[text.index(after: lastColon)...].contains(".") {
            guard let v4 = ipv4(String(text[text.index(after: lastColon)...])) else { return nil }
            tail = [UInt16(v4[0] << 8 | v4[1]), UInt16(v4[2] << 8 | v4[3])]
            text = text[...lastColon]
            if text.hasSuffix(":") && !text.hasSuffix("::") { text = text.dropLast() }
        }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ h: Substring) -> [UInt16]? {
            if h.isEmpty { return [] }
            var out: [UInt16] = []
            for g in h.split(separator: ":", omittingEmptySubsequences: false) {
                guard (1...4).contains(g.count), let v = UInt16(g, radix: 16) else { return nil }
                out.append(v)
            }
            return out
        }
        guard let head = groups(halves[0]) else { return nil }
        if halves.count == 2 {
            guard let back = groups(halves[1]) else { return nil }
            let fill = 8 - head.count - back.count - tail.count
            guard fill >= 1 else { return nil }
            return head + Array(repeating: 0, count: fill) + back + tail
        }
        guard head.count + tail.count == 8 else { return nil }
        return head + tail
    }

    /// RFC 5952 text: lower-case, leading zeros dropped, the longest run of zero groups as `::`.
    static func formatIPv6(_ g: [UInt16]) -> String {
        var bestStart = -1
        var bestLen = 0
        var i = 0
        while i < 8 {
            if g[i] == 0 {
                var j = i
                while j < 8 && g[j] == 0 { j += 1 }
                if j - i > bestLen && j - i >= 2 {
                    bestStart = i
                    bestLen = j - i
                }
                i = j
            } else {
                i += 1
            }
        }
        func hex(_ r: ArraySlice<UInt16>) -> String { r.map { String($0, radix: 16) }.joined(separator: ":") }
        if bestStart < 0 { return hex(g[...]) }
        return hex(g[0..<bestStart]) + "::" + hex(g[(bestStart + bestLen)...])
    }

    /// Splits `host:port` or `[v6]:port`; the port must be 1..65535.
    public static func hostPort(_ s: String) -> Result<(host: String, port: Int, bracketed: Bool), ValueProblem> {
        var host: Substring
        var portText: Substring
        var bracketed = false
        if s.hasPrefix("[") {
            guard let close = s.firstIndex(of: "]") else {
                return .failure(ValueProblem("`\(s)` has no closing `]`", help: "write IPv6 addresses as `[::1]:8080`"))
            }
            host = s[s.index(after: s.startIndex)..<close]
            let after = s[s.index(after: close)...]
            guard after.hasPrefix(":") else { return .failure(ValueProblem("`\(s)` has no port", help: "write `[\(host)]:PORT`")) }
            portText = after.dropFirst()
            bracketed = true
        } else {
            guard let colon = s.lastIndex(of: ":") else {
                return .failure(ValueProblem("`\(s)` has no port", help: "write `HOST:PORT`, e.g. `\(s):8080`"))
            }
            host = s[..<colon]
            portText = s[s.index(after: colon)...]
            if host.contains(":") {
                return .failure(ValueProblem("IPv6 address `\(s)` needs brackets", help: "write `[\(host)]:\(portText)`"))
            }
        }
        guard !host.isEmpty else { return .failure(ValueProblem("`\(s)` has no host")) }
        switch port(String(portText)) {
        case .failure(let p): return .failure(p)
        case .success(let p): return .success((String(host), p, bracketed))
        }
    }

    /// Parses a port number (1...65535), or says what is wrong with it.
    public static func port(_ text: String) -> Result<Int, ValueProblem> {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }), text.count <= 6, let p = Int(text) else {
            return .failure(ValueProblem("port `\(text)` is not a number"))
        }
        guard (1...65535).contains(p) else { return .failure(ValueProblem("port \(p) is out of range 1..65535")) }
        return .success(p)
    }

    /// A DNS host name (no wildcard): labels of letters, digits, `-` and `_`. With
    /// `allowTrailingDot`, one final `.` (a fully qualified name, `host.internal.`) is accepted.
    public static func isHostname(_ s: String, allowTrailingDot: Bool = false) -> Bool {
        var name = Substring(s)
        if allowTrailingDot && name.count > 1 && name.hasSuffix(".") { name = name.dropLast() }
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy { l in
            !l.isEmpty && l.count <= 63 && l.first != "-" && l.last != "-"
                && l.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
        }
    }

    /// The characters of a host name in a domain or `Host` header.
    static func isHostChar(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || c == "-" || c == "." || c == "_")
    }

    /// A host as a `Host` header carries it, without a port: a host name (a trailing `.`
    /// allowed), an IPv4 literal or a bracketed IPv6 literal. `what` names the whole value.
    static func hostProblem(_ host: Substring, in whole: String, what: String) -> ValueProblem? {
        if host.hasPrefix("[") {
            guard host.hasSuffix("]"), host.count > 1 else {
                return ValueProblem("\(what) `\(whole)` has no closing `]`", help: "write IPv6 addresses as `[::1]:8080`")
            }
            let inside = String(host.dropFirst().dropLast())
            return ipv6(inside) == nil ? ValueProblem("\(what) `\(whole)`: `\(inside)` is not an IPv6 address") : nil
        }
        if host.isEmpty { return ValueProblem("\(what) `\(whole)` has no host") }
        if host.contains(":") {
            return ValueProblem("\(what) `\(whole)`: an IPv6 address needs brackets", help: "write `[ADDRESS]`, then `:PORT` for a port")
        }
        if !host.allSatisfy(isHostChar) { return ValueProblem("\(what) `\(whole)` has a character not allowed in a host name") }
        if host.hasPrefix(".") || host.contains("..") { return ValueProblem("\(what) `\(whole)` has an empty label") }
        return nil
    }

    /// An authority as a `Host` header carries it: a host (see `hostProblem`), then an
    /// optional `:port` (1..65535).
    public static func authorityProblem(_ a: String, what: String) -> ValueProblem? {
        var host = Substring(a)
        // The port starts at the last `:` unless a `]` follows it (Envoy's `getPortStart`).
        if let colon = a.lastIndex(of: ":"), !a[colon...].contains("]") {
            if case .failure(let p) = port(String(a[a.index(after: colon)...])) { return ValueProblem("\(what) `\(a)`: \(p.message)") }
            host = a[..<colon]
        }
        return hostProblem(host, in: a, what: what)
    }

    /// Envoy's virtual-host domain rules (`RouteMatcher` in `source/common/router/config_impl.cc`):
    /// `*` alone; a leading `*` (a suffix wildcard: `*.example.com`, `*-bar.example.com`,
    /// `*.example.com:8080`, `*:8080`); a trailing `*` (a prefix wildcard: `example.*`, or
    /// `example.com:*` / `[::1]:*` for any port); otherwise an exact authority
    /// (`example.com`, `example.com:8080`, `10.0.0.1:80`, `[::1]:8080`). Envoy looks only at
    /// the first and last character, so a `*` anywhere else would be a literal character no
    /// `Host` header carries: that is reported.
    public static func domainProblem(_ d: String) -> ValueProblem? {
        if d == "*" { return nil }
        if d.isEmpty { return ValueProblem("empty domain") }
        let stars = d.count { $0 == "*" }
        let leading = d.hasPrefix("*")
        let trailing = d.hasSuffix("*")
        if stars > 1 || (stars == 1 && !leading && !trailing) {
            return ValueProblem(
                "domain `\(d)` has a `*` in the middle or more than one `*`",
                help: "Envoy allows one `*` at the very start (`*.example.com`) or the very end (`example.*`, `example.com:*`)")
        }
        if leading {
            // A suffix of an authority: host-name characters, then an optional `:port`.
            let rest = d.dropFirst()
            var hostPart = rest
            if let colon = rest.lastIndex(of: ":") {
                if case .failure(let p) = port(String(rest[rest.index(after: colon)...])) {
                    return ValueProblem("domain `\(d)`: \(p.message)")
                }
                hostPart = rest[..<colon]
            }
            if !hostPart.allSatisfy(isHostChar) {
                return ValueProblem(
                    "domain `\(d)` has a character not allowed in a host name",
                    help: rest.contains("[") || rest.contains("]") ? "IPv6 literals cannot be wildcarded; list each address" : nil)
            }
            if hostPart.contains("..") { return ValueProblem("domain `\(d)` has an empty label") }
            return nil
        }
        if trailing {
            let rest = d.dropLast()
            // `HOST:*`: every port of one host (and only with a port: Envoy's prefix wildcard
            // needs at least one character after the `:`).
            if rest.hasSuffix(":") { return hostProblem(rest.dropLast(), in: d, what: "domain") }
            if rest.contains("[") || rest.contains("]") {
                return ValueProblem(
                    "domain `\(d)` has a character not allowed in a host name",
                    help: "IPv6 literals cannot be wildcarded; list each address")
            }
            if rest.contains(":") {
                let upTo = rest[...rest.lastIndex(of: ":")!]
                return ValueProblem(
                    "domain `\(d)` has the `*` inside the port",
                    help:
                        "Envoy compares the text before `*` as a prefix, so it matches more ports than it seems; write `\(upTo)*` for any port, or list each port"
                )
            }
            if !rest.allSatisfy(isHostChar) { return ValueProblem("domain `\(d)` has a character not allowed in a host name") }
            if rest.isEmpty || rest.hasPrefix(".") || rest.contains("..") { return ValueProblem("domain `\(d)` has an empty label") }
            return nil
        }
        return authorityProblem(d, what: "domain")
    }

    /// The standard HTTP methods, upper-case.
    public static let knownMethods = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]

    /// An HTTP method: a token, upper-case for the standard ones (methods are case-sensitive).
    public static func methodProblem(_ m: String) -> ValueProblem? {
        if m.isEmpty || !m.utf8.allSatisfy(HTTPToken.isTokenByte) { return ValueProblem("`\(m)` is not a valid HTTP method") }
        if knownMethods.contains(m) { return nil }
        if knownMethods.contains(m.uppercased()) {
            return ValueProblem(
                "method `\(m)` must be upper-case: HTTP methods are case-sensitive, so it would never match",
                help: "write `\(m.uppercased())`")
        }
        if let close = knownMethods.first(where: { editDistance($0, m) == 1 }) {
            return ValueProblem("unknown HTTP method `\(m)`", help: "did you mean `\(close)`?")
        }
        return nil
    }

    /// A header name: an HTTP token; pseudo-headers only where `allowPseudo`.
    public static func headerNameProblem(_ n: String, allowPseudo: Bool) -> ValueProblem? {
        if n.isEmpty { return ValueProblem("empty header name") }
        if n.hasPrefix(":") {
            let pseudo = [":authority", ":method", ":path", ":scheme"]
            if allowPseudo && pseudo.contains(n.lowercased()) { return nil }
            return ValueProblem(
                allowPseudo ? "unknown pseudo-header `\(n)`" : "Envoy does not allow `:`-prefixed headers to be modified",
                help: allowPseudo ? "pseudo-headers are \(pseudo.map { "`\($0)`" }.joined(separator: ", "))" : nil)
        }
        if !n.utf8.allSatisfy(HTTPToken.isTokenByte) {
            return ValueProblem("`\(n)` is not a valid header name (letters, digits and `-` only)")
        }
        if !allowPseudo && n.lowercased() == "host" {
            return ValueProblem("Envoy does not allow the `host` header to be modified here", help: "use `rewrite: {host: NAME}`")
        }
        return nil
    }

    /// Optimal-string-alignment distance (a swap of neighbours counts 1), for did-you-mean.
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a.unicodeScalars)
        let y = Array(b.unicodeScalars)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var d = Array(repeating: Array(repeating: 0, count: y.count + 1), count: x.count + 1)
        for i in 0...x.count { d[i][0] = i }
        for j in 0...y.count { d[0][j] = j }
        for i in 1...x.count {
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[x.count][y.count]
    }

    /// The candidate closest to `word`, if close enough to be a plausible typo.
    public static func suggestion(for word: String, in candidates: [String]) -> String? {
        let norm = { (s: String) in s.lowercased().replacingDashes }
        var best: (String, Int)?
        for c in candidates {
            let d = editDistance(norm(word), norm(c))
            let limit = max(1, min(3, (max(word.count, c.count) + 2) / 4))
            if d <= limit, best == nil || d < best!.1 { best = (c, d) }
        }
        return best?.0
    }
}

/// Why a value is invalid, with an optional fix.
public struct ValueProblem: Error, Sendable {
    /// What is wrong with the value.
    public var message: String
    /// How to fix it, when known.
    public var help: String?
    /// Creates a problem with its message and optional help.
    public init(_ message: String, help: String? = nil) {
        self.message = message
        self.help = help
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }

    var replacingDashes: String { String(map { $0 == "-" ? "_" : $0 }) }

    func components(separatedBy sep: String) -> [Substring] {
        var out: [Substring] = []
        var rest = Substring(self)
        while let r = rest.range(of: sep) {
            out.append(rest[..<r.lowerBound])
            rest = rest[r.upperBound...]
        }
        out.append(rest)
        return out
    }
}

extension Substring {
    func components(separatedBy sep: String) -> [Substring] { String(self).components(separatedBy: sep) }

    func range(of needle: String) -> Range<Substring.Index>? {
        guard !needle.isEmpty else { return nil }
        var i = startIndex
        while i < endIndex {
            if self[i...].hasPrefix(needle) { return i..<index(i, offsetBy: needle.count) }
            i = index(after: i)
        }
        return nil
    }
}
