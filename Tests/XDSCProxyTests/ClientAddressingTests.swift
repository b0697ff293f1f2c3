import NIOHTTP1
import Testing
import XDSCEnvoy
import XDSCRequest

@testable import XDSCProxy

/// The trusted client address, internal requests and the headers that follow from them
/// (`ConnectionManagerUtility::mutateRequestHeaders`, `cleanInternalHeaders`,
/// `Utility::getLastAddressFromXFF`, `appendXff`), on the pure functions.
@Suite struct ClientAddressingTests {
    static func addressing(
        remote: Bool = false, hops: UInt32 = 0, skip: Bool = false,
        internal internalAddresses: HttpConnectionManager.InternalAddressConfig? = nil
    ) -> ClientAddressing {
        var a = ClientAddressing()
        a.useRemoteAddress = remote
        a.xffNumTrustedHops = hops
        a.skipXffAppend = skip
        a.internalAddresses = internalAddresses
        return a
    }

    static let rfc1918 = HttpConnectionManager.InternalAddressConfig()

    @Test func theLastAddressSkipsTrustedHopsFromTheRight() {
        let xff = "198.51.100.1, 203.0.113.2 ,10.0.0.3"
        #expect(ClientAddressing.lastAddress(xff, skipping: 0).address?.description == "10.0.0.3")
        #expect(ClientAddressing.lastAddress(xff, skipping: 0).single == false)
        #expect(ClientAddressing.lastAddress(xff, skipping: 1).address?.description == "203.0.113.2")
        #expect(ClientAddressing.lastAddress(xff, skipping: 2).address?.description == "198.51.100.1")
        #expect(ClientAddressing.lastAddress(xff, skipping: 3).address == nil)
        #expect(ClientAddressing.lastAddress(" 10.0.0.3 ", skipping: 0).address == IPAddress("10.0.0.3"))
        #expect(ClientAddressing.lastAddress(" 10.0.0.3 ", skipping: 0).single)
        #expect(ClientAddressing.lastAddress("10.0.0.3", skipping: 1).address == nil)
        #expect(ClientAddressing.lastAddress("10.0.0.3, unknown", skipping: 0).address == nil)
        #expect(ClientAddressing.lastAddress("10.0.0.3,", skipping: 0).address == nil)
    }

