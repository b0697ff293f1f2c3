import Foundation

/// Writes to the standard streams without buffering surprises.
enum FileHandleOutput {
    static func stdout(_ s: String) {
        FileHandle.standardOutput.write(Data(s.utf8))
    }

    static func stderr(_ s: String) {
        FileHandle.standardError.write(Data(s.utf8))
    }
}

/// Values kept alive until the process exits. Freeing a large run's model (hundreds of
/// thousands of small objects) just before `exit` is work whose result nobody sees.
enum UntilExit {
    nonisolated(unsafe) private static var kept: [Any] = []

    /// Keeps `value` until the process exits.
    static func keep(_ value: Any) { kept.append(value) }
}
