import Testing
import XDSCDiagnostics
import XDSCTestSupport

/// `DuplicateDomainCheck` on inline policies and Envoy files; each test fails on any diagnostic it did not expect.
@Suite struct DuplicateDomainCheckTests {
    @Test func duplicateDomainsCaseInsensitiveAndWildcard() {
        expectDiagnostics(
            """
            version: 1
            services: {s: {endpoints: [10.0.0.1:80]}}
            listeners:
              l:
                address: 0.0.0.0:80
                hosts:
                  a:
                    domains: [api.example.com, "*"]
                    routes: [{match: {prefix: /}, to: s}]
                  b:
                    domains: [⟨d⟩API.example.com, ⟨star⟩"*"]
                    routes: [{match: {prefix: /}, to: s}]
              other:
                address: 0.0.0.0:81
                hosts:
                  a:
                    domains: [api.example.com]
                    routes: [{match: {prefix: /}, to: s}]
            """, [(.duplicateDomain, "d"), (.duplicateDomain, "star")])
    }
}

extension DuplicateDomainCheckTests {
    /// The same check on an Envoy file, in Envoy's words, at the Envoy tokens.
    @Test func duplicateDomainsInAnEnvoyRouteTable() {
        let rds = """
            name: public
            virtual_hosts:
            - name: a
              domains: [api.example.com, "*"]
              routes: [{match: {prefix: /}, route: {cluster: s}}]
            - name: b
              domains: [⟨d⟩API.example.com, ⟨star⟩"*"]
              routes: [{match: {prefix: /}, route: {cluster: s}}]
            """
        expectDiagnostics(files: [("rds.yaml", rds)], [(.duplicateDomain, "d"), (.duplicateDomain, "star")])
        let (result, _) = lintMarked([("rds.yaml", rds)])
        #expect(
            result.diagnostics.map(\.message) == [
                "domain `API.example.com` is already served by virtual host `a` in route configuration `public`",
                "a second `*` virtual host in route configuration `public`: only one virtual host may catch every domain",
            ])
    }
}
