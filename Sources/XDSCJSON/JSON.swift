/// A JSON document as xdsc builds and reads it: objects keep their key order, so the
/// text written is the same on every run and machine.
public enum JSON: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSON])
    case object(JSONObject)

    /// Shorthand for an integer value.
    public static func integer<T: BinaryInteger>(_ v: T) -> JSON { .int(Int64(v)) }

    /// The member `key` of an object, or nil.
    public subscript(key: String) -> JSON? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// The string, when this is a string.
    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    /// The integer, when this is an integer.
    public var intValue: Int64? { if case .int(let i) = self { return i } else { return nil } }
    /// The boolean, when this is a boolean.
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    /// The elements, when this is an array.
    public var arrayValue: [JSON]? { if case .array(let a) = self { return a } else { return nil } }
    /// The members, when this is an object.
    public var objectValue: JSONObject? { if case .object(let o) = self { return o } else { return nil } }
}

/// An ordered JSON object. Setting an existing key replaces its value in place.
public struct JSONObject: Equatable, Sendable, ExpressibleByDictionaryLiteral {
    /// The members in insertion order (the order they are serialised in).
    public private(set) var members: [(key: String, value: JSON)] = []

    /// Creates an empty object.
    public init() {}

    /// Creates an object with `elements` in the order written.
    public init(dictionaryLiteral elements: (String, JSON)...) {
        for (k, v) in elements { self[k] = v }
    }

    /// Whether the object has no members.
    public var isEmpty: Bool { members.isEmpty }
    /// The member names in order.
    public var keys: [String] { members.map(\.key) }

    /// The value of member `key`; setting nil removes it, setting a new key appends it.
    public subscript(key: String) -> JSON? {
        get { members.first(where: { $0.key == key })?.value }
        set {
            if let i = members.firstIndex(where: { $0.key == key }) {
                if let newValue { members[i].value = newValue } else { members.remove(at: i) }
            } else if let newValue {
                members.append((key, newValue))
            }
        }
    }

    /// Sets `key` only when `value` is non-nil: the idiom for optional fields.
    public mutating func set(_ key: String, _ value: JSON?) {
        if let value { self[key] = value }
    }

    /// Whether the two values are equal.
    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        a.members.count == b.members.count
            && zip(a.members, b.members).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}

/// A JSON text could not be parsed; `offset` is the byte offset where parsing stopped.
public struct JSONParseError: Error, Equatable, Sendable {
    /// What is wrong with the text.
    public let message: String
    /// The byte offset where the problem was found.
    public let offset: Int
}
