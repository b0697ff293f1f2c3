import XDSCJSON

/// One request as Envoy's route table sees it: the pseudo-headers, the other headers in
/// arrival order, and the per-stream facts routing reads (the random value, TLS, whether
/// the request is internal, dynamic metadata).
///
/// This is the one request type of the route engine, `xdsc route`, `xdsc test routes` and
/// the shadowing analysis's replay; `HTTPRequest`, `ExampleRequest` and `WitnessRequest`
/// convert to it (and are meant to be folded into it).
public struct EnvoyRequest: Equatable, Sendable {
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
    /// The downstream remote address (formatters such as `%DOWNSTREAM_REMOTE_ADDRESS%`).
    public var remoteAddress: String
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

    /// The request of the older evaluator's type.
    public init(_ r: HTTPRequest, randomValue: UInt64 = 0) {
        let isInternal = r.headers.contains { $0.name.asciiLowercased == "x-envoy-internal" && $0.value == "true" }
        self.init(
            method: r.method, scheme: r.scheme, authority: r.authority, path: r.path,
            headers: r.headers.map { HTTPHeader($0.name.asciiLowercased, $0.value) }, randomValue: randomValue,
            tls: r.scheme == "https", isInternal: isInternal)
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

/// One header: a lower-case name and a value.
public struct HTTPHeader: Equatable, Hashable, Sendable {
    /// The name, lower-case.
    public var name: String
    /// The value.
    public var value: String

    /// A header; the name is lower-cased.
    public init(_ name: String, _ value: String) {
        self.name = name.asciiLowercased
        self.value = value
    }

    /// A header whose name is known to be lower-case already.
    init(lowerCaseName name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// An ordered, multi-valued header map with Envoy's operations (`get` joins repeats with
/// `,` as header matchers see them; `set` replaces every occurrence in place of the first).
public struct HeaderMap: Equatable, Sendable {
    /// The entries in order.
    public private(set) var entries: [HTTPHeader] = []

    /// An empty map.
    public init() {}

    /// A map of these entries.
    public init(_ entries: [HTTPHeader]) { self.entries = entries }

    /// Every value of `name`, in order.
    public func values(_ name: String) -> [String] {
        let n = name.lowercasedIfNeeded
        return entries.filter { $0.name == n }.map(\.value)
    }

    /// The values of `name` joined with `,` (no space), or nil when absent.
    public func get(_ name: String) -> String? {
        guard let i = firstIndex(name) else { return nil }
        let n = entries[i].name
        var out = entries[i].value
        for e in entries[(i + 1)...] where e.name == n { out += "," + e.value }
        return out
    }

    /// The first value of `name`, or nil.
    public func first(_ name: String) -> String? {
        firstIndex(name).map { entries[$0].value }
    }

    /// Whether `name` is present.
    public func has(_ name: String) -> Bool { firstIndex(name) != nil }

    /// The first entry named `name`. Names are stored lower-case and asked for lower-case
    /// (literals, the model's names), so a name is lower-cased only when it is not found as is.
    func firstIndex(_ name: String) -> Int? {
        if let i = entries.firstIndex(where: { $0.name == name }) { return i }
        let n = name.lowercasedIfNeeded
        guard n != name else { return nil }
        return entries.firstIndex { $0.name == n }
    }

    /// Appends another occurrence.
    public mutating func add(_ name: String, _ value: String) { entries.append(HTTPHeader(name, value)) }

    /// Replaces every occurrence with one value at the first one's place (or at the end).
    public mutating func set(_ name: String, _ value: String) {
        let n = name.lowercasedIfNeeded
        if let i = entries.firstIndex(where: { $0.name == n }) {
            entries[i].value = value
            var j = entries.count - 1
            while j > i {
                if entries[j].name == n { entries.remove(at: j) }
                j -= 1
            }
        } else {
            entries.append(HTTPHeader(n, value))
        }
    }

    /// Removes every occurrence.
    public mutating func remove(_ name: String) {
        let n = name.lowercasedIfNeeded
        entries.removeAll { $0.name == n }
    }
}

extension String {
    /// The path without query string and fragment (`Http::PathUtil::removeQueryAndFragment`):
    /// everything before the first `?` or `#` byte. Bytes, not characters: a `?` followed by
    /// a combining mark still ends the path, as in Envoy.
    public var pathWithoutQuery: Substring {
        let end = utf8.firstIndex(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) ?? endIndex
        return self[..<end]
    }

    /// `asciiLowercased`, without a copy when the name is already lower-case (the common case:
    /// the model stores header names lower-cased).
    var lowercasedIfNeeded: String {
        utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) ? asciiLowercased : self
    }
}
