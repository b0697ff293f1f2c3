import NIOConcurrencyHelpers

/// How the mocks answer active health checks (requests with `user-agent: Envoy/HC`), per
/// endpoint: 200 unless a test says otherwise. Health checks are counted, not recorded as
/// received requests.
public final class MockHealth: Sendable {
    private struct State {
        var status: [String: Int] = [:]
        var checks: [String: Int] = [:]
    }

    private let state = NIOLockedValueBox(State())

    /// An empty table: every endpoint passes.
    public init() {}

    /// From now on `endpoint` of `cluster` answers its health checks with `status`.
    public func setStatus(_ status: Int, cluster: String, endpoint: String) {
        state.withLockedValue { $0.status[cluster + " " + endpoint] = status }
    }

    /// How many health checks `endpoint` of `cluster` has answered.
    public func checks(cluster: String, endpoint: String) -> Int {
        state.withLockedValue { $0.checks[cluster + " " + endpoint, default: 0] }
    }

    /// Counts a health check and says which status answers it.
    func answer(cluster: String, endpoint: String) -> Int {
        state.withLockedValue { s in
            let key = cluster + " " + endpoint
            s.checks[key, default: 0] += 1
            return s.status[key] ?? 200
        }
    }
}
