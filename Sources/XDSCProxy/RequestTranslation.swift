import NIOCore
import NIOHTTP1
import XDSCEnvoy
import XDSCRequest
import XDSCRouteEngine

/// The connection manager's and router's header handling around the route engine
/// (`conn_manager_utility.cc`, `router.cc`), as pure functions.
enum RequestTranslation {
    /// Hop-by-hop headers the HTTP/1 codec consumes; never forwarded.
    static let hopByHop: Set<String> = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te"]

    /// The engine's request for an HTTP/1.1 request head (`mutateRequestHeaders`): Host
    /// becomes `:authority`; `x-forwarded-for`, the trusted client address and whether the
    /// request is internal follow `addressing` (``ClientAddressing``) for a request from
    /// `remoteAddress` (port `peerPort`) on a connection accepted on `localAddress`; a request that is not
    /// internal loses the control headers; `x-forwarded-proto` is set from the connection
    /// (`https` over TLS, else `http`) when absent, or always when the previous hop is not
    /// trusted; `:scheme` follows the connection; `x-request-id` is generated when absent or
    /// empty, and replaced at the edge unless `preserve_external_request_id`.
    static func envoyRequest(
        _ head: HTTPRequestHead, random: RandomSource, remoteAddress: String, peerPort: Int = 0, localAddress: String = "127.0.0.1",
        tls: Bool = false, addressing: ClientAddressing = ClientAddressing()
    ) -> EnvoyRequest {
        // An upgrade keeps its `connection` and `upgrade` headers (`mutateRequestHeaders`).
        let upgrade = upgradeType(head) != nil
        var headers: [HTTPHeader] = []
        var authority: String?
        var forwardedProto: Int?
        var via: Int?
        var requestID: Int?
        var forwardedFor: Int?
        var externalAddress: Int?
        var conditional = false
        let scheme = tls ? "https" : "http"
        let overwriteForwardedProto = addressing.overwritesForwardedProto
        headers.reserveCapacity(head.headers.count + 3)
        for (name, value) in head.headers {
            let n = name.asciiLowercased
            // An inline header (`via`, `x-forwarded-*`, `x-request-id`,
            // `x-envoy-external-address`): the codec joins repeats with `,` into the first
            // (`HeaderMapImpl::insertByKey`, `appendToHeader`). True when this one was joined;
            // otherwise `slot` remembers where the first goes.
            func joined(_ slot: inout Int?) -> Bool {
                if let i = slot {
                    headers[i] = HTTPHeader(lowerCaseName: n, Self.appended(headers[i].value, value))
                    return true
                }
                slot = headers.count
                return false
            }
            if n == "host" {
                if authority == nil { authority = value }
                continue
            }
            if upgrade && (n == "connection" || n == "upgrade") {
                headers.append(HTTPHeader(lowerCaseName: n, value))
                continue
            }
            // `sanitizeTEHeader`: of `te` only `trailers` is kept (gRPC sends it).
            if n == "te" {
                let tokens = value.split(separator: ",").map { RetryPlan.trimmed($0).lowercased() }
                if tokens.contains("trailers") && !headers.contains(where: { $0.name == "te" }) {
                    headers.append(HTTPHeader(lowerCaseName: "te", "trailers"))
                }
                continue
            }
            if isDropped(n) { continue }
            if n.utf8.first == UInt8(ascii: "v") && n == "via" {
                if joined(&via) { continue }
            } else if n.utf8.first == UInt8(ascii: "x") {
                switch n {
                case "x-forwarded-proto":
                    // `setReferenceForwardedProto` sets the (inline, single) header in place.
                    if overwriteForwardedProto {
                        if forwardedProto == nil {
                            forwardedProto = headers.count
                            headers.append(HTTPHeader(lowerCaseName: n, scheme))
                        }
                        continue
                    }
                    if joined(&forwardedProto) { continue }
                case "x-forwarded-for": if joined(&forwardedFor) { continue }
                case "x-request-id": if joined(&requestID) { continue }
                case "x-envoy-external-address": if joined(&externalAddress) { continue }
                default:
                    if addressing.isConditional(n) { conditional = true }
                }
            } else if !addressing.internalOnlyHeaders.isEmpty && addressing.isConditional(n) {
                conditional = true
            }
            headers.append(HTTPHeader(lowerCaseName: n, value))
        }
        let peer = remoteAddress
        let r = addressing.resolve(forwardedFor: forwardedFor.map { headers[$0].value }, peer: peer, local: localAddress)
        if let xff = r.forwardedFor {
            if let i = forwardedFor {
                headers[i] = HTTPHeader(lowerCaseName: "x-forwarded-for", xff)
            } else {
                headers.append(HTTPHeader(lowerCaseName: "x-forwarded-for", xff))
            }
        }
        if forwardedProto == nil { headers.append(HTTPHeader(lowerCaseName: "x-forwarded-proto", scheme)) }
        if !r.isInternal && conditional {
            let edge = r.isEdge
            headers.removeAll { addressing.removesFromExternal($0.name, edge: edge) }
            requestID = headers.firstIndex { $0.name == "x-request-id" }
            externalAddress = headers.firstIndex { $0.name == "x-envoy-external-address" }
            via = headers.firstIndex { $0.name == "via" }
        }
        // `Utility::appendVia`: after the clean-up, before `x-envoy-external-address`.
        if !addressing.via.isEmpty {
            if let i = via {
                headers[i] = HTTPHeader(lowerCaseName: "via", appendedVia(headers[i].value, addressing.via))
            } else {
                headers.append(HTTPHeader(lowerCaseName: "via", addressing.via))
            }
        }
        if let address = r.externalAddress {
            let h = HTTPHeader(lowerCaseName: "x-envoy-external-address", address)
            if let i = externalAddress { headers[i] = h } else { headers.append(h) }
        }
        if addressing.generateRequestId {
            let force = r.isEdge && !addressing.preserveExternalRequestId
            if let i = requestID {
                if force || headers[i].value.isEmpty { headers[i] = HTTPHeader(lowerCaseName: "x-request-id", random.uuid()) }
            } else {
                headers.append(HTTPHeader(lowerCaseName: "x-request-id", random.uuid()))
            }
        }
        var request = EnvoyRequest(
            method: head.method.rawValue, scheme: scheme, authority: authority, path: head.uri, headers: headers,
            randomValue: random.next(), tls: tls, isInternal: r.isInternal, remoteAddress: r.remoteAddress)
        if r.remoteAddress != peer { request.directRemoteAddress = peer }
        request.peerPort = peerPort
        return request
    }

