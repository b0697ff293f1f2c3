import Foundation
import Testing
import XDSCDiagnostics
import XDSCDriver
import XDSCEnvoy
import XDSCEnvoyReader

/// What xdsc emits, read back, is the model it emitted (spans aside): for every golden under
/// `golden/build`.
@Suite struct GoldenRoundTripTests {
    static var cases: [String] {
        let dir = Paths.packageRoot.appendingPathComponent("fixtures/build")
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasSuffix(".yaml") }
            .map { String($0.dropLast(5)) }.sorted()
    }

    static func lowered(_ name: String) throws -> EnvoyConfig {
        let fixture = Paths.packageRoot.appendingPathComponent("fixtures/build/\(name).yaml").path
        return try #require(Build.run([fixture], options: BuildOptions()).config)
    }

    @Test func thereAreCases() { #expect(Self.cases.count >= 3) }

    @Test(arguments: cases)
    func staticBootstrap(_ name: String) throws {
        let golden = Paths.packageRoot.appendingPathComponent("golden/build/\(name)/bootstrap.json").path
        let (r, ds) = read(paths: [golden])
        #expect(ds.isEmpty, "\(summary(ds))")
        let original = try Self.lowered(name).withoutSpans
        let back = r.config.withoutSpans
        #expect(back.listeners == original.listeners)
        #expect(back.clusters == original.clusters)
        #expect(back.node == original.node && back.admin == original.admin)
        #expect(back == original)
    }

    /// The xDS layout: the LDS, CDS, RDS and EDS files read back to the same listeners (with
    /// RDS in place of the inline tables), clusters (EDS in place of static endpoints),
    /// route tables and endpoints.
    @Test(arguments: cases)
    func xdsFiles(_ name: String) throws {
        let dir = Paths.packageRoot.appendingPathComponent("golden/build/\(name)-xds")
        let files = try FileManager.default.subpathsOfDirectory(atPath: dir.path).filter {
            $0.hasSuffix(".json") && $0 != "bootstrap.json"
        }.sorted().map { dir.appendingPathComponent($0).path }
        let (r, ds) = read(paths: files, follow: false)
        // The bootstrap names files under the deployment directory; the others are read here.
        #expect(ds.isEmpty, "\(summary(ds))")
        let original = try Self.lowered(name).withoutSpans
        let back = r.config.withoutSpans
        #expect(back.listeners.map(\.name) == original.listeners.map(\.name))
        #expect(back.routeConfigurations == original.listeners.compactMap(\.connectionManager.routeConfiguration))
        #expect(back.routeTables.map { $0.listener?.name } == original.listeners.map(\.name))
        for (b, o) in zip(back.listeners, original.listeners) {
            var b = b
            b.connectionManager.routes = o.connectionManager.routes
            #expect(b == o)
        }
        for (b, o) in zip(back.clusters, original.clusters) {
            var b = b
            if b.type == .eds, let e = back.endpoints.first(where: { $0.clusterName == b.name }) {
                b.type = .static
                b.edsConfig = nil
                b.loadAssignment = e
            }
            #expect(b == o)
        }
        #expect(back.clusters.count == original.clusters.count)
    }
}
