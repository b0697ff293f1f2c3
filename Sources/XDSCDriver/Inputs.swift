import Foundation
import XDSCDiagnostics

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Expands command-line paths into policy files: a file stands for itself; a directory for
/// every `*.yaml`/`*.yml` below it (hidden entries skipped, symbolic links followed), sorted
/// by path. Nothing below a directory is skipped silently: a folder that cannot be listed, a
/// policy file that cannot be read, a `*.yaml` link to nothing and a symbolic-link loop are
/// each an `unreadable-input` error naming the path.
public enum PolicyInputs {
    /// One input file: its path and bytes.
    public struct File: Sendable {
        /// The path as shown in diagnostics: relative when the argument was relative.
        public var path: String
        /// The file's bytes.
        public var bytes: [UInt8]
        /// Found by expanding a directory argument, rather than named on the command line.
        public var fromDirectory: Bool

        /// An input file of `path` and `bytes`.
        public init(path: String, bytes: [UInt8], fromDirectory: Bool = false) {
            self.path = path
            self.bytes = bytes
            self.fromDirectory = fromDirectory
        }
    }

    /// The input files `arguments` name (files and directories), reporting what cannot be read
    /// to `sink`. Directories stand for their `*.yaml`/`*.yml` files, and their `*.json` files
    /// too unless `input` is `.policy` (the pipeline then reads a JSON file found in a
    /// directory only when its content is Envoy configuration).
    public static func read(_ arguments: [String], input: InputKind? = .policy, into sink: DiagnosticSink) -> [File] {
        var files: [File] = []
        // Files already read, by device and inode: a file named twice, or reached through
        // two links, is read once. (By text: a set of a new key type costs a scan of the
        // binary's conformance records on first use, a visible part of a small lint.)
        var seen = Set<String>()
        for arg in arguments {
            var walk = Walk(sink: sink, withJSON: input != .policy)
            var fromDirectory = false
            switch Entry.look(arg) {
            case .failure(let problem):
                report(problem, arg, argument: true, sink)
                continue
            case .success(let entry) where entry.isDirectory:
                fromDirectory = true
                let before = sink.all.count
                walk.directory(arg, entry)
                let problems = sink.all.count > before
                if walk.found.isEmpty && !problems {
                    sink.add(
                        .unreadableInput,
                        input == .policy
                            ? "directory \(arg) holds no policy files (*.yaml, *.yml)"
                            : "directory \(arg) holds no policy files (*.yaml, *.yml) or Envoy files (*.yaml, *.yml, *.json)",
                        at: .point(arg), help: "name policy files with a .yaml or .yml extension")
                    continue
                }
            case .success(let entry):
                walk.found.append((arg, entry.id))
            }
            // Byte order of the whole path, so every machine reads files in the same order.
            for (path, id) in walk.found.sorted(by: { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }) {
                guard seen.insert(id.text).inserted else { continue }
                switch readContents(path) {
                case .success(let bytes): files.append(File(path: path, bytes: bytes, fromDirectory: fromDirectory))
                case .failure(let problem): report(problem, path, argument: true, sink)
                }
            }
        }
        return files
    }

    /// The bytes of the one file at `path` (a data file such as a test file, never a
    /// directory), or nil with an `unreadable-input` error naming it.
    public static func readFile(_ path: String, into sink: DiagnosticSink) -> [UInt8]? {
        switch Entry.look(path) {
        case .failure(let problem):
            report(problem, path, argument: true, sink)
            return nil
        case .success(let entry) where !entry.isRegular:
            sink.add(.unreadableInput, "\(path) is not a regular file", at: .point(path), label: "not a file")
            return nil
        case .success:
            switch readContents(path) {
            case .success(let bytes): return bytes
            case .failure(let problem):
                report(problem, path, argument: true, sink)
                return nil
            }
        }
    }

    static func isPolicyName(_ name: String) -> Bool { name.hasSuffix(".yaml") || name.hasSuffix(".yml") }

    /// Reports why `path` could not be looked at.
    static func report(_ problem: Problem, _ path: String, argument: Bool, _ sink: DiagnosticSink) {
        switch problem {
        case .missing:
            sink.add(.unreadableInput, "no such file or directory: \(path)", at: .point(path), label: "not found")
        case .dangling(let target):
            sink.add(
                .unreadableInput, "\(path) is a symbolic link to \(target), which does not exist", at: .point(path),
                label: "dangling link", help: "point the link at an existing file, or remove it")
        case .loop:
            sink.add(
                .unreadableInput, "\(path): too many levels of symbolic links (a symlink loop)", at: .point(path),
                label: "symlink loop", help: "make the link point at a file or directory, not back at itself")
        case .cycle(let ancestor):
            sink.add(
                .unreadableInput, "\(path) is a symlink loop: it leads back to \(ancestor)", at: .point(path),
                label: "symlink loop", help: "remove the link, or point it outside \(ancestor)")
        case .errno(let code):
            sink.add(
                .unreadableInput, "cannot read \(path): \(describe(code))", at: .point(path), label: "unreadable",
                help: argument ? "check the path and its permissions" : "check its permissions, or move it out of the policy directory")
        case .notRegular:
            sink.add(
                .unreadableInput, "\(path) is not a regular file", at: .point(path), label: "not a file",
                help: "policy files must be regular files (or links to them)")
        }
    }

