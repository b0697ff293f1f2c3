import Foundation
import XDSCDiagnostics
import XDSCEmit
import XDSCEnvoy
import XDSCJSON
import XDSCPolicy

/// How `xdsc build` lays out its output.
public struct BuildOptions: Sendable {
    /// The text format of the files.
    public enum Format: String, Sendable, CaseIterable {
        case json, yaml
    }

    /// Write a bootstrap with `dynamic_resources` plus LDS/CDS/RDS/EDS files instead of one
    /// static bootstrap.
    public var xds: Bool
    /// JSON or YAML.
    public var format: Format
    /// The directory Envoy will find the xDS files in, written as given into the
    /// `path_config_source` paths (Envoy resolves relative paths against its working
    /// directory, not against the bootstrap's).
    public var xdsRoot: String

    /// Build options.
    public init(xds: Bool = false, format: Format = .json, xdsRoot: String = ".") {
        self.xds = xds
        self.format = format
        self.xdsRoot = xdsRoot
    }
}

/// One output file: a path relative to the output directory and the function that writes
/// its exact bytes, in pieces, so that a large file can be streamed to disk without being
/// held in memory whole. Writing is deterministic: every call gives the same bytes.
public struct OutputFile: Equatable, Sendable {
    /// Writes the file's bytes to a sink, piece by piece.
    public typealias Writer = @Sendable (@escaping (UnsafeBufferPointer<UInt8>) -> Void) -> Void

    /// Relative path, `/`-separated (`bootstrap.json`, `rds/public.json`).
    public var path: String
    /// Writes the file's bytes.
    public let write: Writer

    /// The file's bytes (UTF-8 text), written into memory.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        write { out.append(contentsOf: $0) }
        return out
    }

    /// The file's text.
    public var contents: String { String(decoding: bytes, as: UTF8.self) }

    /// An output file with `contents`.
    public init(path: String, contents: String) {
        self.init(path: path, bytes: Array(contents.utf8))
    }

    /// An output file with these bytes.
    public init(path: String, bytes: [UInt8]) {
        self.init(path: path, write: { sink in bytes.withUnsafeBufferPointer { sink($0) } })
    }

    /// An output file whose bytes `write` writes.
    public init(path: String, write: @escaping Writer) {
        self.path = path
        self.write = write
    }

    /// An output file of pretty JSON that `body` streams.
    public init(path: String, json body: @escaping @Sendable (inout JSONStream) -> Void) {
        self.init(path: path) { sink in
            var stream = JSONStream(pretty: true, sink: sink)
            body(&stream)
            stream.finish()
        }
    }

    /// Whether the two files have the same path and bytes.
    public static func == (a: OutputFile, b: OutputFile) -> Bool {
        a.path == b.path && a.bytes == b.bytes
    }
}

/// The result of `build`: diagnostics always, files only when the policy has no errors.
public struct BuildResult: Sendable {
    /// The front end's result (diagnostics and sources for rendering).
    public var frontEnd: FrontEndResult
    /// The Envoy model, when the policy had no errors.
    public var config: EnvoyConfig?
    /// The files to write, when the policy had no errors.
    public var files: [OutputFile]?
}

/// `xdsc build`: policy -> Envoy model -> files.
public enum Build {
    /// Runs the front end on `paths` and, when there are no errors, lowers and lays out the
    /// files. Emission never runs on a policy with errors.
    public static func run(_ paths: [String], options: BuildOptions, pipeline: Pipeline = Pipeline()) -> BuildResult {
        let frontEnd = pipeline.check(paths, input: .policy)
        // The front end lowers a policy whole only when it has no errors (`CheckedPolicy`).
        guard !frontEnd.hasErrors, let config = frontEnd.envoy else { return BuildResult(frontEnd: frontEnd, config: nil, files: nil) }
        return BuildResult(frontEnd: frontEnd, config: config, files: files(for: config, options: options))
    }

    /// The files for a lowered configuration, in a fixed order. JSON is streamed from the
    /// model (no tree of a whole file); YAML is rendered from the JSON tree.
    public static func files(for config: EnvoyConfig, options: BuildOptions) -> [OutputFile] {
        files(for: config, options: options, encoder: options.format == .json ? .stream : .yaml)
    }

