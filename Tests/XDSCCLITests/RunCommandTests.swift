import Foundation
import Testing
import XDSCDriver

/// `xdsc run` as a user starts it: a real process, real sockets, a signal to stop.
@Suite(.timeLimit(.minutes(1)))
struct RunCommandTests {
    static let policy = """
        version: 1
        services:
          users:
            endpoints: [10.0.1.10:8080, 10.0.1.11:8080]
        listeners:
          public:
            address: 0.0.0.0:8080
            hosts:
              api:
                domains: [api.example.com]
                routes:
                  - name: users
                    match: {prefix: /users}
                    to: users
                    rewrite: {prefix: /v1/users}
        """

    /// Reads lines from `handle` until one equals `last` (or the stream ends).
    static func readLines(_ handle: FileHandle, until last: String) -> [String] {
        var buffer = Data()
        var lines: [String] = []
        while !lines.contains(last) {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            lines = String(decoding: buffer, as: UTF8.self).split(separator: "\n").map(String.init)
        }
        return lines
    }

    @Test func servesUntilSIGTERM() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("p.yaml")
        try Self.policy.write(to: file, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = CLI.binary
        p.arguments = ["run", "--seed", "7", "--port-map", "public=0", file.path]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        defer { if p.isRunning { p.terminate() } }
        let lines = Self.readLines(out.fileHandleForReading, until: "ready")
        #expect(lines.last == "ready")
        let listener = try #require(lines.first { $0.hasPrefix("listener public http://127.0.0.1:") })
        #expect(lines.filter { $0.hasPrefix("upstream users 10.0.1.1") && $0.contains(" mock http://127.0.0.1:") }.count == 2)
        let port = try #require(Int(listener.split(separator: ":").last ?? ""))
        let response = try CLI.runProgram(
            "/usr/bin/env", ["python3", "-c", Self.client, String(port)])
        #expect(response.stdout.contains("\"path\":\"/v1/users/7\""))
        #expect(response.stdout.contains("\"service\":\"users\""))
        kill(p.processIdentifier, SIGTERM)
        let rest = Self.readLines(out.fileHandleForReading, until: "stopped")
        p.waitUntilExit()
        #expect(rest.contains("stopped"))
        #expect(p.terminationStatus == 0)
    }

    /// A one-request client (the test image has python3; no curl needed).
    static let client = """
        import socket, sys
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
        s.sendall(b"GET /users/7 HTTP/1.1\\r\\nhost: api.example.com\\r\\nconnection: close\\r\\n\\r\\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk: break
            data += chunk
        sys.stdout.write(data.decode())
        """

    @Test func rejectsAPortMapForNoListener() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("p.yaml")
        try Self.policy.write(to: file, atomically: true, encoding: .utf8)
        let r = try CLI.run(["run", "--port-map", "nope=0", file.path])
        #expect(r.status == 2)
        #expect(r.stderr.contains("error: --port-map names no listener: `nope`"))
        let bad = try CLI.run(["run", "--port-map", "public", file.path])
        #expect(bad.status == 2)
    }

    @Test func envoyBootstrapGivesPortsAndEndpoints() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("envoy.yaml")
        try """
        static_resources:
          listeners:
            - name: edge
              address: {socket_address: {address: 0.0.0.0, port_value: 10000}}
              filter_chains:
                - filters:
                    - name: envoy.filters.network.http_connection_manager
                      typed_config:
                        "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                        stat_prefix: edge
                        route_config:
                          virtual_hosts:
                            - {name: all, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: app}}]}
          clusters:
            - name: app
              load_assignment:
                cluster_name: app
                endpoints:
                  - lb_endpoints:
                      - endpoint: {address: {socket_address: {address: 10.1.0.1, port_value: 80}}}
                      - endpoint: {address: {socket_address: {address: 10.1.0.2, port_value: 81}}}
        """.write(to: file, atomically: true, encoding: .utf8)
        let loaded = RunInputs.load([file.path])
        #expect(loaded.diagnostics.filter { $0.severity == .error }.isEmpty)
        let config = try #require(loaded.configuration)
        #expect(config.listeners.map(\.name) == ["edge"])
        #expect(config.listeners.first?.port == 10000)
        #expect(config.clusters["app"]?.map(\.label) == ["10.1.0.1:80", "10.1.0.2:81"])
    }
}
