import Foundation
import XDSCDiagnostics
import XDSCEnvoy
import XDSCEnvoyReader
import XDSCJSON
import XDSCRequest
import XDSCRouteEngine
import XDSCSyntax

/// `xdsc test routes`: Envoy's `router_check_tool` (test/tools/router_check) on the route
/// engine: the same test files, checks, messages, coverage and exit status.
public struct RouteTestRunner {
    /// The tool's flags.
    public struct Options: Sendable {
        /// `-d` / `--details`: print every test, passed or not, with its failures.
        public var details = false
        /// `--only-show-failures`: print only the failed tests.
        public var onlyShowFailures = false
        /// `-f` / `--fail-under`: the minimum coverage in percent (0 checks none).
        public var failUnder = 0.0
        /// `--covall`: coverage over every field the tool checks, not only the cluster.
        public var coverAll = false
        /// `--detailed-coverage`: name each route no test reaches.
        public var detailedCoverage = false
        /// `--strict` (xdsc's, not the tool's): warnings about the configuration stop the run
        /// with exit code 1, as in `xdsc lint --strict`.
        public var strict = false
        /// The tool's defaults.
        public init() {}
    }

    /// One test's result.
    public struct TestResult: Sendable {
        /// `test_name`.
        public var name: String
        /// The failure lines, in the tool's words; empty when the test passed.
        public var failures: [String]
        /// Assertions evaluated (fields present in `validate`, each header matcher).
        public var assertions: Int
    }

    /// The whole run.
    public struct Report: Sendable {
        /// One result per test, in file order.
        public var results: [TestResult] = []
        /// What the tool prints on standard output.
        public var stdout = ""
        /// What the tool prints on standard error.
        public var stderr = ""
        /// Coverage in percent (nil when a test failed, as the tool then stops).
        public var coverage: Double?
        /// The exit status: 1 on a failed test or unmet coverage.
        public var exitCode: Int32 = 0
        /// How many assertions were checked over every test.
        public var assertions: Int { results.reduce(0) { $0 + $1.assertions } }
    }

    /// The engine of the route table under test.
    public let engine: RouteEngine
    /// The command-line options.
    public var options: Options

    /// A runner of tests against `engine`.
    public init(engine: RouteEngine, options: Options) {
        self.engine = engine
        self.options = options
    }

    /// Coverage bookkeeping (`coverage.cc`): one entry per route object the checks touched.
    struct CoverageEntry {
        var key: String
        var host: String
        var routeName: String
        var directResponse: Bool
        var fields: [Bool]
    }

    /// A `validate` string field: plain, or a wrapper `{value: ...}` (text format).
    static func wrapped(_ v: JSON?) -> JSON? {
        guard let v else { return nil }
        if case .object(let o) = v, o.keys == ["value"] { return o["value"] }
        if case .null = v { return nil }
        return v
    }

