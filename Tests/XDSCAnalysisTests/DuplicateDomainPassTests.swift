import Testing
import XDSCDiagnostics
import XDSCTestSupport

/// `DuplicateDomainPass` on inline policies; each test fails on any diagnostic it did not expect.
@Suite struct DuplicateDomainPassTests {
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
