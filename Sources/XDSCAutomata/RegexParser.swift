// A parser for the RE2 syntax, producing a small AST over code points and bytes.
// Anything whose language we cannot compute exactly is rejected as "unsupported" so that
// callers never guess.

/// Parsed regular expression.
indirect enum RegexNode: Sendable {
    /// Matches only the empty string.
    case empty
    /// One code point from the class (UTF-8 encoded).
    case chars(CharClass)
    /// One byte from the closed byte ranges (`\C`, ASCII-folded literal bytes).
    case bytes([ClosedRange<UInt8>])
    case concat([RegexNode])
    case alt([RegexNode])
    /// `min` to `max` copies; `max == nil` means unbounded.
    case rep(RegexNode, min: Int, max: Int?)
    /// `^` / `\A` (outside multi-line mode): only before the first byte.
    case beginText
    /// `$` / `\z` (outside multi-line mode): only after the last byte.
    case endText
}

/// Why a pattern's language cannot be computed.
struct RegexUnsupported: Error, Sendable {
    var reason: String
}

struct RegexParser {
    private struct Flags {
        var foldCase = false
        var dotNL = false
        var multiLine = false
    }

    private let s: [UInt32]
    private var i = 0
    private var flags = Flags()
    /// Names of the `(?P<name>...)` groups seen so far.
    private var groupNames = Set<[UInt32]>()
    /// The literals of a `\Q...\E` run before its last one (which `parseAtom` returns).
    private var quotedPrefix: [RegexNode] = []
    /// RE2's own limit for one repetition count.
    static let maxRepeat = 1000

    init(_ pattern: String) {
        s = pattern.unicodeScalars.map { $0.value }
    }

    static func parse(_ pattern: String) throws(RegexUnsupported) -> RegexNode {
        var p = RegexParser(pattern)
        let node = try p.parseAlternation(depth: 0)
        if p.i < p.s.count {
            throw RegexUnsupported(reason: "invalid regex: unexpected ')'")
        }
        return node
    }

    /// `[0-9A-Za-z_]`, the characters RE2 allows in a capture group name.
    private static func isWordScalar(_ c: UInt32) -> Bool {
        (0x30...0x39).contains(c) || (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c) || c == 0x5F
    }

    private var atEnd: Bool { i >= s.count }
    private func peek(_ k: Int = 0) -> UInt32? { i + k < s.count ? s[i + k] : nil }
    private func isChar(_ c: UInt32?, _ ch: Character) -> Bool { c != nil && c! == ch.unicodeScalars.first!.value }

    private mutating func parseAlternation(depth: Int) throws(RegexUnsupported) -> RegexNode {
        if depth > 200 { throw RegexUnsupported(reason: "regex nesting too deep") }
        var branches: [RegexNode] = [try parseConcat(depth: depth)]
        while isChar(peek(), "|") {
            i += 1
            branches.append(try parseConcat(depth: depth))
        }
        return branches.count == 1 ? branches[0] : .alt(branches)
    }

    private mutating func parseConcat(depth: Int) throws(RegexUnsupported) -> RegexNode {
        var items: [RegexNode] = []
        while let c = peek(), !isChar(c, "|"), !isChar(c, ")") {
            guard var atom = try parseAtom(depth: depth) else { continue }  // flag group or `\Q\E`: no atom
            items.append(contentsOf: quotedPrefix)
            quotedPrefix = []
            // Repetition operators; a second operator right after one is an RE2 error.
            var repeated = false
            while let r = peek() {
                var minN = 0
                var maxN: Int? = nil
                if isChar(r, "*") {
                    i += 1
                    minN = 0
                    maxN = nil
                } else if isChar(r, "+") {
                    i += 1
                    minN = 1
                    maxN = nil
                } else if isChar(r, "?") {
                    i += 1
                    minN = 0
                    maxN = 1
                } else if isChar(r, "{"), let (a, b, len) = parseBraces() {
                    i += len
                    if a > RegexParser.maxRepeat || (b ?? 0) > RegexParser.maxRepeat {
                        throw RegexUnsupported(reason: "invalid repetition size")
                    }
                    if let b, b < a { throw RegexUnsupported(reason: "invalid repetition size") }
                    minN = a
                    maxN = b
                } else {
                    break
                }
                if repeated { throw RegexUnsupported(reason: "invalid regex: bad repetition operator") }
                repeated = true
                atom = .rep(atom, min: minN, max: maxN)
                if isChar(peek(), "?") { i += 1 }  // lazy: same language
            }
            items.append(atom)
        }
        if items.isEmpty { return .empty }
        return items.count == 1 ? items[0] : .concat(items)
    }

