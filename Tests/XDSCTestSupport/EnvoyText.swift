import XDSCDiagnostics
import XDSCEnvoy
import XDSCEnvoyReader

/// An Envoy file the reader reported errors for, with the diagnostics.
public struct EnvoyReadFailure: Error, CustomStringConvertible {
    /// The reader's error diagnostics.
    public var diagnostics: [Diagnostic]
    /// The diagnostics, one a line.
    public var description: String { diagnostics.map { "\($0.span): \($0.message)" }.joined(separator: "\n") }
}

/// The one route table in `text` (any Envoy document the reader reads), read by the Envoy
/// reader with positions in `file`; throws when the reader reports an error.
public func readRouteTable(_ text: String, file: String = "routes.json") throws -> RouteConfiguration {
    let sink = DiagnosticSink()
    let read = EnvoyReader().read([(file, Array(text.utf8))], into: sink)
    let errors = sink.sorted.filter { $0.severity == .error }
    guard errors.isEmpty, let config = read.config.routeConfigurations.first else { throw EnvoyReadFailure(diagnostics: errors) }
    return config
}
