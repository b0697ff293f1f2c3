import XDSCDiagnostics
import XDSCPolicy
import XDSCRegex

/// Every regex is compiled with RE2 as Envoy compiles it, including the default program-size
/// limit of 100; rewrite substitutions are checked against the pattern's groups.
public struct InvalidRegexPass: PolicyPass {
    /// The rules this pass can report.
    public static let rules: [Rule.ID] = [.invalidRegex]
    /// Creates the pass.
    public init() {}

    /// What RE2 made of one pattern: the verdict depends on the pattern alone, and a large
    /// policy repeats the same patterns in many hosts, so each distinct one is compiled once.
    enum Verdict {
        case accepted
        case rejected(String)
        case tooLarge(Int)
    }

    /// Checks `policy` and adds each finding to `sink`.
    public func run(_ policy: Policy, _ sink: DiagnosticSink) {
        var verdicts: [String: Verdict] = [:]
        // `pattern` NUL `substitution` -> RE2's objection, or nil.
        var substitutions: [String: String?] = [:]
        policy.forEachRoute { route in
            // Once: each `route.match` is a copy of the whole match.
            let match = route.match
            if case .regex(let p) = match.path.value { check(Located(p, match.path.span), &verdicts, sink) }
            for m in match.headers {
                if case .regex(let p) = m.kind.value { check(Located(p, m.kind.span), &verdicts, sink) }
            }
            for m in match.query {
                if case .regex(let p) = m.kind.value { check(Located(p, m.kind.span), &verdicts, sink) }
            }
            guard let rx = route.rewrite?.regex, check(rx.pattern, &verdicts, sink) else { return }
            let key = rx.pattern.value + "\u{0}" + rx.substitution.value
            let problem: String?
            if let known = substitutions[key] {
                problem = known
            } else {
                problem = Self.substitutionProblem(rx.pattern.value, rx.substitution.value)
                substitutions[key] = problem
            }
            if let problem {
                sink.add(
                    .invalidRegex, "substitution `\(rx.substitution.value)` is invalid for this pattern: \(problem)",
                    at: rx.substitution.span, related: [RelatedLocation("pattern", at: rx.pattern.span)],
                    help: "`\\N` refers to capture group N of the pattern")
            }
        }
    }

    /// RE2's objection to `substitution` as the rewrite of (accepted) `pattern`, or nil.
    static func substitutionProblem(_ pattern: String, _ substitution: String) -> String? {
        guard let re = try? RE2Pattern(pattern) else { return nil }
        do {
            _ = try re.globalReplace("", with: substitution)
            return nil
        } catch {
            return error.message
        }
    }

    /// RE2's verdict on `pattern`: compiled, with its program size against Envoy's limit.
    static func verdict(_ pattern: String) -> Verdict {
        do {
            let re = try RE2Pattern(pattern)
            return re.programSize > RE2Pattern.envoyMaxProgramSize ? .tooLarge(re.programSize) : .accepted
        } catch {
            return .rejected(error.message)
        }
    }

    /// Reports `pattern` when Envoy would refuse it; true when it is accepted.
    @discardableResult
    func check(_ pattern: Located<String>, _ verdicts: inout [String: Verdict], _ sink: DiagnosticSink) -> Bool {
        let verdict: Verdict
        if let known = verdicts[pattern.value] {
            verdict = known
        } else {
            verdict = Self.verdict(pattern.value)
            verdicts[pattern.value] = verdict
        }
        switch verdict {
        case .accepted:
            return true
        case .rejected(let message):
            var help: String?
            if message.contains("invalid perl operator") {
                help = "RE2 has no lookahead/lookbehind; named groups are written `(?P<name>...)`"
            } else if message.contains("invalid escape sequence") {
                help = "RE2 has no backreferences; escape a literal backslash as `\\\\`"
            }
            sink.add(
                .invalidRegex, "RE2 rejects regex `\(pattern.value)`: \(message)", at: pattern.span, label: "invalid regex",
                help: help)
        case .tooLarge(let size):
            sink.add(
                .invalidRegex,
                "regex `\(pattern.value)` compiles to an RE2 program of size \(size), over Envoy's default limit of \(RE2Pattern.envoyMaxProgramSize)",
                at: pattern.span, label: "too large",
                notes: ["Envoy rejects it at load time unless the runtime key `re2.max_program_size.error_level` is raised"],
                help: "simplify the pattern: large counted repetitions such as `{1,100}` are expanded")
        }
        return false
    }
}
