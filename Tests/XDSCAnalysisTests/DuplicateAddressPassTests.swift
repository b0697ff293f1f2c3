import Testing
import XDSCDiagnostics
import XDSCTestSupport

/// `DuplicateAddressPass` on inline policies; each test fails on any diagnostic it did not expect.
@Suite struct DuplicateAddressPassTests {
    @Test func duplicateAddress() {
        expectDiagnostics(
            """
            version: 1
            admin: {address: 127.0.0.1:9901}
            services: {s: {endpoints: [10.0.0.1:80]}}
            listeners:
              a: {address: "[::]:80", hosts: {h: {domains: ["*"], routes: [{match: {prefix: /}, to: s}]}}}
              b: {address: ⟨b⟩"[0::0]:80", hosts: {h: {domains: ["*"], routes: [{match: {prefix: /}, to: s}]}}}
              c: {address: ⟨c⟩127.0.0.1:9901, hosts: {h: {domains: ["*"], routes: [{match: {prefix: /}, to: s}]}}}
              d: {address: 127.0.0.1:80, hosts: {h: {domains: ["*"], routes: [{match: {prefix: /}, to: s}]}}}
            """, [(.duplicateAddress, "b"), (.duplicateAddress, "c")])
    }
}
