import Foundation
import XDSCDiagnostics
import XDSCEnvoy
import XDSCJSON
import XDSCRequest
import XDSCRouteEngine

/// `xdsc route`: one request through the engine, explained.
public enum RouteExplain {
    /// The request type of the engine.
    public typealias Request = EnvoyRequest

    /// Routes `request` through every table and renders the decisions; whether any matched.
    public static func render(_ tables: [LoadedRouteTable], _ request: EnvoyRequest, json asJSON: Bool, sources: [String: SourceFile])
        -> (String, Bool)
    {
        var matched = false
        var parts: [String] = []
        for t in tables {
            let d = t.engine.decide(request)
            matched = matched || d.matched
            parts.append(asJSON ? json(d, table: t.label).serialized() : human(d, table: t.label, sources: sources))
        }
        if asJSON { return (parts.count == 1 ? parts[0] + "\n" : "[\n" + parts.joined(separator: ",\n") + "\n]\n", matched) }
        return (parts.joined(separator: "\n"), matched)
    }
    /// A parsed `METHOD URL [-H ...]` request, or the usage problem.
    public static func request(
        method: String, url: String, headers: [String], randomValue: UInt64 = 0, internal isInternal: Bool = false
    ) -> Result<EnvoyRequest, RouteUsageError> {
        var scheme = "http"
        var authority: String?
        var path = url
        if let r = url.range(of: "://") {
            scheme = url[..<r.lowerBound].lowercased()
            let rest = url[r.upperBound...]
            let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
            authority = String(rest[..<slash])
            path = String(rest[slash...])
            if path.hasPrefix("?") { path = "/" + path }
            if path.isEmpty { path = "/" }
        } else if !url.hasPrefix("/") {
            return .failure(RouteUsageError("URL must be absolute (http://host/path) or a path starting with `/`, got `\(url)`"))
        }
        guard scheme == "http" || scheme == "https" else {
            return .failure(RouteUsageError("unsupported scheme `\(scheme)`; use http or https"))
        }
        var list: [HTTPHeader] = []
        for h in headers {
            guard let colon = h.firstIndex(of: ":"), colon != h.startIndex || h.dropFirst().contains(":") else {
                return .failure(RouteUsageError("header `\(h)` is not `name: value`"))
            }
            // `:authority: x` has its colon after the pseudo-header name.
            let split = h.hasPrefix(":") ? (h.dropFirst().firstIndex(of: ":") ?? colon) : colon
            let name = h[..<split].trimmingCharacters(in: .whitespaces).lowercased()
            let value = h[h.index(after: split)...].trimmingCharacters(in: .whitespaces)
            if name.isEmpty { return .failure(RouteUsageError("header `\(h)` has no name")) }
            switch name {
            case "host", ":authority": authority = value
            case ":path": path = value
            case ":scheme": scheme = value
            case ":method": break
            default: list.append(HTTPHeader(name, value))
            }
        }
        return .success(
            EnvoyRequest(
                method: method.uppercased(), scheme: scheme, authority: authority, path: path, headers: list, randomValue: randomValue,
                tls: scheme == "https", isInternal: isInternal))
    }

    /// A usage problem (exit 2).
    public struct RouteUsageError: Error, Sendable {
        /// What is wrong, for the message line.
        public var message: String
        /// A usage error with its message.
        public init(_ message: String) { self.message = message }
    }

    // MARK: - JSON

    static func origin(_ o: Origin?) -> JSON {
        guard let o else { return .null }
        var j = JSONObject()
        j["field"] = .string(o.path)
        if let s = o.span {
            j["file"] = .string(s.file)
            j["line"] = .integer(s.start.line)
            j["column"] = .integer(s.start.column)
        }
        return .object(j)
    }

    static func headers(_ m: HeaderMap) -> JSON {
        .array(m.entries.map { .object(["name": .string($0.name), "value": .string($0.value)]) })
    }

