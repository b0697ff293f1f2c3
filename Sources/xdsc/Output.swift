import Foundation

/// Writes to the standard streams without buffering surprises: each call is written whole,
/// at once, with `write(2)` (no `Data` copy, whose generic set-up is a visible part of a
/// small lint's start-up).
enum FileHandleOutput {
    static func stdout(_ s: String) { writeAll(s, to: STDOUT_FILENO) }

    static func stderr(_ s: String) { writeAll(s, to: STDERR_FILENO) }

    private static func writeAll(_ s: String, to fd: Int32) {
        var s = s
        s.withUTF8 { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n > 0 {
                    offset += n
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    return  // a closed pipe: nothing more can be written
                }
            }
        }
    }
}

/// Values kept alive until the process exits. Freeing a large run's model (hundreds of
/// thousands of small objects) just before `exit` is work whose result nobody sees.
enum UntilExit {
    nonisolated(unsafe) private static var kept: [Any] = []

    /// Keeps `value` until the process exits.
    static func keep(_ value: Any) { kept.append(value) }
}
