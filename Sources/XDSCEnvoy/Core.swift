import XDSCJSON

/// A model type that writes itself as Envoy's protobuf JSON: fields in `.proto`
/// declaration order, defaults Envoy already applies left out.
public protocol EnvoyEncodable: Sendable {
    /// The JSON value of this message.
    var json: JSON { get }
    /// Writes this value as the next value of `stream`: by default its `json`.
    func encode(to stream: inout JSONStream)
    /// Writes the members of this message's JSON object to `fields`: by default those of
    /// its `json` (nothing when that is not an object).
    func encodeFields<F: EnvoyFields>(into fields: inout F)
}

extension EnvoyEncodable {
    /// `json`, written whole.
    public func encode(to stream: inout JSONStream) { stream.value(json) }

    /// The members of `json`, in order.
    public func encodeFields<F: EnvoyFields>(into fields: inout F) {
        for (k, v) in json.objectValue?.members ?? [] { fields.put(k, v) }
    }
}

/// A message whose members are written once, by `encodeFields`, for both encodings: its
/// `json` tree and its stream. The large containers (bootstrap, listeners, route tables,
/// virtual hosts) are such messages, so `xdsc build` never holds the tree of a whole file.
public protocol EnvoyMessage: EnvoyEncodable {}

extension EnvoyMessage {
    /// The object `encodeFields` writes.
    public var json: JSON {
        var o = JSONObject()
        encodeFields(into: &o)
        return .object(o)
    }

    /// The object `encodeFields` writes, member by member.
    public func encode(to stream: inout JSONStream) {
        stream.beginObject()
        encodeFields(into: &stream)
        stream.end()
    }
}

/// Where a message writes its members: a `JSONObject` (the tree) or a `JSONStream` (an open
/// object). A message writes each key once, in order.
public protocol EnvoyFields {
    /// Writes `key` with a whole JSON value.
    mutating func put(_ key: String, _ value: JSON)
    /// Writes `key` with an encodable value.
    mutating func put<T: EnvoyEncodable>(_ key: String, message value: T)
    /// Writes `key` with an array of encodable values.
    mutating func putList<T: EnvoyEncodable>(_ key: String, _ values: [T])
    /// Writes `key` with an array of values of different types.
    mutating func putList(_ key: String, mixed values: [any EnvoyEncodable])
    /// Writes `key` with an object whose members `body` writes.
    mutating func putObject(_ key: String, _ body: (inout Self) -> Void)
}

extension EnvoyFields {
    /// Writes `key` only when `value` is non-nil: the idiom for optional fields.
    public mutating func set(_ key: String, _ value: JSON?) {
        if let value { put(key, value) }
    }

    /// Writes `key` with the JSON of `value` when it is present.
    public mutating func set<T: EnvoyEncodable>(_ key: String, _ value: T?) {
        if let value { put(key, message: value) }
    }

    /// Writes `key` with an array of the JSON of `values` when it is not empty.
    public mutating func setList<T: EnvoyEncodable>(_ key: String, _ values: [T]) {
        if !values.isEmpty { putList(key, values) }
    }

    /// Writes `key` with an array of strings when it is not empty.
    public mutating func setStrings(_ key: String, _ values: [String]) {
        if !values.isEmpty { put(key, .array(values.map(JSON.string))) }
    }
}

extension JSONObject: EnvoyFields {
    /// Sets `key`.
    public mutating func put(_ key: String, _ value: JSON) { self[key] = value }
    /// Sets `key` to `value.json`.
    public mutating func put<T: EnvoyEncodable>(_ key: String, message value: T) { self[key] = value.json }
    /// Sets `key` to the array of the values' JSON.
    public mutating func putList<T: EnvoyEncodable>(_ key: String, _ values: [T]) { self[key] = .array(values.map(\.json)) }
    /// Sets `key` to the array of the values' JSON.
    public mutating func putList(_ key: String, mixed values: [any EnvoyEncodable]) {
        self[key] = .array(values.map(\.json))
    }
    /// Sets `key` to the object `body` fills.
    public mutating func putObject(_ key: String, _ body: (inout JSONObject) -> Void) {
        var o = JSONObject()
        body(&o)
        self[key] = .object(o)
    }
}

