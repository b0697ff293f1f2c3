import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
import XDSCJSON
import XDSCRouteEngine

@testable import XDSCProxy

/// The state machine of the protocol error answer on an `EmbeddedChannel` (no sockets).
@Suite struct ProtocolErrorHandlerTests {
    @Test(arguments: [(HTTPParserError.headerOverflow, 431), (HTTPParserError.invalidHeaderToken, 400)])
    func answersAParseErrorAndCloses(error: HTTPParserError, status: Int) throws {
        let channel = try connected(ProtocolErrorHandler())
        channel.pipeline.fireErrorCaught(error)
        guard case .head(let head) = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            Issue.record("no head")
            return
        }
        #expect(Int(head.status.code) == status)
        #expect(head.headers["connection"] == ["close"])
        #expect(!channel.isActive)
    }

    /// Fuzz finding (harness `proxy`, `regression-error-after-close`): a `connection: close`
    /// response, then unparsable bytes from the same read got a second, 400 response.
    @Test func noErrorReplyAfterAResponseThatCloses() throws {
        let channel = try connected(ProtocolErrorHandler())
        var headers = HTTPHeaders()
        headers.add(name: "connection", value: "close")
        try channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)))
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        _ = try channel.readOutbound(as: HTTPServerResponsePart.self)
        _ = try channel.readOutbound(as: HTTPServerResponsePart.self)
        channel.pipeline.fireErrorCaught(HTTPParserError.invalidChunkSize)
        #expect(try channel.readOutbound(as: HTTPServerResponsePart.self) == nil)
    }

    @Test func aHalfWrittenResponseIsOnlyClosed() throws {
        let channel = try connected(ProtocolErrorHandler())
        try channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
        _ = try channel.readOutbound(as: HTTPServerResponsePart.self)
        channel.pipeline.fireErrorCaught(HTTPParserError.invalidChunkSize)
        #expect(try channel.readOutbound(as: HTTPServerResponsePart.self) == nil)
        #expect(!channel.isActive)
    }
}
