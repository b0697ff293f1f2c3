/// An immutable value behind a reference: the engine keeps the table's hosts and routes this
/// way so that reading one on the hot path retains one object instead of copying every field.
final class Ref<Value: Sendable>: Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