extension JSONStream: EnvoyFields {
    /// Writes the member.
    public mutating func put(_ key: String, _ value: JSON) { member(key, value) }
    /// Writes the key, then streams `value`.
    public mutating func put<T: EnvoyEncodable>(_ key: String, message value: T) {
        self.key(key)
        value.encode(to: &self)
    }
    /// Writes the key, then streams the array element by element.
    public mutating func putList<T: EnvoyEncodable>(_ key: String, _ values: [T]) {
        self.key(key)
        beginArray()
        for v in values { v.encode(to: &self) }
        end()
    }
    /// Writes the key, then streams the array element by element.
    public mutating func putList(_ key: String, mixed values: [any EnvoyEncodable]) {
        self.key(key)
        beginArray()
        for v in values { v.encode(to: &self) }
        end()
    }
    /// Writes the key, then the object `body` writes.
    public mutating func putObject(_ key: String, _ body: (inout JSONStream) -> Void) {
        self.key(key)
        beginObject()
        body(&self)
        end()
    }
}

extension EnvoyDuration: EnvoyEncodable {}

/// `envoy.config.core.v3.SocketAddress` inside an `Address`.
public struct SocketAddress: Equatable, Sendable, EnvoyEncodable {
    /// An IP literal (listeners, admin, STATIC endpoints) or a DNS name (DNS clusters).
    public var address: String
    /// The port; `port_value` in the proto.
    public var portValue: Int

    /// An address and a port.
    public init(address: String, portValue: Int) {
        self.address = address
        self.portValue = portValue
    }

    /// `{"socket_address": {"address": ..., "port_value": ...}}`: the `Address` wrapper.
    public var json: JSON {
        .object(["socket_address": .object(["address": .string(address), "port_value": .integer(portValue)])])
    }
}

/// `envoy.config.core.v3.DataSource` with the kinds xdsc writes.
public enum DataSource: Equatable, Sendable, EnvoyEncodable {
    /// A file Envoy reads at load time.
    case filename(String)
    /// Literal text.
    case inlineString(String)

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        switch self {
        case .filename(let f): .object(["filename": .string(f)])
        case .inlineString(let s): .object(["inline_string": .string(s)])
        }
    }
}

/// `envoy.type.v3.FractionalPercent` (numerator out of 100, 10 000 or 1 000 000).
public struct FractionalPercent: Equatable, Sendable, EnvoyEncodable {
    /// The denominator enum of the proto.
    public enum Denominator: String, Sendable {
        case hundred = "HUNDRED"
        case tenThousand = "TEN_THOUSAND"
        case million = "MILLION"
        /// The numeric value of the denominator.
        public var value: UInt64 {
            switch self {
            case .hundred: 100
            case .tenThousand: 10_000
            case .million: 1_000_000
            }
        }
    }

    /// The numerator.
    public var numerator: UInt32
    /// The denominator; `HUNDRED` is the proto default and is not written.
    public var denominator: Denominator

    /// `numerator`/`denominator`.
    public init(numerator: UInt32, denominator: Denominator = .hundred) {
        self.numerator = numerator
        self.denominator = denominator
    }

    /// A whole percentage.
    public static func percent(_ p: Int) -> FractionalPercent { FractionalPercent(numerator: UInt32(p)) }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        var o = JSONObject()
        o["numerator"] = .integer(numerator)
        if denominator != .hundred { o["denominator"] = .string(denominator.rawValue) }
        return .object(o)
    }
}

/// `envoy.config.core.v3.RuntimeFractionalPercent`.
public struct RuntimeFractionalPercent: Equatable, Sendable, EnvoyEncodable {
    /// The percentage used when the runtime key is unset.
    public var defaultValue: FractionalPercent
    /// The runtime key that can override it.
    public var runtimeKey: String?

    /// A runtime percentage.
    public init(defaultValue: FractionalPercent, runtimeKey: String? = nil) {
        self.defaultValue = defaultValue
        self.runtimeKey = runtimeKey
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        var o = JSONObject()
        o.set("default_value", defaultValue)
        o.set("runtime_key", runtimeKey.map(JSON.string))
        return .object(o)
    }
}

