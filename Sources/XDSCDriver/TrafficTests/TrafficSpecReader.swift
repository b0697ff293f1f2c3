import Foundation
import XDSCDiagnostics
import XDSCEnvoy
import XDSCPolicy
import XDSCProxy
import XDSCRequest
import XDSCSyntax

/// Reads a traffic test spec (YAML or JSON) with the project's YAML reader: every problem is
/// a diagnostic at its file:line:column (unknown keys with a did-you-mean, as in policies),
/// and the spec is returned only when there is none.
public enum TrafficSpecReader {
    /// The spec in `bytes` (the file `path`), or nil after diagnostics in `sink`.
    public static func read(path: String, bytes: [UInt8], into sink: DiagnosticSink) -> TrafficSpec? {
        let before = sink.all.count
        guard let root = YAMLReader().read(bytes, file: path, into: sink) else {
            // Nothing but comments and blank lines: no document, and no syntax error either.
            if !sink.all[before...].contains(where: { $0.severity == .error }) {
                sink.add(.missingField, "the traffic spec is empty", at: .point(path), help: "start with `config:` and `tests:`")
            }
            return nil
        }
        guard let top = fields(root, "top", "the traffic spec", sink) else { return nil }
        if let v = top.int("version", in: 0...Int.max), v.value != 1 {
            sink.add(.unsupportedVersion, "traffic spec version \(v.value) is not supported", at: v.span, help: "write `version: 1`")
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        var config: [String] = []
        if top.has("config") {
            for c in top.stringList("config", allowSingle: true) ?? [] {
                config.append(c.value.hasPrefix("/") ? c.value : folder.appendingPathComponent(c.value).relativePath)
            }
            if let list = top.value("config")?.sequence, list.isEmpty, let node = top.value("config") {
                sink.add(
                    .invalidValue, "`config` names no file", at: node.span, label: "empty list",
                    help: "name the policy or Envoy files to serve, relative to the spec")
            }
        } else {
            top.missing("config", help: "name the policy or Envoy files to serve, relative to the spec")
        }
        let seed = top.int("seed", in: 0...Int.max).map { UInt64($0.value) } ?? 0
        let ca = top.string("ca_file")
        let caFile = ca.map { $0.value.hasPrefix("/") ? $0.value : folder.appendingPathComponent($0.value).relativePath }
        var tests: [TrafficTest] = []
        if let items = top.list("tests") {
            for (i, item) in items.enumerated() {
                if let t = test(item, index: i, sink: sink) { tests.append(t) }
            }
        } else if !top.has("tests") {
            top.missing("tests")
        }
        guard !sink.all[before...].contains(where: { $0.severity == .error }) else { return nil }
        return TrafficSpec(path: path, config: config, seed: seed, caFile: caFile, caFileSpan: ca?.span, tests: tests)
    }

    static func fields(_ node: YAMLNode, _ context: String, _ what: String, _ sink: DiagnosticSink) -> Fields? {
        Fields(node, context: "traffic." + context, what: what, keys: TrafficSpecKeys.keys(context), sink: sink)
    }

    static func test(_ node: YAMLNode, index: Int, sink: DiagnosticSink) -> TrafficTest? {
        guard let f = fields(node, "test", "test #\(index + 1)", sink) else { return nil }
        let name = f.string("name")?.value ?? "test #\(index + 1)"
        var request: TrafficRequest?
        if let r = f.value("request") { request = self.request(r, sink: sink) } else { f.missing("request") }
        var upstreams: [(cluster: String, span: SourceSpan, behaviour: MockBehaviour)] = []
        for p in f.entries("upstreams") ?? [] {
            guard let cluster = Fields.string(p.key, what: "a cluster name", sink: sink),
                let b = behaviour(p.value, cluster: cluster.value, sink: sink)
            else { continue }
            upstreams.append((cluster.value, cluster.span, b))
        }
        var expect = TrafficExpectation()
        if let e = f.value("expect") { expect = expectation(e, sink: sink) ?? expect } else { f.missing("expect") }
        guard let request else { return nil }
        return TrafficTest(
            name: name, span: node.span, listener: f.string("listener").map { ($0.value, $0.span) }, request: request, upstreams: upstreams,
            expect: expect)
    }

    static func request(_ node: YAMLNode, sink: DiagnosticSink) -> TrafficRequest? {
        guard let f = fields(node, "request", "the request", sink) else { return nil }
        let method = f.string("method")?.value ?? "GET"
        if !method.allSatisfy({ $0.isASCII && ($0.isUppercase || $0 == "-" || $0 == "_") }), let s = f.value("method") {
            sink.add(.invalidValue, "`\(method)` is not an HTTP method", at: s.span, help: "write it in upper case, e.g. `GET`")
        }
        let headers = self.headers(f, sink: sink)
        let body = f.string("body", nonEmpty: false)?.value ?? ""
        let repeatCount = f.int("repeat", in: 1...100_000)?.value ?? 1
        let http2 = f.bool("http2")?.value ?? false
        if http2 { connectionSpecificHeaders(f, sink: sink) }
        guard let url = f.string("url") else {
            if !f.has("url") { f.missing("url", help: "e.g. `url: http://api.example.com/users/7`") }
            return nil
        }
        guard let (host, target, tls) = split(url, sink: sink) else { return nil }
        let hostHeader = headers.first { $0.name == "host" }?.value ?? host
        return TrafficRequest(
            method: method, host: hostHeader, target: target, headers: headers.filter { $0.name != "host" }, body: body,
            repeatCount: repeatCount, tls: tls, urlHost: host, http2: http2)
    }

    /// `http://HOST/PATH`, `https://HOST/PATH` (sent over TLS) or `/PATH` (Host `localhost`).
    static func split(_ url: Located<String>, sink: DiagnosticSink) -> (host: String, target: String, tls: Bool)? {
        var rest = Substring(url.value)
        if rest.hasPrefix("/") { return ("localhost", String(rest), false) }
        let tls = rest.lowercased().hasPrefix("https://")
        guard tls || rest.lowercased().hasPrefix("http://") else {
            sink.add(
                .invalidValue, "`\(url.value)` is not an `http://HOST/PATH` or `https://HOST/PATH` URL or a path", at: url.span,
                help: "e.g. `http://api.example.com/users/7` or `/users/7`")
            return nil
        }
        rest = rest.dropFirst(tls ? 8 : 7)
        let slash = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let host = String(rest[..<slash])
        var target = String(rest[slash...])
        if target.isEmpty { target = "/" } else if target.hasPrefix("?") { target = "/" + target }
        if host.isEmpty {
            sink.add(.invalidValue, "`\(url.value)` has no host", at: url.span)
            return nil
        }
        return (host, target, tls)
    }

    /// `headers:` (or `key`) as a mapping of name to value (lower-cased names, in order).
    static func headers(_ f: Fields, key: String = "headers", sink: DiagnosticSink) -> [HTTPHeader] {
        (f.entries(key) ?? []).compactMap { p in
            guard let n = Fields.string(p.key, what: "a header name", sink: sink),
                let v = Fields.string(p.value, what: "the value of `\(n.value)`", nonEmpty: false, sink: sink)
            else { return nil }
            return HTTPHeader(n.value, v.value)
        }
    }

    /// The headers an HTTP/2 request cannot carry (RFC 9113, section 8.2.2): the
    /// connection-specific ones, and `te` with anything but `trailers`. The client's codec
    /// would drop them, so the request sent would not be the one written.
    static func connectionSpecificHeaders(_ f: Fields, sink: DiagnosticSink) {
        let forbidden: Set<String> = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"]
        // `headers` reports a `headers` that is not a mapping.
        for p in f.value("headers")?.mapping.map({ Array($0) }) ?? [] {
            guard let name = p.key.scalar?.text.lowercased() else { continue }
            let value = p.value.scalar?.text ?? ""
            if forbidden.contains(name) || (name == "te" && value.lowercased() != "trailers") {
                sink.add(
                    .invalidValue, "an HTTP/2 request cannot carry `\(name)`\(name == "te" ? " other than `trailers`" : "")",
                    at: p.key.span, help: "remove the header, or send the request over HTTP/1.1 (no `http2: true`)")
            }
        }
    }

    static func behaviour(_ node: YAMLNode, cluster: String, sink: DiagnosticSink) -> MockBehaviour? {
        guard let f = fields(node, "behaviour", "the behaviour of `\(cluster)`", sink) else { return nil }
        var b = MockBehaviour()
        let reset = f.bool("reset")?.value ?? false
        let refuse = f.bool("refuse_stream")?.value ?? false
        let failStatus = f.int("fail_status", in: 100...599)?.value
        b.reset = reset
        b.refuseStream = refuse
        b.failureStatus = failStatus ?? 503
        b.failureHeaders = headers(f, key: "fail_headers", sink: sink)
        // A failure without a count fails every request.
        let failing = reset || refuse || failStatus != nil || f.has("fail_headers")
        b.failures = f.int("fail_times", in: 0...Int.max)?.value ?? (failing ? Int.max : 0)
        if let d = f.duration("delay") { b.delay = .milliseconds(d.value.milliseconds) }
        if f.has("status") || f.has("headers") || f.has("body") || f.has("trailers") {
            b.answer = MockAnswer(
                status: f.int("status", in: 100...599)?.value ?? 200,
                headers: headers(f, sink: sink), body: f.string("body", nonEmpty: false)?.value ?? "",
                trailers: headers(f, key: "trailers", sink: sink))
        }
        return b
    }

    static func expectation(_ node: YAMLNode, sink: DiagnosticSink) -> TrafficExpectation? {
        guard let f = fields(node, "expect", "`expect`", sink) else { return nil }
        var e = TrafficExpectation()
        e.status = f.int("status", in: 100...599)?.value
        if let b = f.value("body") { e.body = text(b, context: "body", what: "`body`", sink: sink) }
        e.headers = headerExpectations(f, sink: sink)
        e.location = f.string("location")?.value
        if let u = f.value("upstream") { e.upstream = upstream(u, sink: sink) }
        if let s = f.value("split") { e.split = split(s, sink: sink) }
        e.trailers = headerExpectations(f, key: "trailers", sink: sink)
        return e
    }

    /// A string (exact), or a mapping with one of `equals`, `contains` (`present`, `absent` for headers).
    static func text(_ node: YAMLNode, context: String, what: String, sink: DiagnosticSink) -> TextExpectation? {
        if node.mapping == nil {
            return Fields.string(node, what: what, nonEmpty: false, sink: sink).map { .equals($0.value) }
        }
        guard let f = fields(node, context, what, sink),
            let key = f.exclusive(TrafficSpecKeys.keys(context), required: true)
        else { return nil }
        switch key {
        case "present", "absent":
            guard let on = f.bool(key) else { return nil }
            guard on.value else {
                sink.add(
                    .invalidValue, "`\(key): false` says nothing", at: on.span,
                    help: "write `\(key == "present" ? "absent" : "present"): true`")
                return nil
            }
            return key == "present" ? .present : .absent
        case "contains": return f.string(key).map { .contains($0.value) }
        default: return f.string(key, nonEmpty: false).map { .equals($0.value) }
        }
    }

    static func headerExpectations(_ f: Fields, key: String = "headers", sink: DiagnosticSink) -> [NamedExpectation] {
        (f.entries(key) ?? []).compactMap { p in
            guard let n = Fields.string(p.key, what: "a header name", sink: sink),
                let t = text(p.value, context: "header", what: "the expectation of `\(n.value)`", sink: sink)
            else { return nil }
            return NamedExpectation(n.value.lowercased(), t)
        }
    }

    static func upstream(_ node: YAMLNode, sink: DiagnosticSink) -> UpstreamExpectation? {
        guard let f = fields(node, "upstream", "`upstream`", sink) else { return nil }
        var u = UpstreamExpectation()
        u.services = f.stringList("service", allowSingle: true)?.map(\.value)
        u.endpoint = f.string("endpoint")?.value
        if let r = f.value("requests") {
            if r.mapping != nil {
                u.requestsPerService = counts(f.entries("requests") ?? [], what: "a request count", range: 0...Double(Int.max), sink: sink)
            } else {
                u.requests = Fields.int(r, what: "`requests`", in: 0...Int.max, sink: sink)?.value
            }
        }
        u.path = f.string("path")?.value
        u.host = f.string("host")?.value
        u.headers = headerExpectations(f, sink: sink)
        if let p = f.string("protocol") {
            if ["HTTP/1.1", "HTTP/2"].contains(p.value) {
                u.protocol = p.value
            } else {
                sink.add(
                    .invalidValue, "`\(p.value)` is not a protocol the upstreams see", at: p.span, help: "write `HTTP/1.1` or `HTTP/2`")
            }
        }
        return u
    }

    static func split(_ node: YAMLNode, sink: DiagnosticSink) -> SplitExpectation? {
        guard let f = fields(node, "split", "`split`", sink) else { return nil }
        guard let entries = f.entries("shares") else {
            if !f.has("shares") { f.missing("shares", help: "e.g. `shares: {users: 90, canary: 10}` in percent") }
            return nil
        }
        let shares = counts(entries, what: "a share", range: 0...100, sink: sink)
        var tolerance = 5.0
        if let t = f.value("tolerance") { tolerance = number(t, what: "`tolerance`", range: 0...100, sink: sink) ?? tolerance }
        return SplitExpectation(shares: shares, tolerance: tolerance)
    }

    static func counts(_ entries: [YAMLPair], what: String, range: ClosedRange<Double>, sink: DiagnosticSink) -> [ServiceCount] {
        entries.compactMap { p in
            guard let name = Fields.string(p.key, what: "a cluster name", sink: sink),
                let v = number(p.value, what: what, range: range, sink: sink)
            else { return nil }
            return ServiceCount(name.value, v)
        }
    }

    static func number(_ node: YAMLNode, what: String, range: ClosedRange<Double>, sink: DiagnosticSink) -> Double? {
        guard let s = node.scalar, s.int != nil || s.isFloat, let v = Double(s.text) else {
            sink.add(
                .typeMismatch, "\(what) must be a number, but this is \(node.kindDescription)", at: node.span, label: "expected a number")
            return nil
        }
        guard range.contains(v) else {
            sink.add(.invalidValue, "\(what) is \(s.text), out of range \(Int(range.lowerBound))..\(Int(range.upperBound))", at: node.span)
            return nil
        }
        return v
    }
}
