import CRE2Shim
import Foundation
import XDSCAutomata

/// Harness 3: the automata regex engine against RE2, differentially.
///
/// Input: NUL-separated fields — pattern A, pattern B, then test strings (raw bytes).
/// Invariants, with A and B decoded as UTF-8 (as xdsc reads patterns):
/// - a pattern RE2 rejects is undecided for the automaton (never silently modelled);
/// - for a pattern both accept, membership agrees with `RE2::FullMatch` on every test
///   string, on the automaton's own witnesses and on witnesses joined with test strings;
/// - a shortest member matches, a shortest non-member does not;
/// - `A ⊄ B` and `A ∩ B ≠ ∅` come with witnesses RE2 confirms, and `A ⊆ B` / `A ∩ B = ∅`
///   are not refuted by any test string.
public enum RegexHarness {
    /// Longest pattern tried: longer ones only slow the search down.
    static let maxPatternBytes = 256
    static let maxStrings = 24
    static let maxStringBytes = 48

    /// Runs the harness; a violation stops the process (libFuzzer reports it).
    public static func run(_ bytes: [UInt8]) { trap(violation(bytes)) }

    /// The first broken invariant for `bytes`, or nil.
    public static func violation(_ bytes: [UInt8]) -> Violation? {
        let fields = bytes.split(separator: 0, maxSplits: 2 + maxStrings, omittingEmptySubsequences: false)
        let a = String(decoding: fields[0].prefix(maxPatternBytes), as: UTF8.self)
        let b = fields.count > 1 ? String(decoding: fields[1].prefix(maxPatternBytes), as: UTF8.self) : nil
        var strings: [[UInt8]] = [[]]
        for f in fields.dropFirst(2).prefix(maxStrings) { strings.append(Array(f.prefix(maxStringBytes))) }

        guard let (reA, langA) = compile(a) else { return rejected(a) }
        if let v = membership(a, reA, langA, strings) { return v }
        guard let b else { return nil }
        guard let (reB, langB) = compile(b) else { return rejected(b) }
        if let v = membership(b, reB, langB, strings) { return v }
        return relations(a, reA, langA, b, reB, langB, strings)
    }

    /// RE2 programs larger than this are not compared: Envoy rejects programs over 100 by
    /// default, and the automata of `.{848,}` and the like take tens of seconds in the fuzz
    /// build, which only slows the search down.
    static let maxProgramSize = 1_000

    /// RE2 and the automaton for `p` (undecided when the program is too large to compare),
    /// or nil when RE2 rejects it.
    static func compile(_ p: String) -> (RE2Bytes, Language)? {
        guard let re = RE2Bytes(p) else { return nil }
        return (re, re.programSize > maxProgramSize ? .undecided("too large to compare") : Language.regex(p))
    }

    static func rejected(_ p: String) -> Violation? {
        let lang = Language.regex(p)
        guard !lang.isUndecided else { return nil }
        // `(?<name>re)` is newer RE2 syntax (Envoy's RE2 has it, the linked 2022 one does not):
        // modelling it is right when the `(?P<name>re)` spelling is valid.
        if p.contains("(?<"), RE2Bytes(p.replacingOccurrences(of: "(?<", with: "(?P<")) != nil { return nil }
        return "RE2 rejects \(show(p)) but the automaton models it"
    }

    static func membership(_ p: String, _ re: RE2Bytes, _ lang: Language, _ strings: [[UInt8]]) -> Violation? {
        guard !lang.isUndecided else { return nil }
        var probes = strings
        if let w = lang.shortestMember() {
            guard re.fullMatch(w) else { return "shortest member \(w) of \(show(p)) is rejected by RE2" }
            probes += strings.flatMap { [w + $0, $0 + w] }
        }
        if let n = lang.complement().shortestMember() {
            guard !re.fullMatch(n) else { return "shortest non-member \(n) of \(show(p)) is matched by RE2" }
            probes += strings.map { n + $0 }
        }
        for s in probes {
            guard let mine = lang.contains(s) else { return "decided language \(show(p)) has undecided membership" }
            if mine != re.fullMatch(s) {
                return "\(show(p)) on \(s): automaton says \(mine), RE2 says \(!mine)"
            }
        }
        return nil
    }

    static func relations(
        _ a: String, _ reA: RE2Bytes, _ langA: Language, _ b: String, _ reB: RE2Bytes, _ langB: Language, _ strings: [[UInt8]]
    ) -> Violation? {
        let pair = "\(show(a)) vs \(show(b))"
        if let sub = langA.isSubset(of: langB) {
            if sub {
                for s in strings where reA.fullMatch(s) && !reB.fullMatch(s) { return "\(pair): A ⊆ B refuted by \(s)" }
            } else if let w = langA.subtracting(langB).shortestMember() {
                guard reA.fullMatch(w) && !reB.fullMatch(w) else { return "\(pair): A ⊄ B witness \(w) is not in A∖B for RE2" }
            } else if !langA.subtracting(langB).isUndecided {
                return "\(pair): A ⊄ B but A∖B has no member"
            }
        }
        if let int = langA.intersects(langB) {
            if !int {
                for s in strings where reA.fullMatch(s) && reB.fullMatch(s) { return "\(pair): A ∩ B = ∅ refuted by \(s)" }
            } else if let w = langA.intersection(langB).shortestMember() {
                guard reA.fullMatch(w) && reB.fullMatch(w) else { return "\(pair): A ∩ B witness \(w) is not in both for RE2" }
            } else if !langA.intersection(langB).isUndecided {
                return "\(pair): A ∩ B ≠ ∅ but the intersection has no member"
            }
        }
        return nil
    }

    static func show(_ p: String) -> String { "`\(p)` \(Array(p.utf8))" }
}

/// RE2 through the shim on raw bytes (`RE2Pattern` only takes Swift strings, which cannot
/// hold the invalid UTF-8 a path may carry), compiled exactly as `RE2Pattern` compiles.
final class RE2Bytes {
    private let handle: OpaquePointer

    init?(_ pattern: String) {
        var err: UnsafeMutablePointer<CChar>?
        var p = pattern
        let compiled: OpaquePointer? = p.withUTF8 { buf in
            buf.withMemoryRebound(to: CChar.self) { re2shim_compile($0.baseAddress, $0.count, &err) }
        }
        if let err { re2shim_free_string(err) }
        guard let compiled else { return nil }
        handle = compiled
    }

    deinit { re2shim_free(handle) }

    var programSize: Int { Int(re2shim_program_size(handle)) }

    func fullMatch(_ text: [UInt8]) -> Bool {
        text.withUnsafeBufferPointer { buf in
            buf.withMemoryRebound(to: CChar.self) { re2shim_full_match(handle, $0.baseAddress, $0.count) == 1 }
        }
    }
}