    /// `HeaderMapImpl::appendToHeader` with `,`: an empty value adds nothing, and an empty
    /// header takes the value without a delimiter.
    static func appended(_ header: String, _ value: String) -> String {
        if value.isEmpty { return header }
        return header.isEmpty ? value : header + "," + value
    }

    /// `appendVia`: `appendToHeader` with `, ` as the delimiter.
    static func appendedVia(_ header: String, _ via: String) -> String {
        header.isEmpty ? via : header + ", " + via
    }

    /// `via` appended to a response's headers (`mutateResponseHeaders`): its repeats joined
    /// with `,` into the first, then `, ` and `via`; unchanged when `via` is empty.
    static func appendingVia(_ headers: [HTTPHeader], _ via: String) -> [HTTPHeader] {
        if via.isEmpty { return headers }
        var out: [HTTPHeader] = []
        out.reserveCapacity(headers.count + 1)
        var at: Int?
        for h in headers {
            if h.name == "via" {
                if let i = at {
                    out[i] = HTTPHeader(lowerCaseName: "via", appended(out[i].value, h.value))
                    continue
                }
                at = out.count
            }
            out.append(h)
        }
        if let i = at {
            out[i] = HTTPHeader(lowerCaseName: "via", appendedVia(out[i].value, via))
        } else {
            out.append(HTTPHeader(lowerCaseName: "via", via))
        }
        return out
    }

    /// A hop-by-hop header or `x-envoy-internal` (only the connection manager sets it): not
    /// in the request the routes see (`mutateRequestHeaders`). `content-length` stays, as in
    /// Envoy's header map: a route may match on it. Most names are neither, so the sets are
    /// asked only for names that start as their members do.
    static func isDropped(_ n: String) -> Bool {
        switch n.utf8.first {
        case UInt8(ascii: "x"): return n == "x-envoy-internal"
        default: return isHopByHop(n)
        }
    }

    /// One of ``hopByHop``; the set is asked only for names that start as its members do.
    static func isHopByHop(_ n: String) -> Bool {
        switch n.utf8.first {
        case UInt8(ascii: "c"), UInt8(ascii: "k"), UInt8(ascii: "p"), UInt8(ascii: "t"), UInt8(ascii: "u"): return hopByHop.contains(n)
        default: return false
        }
    }

