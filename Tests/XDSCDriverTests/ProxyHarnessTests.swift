import Testing

@testable import XDSCFuzzHarnesses

/// The proxy harness's own checks: it accepts what a correct server writes and flags what a
/// broken one would, so a quiet fuzzing run means something.
@Suite struct ProxyHarnessTests {
    /// The harness input for `wire`, read whole (read size selector 6).
    static func input(_ wire: String, reads: UInt8 = 6) -> [UInt8] { [reads] + Array(wire.utf8) }

    @Test(
        "pipelined requests, a HEAD, a chunked body and a close keep the invariants, in reads of any size",
        arguments: [0, 1, 2, 3, 4, 5, 6] as [UInt8])
    func wellFormedTraffic(reads: UInt8) {
        let wire =
            "GET /healthz HTTP/1.1\r\nhost: api.example.com\r\n\r\n"
            + "HEAD /healthz HTTP/1.1\r\nhost: api.example.com\r\n\r\n"
            + "POST /post HTTP/1.1\r\nhost: api.example.com\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
            + "GET /delayed HTTP/1.1\r\nhost: api.example.com\r\n\r\n"
            + "GET /v1/x HTTP/1.1\r\nhost: api.example.com\r\nconnection: close\r\n\r\n"
        #expect(ProxyHarness.violation(Self.input(wire, reads: reads)) == nil)
    }

    @Test(
        "garbage, an oversized body and oversized headers are answered and closed",
        arguments: [
            "\u{1}\u{2} nonsense\r\n\r\n",
            "POST /post HTTP/1.1\r\nhost: api.example.com\r\ncontent-length: 100\r\n\r\n",
            "GET / HTTP/1.1\r\nhost: api.example.com\r\nx-long: \(String(repeating: "a", count: 500))\r\n\r\n",
            "GET / HTTP/1.1\r\ncontent-length: 1\r\ntransfer-encoding: chunked\r\n\r\n",
        ])
    func badRequests(wire: String) {
        #expect(ProxyHarness.violation(Self.input(wire)) == nil)
    }

    @Test("the response parser reads content-length and chunked bodies and nothing framed by a HEAD")
    func parsesResponses() throws {
        let bytes = Array(
            ("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok" + "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n"
                + "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n").utf8)
        let responses = try WireResponseParser.parse(bytes, methods: ["GET", "HEAD", "GET"], closed: false).get()
        #expect(responses.map(\.body) == [Array("ok".utf8), [], Array("abc".utf8)])
    }

    @Test(
        "the response parser rejects broken framing",
        arguments: [
            "HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nok",
            "HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nok",
            "HTTP/1.1 200 OK\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\nok",
            "HTTP/1.1 200 OK\r\nx: a\nb\r\n\r\n",
            "HTTP/1.1 200 OK\r\nno-colon\r\n\r\n",
            "HTTP/1.1 2000 OK\r\n\r\n",
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nab\r\n",
            "HTTP/1.1 200 OK\r\n\r\nunframed",
        ])
    func rejectsBrokenFraming(text: String) {
        let result = WireResponseParser.parse(Array(text.utf8), methods: ["GET"], closed: false)
        if case .success(let r) = result { Issue.record("parsed as \(r.count) responses") }
    }
}
