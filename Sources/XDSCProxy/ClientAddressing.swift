import XDSCEnvoy

/// How a connection manager finds a request's trusted client address and whether the request
/// is internal, and what follows for `x-forwarded-for`, `x-envoy-internal`,
/// `x-envoy-external-address`, `x-request-id` and the control headers
/// (`ConnectionManagerUtility::mutateRequestHeaders` and `cleanInternalHeaders`,
/// source/common/http/conn_manager_utility.cc; `Utility::getLastAddressFromXFF` and
/// `appendXff`, source/common/http/utility.cc), as pure functions.
struct ClientAddressing: Sendable {
    /// `use_remote_address`.
    var useRemoteAddress = false
    /// `xff_num_trusted_hops`.
    var xffNumTrustedHops: UInt32 = 0
    /// `skip_xff_append`.
    var skipXffAppend = false
    /// `internal_address_config`; nil treats no address as internal.
    var internalAddresses: HttpConnectionManager.InternalAddressConfig?
    /// `generate_request_id`.
    var generateRequestId = true
    /// `preserve_external_request_id`.
    var preserveExternalRequestId = false
    /// `via` (empty: none), appended to requests and responses (`Utility::appendVia`).
    var via = ""
    /// The route table's `internal_only_headers`, lower-cased: removed from external requests.
    var internalOnlyHeaders: Set<String> = []

    /// Envoy's defaults (no `use_remote_address`, no internal addresses).
    init() {}

    /// The settings of connection manager `cm`.
    init(_ cm: HttpConnectionManager) {
        useRemoteAddress = cm.useRemoteAddress
        xffNumTrustedHops = cm.xffNumTrustedHops
        skipXffAppend = cm.skipXffAppend
        internalAddresses = cm.internalAddressConfig
        generateRequestId = cm.generateRequestId
        preserveExternalRequestId = cm.preserveExternalRequestId
        via = cm.via
        internalOnlyHeaders = Set((cm.routeConfiguration?.internalOnlyHeaders ?? []).map { $0.lowercased() })
    }

    /// A client's `x-forwarded-proto` is replaced by the connection's scheme: the previous
    /// hop is not a trusted proxy.
    var overwritesForwardedProto: Bool { useRemoteAddress && xffNumTrustedHops == 0 }

    /// What the connection manager decided about one request.
    struct Resolution: Equatable {
        /// The `x-forwarded-for` value to send; nil for none.
        var forwardedFor: String?
        /// The trusted client address (the stream's downstream remote address).
        var remoteAddress: String
        /// The request is internal: it gets `x-envoy-internal: true` and keeps its control headers.
        var isInternal: Bool
        /// An external request at the edge (`use_remote_address`): it gets
        /// `x-envoy-external-address` and a new `x-request-id`, and loses the edge-only headers.
        var isEdge: Bool
        /// The `x-envoy-external-address` to set, if any.
        var externalAddress: String?
    }

    /// Resolves a request that arrived with `forwardedFor` (its `x-forwarded-for` values
    /// joined with `,`, nil when absent) from `peer`, on a connection whose local address is
    /// `local`.
    ///
    /// A loopback peer is appended as the connection manager's local address
    /// (`config.localAddress()`, Envoy's node address); the proxy uses the address the
    /// connection was accepted on, `local`, which for a loopback listener is loopback too.
    func resolve(forwardedFor: String?, peer: String, local: String) -> Resolution {
        // Most requests: no `use_remote_address` and no XFF, so the peer is the address and
        // the request is external (nothing to parse).
        if !useRemoteAddress && forwardedFor == nil {
            return Resolution(forwardedFor: nil, remoteAddress: peer, isInternal: false, isEdge: false, externalAddress: nil)
        }
        let peerIP = IPAddress(peer)
        var trusted: IPAddress?
        var allowTrustedAddressChecks = false
        var xff = forwardedFor
        if useRemoteAddress {
            allowTrustedAddressChecks = forwardedFor == nil
            if xffNumTrustedHops > 0, let forwardedFor {
                trusted = Self.lastAddress(forwardedFor, skipping: xffNumTrustedHops - 1).address
            }
            if !skipXffAppend, let peerIP {
                // `appendXff` adds nothing for a peer that is not an IP address.
                let appended = peerIP.isLoopback ? (IPAddress(local)?.description ?? local) : peerIP.description
                xff = xff.map { $0.isEmpty ? appended : $0 + "," + appended } ?? appended
            }
            if trusted == nil {
                return finish(trusted: peerIP, text: peerIP?.description ?? peer, peer: peer, allow: allowTrustedAddressChecks, xff: xff)
            }
        } else if let forwardedFor {
            // The default original IP detection: the XFF extension with the same trusted hops.
            let r = Self.lastAddress(forwardedFor, skipping: xffNumTrustedHops)
            trusted = r.address
            allowTrustedAddressChecks = r.single
        }
        return finish(
            trusted: trusted, text: trusted?.description ?? peerIP?.description ?? peer, peer: peer, allow: allowTrustedAddressChecks,
            xff: xff)
    }

