import Testing
import XDSCDiagnostics
import XDSCTestSupport

/// `HashPolicyPass` on inline policies; each test fails on any diagnostic it did not expect.
@Suite struct HashPolicyPassTests {
    @Test func hashOnWithAnUnhashedBalancerIsIneffective() {
        expectDiagnostics(
            policy(
                routes: """
                          - {match: {prefix: /u}, to: users, hash_on: ⟨h⟩{header: x-user}}
                          - {match: {prefix: /o}, to: orders}
                    """), [(.ineffectiveSetting, "h")])
    }

    @Test func hashOnWithAHashingBalancerIsFine() {
        expectDiagnostics(
            policy(
                routes: """
                          - {match: {prefix: /u}, to: ring, hash_on: {header: x-user}}
                          - {match: {prefix: /m}, to: maglev, hash_on: {cookie: session}}
                          - {match: {prefix: /a}, to: users}
                          - {match: {prefix: /o}, to: orders}
                    """,
                extraServices: """
                      ring: {endpoints: [10.0.0.3:80], lb: ring_hash}
                      maglev: {endpoints: [10.0.0.4:80], lb: maglev}
                    """), [])
    }
}
