import XDSCDiagnostics
import XDSCEnvoy
import XDSCRegex

/// Every regex of a user's route tables (`safe_regex` paths, header and query matchers,
/// `regex_rewrite`) compiled with RE2 as Envoy compiles it, with Envoy's default program-size
/// limit of 100 (source/common/common/regex.cc). Policies keep `InvalidRegexPass` on the IR:
/// a policy regex RE2 rejects never lowers, and its finding points at the pattern token.
public struct InvalidRegexCheck: EnvoyCheck {
    /// The rules this check can report.
    public static let rules: [Rule.ID] = [.invalidRegex]
    /// Envoy input only.
    public static let inputs: [InputKind] = [.envoy]
    /// Creates the check.
    public init() {}

    /// Checks every route of `config` and adds each finding to `sink`.
    public func run(_ config: EnvoyConfig, _ context: EnvoyCheckContext, _ sink: DiagnosticSink) {
        config.forEachRoute { _, _, route in
            guard let span = route.source else { return }
            var patterns: [String] = []
            if case .safeRegex(let p) = route.match.pathSpecifier { patterns.append(p) }
            for h in route.match.headers {
                if case .string(let m) = h.specifier, case .safeRegex(let p) = m.pattern { patterns.append(p) }
            }
            for q in route.match.queryParameters {
                if let m = q.stringMatch, case .safeRegex(let p) = m.pattern { patterns.append(p) }
            }
            if case .route(let a) = route.action, case .regex(let p, _) = a.pathRewrite { patterns.append(p) }
            var seen = Set<String>()
            for p in patterns where seen.insert(p).inserted {
                if let problem = RE2Pattern.envoyProblem(p) {
                    sink.add(.invalidRegex, Self.message(p, problem), at: span, label: "invalid regex", help: Self.help(problem))
                }
            }
        }
    }

    // MARK: Messages

    static func message(_ pattern: String, _ problem: String) -> String { "Envoy rejects regex `\(pattern)`: \(problem)" }

    static func help(_ problem: String) -> String? {
        if problem.contains("invalid perl operator") {
            return "RE2 has no lookahead/lookbehind; named groups are written `(?P<name>...)`"
        }
        if problem.contains("invalid escape sequence") { return "RE2 has no backreferences; escape a literal backslash as `\\\\`" }
        if problem.contains("program size") { return "simplify the pattern: large counted repetitions such as `{1,100}` are expanded" }
        return nil
    }
}
