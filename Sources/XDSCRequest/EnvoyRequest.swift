import XDSCJSON

/// One request as Envoy's route table sees it: the pseudo-headers, the other headers in
/// arrival order, and the per-stream facts routing reads (the random value, TLS, whether
/// the request is internal, dynamic metadata).
///
/// This is xdsc's one request type: matcher evaluation on the Envoy model, the route
/// engine (`xdsc route`, `xdsc test routes`), the shadowing analysis's witnesses and their
/// replay, the example request a diagnostic carries, the embedded proxy and the diff all
/// take it. It lives in its own module below both the diagnostics and the Envoy model,
/// since a diagnostic shows one and the model evaluates one.
public struct EnvoyRequest: Hashable, Sendable {
    /// `:method`.
    public var method: String
    /// `:scheme`; also `x-forwarded-proto` unless the headers carry one.
    public var scheme: String
    /// `:authority` (the Host header), or nil when absent.
    public var authority: String?
    /// `:path`, with its query string; nil for a path-less CONNECT.
    public var path: String?
    /// Other headers in arrival order, names lower-case; repeats are kept.
    public var headers: [HTTPHeader]
    /// The stream's random value (`runtime_fraction`, weighted clusters).
    public var randomValue: UInt64
    /// The downstream connection is TLS.
    public var tls: Bool
    /// `x-envoy-internal: true` (an internal request for `require_tls: EXTERNAL_ONLY`).
    public var isInternal: Bool
    /// The downstream remote address (formatters such as `%DOWNSTREAM_REMOTE_ADDRESS%`, the
    /// `source_ip` hash): the trusted client address the connection manager found
    /// (`x-forwarded-for` and `xff_num_trusted_hops`), else the peer.
    public var remoteAddress: String
    /// The connection's peer when it differs from `remoteAddress`
    /// (`%DOWNSTREAM_DIRECT_REMOTE_ADDRESS%`); nil when they are the same.
    public var directRemoteAddress: String?
    /// The port of the connection's peer (`%DOWNSTREAM_REMOTE_ADDRESS%` is `ip:port`); 0
    /// when unknown (`xdsc route`, the route-check tool).
    public var peerPort: Int = 0

    /// `%DOWNSTREAM_REMOTE_ADDRESS%`: the remote address with its port, IPv6 in brackets
    /// (`Address::Ipv6Instance::asString`). A remote address taken from `x-forwarded-for`
    /// has port 0, as Envoy parses it (`getLastAddressFromXFF`, no port).
    public var remoteAddressWithPort: String {
        Self.withPort(remoteAddress, directRemoteAddress == nil ? peerPort : 0)
    }

    /// `%DOWNSTREAM_DIRECT_REMOTE_ADDRESS%`: the peer with its port.
    public var directRemoteAddressWithPort: String { Self.withPort(directRemoteAddress ?? remoteAddress, peerPort) }

    /// `ip:port`, or `[ip]:port` for IPv6, as Envoy's address `asString()`.
    public static func withPort(_ ip: String, _ port: Int) -> String {
        ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }

    /// This request from a peer on `port` (the proxy passes the connection's).
    public func withPeerPort(_ port: Int) -> EnvoyRequest {
        var r = self
        r.peerPort = port
        return r
    }
    /// Dynamic metadata by namespace (a `google.protobuf.Struct` each).
    public var dynamicMetadata: JSONObject

    /// A request.
    public init(
        method: String = "GET", scheme: String = "http", authority: String?, path: String?, headers: [HTTPHeader] = [],
        randomValue: UInt64 = 0, tls: Bool = false, isInternal: Bool = false, remoteAddress: String = "127.0.0.1",
        dynamicMetadata: JSONObject = [:]
    ) {
        self.method = method
        self.scheme = scheme
        self.authority = authority
        self.path = path
        self.headers = headers
        self.randomValue = randomValue
        self.tls = tls
        self.isInternal = isInternal
        self.remoteAddress = remoteAddress
        self.dynamicMetadata = dynamicMetadata
    }

    /// The header map the router sees, in the order Envoy's route-check tool builds it:
    /// `:authority`, `:path`, `:method`, `x-forwarded-proto`, `:scheme`, then
    /// `x-envoy-internal` and the other headers.
    public var headerMap: HeaderMap {
        var entries: [HTTPHeader] = []
        entries.reserveCapacity(headers.count + 6)
        if let authority { entries.append(HTTPHeader(lowerCaseName: ":authority", authority)) }
        if let path { entries.append(HTTPHeader(lowerCaseName: ":path", path)) }
        entries.append(HTTPHeader(lowerCaseName: ":method", method))
        if !headers.contains(where: { $0.name == "x-forwarded-proto" }) {
            entries.append(HTTPHeader(lowerCaseName: "x-forwarded-proto", scheme))
        }
        entries.append(HTTPHeader(lowerCaseName: ":scheme", scheme))
        if isInternal && !headers.contains(where: { $0.name == "x-envoy-internal" }) {
            entries.append(HTTPHeader(lowerCaseName: "x-envoy-internal", "true"))
        }
        for h in headers { entries.append(HTTPHeader(h.name, h.value)) }
        return HeaderMap(entries)
    }
}

extension EnvoyRequest {
    /// Hashes every field but the dynamic metadata (equal requests still hash equal).
    public func hash(into h: inout Hasher) {
        h.combine(method)
        h.combine(scheme)
        h.combine(authority)
        h.combine(path)
        h.combine(headers)
        h.combine(randomValue)
        h.combine(tls)
        h.combine(isInternal)
        h.combine(remoteAddress)
        h.combine(directRemoteAddress)
        h.combine(peerPort)
    }
}
