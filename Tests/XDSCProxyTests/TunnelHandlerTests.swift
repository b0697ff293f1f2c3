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

    @Test func bytesHandedOverOutsideAReadAreFlushed() throws {
        // What the upstream sent behind its 101 reaches the tunnel without a read completion.
        let loop = EmbeddedEventLoop()
        let (a, b) = TunnelHandler.pair()
        let down = EmbeddedChannel(handler: a, loop: loop)
        let up = EmbeddedChannel(handler: b, loop: loop)
        try down.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try up.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 2)).wait()
        up.pipeline.fireChannelRead(NIOAny(up.allocator.buffer(string: "hello;")))
        loop.run()
        #expect(try down.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "hello;")
    }

    @Test func theStreamDurationClosesBothSides() throws {
        let loop = EmbeddedEventLoop()
        let (a, b) = TunnelHandler.pair(closingIn: .milliseconds(300))
        let down = EmbeddedChannel(handler: a, loop: loop)
        let up = EmbeddedChannel(handler: b, loop: loop)
        try down.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try up.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 2)).wait()
        loop.advanceTime(by: .milliseconds(299))
        #expect(down.isActive && up.isActive)
        try down.writeInbound(down.allocator.buffer(string: "ping"))
        #expect(try up.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "ping")
        loop.advanceTime(by: .milliseconds(1))
        #expect(!down.isActive && !up.isActive)
    }

    @Test func aClosedTunnelCancelsItsTimer() throws {
        let loop = EmbeddedEventLoop()
        let (a, b) = TunnelHandler.pair(closingIn: .seconds(1))
        let down = EmbeddedChannel(handler: a, loop: loop)
        let up = EmbeddedChannel(handler: b, loop: loop)
        try down.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try up.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 2)).wait()
        try up.close().wait()
        #expect(!down.isActive)
        // Nothing is left scheduled to fire on the closed pair.
        loop.advanceTime(by: .seconds(2))
        #expect(!down.isActive && !up.isActive)
    }
}
