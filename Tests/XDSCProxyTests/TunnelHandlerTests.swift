import NIOCore
import NIOEmbedded
import Testing

@testable import XDSCProxy

/// The tunnel pair on two `EmbeddedChannel`s (no sockets).
@Suite struct TunnelHandlerTests {
    static func pair() throws -> (EmbeddedChannel, EmbeddedChannel) {
        let (a, b) = TunnelHandler.pair()
        let down = EmbeddedChannel(handler: a)
        let up = EmbeddedChannel(handler: b)
        try down.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try up.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 2)).wait()
        return (down, up)
    }

    @Test func bytesGoToTheOtherSideBothWays() throws {
        let (down, up) = try Self.pair()
        try down.writeInbound(down.allocator.buffer(string: "ping"))
        #expect(try up.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "ping")
        try up.writeInbound(up.allocator.buffer(string: "pong"))
        #expect(try down.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "pong")
        #expect(try down.readOutbound(as: ByteBuffer.self) == nil)
    }

    @Test func aCloseOnOneSideClosesTheOther() throws {
        let (down, up) = try Self.pair()
        try up.close().wait()
        #expect(!down.isActive)
        try down.writeInbound(down.allocator.buffer(string: "late"))
        #expect(try up.readOutbound(as: ByteBuffer.self) == nil)
    }

    @Test func anErrorClosesBoth() throws {
        let (down, up) = try Self.pair()
        down.pipeline.fireErrorCaught(ChannelError.ioOnClosedChannel)
        #expect(!down.isActive)
        #expect(!up.isActive)
    }
}
