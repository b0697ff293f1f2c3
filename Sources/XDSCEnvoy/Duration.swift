import XDSCJSON

/// A protobuf `google.protobuf.Duration`, kept as whole nanoseconds so that equal
/// durations always print the same text.
public struct EnvoyDuration: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Total nanoseconds; never negative in configuration xdsc writes.
    public var nanoseconds: Int64

    /// A duration of `nanoseconds`.
    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    /// A duration of whole milliseconds.
    public static func milliseconds(_ ms: Int64) -> EnvoyDuration { EnvoyDuration(nanoseconds: ms * 1_000_000) }
    /// A duration of whole seconds.
    public static func seconds(_ s: Int64) -> EnvoyDuration { EnvoyDuration(nanoseconds: s * 1_000_000_000) }
    /// The zero duration (Envoy reads `0s` as "disabled" for timeouts).
    public static let zero = EnvoyDuration(nanoseconds: 0)

    /// Whole milliseconds, rounded down.
    public var milliseconds: Int64 { nanoseconds / 1_000_000 }

    /// Whether `a` sorts before `b`.
    public static func < (a: EnvoyDuration, b: EnvoyDuration) -> Bool { a.nanoseconds < b.nanoseconds }

    /// The protobuf JSON text, as Envoy's own config dump prints it: whole seconds, then
    /// 0, 3, 6 or 9 fractional digits (the fewest that are exact) and `s` — `"0s"`, `"5s"`,
    /// `"1.500s"`, `"0.250s"`, `"0.000001s"`.
    public var description: String {
        let sign = nanoseconds < 0 ? "-" : ""
        let n = nanoseconds.magnitude
        let secs = n / 1_000_000_000
        let frac = n % 1_000_000_000
        if frac == 0 { return "\(sign)\(secs)s" }
        var digits = String(frac)
        digits = String(repeating: "0", count: 9 - digits.count) + digits
        // Trim to the shortest exact group of three digits, as protobuf's JSON printer does.
        if frac % 1_000_000 == 0 {
            digits = String(digits.prefix(3))
        } else if frac % 1_000 == 0 {
            digits = String(digits.prefix(6))
        }
        return "\(sign)\(secs).\(digits)s"
    }

    /// The JSON value: the duration string.
    public var json: JSON { .string(description) }

    /// Parses the protobuf JSON form (`"1.5s"`, `"-0.25s"`) or the `{seconds, nanos}`
    /// object form that YAML-written Envoy configs use. Returns nil when malformed.
    public init?(json: JSON) {
        switch json {
        case .string(let s):
            guard let d = EnvoyDuration(protobufText: s) else { return nil }
            self = d
        case .object(let o):
            var total: Int64 = 0
            for (key, value) in o.members {
                switch (key, value) {
                case ("seconds", .int(let s)): total += s * 1_000_000_000
                case ("seconds", .string(let s)):
                    guard let v = Int64(s) else { return nil }
                    total += v * 1_000_000_000
                case ("nanos", .int(let n)): total += n
                default: return nil
                }
            }
            self.init(nanoseconds: total)
        default:
            return nil
        }
    }

    /// Parses `"<seconds>[.<fraction>]s"`.
    public init?(protobufText text: String) {
        guard text.hasSuffix("s") else { return nil }
        var body = Substring(text.dropLast())
        var negative = false
        if body.hasPrefix("-") {
            negative = true
            body = body.dropFirst()
        }
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2, let whole = Int64(parts[0]), !parts[0].isEmpty,
            parts[0].allSatisfy(\.isASCII)
        else { return nil }
        var nanos: Int64 = 0
        if parts.count == 2 {
            let f = parts[1]
            guard !f.isEmpty, f.count <= 9, f.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            nanos = Int64(f + String(repeating: "0", count: 9 - f.count))!
        }
        let total = whole * 1_000_000_000 + nanos
        self.init(nanoseconds: negative ? -total : total)
    }
}
