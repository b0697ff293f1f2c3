import Foundation
import XDSCTestSupport

/// The output of one `xdsc` run.
typealias CLIRun = ProcessOutput

enum CLI {
    /// The package root.
    static let packageRoot: URL = TestPaths.packageRoot

    /// `../shared` beside the package, as CI lays it out.
    static let shared: URL = TestPaths.shared

    /// The `xdsc` executable next to the test bundle.
    static var binary: URL {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while dir.path.hasSuffix(".xctest") || dir.lastPathComponent == "MacOS" { dir.deleteLastPathComponent() }
        let candidates = [dir.appendingPathComponent("xdsc"), packageRoot.appendingPathComponent(".build/debug/xdsc")]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }

    /// Runs `xdsc args` in `directory` (default: the package root) with `environment` added.
    static func run(_ args: [String], in directory: URL? = nil, environment: [String: String] = [:], stdin: String? = nil) throws -> CLIRun
    {
        try runProgram(binary.path, args, in: directory, environment: environment, stdin: stdin)
    }

    /// Runs any program and captures its output (colour off, so output is stable).
    static func runProgram(
        _ path: String, _ args: [String], in directory: URL? = nil, environment: [String: String] = [:], stdin: String? = nil
    ) throws -> CLIRun {
        var env = ["NO_COLOR": "1"]
        for (k, v) in environment { env[k] = v }
        return try ProcessRunner.run(path, args, in: directory ?? packageRoot, environment: env, stdin: stdin)
    }

    /// A fresh temporary directory, removed by the caller.
    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("xdsc-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}