    /// Runs `tests` (the JSON of an `envoy.RouterCheckToolSchema.Validation`).
    public func run(_ tests: JSON) -> Report {
        var report = Report()
        var coverage: [CoverageEntry] = []
        func mark(_ key: String, host: String, name: String, direct: Bool, field: Int) {
            if let i = coverage.firstIndex(where: { $0.key == key }) {
                coverage[i].fields[field] = true
            } else {
                var e = CoverageEntry(
                    key: key, host: host, routeName: name, directResponse: direct, fields: Array(repeating: false, count: direct ? 2 : 5))
                e.fields[field] = true
                coverage.append(e)
            }
        }
        let list = tests["tests"]?.arrayValue ?? []
        for (ti, test) in list.enumerated() {
            let name = test["test_name"]?.stringValue ?? ""
            let input = test["input"] ?? .object([:])
            let validate = test["validate"] ?? .object([:])
            var failures: [String] = []
            var assertions = 0
            // The request, in the order the tool builds it.
            var headers: [HTTPHeader] = []
            for h in input["additional_request_headers"]?.arrayValue ?? [] {
                headers.append(HTTPHeader(h["key"]?.stringValue ?? "", Self.text(h["value"])))
            }
            let ssl = input["ssl"]?.boolValue ?? false
            let random = Self.toolRandom(input["random_value"])
            var request = EnvoyRequest(
                method: input["method"]?.stringValue ?? "", scheme: ssl ? "https" : "http",
                authority: input["authority"]?.stringValue ?? "",
                path: input["path"]?.stringValue ?? "", headers: headers, randomValue: random, tls: ssl,
                isInternal: input["internal"]?.boolValue ?? false)
            request.dynamicMetadata = Self.metadata(input["dynamic_metadata"])
            var responseSeed: [HTTPHeader] = []
            for h in input["additional_response_headers"]?.arrayValue ?? [] {
                responseSeed.append(HTTPHeader(h["key"]?.stringValue ?? "", Self.text(h["value"])))
            }
            let decision = engine.decide(
                request, semantics: .routerCheckTool(runtimeKey: input["runtime"]?.stringValue), trace: false, responseHeaders: responseSeed
            )
            var isEntry = false
            var isDirect = false
            var code = 0
            var location = ""
            switch decision.outcome {
            case .forward: isEntry = true
            case .redirect(let r), .tlsRedirect(let r):
                isDirect = true
                code = r.status
                location = r.location
            case .directResponse(let dr):
                isDirect = true
                code = dr.status
                location = RouteEngine.newURI(nil, decision.requestHeaders)
            case .noRoute: break
            }
            let hostName = decision.virtualHost?.name ?? ""
            let routeName = decision.routeIndex.map { uniqueName(decision.virtualHost!.index, $0) } ?? ""
            // Weighted and cluster_header routes are a new route object per request.
            var key = "tls-redirect"
            if let h = decision.virtualHost?.index, let r = decision.routeIndex {
                key = "\(h)/\(r)"
                if case .forward(let f) = decision.outcome {
                    switch f.choice {
                    case .named: break
                    case .header, .weighted: key += "#\(ti)"
                    }
                }
            }
            let finalHeaders = decision.requestHeaders
            func compare(_ actual: String, _ expected: String, _ type: String) -> Bool {
                if actual == expected { return true }
                failures.append("expected: [\(expected)], actual: [\(actual)], test type: \(type)")
                return false
            }
            let checks: [(String, () -> String, Int)] = [
                ("cluster_name", { decision.cluster ?? "" }, 0),
                (
                    "virtual_cluster_name",
                    {
                        guard let h = decision.virtualHost?.index else { return "" }
                        return RouteEngine.virtualCluster(engine.config.virtualHosts[h], finalHeaders) ?? ""
                    }, 1
                ),
                ("virtual_host_name", { hostName }, 2),
                ("path_rewrite", { finalHeaders.first(":path") ?? "" }, 3),
                ("host_rewrite", { finalHeaders.first(":authority") ?? "" }, 4),
            ]
            for (field, actual, slot) in checks {
                guard let expected = Self.wrapped(validate[field]) else { continue }
                assertions += 1
                let value = isEntry ? actual() : ""
                if compare(value, Self.text(expected), field) && isEntry {
                    mark(key, host: hostName, name: routeName, direct: false, field: slot)
                }
            }
            if let expected = Self.wrapped(validate["path_redirect"]) {
                assertions += 1
                if compare(isDirect ? location : "", Self.text(expected), "path_redirect") && isDirect {
                    mark(key, host: hostName, name: routeName, direct: true, field: 0)
                }
            }
            if let expected = Self.wrapped(validate["code_redirect"]) {
                assertions += 1
                let want = expected.intValue ?? Int64(Self.text(expected)) ?? -1
                if Int64(code) == want {
                    if isDirect { mark(key, host: hostName, name: routeName, direct: true, field: 1) }
                } else {
                    failures.append("expected: [\(want)], actual: [\(code)], test type: code_redirect")
                }
            }
            for (field, map) in [("request_header_matches", finalHeaders), ("response_header_matches", decision.responseHeaders)] {
                for m in validate[field]?.arrayValue ?? [] {
                    assertions += 1
                    if let line = Self.headerFailure(m, map, field) { failures.append(line) }
                }
            }
            for (field, map) in [("request_header_fields", finalHeaders), ("response_header_fields", decision.responseHeaders)] {
                for f in validate[field]?.arrayValue ?? [] {
                    assertions += 1
                    let k = f["key"]?.stringValue ?? ""
                    _ = compare(map.get(k) ?? "", Self.text(f["value"]), field)
                }
            }
            report.results.append(TestResult(name: name, failures: failures, assertions: assertions))
        }
        // `printResults`: failures always (stderr), passing names with --details.
        for r in report.results {
            if r.failures.isEmpty {
                if options.details && !options.onlyShowFailures { report.stdout += r.name + "\n" }
            } else {
                report.stderr += r.name + "\n" + r.failures.map { $0 + "\n" }.joined()
            }
        }
        if report.results.contains(where: { !$0.failures.isEmpty }) {
            report.exitCode = 1
            return report
        }
        // Coverage.
        var routes = 0
        var all: [(host: String, name: String, match: RouteMatch, key: String)] = []
        for (h, vh) in engine.config.virtualHosts.enumerated() {
            for (r, route) in vh.routes.enumerated() {
                if case .route(let a) = route.action, case .weightedClusters(let w) = a.clusterSpecifier {
                    routes += w.clusters.count
                } else {
                    routes += 1
                }
                all.append((vh.name, uniqueName(h, r), route.match, "\(h)/\(r)"))
            }
        }
        let coveredNames = Set(coverage.map(\.routeName))
        let value: Double
        if options.coverAll {
            let sum = coverage.reduce(0.0) { $0 + Double($1.fields.filter { $0 }.count) / Double($1.fields.count) }
            value = routes == 0 ? 0 : 100 * sum / Double(routes)
        } else {
            value = routes == 0 ? 0 : 100 * Double(coverage.count) / Double(routes)
        }
        for a in all where !coveredNames.contains(a.name) {
            if options.detailedCoverage {
                report.stdout += "Missing test for host: \(a.host), route name: \(a.name)\n"
            } else if options.coverAll {
                report.stdout += "Missing test for host: \(a.host), route: \(Self.debugString(a.match))\n"
            }
        }
        report.coverage = value
        report.stdout += "Current route coverage: \(Self.cppDouble(value))%\n"
        if options.failUnder > value {
            report.stdout += "Failed to meet coverage requirement: \(Self.cppDouble(options.failUnder))%\n"
            report.exitCode = 1
        }
        return report
    }

