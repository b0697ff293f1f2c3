import Testing
import XDSCDiagnostics
import XDSCDriver
import XDSCTestSupport

/// `retries`: `retry_on` and its older spelling `on`, and the retry lists that must not
/// silently become something else (issue 15; issue 8 item 16).
@Suite struct RetriesTests {
    /// A policy whose first route carries `retries` (the given flow mapping); the second
    /// route keeps `orders` in use.
    static func route(retries: String) -> String {
        policy(
            routes: """
                      - match: {prefix: /u}
                        to: users
                        retries: \(retries)
                      - match: {prefix: /o}
                        to: orders
                """)
    }

    @Test func retryOnIsReadAtEveryLevel() {
        let text = """
            version: 1
            defaults:
              retries: {attempts: 2, retry_on: [5xx]}
            services:
              users: {endpoints: [10.0.0.1:8080]}
            listeners:
              public:
                address: 0.0.0.0:8080
                retries: {retry_on: reset}
                hosts:
                  api:
                    domains: [api.example.com]
                    retries: {retry_on: [gateway-error, retriable-status-codes], status_codes: [503]}
                    routes:
                      - match: {prefix: /}
                        to: users
                        retries: {attempts: 3, retry_on: [connect-failure, refused-stream]}
            """
        expectDiagnostics(text, [])
    }

    @Test func onIsReadWithAWarningAtTheKey() throws {
        let (result, markers) = lintMarked([("policy.yaml", Self.route(retries: "{attempts: 2, ⟨on⟩on: [5xx, reset]}"))])
        #expect(result.diagnostics.count == 1)
        let d = try #require(result.diagnostics.first)
        #expect(d.rule == .deprecatedField)
        #expect(d.severity == .warning)
        #expect(d.code == "XDS024")
        #expect(d.span.start == markers["on"]?.1)
        #expect(d.message == "`on` is an older spelling of `retry_on`")
        #expect(d.help == "write `retry_on`")
    }

    @Test func onAndRetryOnTogetherConflict() {
        let text = Self.route(retries: "{retry_on: [5xx], ⟨on⟩on: [reset]}")
        expectDiagnostics(text, [(.conflictingFields, "on")])
        let (result, _) = lintMarked([("policy.yaml", text)])
        #expect(result.diagnostics.first?.related.first?.message == "`retry_on` given here")
    }

    @Test func anEmptyConditionListIsAnError() {
        expectDiagnostics(Self.route(retries: "{retry_on: ⟨l⟩[]}"), [(.invalidValue, "l")])
        expectDiagnostics(Self.route(retries: "{⟨k⟩on: ⟨l⟩[]}"), [(.deprecatedField, "k"), (.invalidValue, "l")])
    }

    @Test func anEmptyStatusCodeListIsAnError() {
        expectDiagnostics(Self.route(retries: "{retry_on: [retriable-status-codes], status_codes: ⟨l⟩[]}"), [(.invalidValue, "l")])
    }

    @Test func aStatusCodeListOfTheWrongKindIsNotAlsoMissing() {
        let (result, _) = lintMarked([("policy.yaml", Self.route(retries: "{retry_on: [retriable-status-codes], status_codes: {a: 1}}"))])
        #expect(result.diagnostics.map(\.rule) == [.typeMismatch])
    }

    @Test func aRepeatedConditionIsReportedAtTheSecondWithTheFirstRelated() {
        let text = Self.route(retries: "{retry_on: [⟨a⟩5xx, reset, ⟨b⟩5xx]}")
        expectDiagnostics(text, [(.ineffectiveSetting, "b")])
        let (result, markers) = lintMarked([("policy.yaml", text)])
        #expect(result.diagnostics.first?.related.map(\.span.start) == [markers["a"]!.1])
        #expect(result.diagnostics.first?.severity == .warning)
    }

    @Test func aRepeatedStatusCodeIsReportedAtTheSecond() {
        let text = Self.route(retries: "{retry_on: [retriable-status-codes], status_codes: [⟨a⟩503, 504, ⟨b⟩503]}")
        expectDiagnostics(text, [(.ineffectiveSetting, "b")])
        let (result, markers) = lintMarked([("policy.yaml", text)])
        #expect(result.diagnostics.first?.related.map(\.span.start) == [markers["a"]!.1])
    }

    @Test func statusCodeMessagesNameTheKeyThatWasWritten() {
        let (result, _) = lintMarked([("policy.yaml", Self.route(retries: "{retry_on: [5xx], status_codes: [503]}"))])
        #expect(result.diagnostics.map(\.rule) == [.conflictingFields])
        #expect(result.diagnostics.first?.message == "`status_codes` has no effect unless `retry_on` includes `retriable-status-codes`")
    }

    @Test(arguments: ["retry_onn", "retryon", "retry-on", "onn", "retry_om"])
    func aTypoNearEitherKeySuggestsRetryOn(_ typo: String) {
        let (result, _) = lintMarked([("policy.yaml", Self.route(retries: "{\(typo): [5xx]}"))])
        #expect(result.diagnostics.map(\.rule) == [.unknownField])
        #expect(result.diagnostics.first?.message == "unknown key `\(typo)` in `retries`; did you mean `retry_on`?")
        #expect(result.diagnostics.first?.help == "rename `\(typo)` to `retry_on`")
    }

    @Test func theValidKeysListDoesNotOfferTheOlderSpelling() {
        let (result, _) = lintMarked([("policy.yaml", Self.route(retries: "{conditions: [5xx]}"))])
        let help = result.diagnostics.first?.help ?? ""
        #expect(help.contains("`retry_on`"))
        #expect(!help.contains("`on`"))
    }

    @Test func retryOnOnARouteBelongsUnderRetries() {
        let text = policy(
            routes: """
                      - match: {prefix: /u}
                        to: users
                        ⟨k⟩retry_on: [5xx]
                      - match: {prefix: /o}
                        to: orders
                """)
        expectDiagnostics(text, [(.unknownField, "k")])
        let (result, _) = lintMarked([("policy.yaml", text)])
        #expect(result.diagnostics.first?.help == "`retry_on` belongs under `retries`")
    }
}