    /// How `files(for:options:encoder:)` turns a message into bytes.
    enum Encoder {
        /// JSON written straight from the model.
        case stream
        /// JSON serialised from the `json` tree (the reference the stream is tested against).
        case tree
        /// YAML rendered from the `json` tree.
        case yaml

        /// The file at `path` holding `message`.
        func file(_ path: String, _ message: some EnvoyEncodable) -> OutputFile {
            switch self {
            case .stream: OutputFile(path: path, json: { message.encode(to: &$0) })
            case .tree: OutputFile(path: path, bytes: message.json.serializedBytes())
            case .yaml: OutputFile(path: path, contents: YAMLText.render(message.json))
            }
        }

        /// The file at `path` holding a discovery response of `resources`.
        func discovery(_ path: String, _ type: DiscoveryResponse.ResourceType, _ resources: [any EnvoyEncodable]) -> OutputFile {
            switch self {
            case .stream: Build.streamedDiscovery(path, type, resources)
            case .tree: OutputFile(path: path, bytes: Build.discovery(type, resources.map(\.json)).serializedBytes())
            case .yaml: OutputFile(path: path, contents: YAMLText.render(Build.discovery(type, resources.map(\.json))))
            }
        }
    }

    /// The files for a lowered configuration, with each file's text made by `encoder`.
    static func files(for config: EnvoyConfig, options: BuildOptions, encoder: Encoder) -> [OutputFile] {
        let ext = options.format.rawValue
        guard options.xds else {
            return [encoder.file("bootstrap.\(ext)", config.staticBootstrap)]
        }
        func source(_ relative: String) -> PathConfigSource { PathConfigSource(path: xdsPath(relative, root: options.xdsRoot)) }

        var out: [OutputFile] = []
        var listeners: [any EnvoyEncodable] = []
        var routeFiles: [OutputFile] = []
        for var l in config.listeners {
            guard let table = l.connectionManager.routeConfiguration else { continue }
            let rel = "rds/\(table.name).\(ext)"
            l.connectionManager.routes = .rds(source(rel), routeConfigName: table.name)
            listeners.append(l)
            routeFiles.append(encoder.discovery(rel, .routeConfiguration, [table]))
        }
        var clusters: [any EnvoyEncodable] = []
        var endpointFiles: [OutputFile] = []
        for var c in config.clusters {
            // EDS endpoints must be IP literals; DNS clusters keep their endpoints inline.
            if c.type == .static, let assignment = c.loadAssignment {
                let rel = "eds/\(c.name).\(ext)"
                c.type = .eds
                c.edsConfig = source(rel)
                c.loadAssignment = nil
                endpointFiles.append(encoder.discovery(rel, .clusterLoadAssignment, [assignment]))
            }
            clusters.append(c)
        }
        // Envoy's filesystem subscriptions need a node id and cluster.
        var node = config.node ?? Node()
        if node.id == nil { node.id = "xdsc" }
        if node.cluster == nil { node.cluster = "xdsc" }
        var bootstrap = Bootstrap(node: node, admin: config.admin)
        bootstrap.dynamicResources = (lds: source("lds.\(ext)"), cds: source("cds.\(ext)"))
        out.append(encoder.file("bootstrap.\(ext)", bootstrap))
        out.append(encoder.discovery("lds.\(ext)", .listener, listeners))
        out.append(encoder.discovery("cds.\(ext)", .cluster, clusters))
        return out + routeFiles + endpointFiles
    }

    /// `root/relative` as written into a `path_config_source`: `root` is kept as the user gave
    /// it (relative stays relative: Envoy resolves it against its working directory), only
    /// trailing slashes are dropped (`envoy/` -> `envoy/lds.json`, `/` -> `/lds.json`).
    static func xdsPath(_ relative: String, root: String) -> String {
        var r = Substring(root)
        while r.count > 1, r.hasSuffix("/") { r = r.dropLast() }
        if r.isEmpty { return relative }
        return r == "/" ? "/" + relative : r + "/" + relative
    }

    /// A DiscoveryResponse whose `version_info` is a hash of its resources, so it changes
    /// exactly when the content does.
    static func discovery(_ type: DiscoveryResponse.ResourceType, _ resources: [JSON]) -> JSON {
        let body = JSON.array(resources).compactText()
        return DiscoveryResponse(versionInfo: fnv1a(body), type: type, resources: resources).json
    }

