import NIOCore
import NIOEmbedded
import Testing

@testable import XDSCProxy

/// The HTTP version detector (`codec_type: AUTO`) on an `EmbeddedChannel` (no sockets).
@Suite struct ProtocolDetectionHandlerTests {
    /// A detector whose configure step records what was detected and adds a collector.
    final class Recorder: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        var bytes: [UInt8] = []
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var b = unwrapInboundIn(data)
            bytes += b.readBytes(length: b.readableBytes) ?? []
        }
    }

    final class Outcome {
        var detected: [ProtocolDetectionHandler.Detected] = []
        let recorder = Recorder()
    }

    static func channel(_ outcome: Outcome, timeout: TimeAmount = .seconds(60)) throws -> EmbeddedChannel {
        let handler = ProtocolDetectionHandler(timeout: timeout) { detected, channel in
            outcome.detected.append(detected)
            try channel.pipeline.syncOperations.addHandler(outcome.recorder)
        }
        return try connected(handler)
    }

    @Test func thePrefaceSelectsHTTP2AndIsHandedOn() throws {
        let outcome = Outcome()
        let channel = try Self.channel(outcome)
        let preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
        try channel.writeInbound(ByteBuffer(string: preface))
        #expect(outcome.detected == [.http2])
        #expect(outcome.recorder.bytes == Array(preface.utf8))
        #expect(throws: ChannelPipelineError.self) { try channel.pipeline.syncOperations.handler(type: ProtocolDetectionHandler.self) }
    }

    @Test func aPrefaceSplitOverReadsIsStillSeen() throws {
        let outcome = Outcome()
        let channel = try Self.channel(outcome)
        try channel.writeInbound(ByteBuffer(string: "PRI * H"))
        #expect(outcome.detected.isEmpty, "a proper prefix of the preface decides nothing yet")
        try channel.writeInbound(ByteBuffer(string: "TTP/2.0\r\n"))
        #expect(outcome.detected == [.http2])
        #expect(outcome.recorder.bytes == Array("PRI * HTTP/2.0\r\n".utf8))
    }

    @Test func anythingElseIsHTTP1AtTheFirstDifferingByte() throws {
        let outcome = Outcome()
        let channel = try Self.channel(outcome)
        try channel.writeInbound(ByteBuffer(string: "GE"))
        #expect(outcome.detected == [.http1])
        try channel.writeInbound(ByteBuffer(string: "T / HTTP/1.1\r\n"))
        #expect(outcome.recorder.bytes == Array("GET / HTTP/1.1\r\n".utf8))
        #expect(outcome.detected == [.http1], "decided once")
    }

    @Test(arguments: ["PRI * HTTP/1.1\r\n", "PRIX", "pri * HTTP/2.0"])
    func nearMissesAreHTTP1(_ text: String) throws {
        let outcome = Outcome()
        let channel = try Self.channel(outcome)
        try channel.writeInbound(ByteBuffer(string: text))
        #expect(outcome.detected == [.http1])
    }

    @Test func aClientThatSendsNothingIsClosedAfterTheTimeout() throws {
        let outcome = Outcome()
        let channel = try Self.channel(outcome, timeout: .seconds(5))
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
        #expect(outcome.detected.isEmpty)
    }

    @Test func aFailingConfigureClosesTheConnection() throws {
        struct Refused: Error {}
        let channel = try connected(ProtocolDetectionHandler(timeout: .seconds(5)) { _, _ in throw Refused() })
        try channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\n"))
        #expect(!channel.isActive)
    }
}
