import Foundation
import Testing

/// `make install PREFIX=...` and `make uninstall` into a temporary prefix.
@Suite struct MakeInstallTests {
    static let installed = [
        "bin/xdsc", "share/man/man1/xdsc.1", "share/bash-completion/completions/xdsc",
        "share/zsh/site-functions/_xdsc", "share/fish/vendor_completions.d/xdsc.fish",
    ]

    @Test(.enabled(if: Tools.which("make") != nil, "needs make"))
    func installsIntoAPrefixAndUninstalls() throws {
        let prefix = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: prefix) }
        // The test's own debug build is installed: building again here would wait on the
        // lock `swift test` holds on the scratch directory.
        let install = try Tools.run("make", ["install", "PREFIX=\(prefix.path)", "CONFIG=debug", "XDSC_BIN=\(CLI.binary.path)"])
        #expect(install.status == 0, "\(install.stdout)\(install.stderr)")
        for file in Self.installed {
            #expect(FileManager.default.fileExists(atPath: prefix.appendingPathComponent(file).path), "missing \(file)")
        }
        let bin = prefix.appendingPathComponent("bin/xdsc").path
        #expect(FileManager.default.isExecutableFile(atPath: bin))
        let version = try Tools.run(bin, ["--version"])
        #expect(version.status == 0 && !version.stdout.isEmpty)
        let man = try String(contentsOf: prefix.appendingPathComponent("share/man/man1/xdsc.1"), encoding: .utf8)
        #expect(man == (try String(contentsOf: CLI.packageRoot.appendingPathComponent("man/xdsc.1"), encoding: .utf8)))

        let uninstall = try Tools.run("make", ["uninstall", "PREFIX=\(prefix.path)"])
        #expect(uninstall.status == 0, "\(uninstall.stderr)")
        for file in Self.installed {
            #expect(!FileManager.default.fileExists(atPath: prefix.appendingPathComponent(file).path), "left \(file)")
        }
    }

    @Test(.enabled(if: Tools.which("make") != nil, "needs make"))
    func installBuildsTheChosenConfiguration() throws {
        // Dry run: what `make install` would do without XDSC_BIN.
        for config in ["release", "debug"] {
            let r = try Tools.run("make", ["-n", "install", "PREFIX=/opt/xdsc", "CONFIG=\(config)", "SCRATCH=.build-x"])
            #expect(r.status == 0)
            #expect(r.stdout.contains("swift build -c \(config) --scratch-path .build-x --product xdsc"))
            #expect(r.stdout.contains("install -m 755 .build-x/\(config)/xdsc /opt/xdsc/bin/xdsc"))
        }
        let staged = try Tools.run("make", ["-n", "install", "PREFIX=/usr", "DESTDIR=/tmp/stage", "XDSC_BIN=/x/xdsc"])
        #expect(!staged.stdout.contains("swift build"))
        #expect(staged.stdout.contains("install -m 644 completions/_xdsc /tmp/stage/usr/share/zsh/site-functions/_xdsc"))
    }
}
