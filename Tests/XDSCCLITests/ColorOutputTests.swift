import Foundation
import Testing

/// Colour only on a terminal, `NO_COLOR` respected, `--color always` forces it.
@Suite struct ColorOutputTests {
    static let bad = "fixtures/schema/type-bare-number.yaml"
    static let escape = "\u{1B}["

    @Test func pipedOutputHasNoColourByDefault() throws {
        // An empty NO_COLOR counts as unset (no-color.org), so only the pipe decides here.
        let r = try CLI.run(["lint", Self.bad], environment: ["NO_COLOR": ""])
        #expect(r.status == 1)
        #expect(r.stdout.contains("error[type-mismatch]"))
        #expect(!r.stdout.contains(Self.escape))
    }

    @Test func colorAlwaysColoursAPipe() throws {
        let r = try CLI.run(["lint", "--color", "always", Self.bad], environment: ["NO_COLOR": ""])
        #expect(r.status == 1)
        #expect(r.stdout.contains(Self.escape + "1;31merror[type-mismatch]"))
        // `always` wins over NO_COLOR: the user asked explicitly.
        let forced = try CLI.run(["lint", "--color", "always", Self.bad], environment: ["NO_COLOR": "1"])
        #expect(forced.stdout.contains(Self.escape))
    }

    @Test func colorNeverAndOtherFormatsStayPlain() throws {
        for args in [["--color", "never"], ["--format", "short", "--color", "auto"], ["--format", "json"]] {
            let r = try CLI.run(["lint"] + args + [Self.bad], environment: ["NO_COLOR": ""])
            #expect(!r.stdout.contains(Self.escape), "\(args)")
        }
    }

    /// Runs xdsc under a pseudo-terminal with util-linux `script`.
    static func onTerminal(_ args: [String], environment: [String: String]) throws -> CLIRun {
        let command = ([CLI.binary.path] + args).map { "'\($0)'" }.joined(separator: " ")
        return try Tools.run("script", ["-qec", command, "/dev/null"], environment: environment.merging(["TERM": "xterm"]) { a, _ in a })
    }

    @Test(.enabled(if: Tools.which("script") != nil, "needs util-linux script for a pseudo-terminal"))
    func terminalGetsColourUnlessNoColor() throws {
        let tty = try Self.onTerminal(["lint", Self.bad], environment: ["NO_COLOR": ""])
        #expect(tty.stdout.contains(Self.escape + "1;31merror"), "\(tty.stdout)")
        let noColor = try Self.onTerminal(["lint", Self.bad], environment: ["NO_COLOR": "1"])
        #expect(noColor.stdout.contains("error[type-mismatch]"))
        #expect(!noColor.stdout.contains(Self.escape))
    }
}