    /// `{n}`, `{n,}`, `{n,m}` at the cursor: (n, m, length). Anything else is a literal `{`.
    private func parseBraces() -> (Int, Int?, Int)? {
        var k = i + 1
        func number(_ k: inout Int) -> Int? {
            // RE2 reads no number with a leading zero (`{03}`), so the brace is a literal.
            if k + 1 < s.count, s[k] == 0x30, s[k + 1] >= 0x30, s[k + 1] <= 0x39 { return nil }
            var v = 0
            var digits = 0
            while k < s.count, s[k] >= 0x30, s[k] <= 0x39 {
                v = min(v * 10 + Int(s[k] - 0x30), 1_000_000)
                digits += 1
                k += 1
            }
            return digits > 0 ? v : nil
        }
        guard let a = number(&k) else { return nil }
        if k < s.count, s[k] == 0x7D { return (a, a, k + 1 - i) }
        guard k < s.count, s[k] == 0x2C else { return nil }
        k += 1
        if k < s.count, s[k] == 0x7D { return (a, nil, k + 1 - i) }
        guard let b = number(&k), k < s.count, s[k] == 0x7D else { return nil }
        return (a, b, k + 1 - i)
    }

    private func literal(_ c: UInt32) throws(RegexUnsupported) -> RegexNode {
        var cls = CharClass(scalar: c)
        if flags.foldCase {
            if c > 0x7F { throw RegexUnsupported(reason: "case-insensitive non-ASCII literal") }
            cls = cls.caseFolded()
        }
        return .chars(cls)
    }

    /// Returns nil for a flag-setting group such as `(?i)`.
    private mutating func parseAtom(depth: Int) throws(RegexUnsupported) -> RegexNode? {
        let c = s[i]
        switch c {
        case 0x28:  // (
            i += 1
            let saved = flags
            if isChar(peek(), "?") {
                i += 1
                if isChar(peek(), "P") || isChar(peek(), "<") {
                    if isChar(peek(), "P") { i += 1 }
                    guard isChar(peek(), "<") else { throw RegexUnsupported(reason: "unsupported group (?P") }
                    if isChar(peek(1), "=") || isChar(peek(1), "!") {
                        throw RegexUnsupported(reason: "lookbehind is not supported")
                    }
                    i += 1
                    var name: [UInt32] = []
                    while let ch = peek(), !isChar(ch, ">") {
                        i += 1
                        name.append(ch)
                    }
                    // RE2 (2022-06-01, as linked) accepts only word characters in a group name, once per pattern.
                    guard !atEnd, !name.isEmpty, name.allSatisfy(Self.isWordScalar) else {
                        throw RegexUnsupported(reason: "invalid named capture group")
                    }
                    guard groupNames.insert(name).inserted else { throw RegexUnsupported(reason: "duplicate capture group name") }
                    i += 1
                } else {
                    // Flags: (?flags) or (?flags:re)
                    var negate = false
                    var sawFlag = false
                    while true {
                        guard let f = peek() else { throw RegexUnsupported(reason: "missing )") }
                        i += 1
                        switch f {
                        case 0x69:
                            flags.foldCase = !negate
                            sawFlag = true  // i
                        case 0x73:
                            flags.dotNL = !negate
                            sawFlag = true  // s
                        case 0x6D:
                            flags.multiLine = !negate
                            sawFlag = true  // m
                        case 0x55: sawFlag = true  // U: ungreedy, same language
                        case 0x2D:  // -
                            if negate { throw RegexUnsupported(reason: "invalid flags") }
                            negate = true
                        case 0x29:  // ) : flags apply to the rest of the enclosing group
                            if !sawFlag { throw RegexUnsupported(reason: "invalid or unsupported group") }
                            return nil
                        case 0x3A:  // :
                            let inner = try parseAlternation(depth: depth + 1)
                            guard isChar(peek(), ")") else { throw RegexUnsupported(reason: "missing )") }
                            i += 1
                            flags = saved
                            return inner
                        default:
                            throw RegexUnsupported(reason: "unsupported group (lookaround or unknown flag)")
                        }
                    }
                }
            }
            let inner = try parseAlternation(depth: depth + 1)
            guard isChar(peek(), ")") else { throw RegexUnsupported(reason: "missing )") }
            i += 1
            flags = saved
            return inner
        case 0x5B:  // [
            return .chars(try parseClass())
        case 0x2E:  // .
            i += 1
            return .chars(flags.dotNL ? CharClass.all : CharClass.anyButNewline)
        case 0x5E:  // ^
            i += 1
            if flags.multiLine { throw RegexUnsupported(reason: "multi-line ^ is not supported") }
            return .beginText
        case 0x24:  // $
            i += 1
            if flags.multiLine { throw RegexUnsupported(reason: "multi-line $ is not supported") }
            return .endText
        case 0x5C:  // backslash
            return try parseEscapeAtom()
        case 0x2A, 0x2B, 0x3F:  // * + ?
            throw RegexUnsupported(reason: "invalid regex: missing argument to repetition operator")
        case 0x7B:  // {
            if parseBraces() != nil {
                throw RegexUnsupported(reason: "invalid regex: missing argument to repetition operator")
            }
            i += 1
            return try literal(c)
        default:
            i += 1
            return try literal(c)
        }
    }

