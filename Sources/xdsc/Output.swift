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
