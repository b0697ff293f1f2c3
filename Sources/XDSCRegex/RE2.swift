// The only file that imports the RE2 shim.
import CRE2Shim

/// A compiled RE2 pattern, with the options Envoy uses for `safe_regex` (RE2 defaults:
/// UTF-8, case-sensitive, `.` does not match a newline). Thread-safe after construction.
public final class RE2Pattern: @unchecked Sendable {
    /// Envoy's default `re2.max_program_size.error_level`.
    public static let envoyMaxProgramSize = 100

    /// The pattern as written.
    public let pattern: String
    private let handle: OpaquePointer

    /// Compiles `pattern`, or throws RE2's own error text.
    public init(_ pattern: String) throws(RE2Error) {
        self.pattern = pattern
        var err: UnsafeMutablePointer<CChar>?
        let compiled: OpaquePointer? = pattern.utf8CString.withUnsafeBufferPointer { buf in
            re2shim_compile(buf.baseAddress, buf.count - 1, &err)
        }
        guard let compiled else {
            var message = "invalid regular expression"
            if let err {
                message = String(cString: err)
                re2shim_free_string(err)
            }
            throw RE2Error(message: message)
        }
        handle = compiled
    }

    deinit { re2shim_free(handle) }

    /// RE2's compiled program size, the number Envoy compares with its limit.
    public var programSize: Int { Int(re2shim_program_size(handle)) }

    /// `RE2::FullMatch`: the whole of `text` matches.
    public func fullMatch(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { re2shim_full_match(handle, $0.baseAddress, $0.count) == 1 }
    }

    /// `RE2::PartialMatch`: some substring of `text` matches.
    public func partialMatch(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { re2shim_partial_match(handle, $0.baseAddress, $0.count) == 1 }
    }

    /// `RE2::GlobalReplace` with `\1`-style substitutions, as Envoy's `regex_rewrite`.
    public func globalReplace(_ text: String, with rewrite: String) throws(RE2Error) -> String {
        var err: UnsafeMutablePointer<CChar>?
        var outLen = 0
        var text = text
        var rewrite = rewrite
        let out: UnsafeMutablePointer<CChar>? = text.withUTF8 { t in
            rewrite.withUTF8 { r in
                re2shim_global_replace(handle, t.baseAddress, t.count, r.baseAddress, r.count, &outLen, &err)
            }
        }
        guard let out else {
            var message = "invalid substitution"
            if let err {
                message = String(cString: err)
                re2shim_free_string(err)
            }
            throw RE2Error(message: message)
        }
        defer { re2shim_free_string(out) }
        return String(decoding: UnsafeRawBufferPointer(start: out, count: outLen), as: UTF8.self)
    }

    /// Checks `pattern` as Envoy does at load time: RE2 must accept it and its program
    /// size must not exceed `maxProgramSize`. Returns the problem, or nil.
    public static func envoyProblem(_ pattern: String, maxProgramSize: Int = envoyMaxProgramSize) -> String? {
        do {
            let re = try RE2Pattern(pattern)
            if re.programSize > maxProgramSize {
                return "RE2 program size of \(re.programSize) > max program size of \(maxProgramSize) (Envoy's default limit)"
            }
            return nil
        } catch {
            return error.message
        }
    }
}

/// RE2 rejected a pattern or a rewrite string; `message` is RE2's own text.
public struct RE2Error: Error, Equatable, Sendable {
    /// RE2's message.
    public let message: String
    /// An error with RE2's `message`.
    public init(message: String) { self.message = message }
}