    /// The decision as the JSON `schemas/route.v1.schema.json` describes.
    public static func json(_ d: RouteDecision, table: String) -> JSON {
        var o = JSONObject()
        o["version"] = .integer(1)
        o["table"] = .string(table)
        let r = d.request
        var req = JSONObject()
        req["method"] = .string(r.method)
        req["scheme"] = .string(r.scheme)
        req["authority"] = r.authority.map(JSON.string) ?? .null
        req["path"] = r.path.map(JSON.string) ?? .null
        req["headers"] = .array(r.headers.map { .object(["name": .string($0.name), "value": .string($0.value)]) })
        req["random_value"] = .integer(Int64(bitPattern: r.randomValue))
        req["internal"] = .bool(r.isInternal)
        o["request"] = .object(req)
        o["matched"] = .bool(d.matched)
        if let vh = d.virtualHost {
            var v = JSONObject()
            v["name"] = .string(vh.name)
            v["index"] = .integer(vh.index)
            let (kind, domain): (String, String?) =
                switch vh.reason {
                case .onlyDefault: ("only-default", nil)
                case .exact(let x): ("exact", x)
                case .suffixWildcard(let x): ("suffix-wildcard", x)
                case .prefixWildcard(let x): ("prefix-wildcard", x)
                case .defaultHost: ("default", nil)
                }
            v["reason"] = .string(kind)
            v["domain"] = domain.map(JSON.string) ?? .null
            v["compared_host"] = vh.comparedHost.map(JSON.string) ?? .null
            v["require_tls"] = .string(d.tlsRequirement.rawValue)
            v["source"] = origin(vh.origin)
            o["virtual_host"] = .object(v)
        } else {
            o["virtual_host"] = .null
        }
        o["routes_tried"] = .array(
            d.attempts.map { a in
                var t = JSONObject()
                t["index"] = .integer(a.index)
                t["name"] = a.name.map(JSON.string) ?? .null
                t["matched"] = .bool(a.failure == nil)
                t["failed_condition"] = a.failure.map { .string($0.field) } ?? .null
                t["reason"] = a.failure.map { .string($0.description) } ?? .null
                t["source"] = origin(a.origin)
                return .object(t)
            })
        if let i = d.routeIndex {
            o["route"] = .object(["index": .integer(i), "name": d.routeName.map(JSON.string) ?? .null, "source": origin(d.routeOrigin)])
        } else {
            o["route"] = .null
        }
        var out = JSONObject()
        switch d.outcome {
        case .noRoute(let reason):
            out["kind"] = .string("no-route")
            out["status"] = .integer(404)
            out["response_flag"] = .string("NR")
            out["reason"] = .string(describe(reason))
        case .tlsRedirect(let red), .redirect(let red):
            if case .tlsRedirect = d.outcome { out["kind"] = .string("tls-redirect") } else { out["kind"] = .string("redirect") }
            out["status"] = .integer(red.status)
            out["location"] = .string(red.location)
            out["rewritten_path"] = red.rewrittenPath.map(JSON.string) ?? .null
            out["source"] = origin(red.origin)
        case .directResponse(let dr):
            out["kind"] = .string("direct-response")
            out["status"] = .integer(dr.status)
            out["body"] = .string(dr.body)
            out["source"] = origin(dr.origin)
        case .forward(let f):
            out["kind"] = .string("forward")
            out["cluster"] = .string(f.cluster)
            switch f.choice {
            case .named: out["cluster_from"] = .string("cluster")
            case .header(let name, let value):
                out["cluster_from"] = .string("cluster_header")
                out["cluster_header"] = .object(["name": .string(name), "value": value.map(JSON.string) ?? .null])
            case .weighted(let w):
                out["cluster_from"] = .string("weighted_clusters")
                out["weighted"] = .object([
                    "selection_value": .integer(Int64(bitPattern: w.selectionValue)), "value_source": .string(w.valueSource.rawValue),
                    "header_name": w.headerName.map(JSON.string) ?? .null, "total_weight": .integer(Int64(w.totalWeight)),
                    "bucket": .integer(Int64(w.bucket)), "picked": .integer(w.picked),
                    "clusters": .array(
                        w.entries.map {
                            .object([
                                "name": .string($0.name), "cluster_header": $0.clusterHeader.map(JSON.string) ?? .null,
                                "weight": .integer(Int64($0.weight)), "start": .integer(Int64($0.start)), "end": .integer(Int64($0.end)),
                                "source": origin($0.origin),
                            ])
                        }),
                ])
            }
            out["cluster_not_found_status"] = .integer(f.clusterNotFoundStatus)
            out["path"] = .object([
                "original": f.originalPath.map(JSON.string) ?? .null, "rewritten": f.rewrittenPath.map(JSON.string) ?? .null,
                "rewrite": f.pathRewrite.map(JSON.string) ?? .null,
            ])
            out["host"] = .object([
                "original": f.originalHost.map(JSON.string) ?? .null, "rewritten": f.rewrittenHost.map(JSON.string) ?? .null,
                "rewrite": f.hostRewrite.map(JSON.string) ?? .null, "auto_host_rewrite": .bool(f.autoHostRewrite),
            ])
            out["source"] = origin(f.origin)
        }
        o["outcome"] = .object(out)
        o["header_mutations"] = .array(
            d.mutations.map { m in
                .object([
                    "headers": .string(m.response ? "response" : "request"), "level": .string(m.level.rawValue),
                    "operation": .string(m.operation.rawValue), "name": .string(m.name), "value": m.value.map(JSON.string) ?? .null,
                    "source": origin(m.origin),
                ])
            })
        o["request_headers"] = headers(d.requestHeaders)
        o["response_headers"] = headers(d.responseHeaders)
        o["virtual_cluster"] = d.virtualCluster.map(JSON.string) ?? .null
        o["timeout"] = d.timeout.map { .string($0.description) } ?? .null
        o["idle_timeout"] = d.idleTimeout.map { .string($0.description) } ?? .null
        // Added in version 1 (additive: optional in the schema, so outputs of an older xdsc
        // still validate); set for forwards, null otherwise.
        o["timeout_from"] = d.timeoutSource.map { .string(timeoutFrom($0)) } ?? .null
        o["timeout_source"] = origin(d.timeoutOrigin)
        o["per_try_timeout"] = d.perTryTimeout.map { .string($0.description) } ?? .null
        o["expected_timeout_ms"] = d.expectedTimeout.map { .integer($0.nanoseconds / 1_000_000) } ?? .null
        o["grpc_timeout"] = d.grpcTimeoutHeader.map(JSON.string) ?? .null
        o["stream_duration"] = d.streamDuration.map { .string($0.description) } ?? .null
        o["stream_duration_source"] = origin(d.streamDurationOrigin)
        o["retry_policy"] = d.retryPolicy.map { $0.json } ?? .null
        o["mirrors"] = .array(d.mirrors.map(\.json))
        o["hash_policy"] = .array(d.hashPolicy.map(\.json))
        o["filter_configs"] = .array(
            d.filterConfigs.map {
                .object([
                    "filter": .string($0.filter), "level": .string($0.level.rawValue), "config": $0.config, "source": origin($0.origin),
                ])
            })
        return .object(o)
    }

