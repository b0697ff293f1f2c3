import NIOConcurrencyHelpers
import XDSCEnvoy
import XDSCJSON
import XDSCRequest

/// What a mock upstream does with the requests it gets, in order: the first `failures`
/// requests are answered with `failureStatus` (or reset when `reset`), later ones with 200;
/// every answer waits `delay` first.
public struct MockBehaviour: Sendable, Equatable {
    /// How many requests fail before the mock answers 200.
    public var failures: Int
    /// The status of a failing answer.
    public var failureStatus: Int
    /// Fail by closing the connection before answering instead.
    public var reset: Bool
    /// A delay before every answer.
    public var delay: Duration
    /// A fixed answer instead of the JSON echo (after the failures); nil echoes.
    public var answer: MockAnswer?
    /// Headers of a failing answer (`grpc-status`, `x-envoy-ratelimited`, `retry-after`),
    /// which then has an empty body; none: the failing answer echoes the request.
    public var failureHeaders: [HTTPHeader] = []
    /// Fail an HTTP/2 request by resetting its stream with REFUSED_STREAM (an HTTP/1.1
    /// request's connection is closed, as with `reset`).
    public var refuseStream = false

    /// A behaviour; the default answers 200 at once.
    public init(
        failures: Int = 0, failureStatus: Int = 503, reset: Bool = false, delay: Duration = .zero, answer: MockAnswer? = nil,
        failureHeaders: [HTTPHeader] = [], refuseStream: Bool = false
    ) {
        self.failures = failures
        self.failureStatus = failureStatus
        self.reset = reset
        self.delay = delay
        self.answer = answer
        self.failureHeaders = failureHeaders
        self.refuseStream = refuseStream
    }
}

/// How a mock answers one request.
struct MockReply {
    var status: Int
    /// Close the connection (HTTP/1.1) or reset the stream (HTTP/2) instead of answering.
    var reset: Bool
    /// The reset is an HTTP/2 REFUSED_STREAM.
    var refuseStream = false
    var delay: Duration
    /// The fixed answer; nil echoes the request.
    var answer: MockAnswer?
}

/// A fixed answer of a mock: status, headers and body (`content-length` is added).
public struct MockAnswer: Sendable, Equatable {
    /// The status.
    public var status: Int
    /// Headers, in order.
    public var headers: [HTTPHeader]
    /// The body.
    public var body: String
    /// Trailers after the body (gRPC's `grpc-status`); sent to an HTTP/2 request only.
    public var trailers: [HTTPHeader]

    /// An answer.
    public init(status: Int = 200, headers: [HTTPHeader] = [], body: String = "", trailers: [HTTPHeader] = []) {
        self.status = status
        self.headers = headers
        self.body = body
        self.trailers = trailers
    }
}

/// A request a mock upstream received.
public struct ReceivedRequest: Sendable, Equatable {
    /// The cluster (service) the mock stands for.
    public var cluster: String
    /// The configured endpoint, `host:port`.
    public var endpoint: String
    /// The request method.
    public var method: String
    /// The request target as it arrived (path and query).
    public var path: String
    /// The Host header.
    public var host: String
    /// Headers in arrival order, names lower-case.
    public var headers: [(name: String, value: String)]
    /// The body, as UTF-8.
    public var body: String
    /// The HTTP version the request arrived in: `HTTP/1.1`, or `HTTP/2` (h2c).
    public var `protocol` = "HTTP/1.1"

    /// Field-wise equality (headers in order).
    public static func == (a: ReceivedRequest, b: ReceivedRequest) -> Bool {
        a.cluster == b.cluster && a.endpoint == b.endpoint && a.method == b.method && a.path == b.path && a.host == b.host
            && a.headers.elementsEqual(b.headers, by: { $0 == $1 }) && a.body == b.body && a.protocol == b.protocol
    }

    /// The first value of a header.
    public func header(_ name: String) -> String? {
        let n = name.lowercased()
        return headers.first { $0.name == n }?.value
    }

    /// The JSON body the mock answers with.
    public var json: JSON {
        var h = JSONObject()
        for (n, v) in headers { h[n] = .string(h[n]?.stringValue.map { $0 + "," + v } ?? v) }
        return .object([
            "service": .string(cluster), "endpoint": .string(endpoint), "method": .string(method), "path": .string(path),
            "host": .string(host), "headers": .object(h), "body": .string(body), "protocol": .string(`protocol`),
        ])
    }
}

/// The mocks' shared state: each cluster's behaviour and every request received, in order.
/// Thread-safe: tests read it from outside the event loop.
public final class MockRegistry: Sendable {
    private struct State {
        var behaviour: [String: MockBehaviour] = [:]
        var answered: [String: Int] = [:]
        var received: [ReceivedRequest] = []
        var connections = 0
    }

    private let state = NIOLockedValueBox(State())
    /// How the mocks answer active health checks.
    public let health = MockHealth()

    /// An empty registry.
    public init() {}

    /// Sets how `cluster`'s mocks answer from now on (and restarts its failure count).
    public func setBehaviour(_ b: MockBehaviour, for cluster: String) {
        state.withLockedValue {
            $0.behaviour[cluster] = b
            $0.answered[cluster] = 0
        }
    }

    /// Sets how one endpoint (`host:port` as configured) of `cluster` answers from now on,
    /// over the cluster's behaviour (and restarts its failure count).
    public func setBehaviour(_ b: MockBehaviour, for cluster: String, endpoint: String) {
        state.withLockedValue {
            $0.behaviour[Self.key(cluster, endpoint)] = b
            $0.answered[Self.key(cluster, endpoint)] = 0
        }
    }

    private static func key(_ cluster: String, _ endpoint: String) -> String { cluster + "\u{0}" + endpoint }

    /// Every request received so far.
    public var received: [ReceivedRequest] { state.withLockedValue { $0.received } }

    /// How many connections the mocks have accepted (HTTP/2 multiplexes requests on one).
    public var connections: Int { state.withLockedValue { $0.connections } }

    /// Counts an accepted connection.
    func accepted() { state.withLockedValue { $0.connections += 1 } }

    /// Forgets the requests received and the behaviours.
    public func reset() { state.withLockedValue { $0 = State() } }

    /// Records a request and says how to answer it.
    func record(_ r: ReceivedRequest) -> MockReply {
        state.withLockedValue { s in
            s.received.append(r)
            let own = Self.key(r.cluster, r.endpoint)
            let key = s.behaviour[own] != nil ? own : r.cluster
            let b = s.behaviour[key] ?? MockBehaviour()
            let n = s.answered[key, default: 0]
            s.answered[key] = n + 1
            if n < b.failures {
                let fixed = b.failureHeaders.isEmpty ? nil : MockAnswer(status: b.failureStatus, headers: b.failureHeaders)
                return MockReply(
                    status: b.failureStatus, reset: b.reset || b.refuseStream, refuseStream: b.refuseStream, delay: b.delay, answer: fixed)
            }
            return MockReply(status: b.answer?.status ?? 200, reset: false, delay: b.delay, answer: b.answer)
        }
    }
}
