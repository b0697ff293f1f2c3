import Foundation
import XDSCDiagnostics

/// Expands command-line paths into policy files: a file stands for itself; a directory for
/// every `*.yaml`/`*.yml` below it (hidden folders skipped), sorted by path.
public enum PolicyInputs {
    public struct File: Sendable {
        /// The path as shown in diagnostics: relative when the argument was relative.
        public var path: String
        public var bytes: [UInt8]
        /// Found by expanding a directory argument, rather than named on the command line.
        public var fromDirectory: Bool

        public init(path: String, bytes: [UInt8], fromDirectory: Bool = false) {
            self.path = path
            self.bytes = bytes
            self.fromDirectory = fromDirectory
        }
    }

    /// The files of `arguments`. Directories stand for their `*.yaml`/`*.yml` files, and
    /// their `*.json` files too unless `input` is `.policy` (a JSON file is then read only
    /// when its content is Envoy configuration).
    public static func read(_ arguments: [String], input: InputKind? = .policy, into sink: DiagnosticSink) -> [File] {
        let extensions = input == .policy ? [".yaml", ".yml"] : [".yaml", ".yml", ".json"]
        var files: [File] = []
        var seen = Set<String>()
        let fm = FileManager.default
        for arg in arguments {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: arg, isDirectory: &isDir) else {
                sink.add(.unreadableInput, "no such file or directory: \(arg)", at: .point(arg), label: "not found")
                continue
            }
            var paths: [String] = []
            if isDir.boolValue {
                paths = policyFiles(under: arg, extensions: extensions)
                if paths.isEmpty {
                    sink.add(
                        .unreadableInput,
                        input == .policy
                            ? "directory \(arg) holds no policy files (*.yaml, *.yml)"
                            : "directory \(arg) holds no policy files (*.yaml, *.yml) or Envoy files (*.yaml, *.yml, *.json)",
                        at: .point(arg), help: "name policy files with a .yaml or .yml extension")
                    continue
                }
            } else {
                paths = [arg]
            }
            for p in paths {
                let key = URL(fileURLWithPath: p).standardizedFileURL.path
                guard seen.insert(key).inserted else { continue }
                guard let data = fm.contents(atPath: p) else {
                    sink.add(.unreadableInput, "cannot read \(p)", at: .point(p), label: "unreadable", help: "check the file's permissions")
                    continue
                }
                files.append(File(path: p, bytes: [UInt8](data), fromDirectory: isDir.boolValue))
            }
        }
        return files
    }

    static func policyFiles(under dir: String, extensions: [String] = [".yaml", ".yml"]) -> [String] {
        let base = dir.hasSuffix("/") ? String(dir.dropLast()) : dir
        guard let walker = FileManager.default.enumerator(atPath: dir) else { return [] }
        var out: [String] = []
        while let rel = walker.nextObject() as? String {
            let last = (rel as NSString).lastPathComponent
            if last.hasPrefix(".") {
                walker.skipDescendants()
                continue
            }
            if extensions.contains(where: rel.hasSuffix) {
                let full = base + "/" + rel
                var isDir: ObjCBool = false
                if FileManager.default.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue { out.append(full) }
            }
        }
        // Byte order, so every machine reads files in the same order.
        return out.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }
}
