/// Reads structured choices from a fuzzer's bytes. Past the end every read is zero, so any
/// input (even an empty one) decodes to something: the fuzzer never wastes an execution.
struct FuzzInput {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { offset >= bytes.count }

    mutating func byte() -> UInt8 {
        guard offset < bytes.count else { return 0 }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// A number in `0..<n` (n >= 1).
    mutating func below(_ n: Int) -> Int { Int(byte()) % n }

    mutating func bool() -> Bool { byte() & 1 == 1 }

    mutating func pick<T>(_ xs: [T]) -> T { xs[below(xs.count)] }

    /// A string of up to `maxLength` pieces from `alphabet`.
    mutating func word(_ alphabet: [String], maxLength: Int) -> String {
        (0..<below(maxLength + 1)).map { _ in pick(alphabet) }.joined()
    }
}

/// The outcome of one harness run on one input: nil when every invariant held.
public typealias Violation = String

/// Stops the process on a violation, which is how a libFuzzer harness reports a finding.
func trap(_ violation: Violation?) {
    if let violation { fatalError("fuzz invariant violated: \(violation)") }
}