    /// `timeout_from` in the JSON: where the router's timeout comes from.
    static func timeoutFrom(_ s: TimeoutSource) -> String {
        switch s {
        case .routeDefault: "default"
        case .route: "route"
        case .grpcTimeoutHeader: "grpc-timeout-header"
        case .maxGrpcTimeout: "max-grpc-timeout"
        case .maxStreamDuration: "max-stream-duration"
        case .upstreamTimeoutHeader: "upstream-timeout-header"
        case .expectedTimeoutHeader: "expected-timeout-header"
        }
    }

    /// Why the router's timeout is what it is, when it is not the route's `timeout`.
    static func timeoutNote(_ s: TimeoutSource?) -> String {
        switch s {
        case .routeDefault?, nil: " (default)"
        case .route?: ""
        case .grpcTimeoutHeader?: " (from grpc-timeout, max_grpc_timeout)"
        case .maxGrpcTimeout?: " (max_grpc_timeout)"
        case .maxStreamDuration?: " (none: the route sets max_stream_duration)"
        case .upstreamTimeoutHeader?: " (from x-envoy-upstream-rq-timeout-ms)"
        case .expectedTimeoutHeader?: " (from x-envoy-expected-rq-timeout-ms, respect_expected_rq_timeout)"
        }
    }

    static func describe(_ r: NoRouteReason) -> String {
        switch r {
        case .missingHost(let h): "the request has no `\(h)` header"
        case .noVirtualHost(let h): "no virtual host has a domain matching `\(h)` and there is no `*` host"
        case .missingForwardedProto: "the request has no x-forwarded-proto"
        case .noRouteMatched: "no route of the virtual host matches"
        }
    }

