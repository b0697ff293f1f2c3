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

    /// Checks `policy` and adds each finding to `sink`.
    public func run(_ policy: Policy, _ sink: DiagnosticSink) {
        policy.forEachRoute { route in
            if case .regex(let p) = route.match.path.value { check(Located(p, route.match.path.span), sink) }
            for m in route.match.headers + route.match.query {
                if case .regex(let p) = m.kind.value { check(Located(p, m.kind.span), sink) }
            }
            if let rx = route.rewrite?.regex, let re = check(rx.pattern, sink) {
                do {
                    _ = try re.globalReplace("", with: rx.substitution.value)
                } catch let error as RE2Error {
                    sink.add(
                        .invalidRegex, "substitution `\(rx.substitution.value)` is invalid for this pattern: \(error.message)",
                        at: rx.substitution.span, related: [RelatedLocation("pattern", at: rx.pattern.span)],
                        help: "`\\N` refers to capture group N of the pattern")
                } catch {}
            }
        }
    }

    @discardableResult
    func check(_ pattern: Located<String>, _ sink: DiagnosticSink) -> RE2Pattern? {
        let re: RE2Pattern
        do {
            re = try RE2Pattern(pattern.value)
        } catch {
            var help: String?
            if error.message.contains("invalid perl operator") {
                help = "RE2 has no lookahead/lookbehind; named groups are written `(?P<name>...)`"
            } else if error.message.contains("invalid escape sequence") {
                help = "RE2 has no backreferences; escape a literal backslash as `\\\\`"
            }
            sink.add(
                .invalidRegex, "RE2 rejects regex `\(pattern.value)`: \(error.message)", at: pattern.span, label: "invalid regex",
                help: help)
            return nil
        }
        if re.programSize > RE2Pattern.envoyMaxProgramSize {
            sink.add(
                .invalidRegex,
                "regex `\(pattern.value)` compiles to an RE2 program of size \(re.programSize), over Envoy's default limit of \(RE2Pattern.envoyMaxProgramSize)",
                at: pattern.span, label: "too large",
                notes: ["Envoy rejects it at load time unless the runtime key `re2.max_program_size.error_level` is raised"],
                help: "simplify the pattern: large counted repetitions such as `{1,100}` are expanded")
            return nil
        }
        return re
    }
}