    /// `discovery(type, resources)` written straight from the model: the resources are
    /// streamed twice, compact into the hash of `version_info`, then pretty into the file.
    static func streamedDiscovery(
        _ path: String, _ type: DiscoveryResponse.ResourceType, _ resources: [any EnvoyEncodable]
    ) -> OutputFile {
        var hash = FNV1a()
        var compact = JSONStream(pretty: false) { hash.add($0) }
        compact.beginArray()
        for r in resources { r.encode(to: &compact) }
        compact.end()
        compact.finish()
        let version = hash.hex
        return OutputFile(
            path: path,
            json: { s in
                s.beginObject()
                s.member("version_info", .string(version))
                s.key("resources")
                s.beginArray()
                for r in resources {
                    s.beginObject()
                    s.member("@type", .string(type.rawValue))
                    r.encodeFields(into: &s)
                    s.end()
                }
                s.end()
                s.end()
            })
    }

    /// 64-bit FNV-1a, as 16 hex digits.
    static func fnv1a(_ s: String) -> String {
        var h = FNV1a()
        var s = s
        s.withUTF8 { h.add($0) }
        return h.hex
    }
}

/// A running 64-bit FNV-1a hash.
struct FNV1a {
    var value: UInt64 = 0xcbf2_9ce4_8422_2325

    /// Hashes `bytes` after what came before.
    mutating func add(_ bytes: UnsafeBufferPointer<UInt8>) {
        for b in bytes {
            value ^= UInt64(b)
            value = value &* 0x0000_0100_0000_01b3
        }
    }

    /// The hash as 16 hex digits.
    var hex: String {
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// A failure to write output: the path at fault and the system's reason in plain words
/// (`permission denied`, `not a directory`), never a platform error domain.
public struct OutputWriteError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file or directory that could not be written or created.
    public var path: String
    /// What went wrong, lower-case (from `strerror`).
    public var reason: String

    /// A write error.
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    /// A write error for `path` from an `errno` value.
    public init(path: String, errno code: Int32) {
        let text = String(cString: strerror(code))
        self.init(path: path, reason: text.prefix(1).lowercased() + text.dropFirst())
    }

    /// `cannot write `PATH`: REASON`.
    public var description: String { "cannot write `\(path)`: \(reason)" }
}

/// Writing and checking an output directory.
public enum OutputDirectory {
    /// Subdirectories whose files xdsc owns: stale files there are removed on write.
    static let managedDirectories = ["rds", "eds"]

    /// `dir/relative`, without doubling a slash the user wrote (`-o out/`).
    static func join(_ dir: String, _ relative: String) -> String {
        dir.hasSuffix("/") ? dir + relative : dir + "/" + relative
    }

