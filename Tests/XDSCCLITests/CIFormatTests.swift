import Foundation
import Testing
import XDSCDiagnostics

/// The CI formats: SARIF for code scanning and GitHub workflow annotations; exit codes hold
/// in every format.
@Suite struct CIFormatTests {
    @Test func sarifHasTheRegistryAsRuleTableAndPhysicalLocations() throws {
        let r = try CLI.run(["lint", "--format", "sarif", "fixtures/lint/duplicates.yaml"])
        #expect(r.status == 1)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(doc["version"] as? String == "2.1.0")
        let run = try #require((doc["runs"] as? [[String: Any]])?.first)
        let driver = try #require((run["tool"] as? [String: Any])?["driver"] as? [String: Any])
        #expect(driver["name"] as? String == "xdsc")
        let rules = try #require(driver["rules"] as? [[String: Any]])
        #expect(rules.compactMap { $0["id"] as? String } == Rule.registry.rules.map(\.id.rawValue))
        let results = try #require(run["results"] as? [[String: Any]])
        #expect(results.count == 5)
        for result in results {
            let id = try #require(result["ruleId"] as? String)
            let index = try #require(result["ruleIndex"] as? Int)
            #expect(rules[index]["id"] as? String == id)
            #expect(result["level"] as? String == "error")
            let loc = try #require((result["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])
            #expect((loc["artifactLocation"] as? [String: Any])?["uri"] as? String == "fixtures/lint/duplicates.yaml")
            let region = try #require(loc["region"] as? [String: Any])
            #expect((region["startLine"] as? Int ?? 0) > 0 && (region["startColumn"] as? Int ?? 0) > 0)
            // Every finding in this fixture points back at a first definition.
            let related = try #require(result["relatedLocations"] as? [[String: Any]])
            #expect(!related.isEmpty)
        }
        let domain = try #require(results.first { $0["ruleId"] as? String == "duplicate-domain" })
        let region = try #require(
            ((domain["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])?["region"] as? [String: Any])
        #expect(region["startLine"] as? Int == 15)
        #expect(region["startColumn"] as? Int == 19)
    }

    /// `artifactLocation.uri` is an RFC 3986 reference: a space, `%` and non-ASCII in the file
    /// name are percent-encoded (UTF-8, upper-case hex), `/` is kept, and it decodes back to
    /// the path.
    @Test func sarifURIsArePercentEncoded() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sub = dir.appendingPathComponent("my policies")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        let name = "café 100%.yaml"
        try "version: 2\n".write(to: sub.appendingPathComponent(name), atomically: true, encoding: .utf8)
        let r = try CLI.run(["lint", "--format", "sarif", "my policies/" + name], in: dir)
        #expect(r.status == 1)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let results = try #require((doc["runs"] as? [[String: Any]])?.first?["results"] as? [[String: Any]])
        let uris = results.compactMap {
            (((($0["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])?["artifactLocation"]
                as? [String: Any])?["uri"] as? String)
        }
        #expect(!uris.isEmpty)
        for uri in uris {
            #expect(uri == "my%20policies/caf%C3%A9%20100%25.yaml")
            #expect(uri.removingPercentEncoding == "my policies/" + name)
            #expect(URL(string: uri) != nil)
        }
    }

    @Test func githubAnnotationsOnePerFinding() throws {
        let r = try CLI.run(["lint", "--format", "github", "fixtures/lint/warnings.yaml"])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines.allSatisfy { $0.hasPrefix("::warning file=fixtures/lint/warnings.yaml,line=") })
        #expect(lines[0].contains("title=xdsc unused-service (XDS016)::service `legacy` is not used by any route"))
    }

    @Test(arguments: ["human", "short", "json", "sarif", "github"])
    func exitCodesHoldInEveryFormat(_ format: String) throws {
        #expect(try CLI.run(["lint", "--format", format, "fixtures/example"]).status == 0)
        #expect(try CLI.run(["lint", "--format", format, "fixtures/lint/types.yaml"]).status == 1)
        #expect(try CLI.run(["lint", "--format", format, "--strict", "fixtures/lint/warnings.yaml"]).status == 1)
        #expect(try CLI.run(["lint", "--format", format, "no/such/dir"]).status == 2)
    }
}