    private mutating func parseEscapeAtom() throws(RegexUnsupported) -> RegexNode? {
        guard let e = peek(1) else { throw RegexUnsupported(reason: "invalid regex: trailing \\") }
        switch e {
        case 0x41:
            i += 2
            return .beginText  // \A
        case 0x7A:
            i += 2
            return .endText  // \z
        case 0x62, 0x42: throw RegexUnsupported(reason: "word boundary \\b/\\B is not supported")
        case 0x43:
            i += 2
            return .bytes([0...255])  // \C
        case 0x51:  // \Q...\E
            i += 2
            var items: [RegexNode] = []
            while !atEnd {
                if s[i] == 0x5C, isChar(peek(1), "E") {
                    i += 2
                    break
                }
                // As RE2: everything up to `\E` is literal, a backslash too (`\\` is two of them).
                items.append(try literal(s[i]))
                i += 1
            }
            // RE2 pushes the literals one by one, so a repetition after `\E` applies to the
            // last one only; the others go straight into the enclosing concatenation.
            guard let last = items.popLast() else { return nil }
            quotedPrefix = items
            return last
        default:
            return .chars(try parseEscapeClass(inClass: false))
        }
    }

    /// An escape that denotes a set of code points (a single one for plain escapes).
    private mutating func parseEscapeClass(inClass: Bool) throws(RegexUnsupported) -> CharClass {
        i += 1  // backslash
        guard let e = peek() else { throw RegexUnsupported(reason: "invalid regex: trailing \\") }
        i += 1
        func single(_ v: UInt32) throws(RegexUnsupported) -> CharClass {
            var cls = CharClass(scalar: v)
            if flags.foldCase {
                if v > 0x7F { throw RegexUnsupported(reason: "case-insensitive non-ASCII literal") }
                cls = cls.caseFolded()
            }
            return cls
        }
        switch e {
        case 0x64: return perl("d", negated: false)
        case 0x44: return perl("d", negated: true)
        case 0x73: return perl("s", negated: false)
        case 0x53: return perl("s", negated: true)
        case 0x77: return perl("w", negated: false)
        case 0x57: return perl("w", negated: true)
        case 0x70, 0x50: throw RegexUnsupported(reason: "Unicode classes \\p/\\P are not supported")
        case 0x61: return try single(7)  // \a
        case 0x66: return try single(12)  // \f
        case 0x74: return try single(9)  // \t
        case 0x6E: return try single(10)  // \n
        case 0x72: return try single(13)  // \r
        case 0x76: return try single(11)  // \v
        case 0x78:  // \x
            if isChar(peek(), "{") {
                i += 1
                var v: UInt32 = 0
                var digits = 0
                while let h = peek(), let d = hexValue(h) {
                    v = v * 16 + d
                    digits += 1
                    i += 1
                    if v > CharClass.maxRune { throw RegexUnsupported(reason: "invalid escape \\x{...}") }
                }
                guard digits > 0, isChar(peek(), "}") else { throw RegexUnsupported(reason: "invalid escape \\x{...}") }
                i += 1
                return try single(v)
            }
            guard let h1 = peek(), let d1 = hexValue(h1), let h2 = peek(1), let d2 = hexValue(h2) else {
                throw RegexUnsupported(reason: "invalid escape \\x")
            }
            i += 2
            return try single(d1 * 16 + d2)
        case 0x30...0x37:  // octal; \1-\7 alone are backreferences
            if e != 0x30 {
                guard let n = peek(), (0x30...0x37).contains(n) else {
                    throw RegexUnsupported(reason: "backreferences are not supported")
                }
            }
            var v = e - 0x30
            for _ in 0..<2 {
                guard let n = peek(), (0x30...0x37).contains(n) else { break }
                v = v * 8 + (n - 0x30)
                i += 1
            }
            return try single(v)
        default:
            // Escaped punctuation is the literal character; escaped letters/digits not
            // handled above are errors in RE2 (\Z, \8, \e ...).
            if e < 0x80, !isAlnum(e) { return try single(e) }
            throw RegexUnsupported(reason: inClass ? "unsupported escape in class" : "unsupported escape")
        }
    }

    private func isAlnum(_ c: UInt32) -> Bool {
        (0x30...0x39).contains(c) || (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c)
    }

