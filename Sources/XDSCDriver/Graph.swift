import Foundation
import XDSCDiagnostics
import XDSCPolicy

/// Identifies one route of a policy: its listener, its host and its position in the host.
public struct RouteRef: Hashable, Sendable {
    /// The listener's name.
    public var listener: String
    /// The host's name within the listener.
    public var host: String
    /// Position in the host's route list, from 0.
    public var index: Int

    /// A route by listener name, host name and 0-based position.
    public init(listener: String, host: String, index: Int) {
        self.listener = listener
        self.host = host
        self.index = index
    }
}

/// Draws a policy as a Graphviz graph: listeners -> hosts -> routes -> services. Weighted
/// splits are labelled with their weights, mirrors are dashed, and redirects and direct
/// responses are nodes of their own. Listeners, hosts and routes read top to bottom in the
/// order written. The DOT text is byte-identical for the same policy.
public struct PolicyGraph: Sendable {
    /// The policy to draw; it must have no errors.
    public var policy: Policy
    /// Routes to mark as shadowed (drawn red, labelled); filled in by the route analysis.
    public var shadowed: Set<RouteRef>

    /// A graph of `policy`, with `shadowed` routes marked.
    public init(policy: Policy, shadowed: Set<RouteRef> = []) {
        self.policy = policy
        self.shadowed = shadowed
    }

    /// A graph of a checked policy, marking the routes the route analysis found shadowed.
    public init(result: FrontEndResult) {
        let spans = Set(result.diagnostics.filter { $0.rule == .routeShadowed }.map(\.span))
        var marked = Set<RouteRef>()
        for l in result.policy.listeners {
            for h in l.hosts {
                for r in h.routes where spans.contains(r.span) {
                    marked.insert(RouteRef(listener: l.name.value, host: h.name.value, index: r.index))
                }
            }
        }
        self.init(policy: result.policy, shadowed: marked)
    }

    /// Whether a checked policy can be drawn: its only errors, if any, are shadowed routes,
    /// which the graph marks.
    public static func canDraw(_ result: FrontEndResult) -> Bool {
        !result.diagnostics.contains {
            ($0.severity == .error && $0.rule != .routeShadowed) || Rule.registry[$0.rule].isInputFailure
        }
    }

    /// The graph in the DOT language.
    public func dot() -> String {
        var out = dotPreamble
        var edges: [String] = []
        // Listeners, hosts and routes in the order written, for the layout's columns.
        var columns: [[String]] = [[], [], []]

        out += "\n  // services\n"
        for s in policy.services {
            let eps = s.endpoints.map { e in e.host.contains(":") ? "[\(e.host)]:\(e.port)" : "\(e.host):\(e.port)" }
            let label = ["service \(s.name.value)"] + eps.prefix(3) + (eps.count > 3 ? ["+\(eps.count - 3) more"] : [])
            out += "  \(q(serviceID(s.name.value))) [shape=cylinder, label=\(q(label))];\n"
        }
        for l in policy.listeners {
            let lid = "listener/\(l.name.value)"
            columns[0].append(lid)
            out += "\n  // listener \(comment(l.name.value))\n"
            out += "  \(q(lid)) [shape=box, style=bold, label=\(q(["listener \(l.name.value)", l.address.value.description]))];\n"
            for h in l.hosts {
                let hid = "host/\(l.name.value)/\(h.name.value)"
                columns[1].append(hid)
                let domains = h.domains.map(\.value)
                let shownDomains = domains.prefix(3) + (domains.count > 3 ? ["+\(domains.count - 3) more"] : [])
                out += "  \(q(hid)) [shape=folder, label=\(q(["host \(h.name.value)"] + shownDomains))];\n"
                edges.append("  \(q(lid)) -> \(q(hid));\n")
                for r in h.routes {
                    let rid = "route/\(l.name.value)/\(h.name.value)/\(r.index)"
                    columns[2].append(rid)
                    let ref = RouteRef(listener: l.name.value, host: h.name.value, index: r.index)
                    var lines = ["\(r.index + 1). " + (r.name?.value ?? "route"), Self.describe(r.match)]
                    var attrs = "shape=ellipse"
                    if shadowed.contains(ref) {
                        lines.append("(shadowed)")
                        attrs += ", color=red, fontcolor=red, style=dashed"
                    }
                    out += "  \(q(rid)) [\(attrs), label=\(q(lines))];\n"
                    edges.append("  \(q(hid)) -> \(q(rid)) [label=\(q(["\(r.index + 1)"]))];\n")
                    switch r.action {
                    case .service(let s):
                        edges.append("  \(q(rid)) -> \(q(serviceID(s.value)));\n")
                    case .split(let targets):
                        let total = targets.reduce(0) { $0 + $1.weight.value }
                        for t in targets {
                            edges.append(
                                "  \(q(rid)) -> \(q(serviceID(t.service.value))) [label=\(q(["\(t.weight.value)/\(total)"]))];\n")
                        }
                    case .redirect(let red):
                        let id = "redirect/\(l.name.value)/\(h.name.value)/\(r.index)"
                        out += "  \(q(id)) [shape=note, label=\(q(["redirect \(red.code?.value ?? 301)", Self.describe(red)]))];\n"
                        edges.append("  \(q(rid)) -> \(q(id));\n")
                    case .respond(let resp):
                        let id = "respond/\(l.name.value)/\(h.name.value)/\(r.index)"
                        out += "  \(q(id)) [shape=note, label=\(q(["respond \(resp.status.value)"]))];\n"
                        edges.append("  \(q(rid)) -> \(q(id));\n")
                    }
                    if let m = r.mirror {
                        let pct = m.percent.map { "mirror " + Self.percentText($0.value) } ?? "mirror"
                        edges.append("  \(q(rid)) -> \(q(serviceID(m.service.value))) [style=dashed, label=\(q([pct]))];\n")
                    }
                }
            }
        }
        out += "\n  // edges\n"
        out += edges.joined()
        // Left to itself, dot orders a column to shorten edges, so a route table could read
        // 4, 1, 3, 2 from the top. An invisible edge between neighbours of one rank is a
        // hard constraint: each column then reads top to bottom in the order written.
        let chained = columns.filter { $0.count > 1 }
        if !chained.isEmpty {
            out += "\n  // listeners, hosts and routes top to bottom in the order written\n"
            for column in chained {
                out += "  { rank=same; " + column.map(q).joined(separator: " -> ") + " [style=invis]; }\n"
            }
        }
        out += "}\n"
        return out
    }

