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