    /// The tool renames every route `<name>-<uuid>`; xdsc derives the uuid from the route's
    /// position so output is deterministic.
    func uniqueName(_ h: Int, _ r: Int) -> String {
        let name = engine.config.virtualHosts[h].routes[r].name ?? ""
        var x = UInt64(h) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(r) &+ 0x1234_5678
        func next() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let a = next()
        let b = next()
        let hex = String(format: "%016llx%016llx", a, b)
        let c = Array(hex)
        let uuid =
            String(c[0..<8]) + "-" + String(c[8..<12]) + "-4" + String(c[13..<16]) + "-a" + String(c[17..<20]) + "-" + String(c[20..<32])
        return name + "-" + uuid
    }

    /// `random_value` is a uint64 the tool passes through `static_cast<int>` and back.
    static func toolRandom(_ v: JSON?) -> UInt64 {
        var raw: UInt64 = 0
        switch v {
        case .int(let i)?: raw = UInt64(bitPattern: i)
        case .string(let s)?: raw = UInt64(s) ?? 0
        case .double(let d)?: raw = d >= 0 && d < 1.8e19 ? UInt64(d) : 0
        default: break
        }
        return UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: raw)))
    }

    static func text(_ v: JSON?) -> String {
        switch v {
        case .string(let s)?: s
        case .int(let i)?: String(i)
        case .bool(let b)?: b ? "true" : "false"
        case .double(let d)?: String(d)
        default: ""
        }
    }

    /// `dynamic_metadata` input entries, as the set-metadata filter applies them: a namespace
    /// is set once; later entries replace top-level keys only with `allow_overwrite`.
    static func metadata(_ v: JSON?) -> JSONObject {
        var out = JSONObject()
        for e in v?.arrayValue ?? [] {
            guard let ns = e["metadata_namespace"]?.stringValue, case .object(let value)? = e["value"] else { continue }
            if case .object(var existing)? = out[ns] {
                guard e["allow_overwrite"]?.boolValue == true else { continue }
                for (k, x) in value.members { existing[k] = x }
                out[ns] = .object(existing)
            } else {
                out[ns] = .object(value)
            }
        }
        return out
    }

    /// The failure line of one header matcher, or nil when it matches (router.cc's format).
    static func headerFailure(_ m: JSON, _ headers: HeaderMap, _ field: String) -> String? {
        // The test file's matcher read by the Envoy reader, as in a route table.
        let sink = DiagnosticSink()
        guard let node = YAMLReader().read(Array(m.compactText().utf8), file: "matcher", into: sink),
            let matcher = EnvoyReader.headerMatcher(node, into: sink), sink.errorCount == 0
        else {
            return "expected: [valid header matcher], actual: [invalid], test type: \(field)"
        }
        let actual = headers.get(matcher.name)
        if matcher.matches(headerValue: actual) { return nil }
        let name = matcher.name
        let not = matcher.invertMatch ? "NOT " : ""
        let a = actual ?? ""
        switch matcher.specifier {
        case .present(let p)?:
            return
                "expected: [has(\(name)):\(p != matcher.invertMatch)], actual: [has(\(name)):\(actual != nil)], test type: \(field).present_match"
        case nil:
            return
                "expected: [has(\(name)):\(!matcher.invertMatch)], actual: [has(\(name)):\(actual != nil)], test type: \(field).present_match"
        case .range?:
            return "actual: \(not)[\(name): \(a)], test type: \(field).range_match"
        case .string(let sm)?:
            let (kind, pattern): (String, String) =
                switch sm.pattern {
                case .exact(let s): ("exact", s)
                case .prefix(let s): ("prefix", s)
                case .suffix(let s): ("suffix", s)
                case .contains(let s): ("contains", s)
                case .safeRegex(let r): ("safe_regex", r)
                }
            return "expected: [\(name): \(pattern)], actual: \(not)[\(name): \(a)], test type: \(field).string_match.\(kind)"
        case .deprecatedExact(let s)?:
            return "expected: [\(name): \(s)], actual: \(not)[\(name): \(a)], test type: \(field).exact_match"
        }
    }

    /// C++ `operator<<` on a double: `%g` with six significant digits.
    static func cppDouble(_ v: Double) -> String { String(format: "%g", v) }

    /// `RouteMatch::DebugString()`: text format, fields in field-number order, a final newline.
    static func debugString(_ m: RouteMatch) -> String {
        var out = ""
        func q(_ s: String) -> String {
            "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        switch m.pathSpecifier {
        case .prefix(let p): out += "prefix: \(q(p))\n"
        case .path(let p): out += "path: \(q(p))\n"
        default: break
        }
        if let cs = m.caseSensitive { out += "case_sensitive {\n  value: \(cs)\n}\n" }
        for h in m.headers { out += "headers {\n  name: \(q(h.name))\n}\n" }
        for p in m.queryParameters { out += "query_parameters {\n  name: \(q(p.name))\n}\n" }
        if m.grpc { out += "grpc {\n}\n" }
        if let rf = m.runtimeFraction {
            out += "runtime_fraction {\n  default_value {\n    numerator: \(rf.defaultValue.numerator)\n  }\n"
            if let k = rf.runtimeKey { out += "  runtime_key: \(q(k))\n" }
            out += "}\n"
        }
        switch m.pathSpecifier {
        case .safeRegex(let r): out += "safe_regex {\n  regex: \(q(r))\n}\n"
        case .pathSeparatedPrefix(let p): out += "path_separated_prefix: \(q(p))\n"
        default: break
        }
        return out
    }
}

