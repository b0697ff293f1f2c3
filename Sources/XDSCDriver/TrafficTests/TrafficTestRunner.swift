import XDSCDiagnostics
import XDSCProxy

/// One test's outcome.
public struct TrafficTestResult: Sendable {
    /// The test's name.
    public var name: String
    /// Where the test is written.
    public var span: SourceSpan
    /// The failed checks; empty when the test passed.
    public var failures: [TrafficFailure]
    /// Whether every check passed.
    public var passed: Bool { failures.isEmpty }
}

/// Runs a spec's tests over real sockets: the proxy and one mock per endpoint on ephemeral
/// loopback ports, each test's requests one after another, its expectations checked on
/// the responses and on what the mocks received.
public enum TrafficTestRunner {
    /// Runs every test of `spec` against `configuration`; throws when the proxy cannot start.
    public static func run(_ spec: TrafficSpec, configuration: ProxyConfiguration) async throws -> [TrafficTestResult] {
        var options = ProxyOptions()
        options.seed = spec.seed
        for l in configuration.listeners { options.portMap[l.name] = 0 }
        let server = try await ProxyServer.start(configuration, options: options)
        var results: [TrafficTestResult] = []
        for test in spec.tests { results.append(await run(test, on: server, caFile: spec.caFile, configuration: configuration)) }
        await server.shutdown()
        return results
    }

    static func run(_ test: TrafficTest, on server: ProxyServer, caFile: String? = nil, configuration: ProxyConfiguration? = nil) async
        -> TrafficTestResult
    {
        server.registry.reset()
        for u in test.upstreams { server.registry.setBehaviour(u.behaviour, for: u.cluster) }
        let listener = test.listener.flatMap { l in server.listeners.first { $0.name == l.name } } ?? server.listeners.first
        guard let listener else {
            return TrafficTestResult(
                name: test.name, span: test.span, failures: [TrafficFailure(check: "listener", expected: "a listener", actual: "none")])
        }
        var exchanges: [TrafficExchange] = []
        let r = test.request
        var tls: ClientTLS?
        if r.tls {
            // SNI is the URL's host without its port.
            let name = r.urlHost.hasPrefix("[") ? nil : r.urlHost.split(separator: ":").first.map(String.init)
            do {
                if let caFile {
                    tls = try ClientTLS.trusting(caFile: caFile, serverName: name)
                } else if let l = configuration?.listeners.first(where: { $0.name == listener.name }) {
                    tls = try ClientTLS.trusting(listener: l, serverName: name)
                }
            } catch {
                return TrafficTestResult(
                    name: test.name, span: test.span,
                    failures: [TrafficFailure(check: "tls", expected: "a trusted certificate", actual: "\(error)")])
            }
        }
        for _ in 0..<r.repeatCount {
            let mark = server.registry.received.count
            var x = TrafficExchange(response: nil, error: nil, received: [])
            do {
                x.response = try await TrafficClient.send(
                    address: listener.host, port: listener.port, method: r.method, target: r.target, host: r.host,
                    headers: r.headers, body: r.body, tls: tls, http2: r.http2)
            } catch {
                x.error = "\(error)"
            }
            x.received = Array(server.registry.received.dropFirst(mark))
            exchanges.append(x)
        }
        return TrafficTestResult(name: test.name, span: test.span, failures: TrafficChecks.failures(test.expect, exchanges))
    }
}
