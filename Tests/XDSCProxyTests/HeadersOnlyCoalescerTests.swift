import NIOCore
import NIOEmbedded
import NIOHPACK
import NIOHTTP2
import Testing

@testable import XDSCProxy

/// The headers-only coalescer of an HTTP/2 stream on an `EmbeddedChannel` (no sockets).
@Suite struct HeadersOnlyCoalescerTests {
    static let head = HTTP2Frame.FramePayload.headers(.init(headers: HPACKHeaders([(":status", "200"), ("grpc-status", "14")])))

    @Test func aHeadWithoutBodyBecomesOneHeadersFrameThatEndsTheStream() throws {
        let channel = try connected(HeadersOnlyCoalescer())
        // As the downstream handler writes a reply: head and end, then one flush.
        channel.write(Self.head, promise: nil)
        channel.write(HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(ByteBuffer()), endStream: true)), promise: nil)
        channel.flush()
        guard case .headers(let h) = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) else {
            Issue.record("no HEADERS")
            return
        }
        #expect(h.endStream)
        #expect(h.headers.first(name: "grpc-status") == "14")
        #expect(try channel.readOutbound(as: HTTP2Frame.FramePayload.self) == nil, "no empty DATA frame after it")
    }

    @Test func aHeadWithABodyGoesOutUnchanged() throws {
        let channel = try connected(HeadersOnlyCoalescer())
        try channel.writeOutbound(Self.head)
        try channel.writeOutbound(HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(ByteBuffer(string: "x")), endStream: true)))
        guard case .headers(let h) = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) else {
            Issue.record("no HEADERS")
            return
        }
        #expect(!h.endStream)
        guard case .data(let d) = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) else {
            Issue.record("no DATA")
            return
        }
        #expect(d.endStream)
        #expect(d.data.readableBytes == 1)
    }

    @Test func aFlushSendsAHeldHead() throws {
        let channel = try connected(HeadersOnlyCoalescer())
        channel.write(Self.head, promise: nil)
        #expect(try channel.readOutbound(as: HTTP2Frame.FramePayload.self) == nil, "held until the next write or flush")
        channel.flush()
        guard case .headers(let h) = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) else {
            Issue.record("no HEADERS after the flush")
            return
        }
        #expect(!h.endStream)
    }

    @Test func trailersAfterABodyPassThrough() throws {
        let channel = try connected(HeadersOnlyCoalescer())
        try channel.writeOutbound(Self.head)
        try channel.writeOutbound(HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(ByteBuffer(string: "x")))))
        try channel.writeOutbound(HTTP2Frame.FramePayload.headers(.init(headers: HPACKHeaders([("grpc-status", "0")]), endStream: true)))
        var kinds: [String] = []
        while let p = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) {
            switch p {
            case .headers(let h): kinds.append(h.endStream ? "trailers" : "headers")
            case .data: kinds.append("data")
            default: kinds.append("other")
            }
        }
        #expect(kinds == ["headers", "data", "trailers"])
    }

    @Test func aHeldHeadsPromiseFailsWhenTheStreamCloses() throws {
        let channel = try connected(HeadersOnlyCoalescer())
        let promise = channel.eventLoop.makePromise(of: Void.self)
        channel.write(Self.head, promise: promise)
        channel.close(promise: nil)
        channel.embeddedEventLoop.run()
        // Completed, so `wait` returns at once instead of blocking the embedded loop.
        #expect(throws: ChannelError.self) { try promise.futureResult.wait() }
    }
}