    static func describe(_ h: HashPolicy) -> String {
        switch h {
        case .header(let n): "header `\(n)`"
        case .cookie(let n): "cookie `\(n)`"
        case .sourceIP: "source IP"
        case .queryParameter(let n): "query parameter `\(n)`"
        case .filterState(let k): "filter state `\(k)`"
        case .terminal(let p): describe(p) + " (terminal)"
        }
    }

    // MARK: - Human

    static func at(_ o: Origin?) -> String {
        guard let o else { return "" }
        if let s = o.span { return s.description }
        return o.path.isEmpty ? "" : o.path
    }

    static func snippet(_ o: Origin?, sources: [String: SourceFile], maxLines: Int = 6) -> String {
        guard let s = o?.span, let file = sources[s.file] else { return "" }
        let last = min(max(s.end.line - (s.end.column == 1 ? 1 : 0), s.start.line), s.start.line + maxLines - 1)
        let width = String(last).count
        var out = ""
        for n in s.start.line...last {
            guard let line = file.line(n) else { break }
            out += "  " + String(repeating: " ", count: width - String(n).count) + "\(n) | " + line + "\n"
        }
        return out
    }

    /// The decision for people.
    public static func human(_ d: RouteDecision, table: String, sources: [String: SourceFile]) -> String {
        let r = d.request
        var out = "\(r.method) \(r.scheme)://\(r.authority ?? "")\(r.path ?? "")\n"
        out += "table: \(table)\n"
        guard let vh = d.virtualHost else {
            if case .noRoute(let reason) = d.outcome { out += "no virtual host: \(describe(reason))\n" }
            out += "outcome: 404 no route (response flag NR)\n"
            return out
        }
        let why: String =
            switch vh.reason {
            case .onlyDefault: "the only virtual host is `*`, so the Host header is not consulted"
            case .exact(let x): "exact domain `\(x)`"
            case .suffixWildcard(let x): "suffix wildcard `\(x)` (the longest that matches)"
            case .prefixWildcard(let x): "prefix wildcard `\(x)` (no suffix wildcard matches)"
            case .defaultHost: "no domain matches `\(vh.comparedHost ?? "")`; the `*` host takes it"
            }
        out += "virtual host `\(vh.name)` at \(at(vh.origin)): \(why)\n"
        if case .tlsRedirect(let red) = d.outcome {
            out += "require_tls \(d.tlsRequirement.rawValue): the request is not https\n"
            out += "outcome: \(red.status) redirect to \(red.location)\n"
            return out
        }
        if !d.attempts.isEmpty {
            out += "routes tried:\n"
            for a in d.attempts {
                let label = a.name.map { "`\($0)`" } ?? "#\(a.index + 1)"
                out += "  \(label) \(at(a.origin)): \(a.failure?.description ?? "matches")\n"
            }
        }
        guard d.routeIndex != nil else {
            out += "outcome: 404 no route (response flag NR): \(describe(.noRouteMatched))\n"
            return out
        }
        out += "winner: route \(d.routeName.map { "`\($0)`" } ?? "#\(d.routeIndex! + 1)") at \(at(d.routeOrigin))\n"
        out += snippet(d.routeOrigin, sources: sources)
        switch d.outcome {
        case .forward(let f):
            var line = "outcome: forward to cluster `\(f.cluster)`"
            switch f.choice {
            case .named: break
            case .header(let name, let value):
                let shown = value.map { "`\($0)`" } ?? "absent, so the cluster is empty and Envoy answers \(f.clusterNotFoundStatus) NC"
                line += " (cluster_header `\(name)`: \(shown))"
            case .weighted(let w):
                line += " (weighted: \(w.selectionValue) % \(w.totalWeight) = \(w.bucket)"
                line += w.valueSource == .header ? ", value from header `\(w.headerName ?? "")`)" : ")"
            }
            out += line + "\n"
            if case .weighted(let w) = f.choice {
                for (i, e) in w.entries.enumerated() {
                    out +=
                        "  \(i == w.picked ? "*" : " ") \(e.clusterHeader.map { "header `\($0)`" } ?? "`\(e.name)`") weight \(e.weight) [\(e.start), \(e.end))\n"
                }
            }
            if let p = f.rewrittenPath { out += "path: \(f.originalPath ?? "") -> \(p) (\(f.pathRewrite ?? "rewrite"))\n" }
            if let h = f.rewrittenHost { out += "host: \(f.originalHost ?? "") -> \(h) (\(f.hostRewrite ?? "rewrite"))\n" }
            if f.autoHostRewrite { out += "host: auto_host_rewrite (the upstream host's name, chosen later)\n" }
        case .redirect(let red):
            if let p = red.rewrittenPath { out += "path rewritten to \(p)\n" }
            out += "outcome: \(red.status) redirect to \(red.location)\n"
        case .directResponse(let dr):
            out += "outcome: direct response \(dr.status)\(dr.body.isEmpty ? "" : " with a \(dr.body.utf8.count)-byte body")\n"
        case .noRoute, .tlsRedirect: break
        }
        let changes = d.mutations.filter { $0.operation != .skipped }
        if !changes.isEmpty {
            out += "header changes, in order:\n"
            for m in changes {
                let what = m.operation == .remove ? "remove \(m.name)" : "\(m.operation.rawValue) \(m.name): \(m.value ?? "")"
                out += "  \(m.response ? "response" : "request") \(what) (\(m.level.rawValue)\(m.origin.span.map { ", \($0)" } ?? ""))\n"
            }
        }
        if let vc = d.virtualCluster { out += "virtual cluster: \(vc)\n" }
        if case .forward = d.outcome {
            var t = "timeout: \(d.timeout?.description ?? "15s")" + timeoutNote(d.timeoutSource)
            if let perTry = d.perTryTimeout { t += ", per try: \(perTry)" }
            if let stream = d.streamDuration { t += ", stream limit: \(stream)" }
            if let idle = d.idleTimeout { t += ", idle timeout: \(idle)" }
            out += t + "\n"
            var sent: [String] = []
            if let e = d.expectedTimeout { sent.append("x-envoy-expected-rq-timeout-ms: \(e.nanoseconds / 1_000_000)") }
            if let g = d.grpcTimeoutHeader { sent.append("grpc-timeout: \(g)") }
            if !sent.isEmpty { out += "timeout headers sent upstream: \(sent.joined(separator: ", "))\n" }
            if let rp = d.retryPolicy {
                out +=
                    "retries: \(rp.numRetries ?? 1) on \(rp.retryOn.joined(separator: ","))\(rp.perTryTimeout.map { ", per try \($0)" } ?? "")\n"
            } else {
                out += "retries: none\n"
            }
            for (i, m) in d.mirrors.enumerated() {
                let skipped = i < d.mirrorsFiring.count && !d.mirrorsFiring[i] ? " (not sampled for this request)" : ""
                out += "mirror: \(m.clusterHeader.map { "cluster_header `\($0)`" } ?? "`\(m.cluster)`")\(skipped)\n"
            }
            if !d.hashPolicy.isEmpty { out += "hash policy: \(d.hashPolicy.map(describe).joined(separator: ", "))\n" }
        }
        for f in d.filterConfigs { out += "filter config: \(f.filter) (\(f.level.rawValue))\n" }
        return out
    }
}
