import ArgumentParser
import Testing

@testable import xdsc

/// The plain `lint` command lines read without swift-argument-parser (`LintArguments`): each
/// one it reads gives the options swift-argument-parser gives, and it leaves every other line
/// (help, version, errors, unusual spellings) to the parser.
@Suite struct LintArgumentsTests {
    /// What swift-argument-parser makes of `arguments`, as lint options (nil: not a lint run,
    /// or an error, help or version).
    static func parsed(_ arguments: [String]) -> LintOptions? {
        guard let command = try? XDSC.parseAsRoot(arguments) else { return nil }
        return (command as? LintCommand)?.options
    }

    @Test func commonCommandLinesAreReadPlainAndAgreeWithTheParser() throws {
        let lines: [[String]] = [
            ["lint", "policy.yaml"],
            ["lint", "--format", "short", "small.yaml"],
            ["lint", "a.yaml", "b.yaml", "--strict"],
            ["lint", "--input", "envoy", "--color", "never", "--verbose", "dir"],
            ["lint", "--emit-tests", "out.yaml", "--format", "json", "p.yaml"],
            ["lint", "p.yaml", "--format", "sarif", "q.yaml", "--input", "policy", "--color", "always"],
            ["lint", "lint", "help", "version"],
        ]
        for line in lines {
            let plain = try #require(LintArguments.plain(line), "\(line)")
            #expect(plain == Self.parsed(line), "\(line)")
        }
        let expected = LintOptions(
            input: .auto, format: .json, strict: true, color: .auto, verbose: false, emitTests: "t.yaml", paths: ["a", "b"])
        #expect(LintArguments.plain(["lint", "a", "--strict", "--format", "json", "--emit-tests", "t.yaml", "b"]) == expected)
    }

    @Test func everythingElseIsLeftToTheParser() {
        let lines: [[String]] = [
            [], ["lint"], ["help", "lint"], ["build", "p.yaml"], ["--version"], ["lint", "--help"], ["lint", "-h"],
            ["lint", "p.yaml", "--help"], ["lint", "p.yaml", "--version"], ["lint", "p.yaml", "-help"],
            ["lint", "--experimental-dump-help"], ["lint", "--format=short", "p.yaml"], ["lint", "--format", "bogus", "p.yaml"],
            ["lint", "--format", "p.yaml"], ["lint", "p.yaml", "--format"], ["lint", "--strict", "--strict", "p.yaml"],
            ["lint", "--format", "json", "--format", "short", "p.yaml"], ["lint", "--", "p.yaml"], ["lint", "-", "p.yaml"],
            ["lint", "-x", "p.yaml"], ["lint", ""], ["lint", "p.yaml", ""], ["lint", "--emit-tests", "-o", "p.yaml"],
            ["lint", "--emit-tests", "", "p.yaml"], ["lint", "--strict"], ["lint", "--no-strict", "p.yaml"],
            ["lint", "---completion", "lint", "--", "positional@0", "0", ""], ["lint", "--generate-completion-script", "bash"],
            ["lint", "--Format", "short", "p.yaml"], ["lint", "--input", "Envoy", "p.yaml"],
        ]
        for line in lines { #expect(LintArguments.plain(line) == nil, "\(line)") }
    }

    /// Every command line of up to three words after `lint` from a mix of paths, options,
    /// values and tricky words: read plain only when the parser reads it the same way.
    @Test func agreesWithTheParserOnEveryShortCommandLine() {
        let words = [
            "p.yaml", "dir", "--strict", "--verbose", "--format", "short", "json", "--input", "envoy", "--color", "never",
            "--emit-tests", "--help", "-h", "--version", "--format=json", "--", "-", "help", "lint", "",
        ]
        var plain = 0
        func check(_ line: [String]) {
            guard let options = LintArguments.plain(line) else { return }
            plain += 1
            #expect(options == Self.parsed(line), "\(line)")
        }
        for a in words {
            check(["lint", a])
            for b in words {
                check(["lint", a, b])
                for c in words { check(["lint", a, b, c]) }
            }
        }
        // The enumeration reaches the plain path often enough to mean something.
        #expect(plain > 200)
    }

    /// The plain path knows exactly the long options `lint` declares.
    @Test func knowsEveryLintOption() {
        let help = LintCommand.helpMessage(columns: 300)
        var declared: [String] = []
        for line in help.split(separator: "\n") {
            let words = line.split(separator: " ")
            for w in words.prefix(2) where w.hasPrefix("--") { declared.append(w.filter { $0 != "," }) }
        }
        let known = LintArguments.Option.allCases.map(\.rawValue) + ["--help"]
        #expect(Set(declared) == Set(known), "\(declared)")
    }
}