/// `xdsc test routes` as a function: load, run, and the exact text and status the tool gives.
public enum RouteTestCommand {
    /// What a run printed and its exit status.
    public struct Output: Sendable {
        /// Standard output of the run.
        public var stdout = ""
        /// Standard error of the run.
        public var stderr = ""
        /// The exit status.
        public var exitCode: Int32 = 0
        /// The report, when the tests ran.
        public var report: RouteTestRunner.Report?
    }

    /// Parses the tool's flags (`-d`, `--details`, `--only-show-failures`, `-f N`,
    /// `--fail-under N`, `--covall`, `--detailed-coverage`).
    public static func options(_ arguments: [String]) -> RouteTestRunner.Options {
        var o = RouteTestRunner.Options()
        var i = 0
        while i < arguments.count {
            switch arguments[i] {
            case "-d", "--details": o.details = true
            case "--only-show-failures": o.onlyShowFailures = true
            case "--covall": o.coverAll = true
            case "--detailed-coverage": o.detailedCoverage = true
            case "--strict": o.strict = true
            case "-f", "--fail-under":
                i += 1
                o.failUnder = i < arguments.count ? Double(arguments[i]) ?? 0 : 0
            default: break
            }
            i += 1
        }
        return o
    }

    /// Runs `tests` against the route table in `config` with the tool's command-line `arguments`.
    public static func run(config: [String], tests: String, arguments: [String]) -> Output {
        run(config: config, tests: tests, options: options(arguments))
    }