    /// Files in the managed subdirectories of `dir` that `files` no longer contains: regular
    /// files (or symlinks) named `*.json` / `*.yaml`, never directories or hidden files.
    public static func staleFiles(in dir: String, keeping files: [OutputFile]) -> [String] {
        let keep = Set(files.map(\.path))
        var stale: [String] = []
        for sub in managedDirectories {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: join(dir, sub))) ?? []
            for n in names.sorted() where (n.hasSuffix(".json") || n.hasSuffix(".yaml")) && !n.hasPrefix(".") {
                var st = stat()
                guard lstat(join(dir, sub + "/" + n), &st) == 0, (st.st_mode & S_IFMT) != S_IFDIR else { continue }
                if !keep.contains(sub + "/" + n) { stale.append(sub + "/" + n) }
            }
        }
        return stale
    }

    /// Writes `files` under `dir` atomically: every file goes to a temporary file in its
    /// final directory first; only when all are written are they renamed into place. On a
    /// failure the temporaries and any directory this call created are removed, so the
    /// directory is left as it was, and the error names the path and the reason.
    public static func write(_ files: [OutputFile], to dir: String) throws(OutputWriteError) {
        var created: [String] = []
        var temps: [(temp: String, final: String)] = []
        func rollBack() {
            for t in temps { unlink(t.temp) }
            for d in created.reversed() { rmdir(d) }
        }
        do throws(OutputWriteError) {
            for f in files {
                let final = join(dir, f.path)
                let parent = (final as NSString).deletingLastPathComponent
                try makeDirectories(parent.isEmpty ? "." : parent, created: &created)
                // A directory where a file belongs would make its rename fail after others
                // were already renamed; find it before anything is replaced.
                var st = stat()
                if stat(final, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR { throw OutputWriteError(path: final, errno: EISDIR) }
                let name = (final as NSString).lastPathComponent
                let temp = (parent.isEmpty ? "" : parent + "/") + ".\(name).tmp-\(getpid())"
                try writeNew(temp, f, reportedAs: final)
                temps.append((temp, final))
            }
        } catch {
            rollBack()
            throw error
        }
        for (i, t) in temps.enumerated() where rename(t.temp, t.final) != 0 {
            // rename(2) within one directory fails only on I/O errors here; the files not
            // yet renamed are left untouched.
            let code = errno
            for r in temps[i...] { unlink(r.temp) }
            throw OutputWriteError(path: t.final, errno: code)
        }
        for stale in staleFiles(in: dir, keeping: files) { unlink(join(dir, stale)) }
    }

    /// Writes one file atomically (temporary file beside it, then rename); the directory
    /// must exist.
    public static func writeFile(_ contents: String, to path: String) throws(OutputWriteError) {
        var st = stat()
        if stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR { throw OutputWriteError(path: path, errno: EISDIR) }
        let parent = (path as NSString).deletingLastPathComponent
        let temp = (parent.isEmpty ? "" : parent + "/") + ".\((path as NSString).lastPathComponent).tmp-\(getpid())"
        try writeNew(temp, OutputFile(path: path, contents: contents), reportedAs: path)
        if rename(temp, path) != 0 {
            let code = errno
            unlink(temp)
            throw OutputWriteError(path: path, errno: code)
        }
    }

    /// Creates `path` and its missing parents, recording each directory it creates.
    static func makeDirectories(_ path: String, created: inout [String]) throws(OutputWriteError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + component
            var st = stat()
            if stat(prefix, &st) == 0 {
                if (st.st_mode & S_IFMT) != S_IFDIR { throw OutputWriteError(path: prefix, errno: ENOTDIR) }
                continue
            }
            if mkdir(prefix, 0o777) != 0 {
                let code = errno
                if code == EEXIST { continue }
                throw OutputWriteError(path: prefix, errno: code)
            }
            created.append(prefix)
        }
    }

    /// Writes the bytes of `file` to a new file at `path` (which must not exist) as they are
    /// made; on failure the partial file is removed and the error names `reportedAs`.
    static func writeNew(_ path: String, _ file: OutputFile, reportedAs: String) throws(OutputWriteError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
        if fd < 0 { throw OutputWriteError(path: reportedAs, errno: errno) }
        var failure: Int32 = 0
        file.write { piece in
            var offset = 0
            while failure == 0 && offset < piece.count {
                let n = Foundation.write(fd, piece.baseAddress! + offset, piece.count - offset)
                if n < 0 {
                    if errno != EINTR { failure = errno }
                    continue
                }
                offset += n
            }
        }
        if close(fd) != 0 && failure == 0 { failure = errno }
        if failure != 0 {
            unlink(path)
            throw OutputWriteError(path: reportedAs, errno: failure)
        }
    }

    /// The differences between `files` and what `dir` holds, as unified diffs (empty when
    /// identical). Every file that differs, is missing, or would be deleted as stale shows at
    /// least its `---`/`+++` header, even when it is empty. Nothing is written.
    public static func check(_ files: [OutputFile], against dir: String) -> String {
        var out = ""
        for f in files {
            let path = join(dir, f.path)
            let old = FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
            if old == f.contents { continue }
            out += diff(old: old ?? "", new: f.contents, oldName: old == nil ? "/dev/null" : path, newName: path)
        }
        for stale in staleFiles(in: dir, keeping: files) {
            let path = join(dir, stale)
            let old = FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
            out += diff(old: old, new: "", oldName: path, newName: "/dev/null")
        }
        return out
    }

    /// A unified diff that is never empty: two files whose text is the same but which still
    /// differ (an empty file to create or delete) get the header alone.
    static func diff(old: String, new: String, oldName: String, newName: String) -> String {
        let d = UnifiedDiff.render(old: old, new: new, oldName: oldName, newName: newName)
        return d.isEmpty ? "--- \(oldName)\n+++ \(newName)\n" : d
    }
}
