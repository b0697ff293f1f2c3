import NIOCore
import NIOEmbedded
import NIOHTTP2
import Testing

@testable import XDSCProxy

/// The connection error handler behind an HTTP/2 handler, on an `EmbeddedChannel`.
@Suite struct ConnectionErrorHandlerTests {
    @Test func anErrorClosesTheConnection() throws {
        let channel = try connected(ConnectionErrorHandler())
        channel.pipeline.fireErrorCaught(NIOHTTP2Errors.badClientMagic())
        #expect(!channel.isActive)
    }

    @Test func aSecondErrorAfterTheCloseIsIgnored() throws {
        let channel = try connected(ConnectionErrorHandler())
        channel.pipeline.fireErrorCaught(NIOHTTP2Errors.badClientMagic())
        channel.pipeline.fireErrorCaught(NIOHTTP2Errors.badClientMagic())
        #expect(!channel.isActive)
    }
}