    func serviceID(_ name: String) -> String { "service/\(name)" }

    /// A DOT double-quoted string of lines joined by `\n` (centred lines).
    func q(_ lines: [String]) -> String { q(lines.joined(separator: "\n")) }

    func q(_ s: String) -> String { dotQuoted(s) }

    /// Text for a `//` comment: no line breaks.
    func comment(_ s: String) -> String { String(s.map { $0 == "\n" ? " " : $0 }) }

    static func describe(_ m: PolicyRouteMatch) -> String {
        var parts: [String] = []
        switch m.path.value {
        case .prefix(let p): parts.append("prefix \(p)")
        case .exact(let p): parts.append("path \(p)")
        case .regex(let p): parts.append("regex \(p)")
        }
        if !m.methods.isEmpty { parts.append(m.methods.map(\.value).joined(separator: ",")) }
        if !m.headers.isEmpty { parts.append("headers: " + m.headers.map(\.name.value).joined(separator: ",")) }
        if !m.query.isEmpty { parts.append("query: " + m.query.map(\.name.value).joined(separator: ",")) }
        if m.grpc?.value == true { parts.append("grpc") }
        return parts.joined(separator: " ")
    }

    static func describe(_ r: PolicyRedirect) -> String {
        var target = ""
        if let s = r.scheme { target += s.value + "://" }
        if let h = r.host { target += h.value }
        if let p = r.port { target += ":\(p.value)" }
        switch r.path?.value {
        case .path(let p): target += p
        case .prefix(let p): target += p + "*"
        case nil: break
        }
        return target.isEmpty ? "same URL" : target
    }

    static func percentText(_ p: Percent) -> String {
        let whole = p.perMillion / 10_000
        var frac = String(p.perMillion % 10_000)
        if frac == "0" { return "\(whole)%" }
        frac = String(repeating: "0", count: 4 - frac.count) + frac
        while frac.hasSuffix("0") { frac.removeLast() }
        return "\(whole).\(frac)%"
    }
}

/// Turns DOT text into SVG with Graphviz's `dot`, which must be on `PATH`.
public enum GraphvizRenderer {
    /// Why SVG could not be made.
    public enum Failure: Error, Sendable, CustomStringConvertible {
        /// No executable `dot` on PATH.
        case notInstalled
        /// `dot` ran and failed; `message` is what it printed on standard error.
        case failed(status: Int32, message: String)

        /// The message shown to the user.
        public var description: String {
            switch self {
            case .notInstalled:
                "Graphviz `dot` was not found on PATH; install Graphviz (e.g. `apt-get install graphviz`) or use `--format dot`"
            case .failed(let status, let message):
                "Graphviz `dot` failed with status \(status): \(message)"
            }
        }
    }

    /// The first executable `dot` on `PATH`, or nil.
    public static func findDot(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        let path = environment["PATH"] ?? ""
        for dir in path.split(separator: ":") where !dir.isEmpty {
            let candidate = String(dir) + "/dot"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs `dot -Tsvg` on `dot` text.
    public static func svg(_ dotText: String) throws(Failure) -> String {
        guard let tool = findDot() else { throw .notInstalled }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = ["-Tsvg"]
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = errors
        do { try p.run() } catch { throw .failed(status: -1, message: "\(error)") }
        // Write on another thread so a full output pipe never deadlocks the two processes.
        let writer = input.fileHandleForWriting
        let data = Data(dotText.utf8)
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            writer.write(data)
            try? writer.close()
            done.signal()
        }
        final class Box: @unchecked Sendable { var data = Data() }
        let errBox = Box()
        let errReader = errors.fileHandleForReading
        let errDone = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            errBox.data = errReader.readDataToEndOfFile()
            errDone.signal()
        }
        let svgData = output.fileHandleForReading.readDataToEndOfFile()
        done.wait()
        errDone.wait()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw .failed(status: p.terminationStatus, message: String(decoding: errBox.data, as: UTF8.self))
        }
        return String(decoding: svgData, as: UTF8.self)
    }
}

/// The start of every graph xdsc draws: the banner, `digraph xdsc {` and the shared styles.
let dotPreamble = """
    // generated by xdsc graph
    digraph xdsc {
      graph [rankdir=LR, fontname="Helvetica", nodesep=0.3, ranksep=0.8];
      node [fontname="Helvetica", fontsize=10];
      edge [fontname="Helvetica", fontsize=9];

    """

/// `s` as a DOT double-quoted string: quotes and backslashes escaped, line breaks as `\n`
/// (centred lines), carriage returns and tabs as spaces.
func dotQuoted(_ s: String) -> String {
    var out = "\""
    for c in s.unicodeScalars {
        switch c {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r", "\t": out += " "
        default: out.unicodeScalars.append(c)
        }
    }
    return out + "\""
}
