import Testing
import XDSCDiagnostics
import XDSCDriver

/// Inline YAML with position markers: `⟨a⟩` marks the position of the token that follows it.
/// Markers are removed before parsing; their 1-based line and Unicode-scalar column are kept,
/// so tests never count lines by hand.
public struct Marked {
    /// The text with the markers removed.
    public let text: String
    /// Each marker's name and the position of the character that follows it.
    public let markers: [String: SourcePosition]

    /// Strips the markers from `marked` and records where each stood.
    public init(_ marked: String) {
        var out = ""
        var markers: [String: SourcePosition] = [:]
        var line = 1
        var column = 1
        var scalars = marked.unicodeScalars[...]
        while let c = scalars.first {
            if c == "⟨", let close = scalars.firstIndex(of: "⟩") {
                let name = String(String.UnicodeScalarView(scalars[scalars.index(after: scalars.startIndex)..<close]))
                markers[name] = SourcePosition(line: line, column: column)
                scalars = scalars[scalars.index(after: close)...]
                continue
            }
            out.unicodeScalars.append(c)
            if c == "\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
            scalars = scalars.dropFirst()
        }
        self.text = out
        self.markers = markers
    }
}

/// Lints inline policies (file name → marked text) and returns the result and markers.
public func lintMarked(_ files: [(String, String)]) -> (FrontEndResult, [String: (String, SourcePosition)]) {
    var markers: [String: (String, SourcePosition)] = [:]
    var inputs: [PolicyInputs.File] = []
    for (name, text) in files {
        let m = Marked(text)
        for (k, v) in m.markers { markers[k] = (name, v) }
        inputs.append(PolicyInputs.File(path: name, bytes: Array(m.text.utf8)))
    }
    return (Pipeline().check(files: inputs), markers)
}

/// Asserts the policy yields exactly the expected diagnostics: each `(rule, marker)` must be
/// reported at the marker's position, and nothing else may be reported.
public func expectDiagnostics(
    _ text: String, _ expected: [(Rule.ID, String)], sourceLocation: SourceLocation = #_sourceLocation
) {
    expectDiagnostics(files: [("policy.yaml", text)], expected, sourceLocation: sourceLocation)
}

/// Asserts the policy files (name → marked text) yield exactly the expected diagnostics:
/// each `(rule, marker)` at the marker's file and position, and nothing else.
public func expectDiagnostics(
    files: [(String, String)], _ expected: [(Rule.ID, String)], sourceLocation: SourceLocation = #_sourceLocation
) {
    let (result, markers) = lintMarked(files)
    var remaining = result.diagnostics
    for (rule, marker) in expected {
        guard let (file, pos) = markers[marker] else {
            Issue.record("no marker ⟨\(marker)⟩ in the text", sourceLocation: sourceLocation)
            continue
        }
        if let i = remaining.firstIndex(where: { $0.rule == rule && $0.span.file == file && $0.span.start == pos }) {
            remaining.remove(at: i)
        } else {
            let got = result.diagnostics.map { "\($0.span): \($0.rule.rawValue): \($0.message)" }.joined(separator: "\n")
            Issue.record("expected \(rule.rawValue) at \(file):\(pos) (⟨\(marker)⟩); got:\n\(got)", sourceLocation: sourceLocation)
        }
    }
    for d in remaining {
        Issue.record("unexpected \(d.rule.rawValue) at \(d.span): \(d.message)", sourceLocation: sourceLocation)
    }
}

/// A minimal valid policy around the given routes (indented for `routes:`), with a service
/// `users` and `orders`.
public func policy(routes: String, extraServices: String = "", defaults: String = "") -> String {
    let routes = routes.split(separator: "\n", omittingEmptySubsequences: false).map { "      " + $0 }.joined(separator: "\n")
    return """
        version: 1
        \(defaults)
        services:
          ⟨users⟩users:
            endpoints: [10.0.0.1:8080]
          ⟨orders⟩orders:
            endpoints: [10.0.0.2:8080]
        \(extraServices)
        listeners:
          public:
            address: 0.0.0.0:8080
            hosts:
              api:
                domains: [api.example.com]
                routes:
        \(routes)
        """
}
