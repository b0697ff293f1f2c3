import Foundation
import Testing
import XDSCTestSupport

@testable import XDSCDriver

/// `xdsc build` streams its JSON from the Envoy model; the stream writes the bytes the JSON
/// tree serialises to, file by file, for every build golden and for a large generated
/// policy (issue 13).
@Suite struct StreamedBuildTests {
    static func expectStreamEqualsTree(_ path: String) throws {
        let result = Build.run([path], options: BuildOptions())
        #expect(result.frontEnd.diagnostics.isEmpty, "\(path) must be clean: \(result.frontEnd.diagnostics.map(\.message))")
        let config = try #require(result.config)
        for xds in [false, true] {
            let options = BuildOptions(xds: xds, format: .json, xdsRoot: BuildGoldenTests.xdsRoot)
            let streamed = Build.files(for: config, options: options, encoder: .stream)
            let tree = Build.files(for: config, options: options, encoder: .tree)
            #expect(streamed.map(\.path) == tree.map(\.path))
            for (s, t) in zip(streamed, tree) {
                #expect(s.bytes == t.bytes, "\(path) \(xds ? "--xds " : "")\(s.path): streamed bytes differ from the tree's")
            }
            #expect(Build.files(for: config, options: options) == streamed, "build uses the stream for JSON")
        }
    }

    @Test(arguments: BuildGoldenTests.cases)
    func streamEqualsTreeOnGolden(_ name: String) throws {
        try Self.expectStreamEqualsTree(TestPaths.packageRoot.appendingPathComponent("fixtures/build/\(name).yaml").path)
    }

    /// A policy of 3 hosts and 6000 routes of every match kind, with timeouts, methods and
    /// header matchers (the shape of the benchmark policy).
    static func largePolicy() -> String {
        var lines = ["version: 1", "services:"]
        for s in 0..<20 { lines.append("  svc-\(s): {endpoints: [10.0.0.\(s + 1):8080]}") }
        lines += ["listeners:", "  public:", "    address: 0.0.0.0:8080", "    hosts:"]
        for h in 0..<3 {
            lines += ["      h\(h):", "        domains: [h\(h).example.com]", "        routes:"]
            for r in 0..<2000 {
                let match =
                    switch r % 4 {
                    case 0: "{prefix: /api/v\(r)/items}"
                    case 1: "{path: /exact/\(r)}"
                    case 2: "{regex: \"/re/\(r)/[0-9]+\"}"
                    default: "{prefix: /m/\(r)/, methods: [GET, POST], headers: {x-tenant: t\(r % 7)}}"
                    }
                lines += ["          - name: r\(r)", "            match: \(match)", "            to: svc-\(r % 20)"]
                if r % 10 == 0 { lines.append("            timeout: 3s") }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    @Test func streamEqualsTreeOnALargePolicy() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("xdsc-stream-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("large.yaml").path
        try Self.largePolicy().write(toFile: path, atomically: true, encoding: .utf8)
        try Self.expectStreamEqualsTree(path)
    }
}
