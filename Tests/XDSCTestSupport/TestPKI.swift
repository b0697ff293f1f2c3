import Foundation

/// A throwaway PKI made with the `openssl` CLI in a temporary folder: a CA, a server
/// certificate for `*.example.com`, `localhost` and 127.0.0.1, a client certificate, and a
/// key that fits neither. Without `openssl` (installed by `scripts/setup --test`) making it
/// throws, so the tests that need it fail rather than pass.
public struct TestPKI: Sendable {
    /// `openssl` is missing or failed.
    public struct Missing: Error, CustomStringConvertible {
        /// What went wrong.
        public var description: String
    }

    /// The folder holding the files.
    public let dir: String
    /// The CA certificate (PEM).
    public var caCert: String { dir + "/ca.crt" }
    /// The server certificate, signed by the CA.
    public var serverCert: String { dir + "/server.crt" }
    /// The server key.
    public var serverKey: String { dir + "/server.key" }
    /// The client certificate (`clientAuth`), signed by the CA.
    public var clientCert: String { dir + "/client.crt" }
    /// The client key.
    public var clientKey: String { dir + "/client.key" }
    /// A key that fits no certificate.
    public var otherKey: String { dir + "/other.key" }

    /// Made once per test process (each openssl run is a few milliseconds).
    static let shared: Result<TestPKI, Missing> = {
        do {
            return .success(try make())
        } catch let m as Missing {
            return .failure(m)
        } catch {
            return .failure(Missing(description: "\(error)"))
        }
    }()

    /// The PKI of this test process; throws without `openssl`.
    public static func get() throws -> TestPKI { try shared.get() }

    static func make() throws -> TestPKI {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        guard let openssl = paths.map({ $0 + "/openssl" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw Missing(description: "the TLS tests need the `openssl` CLI (scripts/setup --test installs it)")
        }
        let dir = NSTemporaryDirectory() + "xdsc-tls-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        func run(_ args: [String]) throws {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: openssl)
            p.arguments = args
            p.currentDirectoryURL = URL(fileURLWithPath: dir)
            p.standardOutput = FileHandle.nullDevice
            let err = Pipe()
            p.standardError = err
            try p.run()
            let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            if p.terminationStatus != 0 { throw Missing(description: "openssl \(args.joined(separator: " ")): \(text)") }
        }
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try run(["req", "-x509"] + ec + ["-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=xdsc test CA"])
        try "subjectAltName=DNS:*.example.com,DNS:example.com,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
            .write(toFile: dir + "/server.ext", atomically: true, encoding: .utf8)
        try "extendedKeyUsage=clientAuth\n".write(toFile: dir + "/client.ext", atomically: true, encoding: .utf8)
        for (name, subject) in [("server", "/CN=api.example.com"), ("client", "/CN=xdsc test client")] {
            try run(["req"] + ec + ["-keyout", "\(name).key", "-out", "\(name).csr", "-subj", subject])
            try run([
                "x509", "-req", "-in", "\(name).csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "\(name).crt",
                "-days", "2", "-extfile", "\(name).ext",
            ])
        }
        try run(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "other.key"])
        return TestPKI(dir: dir)
    }
}
