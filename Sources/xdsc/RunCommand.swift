import ArgumentParser
import Dispatch
import Foundation
import XDSCDiagnostics
import XDSCDriver
import XDSCProxy

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Serve the configuration in the embedded proxy, with mock or real upstreams",
        discussion: """
            Serves every listener of the configuration (policies, or Envoy files with --config) \
            over HTTP/1.1 on 127.0.0.1, routing each request with the route engine and executing \
            the decision as Envoy does. Prints each listener's and upstream's address when ready; \
            stops on SIGINT or SIGTERM. What is not simulated is listed in docs/proxy.md and \
            warned about at start. Exit codes: 0 stopped by a signal; 1 the configuration has \
            errors (or, with --strict, warnings, those at start included: nothing is served); 2 usage error, unreadable input or a port that cannot be bound.
            """
    )

    @Option(name: .long, help: "An Envoy configuration file (repeatable).")
    var config: [String] = []

    @Option(name: .long, help: "Serve listener LISTENER on PORT (repeatable; 0 picks a free port).")
    var portMap: [String] = []

    @Option(name: .long, help: "mock: built-in servers answer with what they received; real: the configured endpoints.")
    var upstreams: UpstreamChoice = .mock

    @Option(name: .long, help: "Seed of the per-request random value (weighted clusters, runtime fractions).")
    var seed: UInt64?

    @Option(name: .long, help: "The address listeners bind to (default 127.0.0.1; anything else must be asked for).")
    var listen: String = "127.0.0.1"

    @Flag(name: .long, help: StrictOption.help)
    var strict = false

    @Argument(help: "Policy files.")
    var policies: [String] = []

    enum UpstreamChoice: String, ExpressibleByArgument {
        case mock, real
    }

    func validate() throws {
        if config.isEmpty && policies.isEmpty { throw ValidationError("give policy files or --config FILE") }
        for p in portMap {
            guard let eq = p.lastIndex(of: "="), Int(p[p.index(after: eq)...]).map({ (0...65535).contains($0) }) == true else {
                throw ValidationError("--port-map takes LISTENER=PORT, got `\(p)`")
            }
        }
    }

    func run() throws {
        let inputs = config + policies
        let loaded = RunInputs.load(inputs)
        let renderer = HumanRenderer(sources: loaded.sources, color: false)
        let errors = loaded.diagnostics.filter { $0.severity == .error }
        guard errors.isEmpty, let configuration = loaded.configuration else {
            FileHandleOutput.stderr(renderer.render(errors))
            if errors.isEmpty { FileHandleOutput.stderr("error: no listener to serve\n") }
            throw ExitCode(ExitStatus.refusal(for: errors))
        }
        var options = ProxyOptions()
        options.upstreams = upstreams == .mock ? .mock : .real
        options.seed = seed
        options.listenHost = listen
        for p in portMap {
            let eq = p.lastIndex(of: "=")!
            options.portMap[String(p[..<eq])] = Int(p[p.index(after: eq)...])
        }
        let unknown = options.portMap.keys.filter { name in !configuration.listeners.contains { $0.name == name } }.sorted()
        if let first = unknown.first {
            FileHandleOutput.stderr("error: --port-map names no listener: `\(first)`\n")
            throw ExitCode(ExitStatus.usageOrIO)
        }
        try StrictOption.stopOnWarnings(loaded.diagnostics, sources: loaded.sources, paths: inputs, linted: loaded.linted, strict: strict)
        let startWarnings = configuration.startWarnings(options)
        for w in startWarnings { FileHandleOutput.stderr("warning: \(w)\n") }
        if strict && !startWarnings.isEmpty {
            FileHandleOutput.stderr(ExitStatus.strictStop(warnings: startWarnings.count))
            throw ExitCode(ExitStatus.inputErrors)
        }
        let status = ProxyRunner.serve(configuration, options: options)
        if status != 0 { throw ExitCode(status) }
    }
}

/// Runs the proxy until SIGINT or SIGTERM, on a background task while the main thread
/// waits for the signal.
enum ProxyRunner {
    final class Box: @unchecked Sendable {
        var server: ProxyServer?
        var error: String?
    }

    static func serve(_ configuration: ProxyConfiguration, options: ProxyOptions) -> Int32 {
        let box = Box()
        let started = DispatchSemaphore(value: 0)
        Task.detached {
            do {
                box.server = try await ProxyServer.start(configuration, options: options)
            } catch {
                box.error = "\(error)"
            }
            started.signal()
        }
        started.wait()
        guard let server = box.server else {
            FileHandleOutput.stderr("error: cannot start the proxy: \(box.error ?? "unknown error")\n")
            return ExitStatus.usageOrIO
        }
        var lines = ""
        for l in server.listeners {
            let host = l.host.contains(":") ? "[\(l.host)]" : l.host
            lines += "listener \(l.name) \(l.tls ? "https" : "http")://\(host):\(l.port)\n"
        }
        for u in server.upstreams {
            lines += "upstream \(u.cluster) \(u.endpoint)" + (u.mock ? " mock http://\(u.host):\(u.port)\n" : "\n")
        }
        lines += "ready\n"
        FileHandleOutput.stdout(lines)
        let stop = DispatchSemaphore(value: 0)
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let sources = [SIGINT, SIGTERM].map { sig -> DispatchSourceSignal in
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { stop.signal() }
            s.resume()
            return s
        }
        stop.wait()
        for s in sources { s.cancel() }
        let stopped = DispatchSemaphore(value: 0)
        Task.detached {
            await server.shutdown()
            stopped.signal()
        }
        stopped.wait()
        FileHandleOutput.stdout("stopped\n")
        return 0
    }
}
