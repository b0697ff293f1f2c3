import Foundation
import Testing

/// The README shows real output: every `$ xdsc lint ...`, `$ xdsc explain ...`, `$ xdsc route ...`,
/// `$ xdsc test routes ...`, `$ xdsc test traffic ...` and `$ xdsc diff ...`
/// command in a `console` block is run, and its output must be what
/// the block shows.
@Suite struct ReadmeTests {
    struct Example: CustomStringConvertible {
        var command: [String]
        var expected: String
        var description: String { command.joined(separator: " ") }
    }

    static var examples: [Example] {
        guard let text = try? String(contentsOf: CLI.packageRoot.appendingPathComponent("README.md"), encoding: .utf8) else { return [] }
        var out: [Example] = []
        var inConsole = false
        var current: Example?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```console") {
                inConsole = true
                continue
            }
            if inConsole && line.hasPrefix("```") {
                if let c = current { out.append(c) }
                current = nil
                inConsole = false
                continue
            }
            guard inConsole else { continue }
            if line.hasPrefix("$ xdsc lint ") || line.hasPrefix("$ xdsc explain ") || line.hasPrefix("$ xdsc route ")
                || line.hasPrefix("$ xdsc test routes ") || line.hasPrefix("$ xdsc diff ") || line.hasPrefix("$ xdsc test traffic ")
            {
                if let c = current { out.append(c) }
                current = Example(command: line.dropFirst(7).split(separator: " ").map(String.init), expected: "")
            } else if current != nil {
                current!.expected += line + "\n"
            }
        }
        return out
    }

    @Test func readmeHasExamples() {
        #expect(Self.examples.count >= 4)
    }

    @Test(arguments: examples)
    func exampleOutputIsReal(_ example: Example) throws {
        let r = try CLI.run(example.command)
        #expect(r.stdout == example.expected, "README block for `xdsc \(example)` is stale; run it and paste the output")
    }
}