    private func hexValue(_ c: UInt32) -> UInt32? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }

    /// Perl classes are ASCII-only in RE2. Under `(?i)` the positive class is folded
    /// before negation, as RE2 does.
    private func perl(_ name: Character, negated: Bool) -> CharClass {
        var cls: CharClass
        switch name {
        case "d": cls = CharClass([0x30...0x39])
        case "s": cls = CharClass([9...10, 12...13, 0x20...0x20])
        default: cls = CharClass([0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A])
        }
        if flags.foldCase { cls = cls.caseFolded() }
        return negated ? cls.inverted() : cls
    }

    private static let posixClasses: [String: [ClosedRange<UInt32>]] = [
        "alnum": [0x30...0x39, 0x41...0x5A, 0x61...0x7A],
        "alpha": [0x41...0x5A, 0x61...0x7A],
        "ascii": [0...0x7F],
        "blank": [9...9, 0x20...0x20],
        "cntrl": [0...0x1F, 0x7F...0x7F],
        "digit": [0x30...0x39],
        "graph": [0x21...0x7E],
        "lower": [0x61...0x7A],
        "print": [0x20...0x7E],
        "punct": [0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E],
        "space": [9...13, 0x20...0x20],
        "upper": [0x41...0x5A],
        "word": [0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A],
        "xdigit": [0x30...0x39, 0x41...0x46, 0x61...0x66],
    ]

    private mutating func parseClass() throws(RegexUnsupported) -> CharClass {
        i += 1  // [
        var negated = false
        if isChar(peek(), "^") {
            negated = true
            i += 1
        }
        var cls = CharClass()
        var first = true
        while true {
            guard let c = peek() else { throw RegexUnsupported(reason: "invalid regex: missing ]") }
            if c == 0x5D, !first {
                i += 1
                break
            }  // ]
            first = false
            // POSIX class [:name:] / [:^name:]
            // As RE2: `[:` opens one when a `:]` follows anywhere later, and then the text up
            // to the first `:]` must be a known name (else an error, not a literal `[`).
            if c == 0x5B, isChar(peek(1), ":") {
                var k = i + 2
                var neg = false
                if k < s.count, s[k] == 0x5E {
                    neg = true
                    k += 1
                }
                var end = k
                while end + 1 < s.count, !(s[end] == 0x3A && s[end + 1] == 0x5D) { end += 1 }
                var name = ""
                if end + 1 < s.count {
                    for v in s[k..<end] { name.unicodeScalars.append(Unicode.Scalar(v) ?? "?") }
                    k = end
                }
                if k + 1 < s.count, s[k] == 0x3A, s[k + 1] == 0x5D {
                    guard let r = RegexParser.posixClasses[name] else {
                        throw RegexUnsupported(reason: "invalid character class range")
                    }
                    var item = CharClass(r)
                    if flags.foldCase { item = item.caseFolded() }
                    cls.formUnion(neg ? item.inverted() : item)
                    i = k + 2
                    continue
                }
            }
            // Perl classes inside a class: folded before their own negation, never a range end.
            if c == 0x5C, let e = peek(1), [0x64, 0x44, 0x73, 0x53, 0x77, 0x57].contains(e) {
                cls.formUnion(try parseEscapeClass(inClass: true))
                if isChar(peek(), "-"), let after = peek(1), after != 0x5D {
                    throw RegexUnsupported(reason: "invalid character class range")
                }
                continue
            }
            // A single character or a range lo-hi; parsed unfolded, the item is folded after.
            let loV = try classChar()
            var hiV = loV
            if isChar(peek(), "-"), let after = peek(1), after != 0x5D {
                i += 1
                if after == 0x5C, let e = peek(1), [0x64, 0x44, 0x73, 0x53, 0x77, 0x57].contains(e) {
                    throw RegexUnsupported(reason: "invalid character class range")
                }
                hiV = try classChar()
                guard loV <= hiV else { throw RegexUnsupported(reason: "invalid character class range") }
            }
            var item = CharClass([loV...hiV])
            if flags.foldCase {
                if item.hasNonASCII { throw RegexUnsupported(reason: "case-insensitive non-ASCII class") }
                item = item.caseFolded()
            }
            cls.formUnion(item)
        }
        return negated ? cls.inverted() : cls
    }

    /// One character inside a class (literal or single-character escape), unfolded.
    private mutating func classChar() throws(RegexUnsupported) -> UInt32 {
        guard let c = peek() else { throw RegexUnsupported(reason: "invalid regex: missing ]") }
        if c != 0x5C {
            i += 1
            return c
        }
        let save = flags
        flags.foldCase = false
        defer { flags = save }
        let cls = try parseEscapeClass(inClass: true)
        guard cls.ranges.count == 1, cls.ranges[0].count == 1 else {
            throw RegexUnsupported(reason: "invalid character class range")
        }
        return cls.ranges[0].lowerBound
    }
}
