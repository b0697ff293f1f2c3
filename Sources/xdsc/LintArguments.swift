/// The plain `xdsc lint` command lines, read without swift-argument-parser.
///
/// Parsing a subcommand with swift-argument-parser reflects the command's properties
/// (`Mirror`), casts each to the library's protocols and builds the help names of every
/// command on the stack; the first cast of each type scans every protocol conformance record
/// of the binary. For a small policy that was about as much work as the lint itself (issue 13:
/// lint of a 200-line policy <= 1.3x the process start).
///
/// This reads only the command lines whose meaning is plain: `lint` first, then paths and
/// the lint options spelled `--name` or `--name VALUE`, each option at most once, every value
/// valid for its option. Anything else — help and version flags anywhere, `--name=value`,
/// short names, `--`, a value or path that starts with `-` or is empty, a repeated option, an
/// unknown option, no path — is left to swift-argument-parser, so that every message, usage
/// text and exit code comes from it unchanged. A command line read here gives the same
/// `LintOptions` as swift-argument-parser would (`LintArgumentsTests` compares them).
enum LintArguments {
    /// The options of `arguments` (the command line without the program name) when it is a
    /// plain `lint` command line; nil when swift-argument-parser must read it.
    static func plain(_ arguments: [String]) -> LintOptions? {
        guard arguments.first == "lint" else { return nil }
        var options = LintOptions.defaults
        // Which options were given: each may appear once here (a repeat goes to the parser).
        var seen: UInt8 = 0
        var i = 1
        while i < arguments.count {
            let argument = arguments[i]
            i += 1
            guard let first = argument.utf8.first else { return nil }
            guard first == UInt8(ascii: "-") else {
                options.paths.append(argument)
                continue
            }
            guard let option = Option(rawValue: argument), seen & option.bit == 0 else { return nil }
            seen |= option.bit
            if option == .strict {
                options.strict = true
                continue
            }
            if option == .verbose {
                options.verbose = true
                continue
            }
            guard i < arguments.count, let v = arguments[i].utf8.first, v != UInt8(ascii: "-") else { return nil }
            let value = arguments[i]
            i += 1
            switch option {
            case .input:
                guard let input = InputOption(rawValue: value) else { return nil }
                options.input = input
            case .format:
                guard let format = FormatOption(rawValue: value) else { return nil }
                options.format = format
            case .color:
                guard let color = ColorOption(rawValue: value) else { return nil }
                options.color = color
            case .emitTests:
                options.emitTests = value
            case .strict, .verbose:
                return nil
            }
        }
        return options.paths.isEmpty ? nil : options
    }

    /// The long names of `LintCommand`'s options.
    enum Option: String, CaseIterable {
        case input = "--input"
        case format = "--format"
        case strict = "--strict"
        case color = "--color"
        case verbose = "--verbose"
        case emitTests = "--emit-tests"

        var bit: UInt8 {
            switch self {
            case .input: 1
            case .format: 2
            case .strict: 4
            case .color: 8
            case .verbose: 16
            case .emitTests: 32
            }
        }
    }
}
