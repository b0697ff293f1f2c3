import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOHTTP2
import Testing

@testable import XDSCProxy

/// The upstream's `SETTINGS_MAX_CONCURRENT_STREAMS` reaches the pool; frames pass on.
@Suite struct PeerSettingsHandlerTests {
    static func settings(_ s: [HTTP2Setting]) -> HTTP2Frame {
        HTTP2Frame(streamID: .rootStream, payload: .settings(.settings(s)))
    }

    @Test func eachMaxConcurrentStreamsIsReportedAndFramesPassOn() throws {
        let reported = NIOLockedValueBox<[Int]>([])
        let handler = PeerSettingsHandler { limit in reported.withLockedValue { $0.append(limit) } }
        let channel = EmbeddedChannel(handler: handler)
        guard case .awaitingSettings = handler.state else {
            Issue.record("not awaiting settings")
            return
        }
        // A SETTINGS without the parameter, an ACK and a PING say nothing of the limit.
        try channel.writeInbound(Self.settings([HTTP2Setting(parameter: .initialWindowSize, value: 65535)]))
        try channel.writeInbound(HTTP2Frame(streamID: .rootStream, payload: .settings(.ack)))
        try channel.writeInbound(HTTP2Frame(streamID: .rootStream, payload: .ping(HTTP2PingData(withInteger: 1), ack: false)))
        #expect(reported.withLockedValue { $0 }.isEmpty)
        try channel.writeInbound(
            Self.settings([
                HTTP2Setting(parameter: .maxConcurrentStreams, value: 10), HTTP2Setting(parameter: .maxConcurrentStreams, value: 3),
            ]))
        try channel.writeInbound(Self.settings([HTTP2Setting(parameter: .maxConcurrentStreams, value: 50)]))
        // The last value of a frame counts (RFC 9113 6.5: settings are processed in order).
        #expect(reported.withLockedValue { $0 } == [3, 50])
        guard case .limited(50) = handler.state else {
            Issue.record("not limited to 50: \(handler.state)")
            return
        }
        var passed = 0
        while try channel.readInbound(as: HTTP2Frame.self) != nil { passed += 1 }
        #expect(passed == 5)
        _ = try channel.finish()
        guard case .closed = handler.state else {
            Issue.record("not closed after the connection ended")
            return
        }
    }

    @Test func settingsAfterCloseAreNotReported() throws {
        let reported = NIOLockedValueBox<[Int]>([])
        let channel = EmbeddedChannel(handler: PeerSettingsHandler { limit in reported.withLockedValue { $0.append(limit) } })
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        channel.pipeline.fireChannelInactive()
        try channel.writeInbound(Self.settings([HTTP2Setting(parameter: .maxConcurrentStreams, value: 1)]))
        #expect(reported.withLockedValue { $0 }.isEmpty)
        _ = try? channel.finish()
    }
}
