import XDSCDiagnostics
import XDSCEnvoy
import XDSCProxy
import XDSCRequest

/// A traffic test file (`xdsc test traffic SPEC`): the configuration to serve, the seed of
/// the proxy's random value, and the tests. Read by `TrafficSpecReader`; the format is
/// `schemas/traffic.v1.schema.json` and docs/traffic-tests.md.
public struct TrafficSpec: Sendable {
    /// The spec file, as given.
    public var path: String
    /// The configuration files (policies or Envoy files), resolved against the spec's folder.
    public var config: [String]
    /// The seed of the per-request random value (weighted clusters); 0 unless given.
    public var seed: UInt64
    /// `ca_file`, resolved against the spec's folder: the CAs `https://` requests trust;
    /// without it they trust exactly the certificates the listener serves.
    public var caFile: String?
    /// Where the spec names `ca_file` (an unreadable CA file is reported there).
    public var caFileSpan: SourceSpan?
    /// The tests, in file order.
    public var tests: [TrafficTest]

    /// A spec.
    public init(
        path: String, config: [String], seed: UInt64 = 0, caFile: String? = nil, caFileSpan: SourceSpan? = nil, tests: [TrafficTest]
    ) {
        self.path = path
        self.config = config
        self.seed = seed
        self.caFile = caFile
        self.caFileSpan = caFileSpan
        self.tests = tests
    }
}

/// One test: a request (sent `repeat` times), how upstreams behave, what to expect.
public struct TrafficTest: Sendable {
    /// The test's name (its position when not given).
    public var name: String
    /// Where the test is written.
    public var span: SourceSpan
    /// The listener to send to, and where it is named; nil for the first listener.
    public var listener: (name: String, span: SourceSpan)?
    /// The request.
    public var request: TrafficRequest
    /// Behaviour per cluster (where the cluster is named), for this test only; the others echo at once.
    public var upstreams: [(cluster: String, span: SourceSpan, behaviour: MockBehaviour)]
    /// The expectations.
    public var expect: TrafficExpectation

    /// A test.
    public init(
        name: String, span: SourceSpan, listener: (name: String, span: SourceSpan)? = nil, request: TrafficRequest,
        upstreams: [(cluster: String, span: SourceSpan, behaviour: MockBehaviour)] = [], expect: TrafficExpectation
    ) {
        self.name = name
        self.span = span
        self.listener = listener
        self.request = request
        self.upstreams = upstreams
        self.expect = expect
    }
}

/// The request a test sends.
public struct TrafficRequest: Sendable, Equatable {
    /// The method.
    public var method: String
    /// The Host header (the URL's authority unless `headers` names one).
    public var host: String
    /// The request target: path and query.
    public var target: String
    /// Other headers, in order.
    public var headers: [HTTPHeader]
    /// The body.
    public var body: String
    /// How many times the request is sent, one after another.
    public var repeatCount: Int
    /// An `https://` URL: sent over TLS, with the URL's host (`urlHost`) as SNI.
    public var tls: Bool
    /// The URL's authority (`localhost` for a path).
    public var urlHost: String
    /// Sent over HTTP/2 (h2c with prior knowledge) instead of HTTP/1.1.
    public var http2: Bool

    /// A request.
    public init(
        method: String = "GET", host: String, target: String, headers: [HTTPHeader] = [], body: String = "", repeatCount: Int = 1,
        tls: Bool = false, urlHost: String = "localhost", http2: Bool = false
    ) {
        self.tls = tls
        self.urlHost = urlHost
        self.http2 = http2
        self.method = method
        self.host = host
        self.target = target
        self.headers = headers
        self.body = body
        self.repeatCount = repeatCount
    }
}

/// What a string (a body, a header) must be.
public enum TextExpectation: Sendable, Equatable {
    /// Exactly this text.
    case equals(String)
    /// Text holding this.
    case contains(String)
    /// Any value (a header only).
    case present
    /// No value (a header only).
    case absent

    /// Whether `actual` (nil: no such header) meets the expectation.
    public func accepts(_ actual: String?) -> Bool {
        switch self {
        case .equals(let v): actual == v
        case .contains(let v): actual?.contains(v) ?? false
        case .present: actual != nil
        case .absent: actual == nil
        }
    }

    /// The expectation in words, for failure lines.
    public var description: String {
        switch self {
        case .equals(let v): "`\(v)`"
        case .contains(let v): "containing `\(v)`"
        case .present: "present"
        case .absent: "absent"
        }
    }
}

/// What a test expects; every nil or empty part is not checked.
public struct TrafficExpectation: Sendable, Equatable {
    /// The response status (every response, when repeated).
    public var status: Int?
    /// The response body.
    public var body: TextExpectation?
    /// Response headers, by lower-case name.
    public var headers: [NamedExpectation] = []
    /// The redirect's `Location`.
    public var location: String?
    /// What the upstreams received.
    public var upstream: UpstreamExpectation?
    /// How the requests split over clusters.
    public var split: SplitExpectation?
    /// Response trailers, by lower-case name.
    public var trailers: [NamedExpectation] = []

    /// No expectation.
    public init() {}
}

/// A header name and what its value must be.
public struct NamedExpectation: Sendable, Equatable {
    /// The lower-case header name.
    public var name: String
    /// What the value must be.
    public var expectation: TextExpectation

    /// A header expectation.
    public init(_ name: String, _ expectation: TextExpectation) {
        self.name = name
        self.expectation = expectation
    }
}

/// What the upstreams received. `requests` counts every request every mock got during the
/// test (retries and mirrors included); the other checks apply, for each request sent, to
/// the last upstream request that is not a mirror (the attempt whose answer came back).
public struct UpstreamExpectation: Sendable, Equatable {
    /// The cluster (service) that must have received it: any of these.
    public var services: [String]?
    /// The configured endpoint (`host:port`).
    public var endpoint: String?
    /// Total requests received, over every mock.
    public var requests: Int?
    /// Requests received per cluster (a cluster not named is not checked).
    public var requestsPerService: [ServiceCount] = []
    /// The request target the upstream saw.
    public var path: String?
    /// The Host the upstream saw.
    public var host: String?
    /// The upstream request's headers.
    public var headers: [NamedExpectation] = []
    /// The HTTP version the upstream saw (`HTTP/1.1`, `HTTP/2`).
    public var `protocol`: String?

    /// No expectation.
    public init() {}
}

/// A cluster and a count (requests received, or a share in percent).
public struct ServiceCount: Sendable, Equatable {
    /// The cluster.
    public var service: String
    /// The number.
    public var value: Double

    /// A pair.
    public init(_ service: String, _ value: Double) {
        self.service = service
        self.value = value
    }
}

/// The split of a repeated request over clusters: each cluster's share of the requests (by
/// the cluster the first attempt went to), in percent, within `tolerance` points.
public struct SplitExpectation: Sendable, Equatable {
    /// The expected shares in percent.
    public var shares: [ServiceCount]
    /// The allowed difference, in percentage points.
    public var tolerance: Double

    /// A split.
    public init(shares: [ServiceCount], tolerance: Double) {
        self.shares = shares
        self.tolerance = tolerance
    }
}