    /// The C library's words for an errno, lower-cased ("permission denied").
    static func describe(_ code: Int32) -> String {
        let text = String(cString: strerror(code))
        return text.prefix(1).lowercased() + text.dropFirst()
    }

    /// Device and inode: the identity of a file whatever path reached it.
    struct FileID: Hashable {
        let device: UInt64
        let inode: UInt64
        /// `device:inode`, as distinct as the pair.
        var text: String { "\(device):\(inode)" }
    }

    enum Problem: Error {
        case missing
        case dangling(target: String)
        case loop
        case cycle(ancestor: String)
        case errno(Int32)
        case notRegular
    }

    /// What `stat` says about a path, following links.
    struct Entry {
        let id: FileID
        let isDirectory: Bool
        let isRegular: Bool

        static func look(_ path: String) -> Result<Entry, Problem> {
            var st = stat()
            if stat(path, &st) == 0 {
                let type = st.st_mode & S_IFMT
                return .success(
                    Entry(
                        id: FileID(device: UInt64(st.st_dev), inode: UInt64(st.st_ino)), isDirectory: type == S_IFDIR,
                        isRegular: type == S_IFREG))
            }
            let code = errno
            switch code {
            case ELOOP: return .failure(.loop)
            case ENOENT, ENOTDIR:
                // A link whose target is missing exists itself: say which it is.
                var lst = stat()
                if lstat(path, &lst) == 0, lst.st_mode & S_IFMT == S_IFLNK {
                    let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?"
                    return .failure(.dangling(target: target))
                }
                return .failure(.missing)
            default: return .failure(.errno(code))
            }
        }
    }

    /// One directory walk: the policy files found, problems reported as they are met.
    struct Walk {
        let sink: DiagnosticSink
        /// Whether `*.json` files are inputs too (Envoy configuration).
        var withJSON = false
        var found: [(path: String, id: FileID)] = []
        /// The directories being walked, outermost first, to tell a link loop from a link.
        private var ancestors: [(path: String, id: FileID)] = []

        init(sink: DiagnosticSink, withJSON: Bool = false) {
            self.sink = sink
            self.withJSON = withJSON
        }

        func isInputName(_ name: String) -> Bool { isPolicyName(name) || withJSON && name.hasSuffix(".json") }

        mutating func directory(_ path: String, _ entry: Entry) {
            if let ancestor = ancestors.first(where: { $0.id == entry.id }) {
                report(.cycle(ancestor: ancestor.path), path, argument: false, sink)
                return
            }
            let names: [String]
            switch list(path) {
            case .success(let n): names = n
            case .failure(let problem):
                report(problem, path, argument: false, sink)
                return
            }
            ancestors.append((path, entry.id))
            defer { ancestors.removeLast() }
            let base = path.hasSuffix("/") ? String(path.dropLast()) : path
            for name in names.sorted() where !name.hasPrefix(".") {
                let full = base + "/" + name
                switch Entry.look(full) {
                case .failure(let problem):
                    switch problem {
                    // A loop could stand for a folder or a policy file: never pass over it.
                    case .loop: report(problem, full, argument: false, sink)
                    // Anything else is reported when it is named as a policy file.
                    default: if isInputName(name) { report(problem, full, argument: false, sink) }
                    }
                case .success(let child) where child.isDirectory:
                    directory(full, child)
                case .success(let child) where isInputName(name):
                    if child.isRegular {
                        found.append((full, child.id))
                    } else {
                        report(.notRegular, full, argument: false, sink)
                    }
                case .success:
                    break
                }
            }
        }

        /// The names in directory `path`, or the errno of opening or reading it (so a folder
        /// that cannot be listed is an error, never an empty folder).
        private func list(_ path: String) -> Result<[String], Problem> {
            guard let dir = opendir(path) else { return .failure(.errno(errno)) }
            defer { closedir(dir) }
            var names: [String] = []
            while true {
                errno = 0
                guard let ent = readdir(dir) else {
                    if errno != 0 { return .failure(.errno(errno)) }
                    break
                }
                let name = withUnsafeBytes(of: ent.pointee.d_name) { raw in
                    String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                if name != "." && name != ".." { names.append(name) }
            }
            return .success(names)
        }
    }
}

/// The bytes of `path`, or the errno that stopped reading it.
private func readContents(_ path: String) -> Result<[UInt8], PolicyInputs.Problem> {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return .failure(.errno(errno)) }
    defer { close(fd) }
    var bytes: [UInt8] = []
    // Room for the whole file up front (issue 13): grown by doubling, the buffer of a 10 MB
    // policy ended at 16 MB, kept as the source text for the whole run. A pipe has no size.
    let size = lseek(fd, 0, SEEK_END)
    if size >= 0 {
        guard lseek(fd, 0, SEEK_SET) == 0 else { return .failure(.errno(errno)) }
        bytes.reserveCapacity(Int(size))
    }
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            return .failure(.errno(errno))
        }
        if n == 0 { return .success(bytes) }
        bytes += chunk[0..<n]
    }
}