    /// The HTTP/1.1 request the router sends upstream for a forward decision, with the body so
    /// far (all of it when `complete`; else the rest streams behind the head). Its
    /// `content-length` is the one the request's headers have after the route's mutations (the
    /// client's, unless a route removed it): Envoy's HTTP/1 codec frames the body by it, and
    /// chunks a body without one.
    /// The router's timeout headers are the engine's (`setTimeoutHeaders`, router.cc):
    /// `x-envoy-expected-rq-timeout-ms` when there is a timeout, and `grpc-timeout` rewritten
    /// under `max_grpc_timeout` or `max_stream_duration`.
    static func upstreamRequest(_ d: RouteDecision, body: ByteBuffer, complete: Bool = true) -> UpstreamRequest {
        // Built as one array, as the response headers are: no per-`add` checks on names the
        // encoder validates anyway (UpstreamRequestEncoder).
        var fields: [(String, String)] = []
        fields.reserveCapacity(d.requestHeaders.entries.count + 2)
        var path = "/"
        var length: String?
        for e in d.requestHeaders.entries {
            switch e.name {
            case ":authority": fields.append(("host", e.value))
            // One length frames the body (the codec refuses repeats that differ).
            case "content-length":
                if length == nil {
                    length = e.value
                    fields.append((e.name, e.value))
                }
            case ":path": path = e.value
            case ":method", ":scheme": break
            // The router consumes its retry and timeout headers (internal requests keep them
            // until here): `RetryStateImpl::create`, `FilterUtility::finalTimeout`.
            case let n where n.utf8.starts(with: "x-envoy-".utf8) && RetryPlan.consumedHeaders.contains(n): break
            default: fields.append((e.name, e.value))
            }
        }
        var headers = HTTPHeaders(fields)
        if let t = d.expectedTimeout, t.nanoseconds > 0 {
            headers.replaceOrAdd(name: "x-envoy-expected-rq-timeout-ms", value: String(t.nanoseconds / 1_000_000))
        }
        if let g = d.grpcTimeoutHeader { headers.replaceOrAdd(name: "grpc-timeout", value: g) }
        let method = d.request.method
        if length == nil {
            if !complete || body.readableBytes > 0 {
                // A body without a length (chunked, or HTTP/2 DATA) is chunked: Envoy's HTTP/1
                // codec chunks a request whose headers do not end the stream.
                headers.replaceOrAdd(name: "transfer-encoding", value: "chunked")
            } else if method == "POST" || method == "PUT" || method == "PATCH" {
                headers.replaceOrAdd(name: "content-length", value: "0")
            }
        }
        return UpstreamRequest(method: HTTPMethod(rawValue: d.request.method), uri: path, headers: headers, body: body)
    }

    /// The upstream response's headers as the client gets them: hop-by-hop removed (the
    /// upstream's `content-length` stays: the body streams through as it came), then the
    /// route's response mutations. A 101 (`upgrade`) keeps `connection` and `upgrade` and has
    /// no length.
    static func responseHeaders(
        upstream: [(name: String, value: String)], upgrade: Bool = false, engine: RouteEngine, decision: RouteDecision
    ) -> [HTTPHeader] {
        var seed: [HTTPHeader] = []
        for (n, v) in upstream {
            // An upgrade keeps its `connection` and `upgrade`; a 101 has no body to measure.
            let keep = upgrade && (n == "connection" || n == "upgrade")
            if upgrade && n == "content-length" { continue }
            // The names come lower-cased (UpstreamResponseHandler).
            if keep || !isHopByHop(n) { seed.append(HTTPHeader(lowerCaseName: n, v)) }
        }
        return engine.finalizeResponseHeaders(seed, of: decision).entries
    }

    /// The `upgrade` header's value when the request asks for an upgrade
    /// (`Utility::isUpgrade`: `connection` lists `upgrade` and `upgrade` is set).
    static func upgradeType(_ head: HTTPRequestHead) -> String? {
        // Almost no request has an `upgrade` header: answered without splitting `connection`.
        guard head.headers.contains(name: "upgrade") else { return nil }
        let tokens = head.headers["connection"].flatMap { $0.split(separator: ",") }.map { RetryPlan.trimmed($0).lowercased() }
        guard tokens.contains("upgrade"), let type = head.headers.first(name: "upgrade"), !type.isEmpty else { return nil }
        return type
    }

    /// Whether an upgrade of `type` may go through (`createUpgradeFilterChain`,
    /// http_connection_manager config.cc), names compared case-insensitively: a route entry
    /// with `enabled: false` refuses it; otherwise a route entry or the connection manager's
    /// enabled entry allows it.
    static func upgradeAllowed(_ type: String, route: [String], refusedByRoute: [String] = [], manager: [String]) -> Bool {
        let t = type.lowercased()
        if refusedByRoute.contains(where: { $0.lowercased() == t }) { return false }
        return (route + manager).contains { $0.lowercased() == t }
    }

    /// The bytes of a `101 Switching Protocols` head, written once the HTTP codec is gone.
    static func switchingProtocolsHead(_ headers: [HTTPHeader]) -> String {
        var text = "HTTP/1.1 101 Switching Protocols\r\n"
        for h in headers { text += "\(h.name): \(h.value)\r\n" }
        return text + "\r\n"
    }

    /// Envoy's local reply headers for `body` (`sendLocalReply`: text/plain when not empty).
    static func localReplyHeaders(body: String) -> [HTTPHeader] {
        if body.isEmpty { return [HTTPHeader(lowerCaseName: "content-length", "0")] }
        return [
            HTTPHeader(lowerCaseName: "content-length", String(body.utf8.count)), HTTPHeader(lowerCaseName: "content-type", "text/plain"),
        ]
    }
}
