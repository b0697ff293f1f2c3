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

    /// A header whose name is known to be lower-case already (not checked).
    public init(lowerCaseName name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}