    private func finish(trusted: IPAddress?, text: String, peer: String, allow: Bool, xff: String?) -> Resolution {
        // Internal only with a single trusted address that the internal address config lists.
        let isInternal = allow && trusted.map { internalAddresses?.isInternal($0) ?? false } == true
        let edge = !isInternal && useRemoteAddress
        // An address that did not parse is not an IP: no `x-envoy-external-address`.
        let external = edge ? (trusted ?? IPAddress(text))?.description : nil
        return Resolution(forwardedFor: xff, remoteAddress: text, isInternal: isInternal, isEdge: edge, externalAddress: external)
    }

    /// `Utility::getLastAddressFromXFF`: the address `skipping` entries from the right of
    /// `xff` (split on `,`, the entry trimmed of spaces and tabs), and whether it was the
    /// only entry (and none was skipped); nil when there are too few entries or the entry is
    /// not an IP address.
    static func lastAddress(_ xff: String, skipping: UInt32) -> (address: IPAddress?, single: Bool) {
        var rest = Substring(xff)
        for _ in 0..<skipping {
            guard let comma = rest.lastIndex(of: ",") else { return (nil, false) }
            rest = rest[..<comma]
        }
        var entry = rest
        let comma = rest.lastIndex(of: ",")
        if let comma, rest.index(after: comma) < rest.endIndex { entry = rest[rest.index(after: comma)...] }
        let trimmed = entry.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed()
        guard let address = IPAddress(String(trimmed)) else { return (nil, false) }
        return (address, comma == nil && skipping == 0)
    }

    /// Control headers `cleanInternalHeaders` removes from every request that is not
    /// internal (an incoming `x-envoy-internal` is removed from every request before).
    static let externalControlHeaders: Set<String> = [
        "x-envoy-retriable-status-codes", "x-envoy-retriable-header-names", "x-envoy-retry-on", "x-envoy-retry-grpc-on",
        "x-envoy-max-retries", "x-envoy-upstream-alt-stat-name", "x-envoy-upstream-rq-timeout-ms",
        "x-envoy-upstream-rq-per-try-timeout-ms", "x-envoy-upstream-rq-timeout-alt-response", "x-envoy-expected-rq-timeout-ms",
        "x-envoy-force-trace", "x-envoy-ip-tags", "x-envoy-original-url", "x-envoy-hedge-on-per-try-timeout",
    ]

    /// Removed from edge requests only: the decorator and downstream-service headers, and
    /// the original path and host of an earlier hop (`sanitize_original_path`).
    static let edgeControlHeaders: Set<String> = [
        "x-envoy-decorator-operation", "x-envoy-downstream-service-cluster", "x-envoy-downstream-service-node",
        "x-envoy-original-path", "x-envoy-original-host",
    ]

    /// Whether header `name` may be removed once the request is known not to be internal
    /// (most names are not: asked only for those that start as a control header does, or
    /// when the route table has internal-only headers).
    func isConditional(_ name: String) -> Bool {
        if name.utf8.starts(with: "x-envoy-".utf8)
            && (Self.externalControlHeaders.contains(name) || Self.edgeControlHeaders.contains(name))
        {
            return true
        }
        return !internalOnlyHeaders.isEmpty && internalOnlyHeaders.contains(name)
    }

    /// Whether `cleanInternalHeaders` removes header `name` from a request that is not
    /// internal (`edge`: also at the edge).
    func removesFromExternal(_ name: String, edge: Bool) -> Bool {
        Self.externalControlHeaders.contains(name) || internalOnlyHeaders.contains(name)
            || (edge && Self.edgeControlHeaders.contains(name))
    }
}
