import NIOHTTP1
import Testing
import XDSCRequest

@testable import XDSCProxy

/// The gRPC form of the local replies (`prepareLocalReply`, `httpToGrpcStatus`).
@Suite struct GRPCLocalReplyTests {
    static func head(_ contentType: String?, method: HTTPMethod = .POST, version: HTTPVersion = HTTPVersion(major: 2, minor: 0))
        -> HTTPRequestHead
    {
        var h = HTTPRequestHead(version: version, method: method, uri: "/pkg.Svc/Call")
        if let contentType { h.headers.add(name: "content-type", value: contentType) }
        return h
    }

    @Test(arguments: [
        ("application/grpc", true), ("application/grpc+proto", true), ("application/grpc-web", false),
        ("application/json", false), ("application/grpcx", false),
    ])
    func whatCountsAsGRPC(_ type: String, _ grpc: Bool) {
        #expect(GRPCLocalReply.isGRPC(Self.head(type)) == grpc)
    }

    @Test func noContentTypeIsNotGRPC() {
        #expect(!GRPCLocalReply.isGRPC(Self.head(nil)))
    }

    @Test(arguments: [(400, 13), (401, 16), (403, 7), (404, 12), (429, 14), (502, 14), (503, 14), (504, 14), (500, 2), (418, 2), (308, 2)])
    func statusMapping(_ http: Int, _ grpc: Int) {
        #expect(GRPCLocalReply.grpcStatus(httpStatus: http) == grpc)
    }

    @Test func theMessageIsPercentEncoded() {
        #expect(GRPCLocalReply.percentEncoded("no healthy upstream") == "no healthy upstream")
        #expect(GRPCLocalReply.percentEncoded("100% done\n") == "100%25 done%0A")
        #expect(GRPCLocalReply.percentEncoded("é") == "%C3%A9")
    }

    @Test func aReplyBecomesTrailersOnly() {
        let h = GRPCLocalReply.headers(
            status: 503, body: "no healthy upstream",
            headers: [HTTPHeader("content-length", "19"), HTTPHeader("content-type", "text/plain"), HTTPHeader("x-route", "a")],
            head: Self.head("application/grpc"))
        #expect(
            h == [
                HTTPHeader("content-type", "application/grpc"), HTTPHeader("x-route", "a"), HTTPHeader("grpc-status", "14"),
                HTTPHeader("grpc-message", "no healthy upstream"),
            ])
    }

    @Test func aGrpcStatusTheMutationsSetIsKeptAndHTTP1GetsALength() {
        let h = GRPCLocalReply.headers(
            status: 404, body: "", headers: [HTTPHeader("content-length", "0"), HTTPHeader("grpc-status", "5")],
            head: Self.head("application/grpc", version: .http1_1))
        #expect(h == [HTTPHeader("grpc-status", "5"), HTTPHeader("content-type", "application/grpc"), HTTPHeader("content-length", "0")])
    }

    @Test func aHeadRequestGetsNoMessage() {
        let h = GRPCLocalReply.headers(status: 503, body: "x", headers: [], head: Self.head("application/grpc", method: .HEAD))
        #expect(!h.contains { $0.name == "grpc-message" })
    }
}
