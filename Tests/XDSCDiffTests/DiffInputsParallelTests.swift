import Foundation
import Testing
import XDSCDiff
import XDSCDriver

/// `DiffInputs.load(old:new:)` reads the two sides on two threads; each side must come out
/// as reading it alone gives it, whatever the other side holds.
@Suite("xdsc diff: both sides read together")
struct DiffInputsParallelTests {
    func sides(_ name: String) -> (old: String, new: String) {
        let base = Tool.root.appendingPathComponent("fixtures/diff/\(name)").path
        let fm = FileManager.default
        let file = { (side: String) in
            fm.fileExists(atPath: "\(base)/\(side)/routes.yaml") ? "\(base)/\(side)/routes.yaml" : "\(base)/\(side)"
        }
        return (file("old"), file("new"))
    }

    @Test("each side read together equals the side read alone", arguments: Tool.cases)
    func sameAsAlone(name: String) {
        let (old, new) = sides(name)
        let together = DiffInputs.load(old: [old], new: [new])
        let alone = (DiffInputs.load([old]), DiffInputs.load([new]))
        #expect(together.old.diagnostics == alone.0.diagnostics)
        #expect(together.new.diagnostics == alone.1.diagnostics)
        #expect(Set(together.old.sources.keys) == Set(alone.0.sources.keys))
        let a = ConfigDiff.diff(old: together.old.side, new: together.new.side, parts: .both).renderJSON()
        let b = ConfigDiff.diff(old: alone.0.side, new: alone.1.side, parts: .both).renderJSON()
        #expect(a == b)
        #expect(!a.isEmpty)
    }

    @Test("a side with errors does not change the other side")
    func oneSideBroken() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("xdsc-diff-par-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let broken = dir.appendingPathComponent("broken.yaml").path
        try "version: 1\nlisteners: [\n".write(toFile: broken, atomically: true, encoding: .utf8)
        let (_, new) = sides(Tool.cases[0])
        let together = DiffInputs.load(old: [broken], new: [new])
        #expect(together.old.failed)
        #expect(together.new.diagnostics == DiffInputs.load([new]).diagnostics)
        #expect(!together.new.failed)
    }
}
