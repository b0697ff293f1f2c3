import Foundation
import XDSCDiagnostics

/// Chooses a renderer for a format and the terminal.
public enum Rendering {
    /// Colour for `auto`: only on a terminal, and never when `NO_COLOR` is set (no-color.org).
    public static func useColor(_ mode: String, fileDescriptor: Int32) -> Bool {
        switch mode {
        case "always": return true
        case "never": return false
        default:
            // `getenv`, not `ProcessInfo.environment`, which copies the whole environment into
            // a dictionary: a visible part of a small lint's start-up.
            if let nc = getenv("NO_COLOR"), nc.pointee != 0 { return false }
            if let term = getenv("TERM"), String(cString: term) == "dumb" { return false }
            return isatty(fileDescriptor) == 1
        }
    }

    /// The result's diagnostics rendered in `format`.
    public static func render(_ result: FrontEndResult, format: DiagnosticFormat, color: Bool) -> String {
        renderer(format, sources: result.sources, color: color).render(result.diagnostics)
    }

    /// The renderer of `format`.
    public static func renderer(_ format: DiagnosticFormat, sources: [String: SourceFile], color: Bool) -> any DiagnosticRenderer {
        switch format {
        case .human: HumanRenderer(sources: sources, color: color)
        case .short: ShortRenderer()
        case .json: JSONRenderer()
        case .sarif: SARIFRenderer()
        case .github: GitHubRenderer()
        }
    }
}
