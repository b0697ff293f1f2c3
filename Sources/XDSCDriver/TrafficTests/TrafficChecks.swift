import XDSCProxy

/// One request sent by a test: the response (or why there was none) and what the mocks
/// received meanwhile.
struct TrafficExchange: Sendable {
    var response: ClientResponse?
    var error: String?
    var received: [ReceivedRequest]

    /// The upstream attempt whose answer came back: the last request that is not a mirror
    /// (Envoy sends mirrors with `-shadow` appended to the host).
    var upstream: ReceivedRequest? { received.last { !$0.host.hasSuffix("-shadow") } }
    /// The first attempt (the cluster the route picked).
    var firstUpstream: ReceivedRequest? { received.first { !$0.host.hasSuffix("-shadow") } }
}

/// A failed check: what was checked, what was expected and what happened.
public struct TrafficFailure: Sendable, Equatable {
    /// The check, e.g. `status`, `header x-served-by`, `upstream.path (request 3 of 10)`.
    public var check: String
    /// The expectation, in words.
    public var expected: String
    /// What happened, in words.
    public var actual: String
}

/// Evaluates a test's expectations on its exchanges.
enum TrafficChecks {
    static func failures(_ e: TrafficExpectation, _ xs: [TrafficExchange]) -> [TrafficFailure] {
        var out: [TrafficFailure] = []
        for (i, x) in xs.enumerated() where x.response == nil {
            out.append(TrafficFailure(check: "response" + of(i, xs.count), expected: "a response", actual: x.error ?? "none"))
            break
        }
        let answered = xs.enumerated().filter { $0.element.response != nil }
        func each(_ check: String, _ expected: String, _ actual: (TrafficExchange) -> String?, _ ok: (String?) -> Bool) {
            for (i, x) in answered where !ok(actual(x)) {
                out.append(
                    TrafficFailure(check: check + of(i, xs.count), expected: expected, actual: actual(x).map { "`\($0)`" } ?? "absent"))
                return
            }
        }
        if let s = e.status { each("status", "\(s)", { x in x.response.map { String($0.status) } }, { $0 == String(s) }) }
        if let b = e.body { each("body", b.description, { $0.response?.body }, b.accepts) }
        for h in e.headers { each("header \(h.name)", h.expectation.description, { $0.response?.header(h.name) }, h.expectation.accepts) }
        if let l = e.location { each("location", "`\(l)`", { $0.response?.header("location") }, { $0 == l }) }
        for t in e.trailers {
            each("trailer \(t.name)", t.expectation.description, { $0.response?.trailer(t.name) }, t.expectation.accepts)
        }
        if let u = e.upstream { out += upstream(u, xs, each) }
        if let s = e.split { out += split(s, xs) }
        return out
    }

    static func of(_ i: Int, _ n: Int) -> String { n > 1 ? " (request \(i + 1) of \(n))" : "" }

    typealias Each = (String, String, (TrafficExchange) -> String?, (String?) -> Bool) -> Void

    static func upstream(_ u: UpstreamExpectation, _ xs: [TrafficExchange], _ each: Each) -> [TrafficFailure] {
        var out: [TrafficFailure] = []
        if let s = u.services {
            each(
                "upstream.service", s.map { "`\($0)`" }.joined(separator: " or "), { $0.upstream?.cluster }, { $0.map(s.contains) ?? false }
            )
        }
        if let v = u.endpoint { each("upstream.endpoint", "`\(v)`", { $0.upstream?.endpoint }, { $0 == v }) }
        if let v = u.path { each("upstream.path", "`\(v)`", { $0.upstream?.path }, { $0 == v }) }
        if let v = u.host { each("upstream.host", "`\(v)`", { $0.upstream?.host }, { $0 == v }) }
        for h in u.headers {
            each("upstream.header \(h.name)", h.expectation.description, { $0.upstream?.header(h.name) }, h.expectation.accepts)
        }
        if let v = u.protocol { each("upstream.protocol", "`\(v)`", { $0.upstream?.protocol }, { $0 == v }) }
        let all = xs.flatMap(\.received)
        if let n = u.requests, all.count != n {
            out.append(TrafficFailure(check: "upstream.requests", expected: "\(n)", actual: "\(all.count)" + perService(all)))
        }
        for c in u.requestsPerService {
            let n = all.filter { $0.cluster == c.service }.count
            if Double(n) != c.value {
                out.append(TrafficFailure(check: "upstream.requests \(c.service)", expected: number(c.value), actual: "\(n)"))
            }
        }
        return out
    }

    /// ` (users 2, canary 1)`: the clusters of `records`, in first-seen order.
    static func perService(_ records: [ReceivedRequest]) -> String {
        var order: [String] = []
        var count: [String: Int] = [:]
        for r in records {
            if count[r.cluster] == nil { order.append(r.cluster) }
            count[r.cluster, default: 0] += 1
        }
        return order.isEmpty ? "" : " (" + order.map { "\($0) \(count[$0]!)" }.joined(separator: ", ") + ")"
    }

    static func split(_ s: SplitExpectation, _ xs: [TrafficExchange]) -> [TrafficFailure] {
        var count: [String: Int] = [:]
        for x in xs { count[x.firstUpstream?.cluster ?? "(none)", default: 0] += 1 }
        let total = Double(max(xs.count, 1))
        var out: [TrafficFailure] = []
        var names = s.shares.map(\.service)
        names += count.keys.filter { !names.contains($0) }.sorted()
        for name in names {
            let expected = s.shares.first { $0.service == name }?.value ?? 0
            let actual = Double(count[name, default: 0]) * 100 / total
            if abs(actual - expected) > s.tolerance {
                out.append(
                    TrafficFailure(
                        check: "split \(name)", expected: "\(number(expected))% ± \(number(s.tolerance))",
                        actual: "\(number(actual))% (\(count[name, default: 0]) of \(xs.count))"))
            }
        }
        return out
    }

    /// `90`, `12.5`: at most two decimals, no trailing zeros.
    static func number(_ v: Double) -> String {
        let hundredths = (v * 100).rounded()
        if hundredths.truncatingRemainder(dividingBy: 100) == 0 { return String(Int(hundredths / 100)) }
        var s = String(Int(hundredths) / 100) + "."
        let frac = Int(hundredths) % 100
        s += frac % 10 == 0 ? String(frac / 10) : (frac < 10 ? "0" : "") + String(frac)
        return s
    }
}
