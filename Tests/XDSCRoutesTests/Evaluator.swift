import XDSCRegex
import XDSCRequest
import XDSCRoutes

/// A deliberately straightforward evaluator of Envoy's route match on a concrete request,
/// written from the routing reference with plain string operations and RE2 — independent
/// of the automata, so it can judge them.
final class Evaluator: @unchecked Sendable {
    private var regexes: [String: RE2Pattern?] = [:]

    func re(_ p: String) -> RE2Pattern? {
        if let r = regexes[p] { return r }
        let r = try? RE2Pattern(p)
        regexes[p] = r
        return r
    }

    static func lower(_ s: String) -> [UInt8] {
        s.utf8.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }
    }

    static func hasPrefix(_ s: [UInt8], _ p: [UInt8]) -> Bool {
        s.count >= p.count && Array(s[0..<p.count]) == p
    }

    func stringMatch(_ m: FieldMatch, ignoreCase: Bool, _ value: String) -> Bool {
        let v = ignoreCase ? Evaluator.lower(value) : Array(value.utf8)
        func b(_ s: String) -> [UInt8] { ignoreCase ? Evaluator.lower(s) : Array(s.utf8) }
        switch m {
        case .exact(let x): return v == b(x)
        case .prefix(let x): return Evaluator.hasPrefix(v, b(x))
        case .suffix(let x): return v.count >= b(x).count && Array(v.suffix(b(x).count)) == b(x)
        case .contains(let x):
            let n = b(x)
            if n.isEmpty { return true }
            if v.count < n.count { return false }
            for i in 0...(v.count - n.count) where Array(v[i..<(i + n.count)]) == n { return true }
            return false
        case .regex(let r): return re(r)?.fullMatch(value) ?? false
        case .present: return true
        }
    }

    /// Envoy's truth table for one header/query condition; `value` nil = missing.
    func field(_ c: FieldConstraint, _ value: String?) -> Bool {
        if case .present(let p) = c.match {
            return value != nil || c.treatMissingAsEmpty ? (p != c.invert) : (p == c.invert)
        }
        guard let value else {
            if c.treatMissingAsEmpty { return stringMatch(c.match, ignoreCase: c.ignoreCase, "") != c.invert }
            return false
        }
        return stringMatch(c.match, ignoreCase: c.ignoreCase, value) != c.invert
    }

    func pathMatches(_ p: PathConstraint, _ path: String) -> Bool {
        switch p {
        case .prefix(let x, let cs):
            return cs
                ? Evaluator.hasPrefix(Array(path.utf8), Array(x.utf8)) : Evaluator.hasPrefix(Evaluator.lower(path), Evaluator.lower(x))
        case .exact(let x, let cs):
            return cs ? path == x : Evaluator.lower(path) == Evaluator.lower(x)
        case .pathSeparatedPrefix(let x, let cs):
            let s = cs ? Array(path.utf8) : Evaluator.lower(path)
            let q = cs ? Array(x.utf8) : Evaluator.lower(x)
            return s == q || Evaluator.hasPrefix(s, q + [0x2F])
        case .regex(let r):
            return re(r)?.fullMatch(path) ?? false
        }
    }

    /// Whether `route` matches the request (pseudo-headers read from the request's fields).
    func matches(_ route: RouteConstraint, _ w: EnvoyRequest) -> Bool {
        let path = w.path ?? ""
        var noQuery = path
        var queryString: String? = nil
        if let q = path.firstIndex(where: { $0 == "?" || $0 == "#" }) {
            noQuery = String(path[..<q])
            if path[q] == "?" {
                var rest = path[path.index(after: q)...]
                if let h = rest.firstIndex(of: "#") { rest = rest[..<h] }
                queryString = String(rest)
            }
        }
        func header(_ name: String) -> String? {
            if name == ":method" { return w.method }
            if name == ":authority" { return w.authority }
            let vals = w.headers.filter { $0.name == name }.map(\.value)
            return vals.isEmpty ? nil : vals.joined(separator: ",")
        }
        func query(_ name: String) -> String? {
            guard let qs = queryString else { return nil }
            for part in qs.split(separator: "&", omittingEmptySubsequences: true) {
                if let eq = part.firstIndex(of: "=") {
                    if part[..<eq] == name { return String(part[part.index(after: eq)...]) }
                } else if part == name {
                    return ""
                }
            }
            return nil
        }
        if route.grpc {
            guard let ct = header("content-type"), ct == "application/grpc" || ct.hasPrefix("application/grpc+") else { return false }
        }
        for h in route.headers where !field(h, header(h.name)) { return false }
        for q in route.query where !field(q, query(q.name)) { return false }
        return pathMatches(route.path, noQuery)
    }
}