    @Test func withoutRemoteAddressTheHeaderIsKeptAndItsLastAddressTrusted() {
        let a = Self.addressing()
        let r = a.resolve(forwardedFor: "203.0.113.9", peer: "127.0.0.1", local: "127.0.0.1")
        #expect(
            r == .init(forwardedFor: "203.0.113.9", remoteAddress: "203.0.113.9", isInternal: false, isEdge: false, externalAddress: nil))
        let none = a.resolve(forwardedFor: nil, peer: "127.0.0.1", local: "127.0.0.1")
        #expect(none == .init(forwardedFor: nil, remoteAddress: "127.0.0.1", isInternal: false, isEdge: false, externalAddress: nil))
        // A single internal address in XFF makes the request internal, once addresses are trusted.
        let trusting = Self.addressing(internal: Self.rfc1918)
        #expect(trusting.resolve(forwardedFor: "10.1.2.3", peer: "203.0.113.1", local: "127.0.0.1").isInternal)
        #expect(!trusting.resolve(forwardedFor: "10.1.2.3,10.1.2.4", peer: "203.0.113.1", local: "127.0.0.1").isInternal)
        // Without XFF the request is external even from an internal peer.
        #expect(!trusting.resolve(forwardedFor: nil, peer: "10.1.2.3", local: "127.0.0.1").isInternal)
        // Trusted hops: the (N+1)-th from the right; never internal.
        let hops = Self.addressing(hops: 1, internal: Self.rfc1918)
        let h = hops.resolve(forwardedFor: "10.1.2.3,203.0.113.5", peer: "127.0.0.1", local: "127.0.0.1")
        #expect(h.remoteAddress == "10.1.2.3")
        #expect(!h.isInternal)
    }

    @Test func withRemoteAddressThePeerIsAppendedAndTheRequestIsAtTheEdge() {
        let a = Self.addressing(remote: true)
        let r = a.resolve(forwardedFor: "198.51.100.1", peer: "192.0.2.5", local: "192.0.2.1")
        #expect(
            r
                == .init(
                    forwardedFor: "198.51.100.1,192.0.2.5", remoteAddress: "192.0.2.5", isInternal: false, isEdge: true,
                    externalAddress: "192.0.2.5"))
        // A loopback peer is appended as the local address.
        let loop = a.resolve(forwardedFor: nil, peer: "127.0.0.1", local: "127.0.0.1")
        #expect(loop.forwardedFor == "127.0.0.1")
        #expect(a.resolve(forwardedFor: nil, peer: "::1", local: "::1").forwardedFor == "::1")
        #expect(a.resolve(forwardedFor: "", peer: "192.0.2.5", local: "192.0.2.1").forwardedFor == "192.0.2.5")
        #expect(
            Self.addressing(remote: true, skip: true).resolve(forwardedFor: "198.51.100.1", peer: "192.0.2.5", local: "x").forwardedFor
                == "198.51.100.1")
        // No internal address configuration: even loopback is external (Envoy 1.33 on).
        #expect(!loop.isInternal)
        #expect(loop.externalAddress == "127.0.0.1")
    }

    @Test func withRemoteAddressAnInternalPeerWithoutXFFIsInternal() throws {
        let a = Self.addressing(remote: true, internal: Self.rfc1918)
        let r = a.resolve(forwardedFor: nil, peer: "127.0.0.1", local: "127.0.0.1")
        #expect(r == .init(forwardedFor: "127.0.0.1", remoteAddress: "127.0.0.1", isInternal: true, isEdge: false, externalAddress: nil))
        // Any XFF makes it external.
        let x = a.resolve(forwardedFor: "10.0.0.1", peer: "127.0.0.1", local: "127.0.0.1")
        #expect(!x.isInternal)
        #expect(x.isEdge)
        let ranges = Self.addressing(
            remote: true, internal: .init(cidrRanges: [CidrRange(addressPrefix: try #require(IPAddress("192.0.2.0")), prefixLength: 24)]))
        #expect(ranges.resolve(forwardedFor: nil, peer: "192.0.2.77", local: "192.0.2.1").isInternal)
        #expect(!ranges.resolve(forwardedFor: nil, peer: "127.0.0.1", local: "127.0.0.1").isInternal)
    }

    @Test func trustedHopsPickTheNthAddressFromTheRightBeforeAppending() {
        // Envoy's docs, example 3: two trusted proxies in front of an edge Envoy.
        let a = Self.addressing(remote: true, hops: 2)
        let r = a.resolve(forwardedFor: "203.0.113.128, 203.0.113.10, 203.0.113.1", peer: "192.0.2.5", local: "192.0.2.1")
        #expect(r.remoteAddress == "203.0.113.10")
        #expect(r.externalAddress == "203.0.113.10")
        #expect(r.forwardedFor == "203.0.113.128, 203.0.113.10, 203.0.113.1,192.0.2.5")
        // Too few addresses: the peer.
        #expect(a.resolve(forwardedFor: "203.0.113.1", peer: "192.0.2.5", local: "192.0.2.1").remoteAddress == "192.0.2.5")
    }

    static func head(_ headers: [(String, String)]) -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: .GET, uri: "/p", headers: HTTPHeaders([("Host", "api.example.com")] + headers))
    }

    static func translate(_ headers: [(String, String)], _ a: ClientAddressing, peer: String = "127.0.0.1") -> EnvoyRequest {
        RequestTranslation.envoyRequest(
            head(headers), random: RandomSource(seed: 1), remoteAddress: peer, localAddress: "127.0.0.1", addressing: a)
    }

    static let control: [(String, String)] = [
        ("x-envoy-retry-on", "5xx"), ("x-envoy-upstream-rq-timeout-ms", "10"), ("x-envoy-original-path", "/old"),
        ("x-envoy-decorator-operation", "op"), ("x-envoy-internal", "true"), ("x-secret", "s"), ("x-request-id", "abc"),
        ("x-envoy-external-address", "1.1.1.1"),
    ]

    @Test func externalRequestsLoseTheControlHeadersAndEdgeRequestsMore() {
        var inner = Self.addressing()
        inner.internalOnlyHeaders = ["x-secret"]
        let r = Self.translate(Self.control, inner)
        #expect(!r.isInternal)
        #expect(
            r.headers.map(\.name) == [
                "x-envoy-original-path", "x-envoy-decorator-operation", "x-request-id", "x-envoy-external-address", "x-forwarded-proto",
            ])
        #expect(r.headers.first { $0.name == "x-request-id" }?.value == "abc")
        #expect(r.headers.first { $0.name == "x-envoy-external-address" }?.value == "1.1.1.1")
        var edge = Self.addressing(remote: true)
        edge.internalOnlyHeaders = ["x-secret"]
        let e = Self.translate(Self.control, edge)
        #expect(e.headers.map(\.name) == ["x-request-id", "x-envoy-external-address", "x-forwarded-for", "x-forwarded-proto"])
        #expect(e.headers.first { $0.name == "x-envoy-external-address" }?.value == "127.0.0.1")
        // An edge request gets a new request ID.
        let id = e.headers.first { $0.name == "x-request-id" }?.value
        #expect(id != "abc" && id?.count == 36)
        edge.preserveExternalRequestId = true
        #expect(Self.translate(Self.control, edge).headers.first { $0.name == "x-request-id" }?.value == "abc")
    }

    @Test func internalRequestsKeepTheControlHeadersAndAreMarked() {
        var a = Self.addressing(remote: true, internal: Self.rfc1918)
        a.internalOnlyHeaders = ["x-secret"]
        let r = Self.translate(Self.control, a)
        #expect(r.isInternal)
        // The client's `x-envoy-internal` is gone; the engine's header map adds the connection manager's.
        #expect(!r.headers.contains { $0.name == "x-envoy-internal" })
        #expect(r.headerMap.get("x-envoy-internal") == "true")
        #expect(
            r.headers.map(\.name) == [
                "x-envoy-retry-on", "x-envoy-upstream-rq-timeout-ms", "x-envoy-original-path", "x-envoy-decorator-operation", "x-secret",
                "x-request-id", "x-envoy-external-address", "x-forwarded-for", "x-forwarded-proto",
            ])
        #expect(r.headers.first { $0.name == "x-request-id" }?.value == "abc")
    }

    @Test func repeatedInlineHeadersAreJoinedAndTheTrustedAddressReachesTheEngine() {
        let r = Self.translate(
            [("X-Forwarded-For", "203.0.113.1"), ("x-request-id", ""), ("x-forwarded-for", "203.0.113.2"), ("x-request-id", "r2")],
            Self.addressing(remote: true, hops: 1), peer: "192.0.2.5")
        #expect(r.headers.filter { $0.name == "x-forwarded-for" }.map(\.value) == ["203.0.113.1,203.0.113.2,192.0.2.5"])
        #expect(r.remoteAddress == "203.0.113.2")
        #expect(r.directRemoteAddress == "192.0.2.5")
        let plain = Self.translate([], Self.addressing())
        #expect(plain.remoteAddress == "127.0.0.1")
        #expect(plain.directRemoteAddress == nil)
        #expect(plain.headers.map(\.name) == ["x-forwarded-proto", "x-request-id"])
    }

    /// `x-forwarded-proto` is an inline header: repeats are joined with `,` into the first
    /// (an empty repeat adds nothing), and a client's value is replaced only when the
    /// connection manager overwrites it.
    @Test func repeatedForwardedProtoIsJoinedUnlessOverwritten() {
        let repeated = [("X-Forwarded-Proto", "https"), ("x-other", "o"), ("x-forwarded-proto", ""), ("x-forwarded-proto", "http")]
        let kept = Self.translate(repeated, Self.addressing())
        #expect(kept.headers.filter { $0.name == "x-forwarded-proto" }.map(\.value) == ["https,http"])
        #expect(kept.headers.map(\.name).prefix(2) == ["x-forwarded-proto", "x-other"])
        let trusted = Self.translate(repeated, Self.addressing(remote: true, hops: 1))
        #expect(trusted.headers.filter { $0.name == "x-forwarded-proto" }.map(\.value) == ["https,http"])
        let edge = Self.translate(repeated, Self.addressing(remote: true))
        #expect(edge.headers.filter { $0.name == "x-forwarded-proto" }.map(\.value) == ["http"])
        let emptyFirst = Self.translate([("x-forwarded-proto", ""), ("x-forwarded-proto", "https")], Self.addressing())
        #expect(emptyFirst.headers.filter { $0.name == "x-forwarded-proto" }.map(\.value) == ["https"])
    }

    /// `via` (`Utility::appendVia`): a client's repeats joined with `,`, then `, ` and the
    /// connection manager's value; added when absent; nothing without the setting.
    @Test func viaIsAppendedToRequests() {
        var a = Self.addressing()
        a.via = "1.1 edge"
        let joined = Self.translate([("Via", "1.0 a"), ("x-other", "o"), ("via", "1.1 b")], a)
        #expect(joined.headers.filter { $0.name == "via" }.map(\.value) == ["1.0 a,1.1 b, 1.1 edge"])
        #expect(joined.headers.first?.name == "via")
        let added = Self.translate([], a)
        #expect(added.headers.map(\.name) == ["x-forwarded-proto", "via", "x-request-id"])
        #expect(added.headers.first { $0.name == "via" }?.value == "1.1 edge")
        let off = Self.translate([("via", "1.0 a"), ("via", "1.1 b")], Self.addressing())
        #expect(off.headers.filter { $0.name == "via" }.map(\.value) == ["1.0 a,1.1 b"])
    }

    @Test func viaIsAppendedToResponses() {
        let h = [HTTPHeader("via", "1.0 up"), HTTPHeader("x", "y"), HTTPHeader("via", "1.1 up2")]
        #expect(RequestTranslation.appendingVia(h, "edge") == [HTTPHeader("via", "1.0 up,1.1 up2, edge"), HTTPHeader("x", "y")])
        #expect(RequestTranslation.appendingVia([HTTPHeader("x", "y")], "edge") == [HTTPHeader("x", "y"), HTTPHeader("via", "edge")])
        #expect(RequestTranslation.appendingVia(h, "") == h)
    }

    @Test func anEmptyRequestIDIsReplacedAndNoneIsMadeWhenGenerationIsOff() {
        let r = Self.translate([("x-request-id", "")], Self.addressing())
        #expect(r.headers.first { $0.name == "x-request-id" }?.value.count == 36)
        var off = Self.addressing(remote: true)
        off.generateRequestId = false
        #expect(!Self.translate([], off).headers.contains { $0.name == "x-request-id" })
        #expect(Self.translate([("x-request-id", "keep")], off).headers.first { $0.name == "x-request-id" }?.value == "keep")
    }
}
