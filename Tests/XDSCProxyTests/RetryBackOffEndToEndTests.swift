import Foundation
import NIOCore
import Testing
import XDSCDiagnostics
import XDSCEnvoyReader
import XDSCRequest
import XDSCTestSupport

@testable import XDSCProxy

/// The back-off between retries over real sockets (fixtures/traffic/retries-envoy.yaml,
/// route `/paced`): `retry_back_off` of 1 ms to 2 ms, and a `retry-after` reset header that
/// asks for whole seconds.
@Suite(.timeLimit(.minutes(1)))
struct RetryBackOffEndToEndTests {
    static func configuration() throws -> ProxyConfiguration {
        let path = TestPaths.packageRoot.appendingPathComponent("fixtures/traffic/retries-envoy.yaml").path
        let bytes = try #require(FileManager.default.contents(atPath: path))
        let sink = DiagnosticSink()
        let read = EnvoyReader().read([(path: path, bytes: Array(bytes))], into: sink)
        #expect(sink.all.filter { $0.severity == .error }.isEmpty)
        return ProxyConfiguration(read.config)
    }

    static func timed(_ port: Int) async throws -> (status: Int, seconds: Double) {
        let start = ContinuousClock.now
        let r = try await TestClient.request(port: port, "/paced", host: "api.example.com")
        let d = ContinuousClock.now - start
        return (r.status, Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
    }

    @Test func retryAfterSetsTheWaitAndTheBaseIntervalOtherwise() async throws {
        var options = ProxyOptions()
        options.portMap = ["edge": 0, "quiet": 0]
        try await Fixtures.withProxy(try Self.configuration(), options: options) { server in
            let port = try #require(server.port(of: "edge"))
            // `retry-after: 3`: a wait of 3 s to 4.5 s before the second attempt.
            server.registry.setBehaviour(
                MockBehaviour(failures: 1, failureStatus: 429, failureHeaders: [HTTPHeader("retry-after", "3")]), for: "api")
            let paced = try await Self.timed(port)
            #expect(paced.status == 200)
            #expect(paced.seconds >= 3.0, "\(paced.seconds) s")
            #expect(server.registry.received.count == 2)
            // Without the header (or with one over `max_interval`, 5 s): the 1 ms base, capped at
            // 2 ms. The bound is far from both wrong answers (the earlier 3 s, or the 5 s cap),
            // so a loaded machine does not fail it.
            for headers in [[], [HTTPHeader("retry-after", "60")]] {
                server.registry.setBehaviour(MockBehaviour(failures: 1, failureStatus: 429, failureHeaders: headers), for: "api")
                let quick = try await Self.timed(port)
                #expect(quick.status == 200)
                #expect(quick.seconds < 2.5, "\(quick.seconds) s")
            }
            #expect(server.registry.received.count == 6)
        }
    }
}
