import XDSCJSON

/// A model type that writes itself as Envoy's protobuf JSON: fields in `.proto`
/// declaration order, defaults Envoy already applies left out.
public protocol EnvoyEncodable {
    /// The JSON value of this message.
    var json: JSON { get }
}

extension JSONObject {
    /// Sets `key` to the JSON of `value` when it is present.
    mutating func set<T: EnvoyEncodable>(_ key: String, _ value: T?) {
        if let value { self[key] = value.json }
    }

    /// Sets `key` to an array of the JSON of `values` when it is not empty.
    mutating func setList<T: EnvoyEncodable>(_ key: String, _ values: [T]) {
        if !values.isEmpty { self[key] = .array(values.map(\.json)) }
    }

    /// Sets `key` to an array of strings when it is not empty.
    mutating func setStrings(_ key: String, _ values: [String]) {
        if !values.isEmpty { self[key] = .array(values.map(JSON.string)) }
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