    /// Runs `tests` against the route table in `config` with `options`.
    public static func run(config: [String], tests: String, options: RouteTestRunner.Options) -> Output {
        var out = Output()
        let loaded = RouteInputs.load(config)
        // An input that cannot be read is exit 2, as for every command (the policy language's
        // exit codes), where router_check_tool exits 1 for any load failure; its diagnostic
        // names the file.
        let unreadable = loaded.diagnostics.filter { Rule.registry[$0.rule].isInputFailure }
        if !unreadable.isEmpty {
            out.stderr = HumanRenderer(sources: loaded.sources, color: false).render(unreadable)
            out.exitCode = ExitStatus.usageOrIO
            return out
        }
        if let e = loaded.toolError {
            out.stderr = e + "\n"
            out.exitCode = 1
            return out
        }
        guard loaded.tables.count == 1, let table = loaded.tables.first else {
            out.stderr =
                loaded.tables.isEmpty
                ? "error: no route configuration in \(config.joined(separator: ", "))\n"
                : "error: \(config.joined(separator: ", ")) holds \(loaded.tables.count) route configurations; the tool tests one\n"
            out.exitCode = 1
            return out
        }
        if options.strict,
            let report = StrictWarnings.collect(loaded.diagnostics, sources: loaded.sources, paths: config, linted: loaded.linted).report
        {
            out.stderr = report
            out.exitCode = 1
            return out
        }
        let sink = DiagnosticSink()
        guard let data = RouteInputs.readData(tests, sink: sink) else {
            if sink.all.contains(where: { Rule.registry[$0.rule].isInputFailure }) {
                out.stderr = HumanRenderer(sources: [:], color: false).render(sink.sorted)
                out.exitCode = ExitStatus.usageOrIO
            } else {
                out.stderr = sink.all.map { "error: \($0.span): \($0.message)\n" }.joined()
                out.exitCode = ExitStatus.inputErrors
            }
            return out
        }
        if let problem = validateTests(data) {
            out.stderr = "INVALID_ARGUMENT: \(tests): \(problem)\n"
            out.exitCode = 1
            return out
        }
        let report = RouteTestRunner(engine: table.engine, options: options).run(data)
        out.stdout = report.stdout
        out.stderr = report.stderr
        out.exitCode = report.exitCode
        out.report = report
        return out
    }

    /// The schema checks the tool's loader makes (`validation.proto`): known fields only,
    /// at least one test, `authority`, `path` (min 1) and `method` (min 3).
    static func validateTests(_ data: JSON) -> String? {
        guard case .object(let root) = data else { return "expected an envoy.RouterCheckToolSchema.Validation object" }
        for k in root.keys where k != "tests" { return "envoy.RouterCheckToolSchema.Validation: unknown field \"\(k)\"" }
        guard let tests = root["tests"]?.arrayValue, !tests.isEmpty else { return "tests: value must contain at least 1 item(s)" }
        let inputFields: Set<String> = [
            "authority", "path", "method", "random_value", "ssl", "internal", "additional_request_headers", "additional_response_headers",
            "runtime", "dynamic_metadata",
        ]
        let validateFields: Set<String> = [
            "cluster_name", "virtual_cluster_name", "virtual_host_name", "host_rewrite", "path_rewrite", "path_redirect", "code_redirect",
            "request_header_matches", "response_header_matches", "request_header_fields", "response_header_fields",
        ]
        for (i, t) in tests.enumerated() {
            guard case .object(let o) = t else { return "tests[\(i)]: expected an object" }
            for k in o.keys where !["test_name", "input", "validate"].contains(k) { return "tests[\(i)]: unknown field \"\(k)\"" }
            let input = o["input"]?.objectValue ?? JSONObject()
            for k in input.keys where !inputFields.contains(k) { return "tests[\(i)].input: unknown field \"\(k)\"" }
            for k in (o["validate"]?.objectValue ?? JSONObject()).keys where !validateFields.contains(k) {
                return "tests[\(i)].validate: unknown field \"\(k)\""
            }
            if (input["authority"]?.stringValue ?? "").isEmpty {
                return "tests[\(i)].input.authority: value length must be at least 1 characters"
            }
            if (input["path"]?.stringValue ?? "").isEmpty { return "tests[\(i)].input.path: value length must be at least 1 characters" }
            if (input["method"]?.stringValue ?? "").count < 3 {
                return "tests[\(i)].input.method: value length must be at least 3 characters"
            }
        }
        return nil
    }
}
