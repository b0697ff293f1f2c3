import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import XDSCProxy

/// The read-ahead in front of NIO's pipelining handler on an `EmbeddedChannel` (no sockets):
/// which `read()` calls reach the channel.
@Suite struct ReadAheadHandlerTests {
    /// Counts the `read()` calls that reach the head of the pipeline (the socket).
    final class ReadCounter: ChannelOutboundHandler {
        typealias OutboundIn = HTTPServerResponsePart
        var reads = 0
        func read(context: ChannelHandlerContext) {
            reads += 1
            context.read()
        }
    }

    /// The counter, the read-ahead and the pipelining handler, as the downstream pipeline has them.
    func pipeline() throws -> (EmbeddedChannel, ReadCounter, ReadAheadHandler) {
        let counter = ReadCounter()
        let readAhead = ReadAheadHandler()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([counter, readAhead, HTTPServerPipelineHandler()])
        try channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, counter, readAhead)
    }

    func request(_ channel: EmbeddedChannel, _ uri: String = "/") throws {
        try channel.writeInbound(HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: uri)))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
    }

    func respond(_ channel: EmbeddedChannel) throws {
        try channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
    }

    @Test func aCompleteRequestKeepsTheConnectionReading() throws {
        let (channel, counter, readAhead) = try pipeline()
        let before = counter.reads
        try request(channel)
        // The request's read complete asked for the next read while its response is pending...
        #expect(counter.reads == before + 1)
        guard case .answering(unanswered: 1, partial: false) = readAhead.state else {
            Issue.record("state \(readAhead.state)")
            return
        }
        // ...which the pipelining handler would hold back: the channel's own read stops there.
        channel.read()
        #expect(counter.reads == before + 1)
        try respond(channel)
        guard case .reading = readAhead.state else {
            Issue.record("state \(readAhead.state)")
            return
        }
        // The next request is delivered and read ahead again.
        try request(channel, "/b")
        #expect(counter.reads == before + 3)
        var uris: [String] = []
        while let part = try channel.readInbound(as: HTTPServerRequestPart.self) {
            if case .head(let h) = part { uris.append(h.uri) }
        }
        #expect(uris == ["/", "/b"])
    }

    @Test func aPipelinedRequestStopsTheReadAhead() throws {
        let (channel, counter, readAhead) = try pipeline()
        try request(channel, "/a")
        let afterFirst = counter.reads
        // A second request before the first is answered: buffered by the pipelining handler,
        // and nothing more is read until the first response ends.
        try channel.writeInbound(HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/b")))
        #expect(counter.reads == afterFirst)
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        #expect(counter.reads == afterFirst)
        guard case .answering(unanswered: 2, partial: false) = readAhead.state else {
            Issue.record("state \(readAhead.state)")
            return
        }
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self).map { if case .head(let h) = $0 { h.uri } else { "" } } == "/a")
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self) != nil)
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self) == nil)
        try respond(channel)
        // The second request is delivered now, in order.
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self).map { if case .head(let h) = $0 { h.uri } else { "" } } == "/b")
        guard case .answering(unanswered: 1, partial: false) = readAhead.state else {
            Issue.record("state \(readAhead.state)")
            return
        }
        try respond(channel)
        guard case .reading = readAhead.state else {
            Issue.record("state \(readAhead.state)")
            return
        }
    }

    @Test func aParseErrorLeavesReadsToThePipeliningHandler() throws {
        let (channel, counter, readAhead) = try pipeline()
        try request(channel)
        channel.pipeline.syncOperations.fireErrorCaught(HTTPParserError.invalidChunkSize)
        guard case .passive = readAhead.state else {
            Issue.record("state \(readAhead.state)")
            return
        }
        let reads = counter.reads
        channel.pipeline.syncOperations.fireChannelReadComplete()
        #expect(counter.reads == reads)
    }

    @Test func aHalfCloseLeavesReadsToThePipeliningHandler() throws {
        let (channel, counter, readAhead) = try pipeline()
        try request(channel)
        channel.pipeline.syncOperations.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        guard case .passive = readAhead.state else {
            Issue.record("state \(readAhead.state)")
            return
        }
        let reads = counter.reads
        channel.pipeline.syncOperations.fireChannelReadComplete()
        #expect(counter.reads == reads)
    }
}
