import XDSCEnvoy

/// An immutable value behind a reference: the engine keeps the table's hosts and routes this
/// way so that reading one on the hot path retains one object instead of copying every field.
final class Ref<Value: Sendable>: Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// One virtual host's route matches in one buffer, read in place while routing (copying a
/// match retains every string and array it holds).
final class MatchTable: Sendable {
    let matches: ContiguousArray<RouteMatch>
    init(_ matches: [RouteMatch]) { self.matches = ContiguousArray(matches) }
}