/// `envoy.config.core.v3.HeaderValueOption`: one header mutation.
public struct HeaderValueOption: Equatable, Sendable, EnvoyEncodable {
    /// `envoy.config.core.v3.HeaderValueOption.HeaderAppendAction`.
    public enum AppendAction: String, Sendable {
        case appendIfExistsOrAdd = "APPEND_IF_EXISTS_OR_ADD"
        case addIfAbsent = "ADD_IF_ABSENT"
        case overwriteIfExistsOrAdd = "OVERWRITE_IF_EXISTS_OR_ADD"
        case overwriteIfExists = "OVERWRITE_IF_EXISTS"
    }

    /// The header name.
    public var key: String
    /// The value (a substitution-format string; a literal `%` is `%%`).
    public var value: String
    /// What to do when the header exists; the proto default appends.
    public var appendAction: AppendAction
    /// `keep_empty_value`: add the header even when its value formats to "".
    public var keepEmptyValue = false

    /// A header mutation.
    public init(key: String, value: String, appendAction: AppendAction = .appendIfExistsOrAdd) {
        self.key = key
        self.value = value
        self.appendAction = appendAction
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        var o = JSONObject()
        o["header"] = .object(["key": .string(key), "value": .string(value)])
        if appendAction != .appendIfExistsOrAdd { o["append_action"] = .string(appendAction.rawValue) }
        if keepEmptyValue { o["keep_empty_value"] = .bool(true) }
        return .object(o)
    }
}

/// A `google.protobuf.Any` payload whose type xdsc knows: `{"@type": URL, ...fields}`.
public struct TypedMessage: Equatable, Sendable, EnvoyEncodable {
    /// The full type URL, `type.googleapis.com/<message>`.
    public var typeURL: String
    /// The message fields, in order.
    public var fields: JSONObject

    /// A message of `typeName` (without the `type.googleapis.com/` prefix).
    public init(_ typeName: String, _ fields: JSONObject = [:]) {
        self.typeURL = "type.googleapis.com/" + typeName
        self.fields = fields
    }

    /// The message name without the URL prefix.
    public var typeName: String {
        typeURL.hasPrefix("type.googleapis.com/") ? String(typeURL.dropFirst("type.googleapis.com/".count)) : typeURL
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        var o = JSONObject()
        o["@type"] = .string(typeURL)
        for (k, v) in fields.members { o[k] = v }
        return .object(o)
    }
}

/// `envoy.config.core.v3.TypedExtensionConfig` (also the shape of filters, transport
/// sockets and access loggers): a name and a typed payload.
public struct TypedExtension: Equatable, Sendable, EnvoyEncodable {
    /// The extension's instance name.
    public var name: String
    /// Its configuration.
    public var typedConfig: TypedMessage

    /// A named typed extension.
    public init(name: String, typedConfig: TypedMessage) {
        self.name = name
        self.typedConfig = typedConfig
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON { .object(["name": .string(name), "typed_config": typedConfig.json]) }
}

/// `envoy.config.core.v3.ConfigSource` with a `path_config_source`: Envoy reads (and
/// watches) a local file in the DiscoveryResponse shape.
public struct PathConfigSource: Equatable, Sendable, EnvoyEncodable {
    /// The file Envoy reads.
    public var path: String

    /// A file config source.
    public init(path: String) { self.path = path }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        .object([
            "path_config_source": .object(["path": .string(path)]),
            "resource_api_version": .string("V3"),
        ])
    }
}

/// `envoy.config.core.v3.Node`: the identity Envoy reports.
public struct Node: Equatable, Sendable, EnvoyEncodable {
    /// `id`.
    public var id: String?
    /// `cluster`.
    public var cluster: String?

    /// A node identity.
    public init(id: String? = nil, cluster: String? = nil) {
        self.id = id
        self.cluster = cluster
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        var o = JSONObject()
        o.set("id", id.map(JSON.string))
        o.set("cluster", cluster.map(JSON.string))
        return .object(o)
    }
}
