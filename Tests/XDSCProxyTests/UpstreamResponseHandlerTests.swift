import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOHTTP2
import Testing
import XDSCJSON
import XDSCRequest
import XDSCRouteEngine

@testable import XDSCProxy

/// The state machine of the upstream response collector on an `EmbeddedChannel` (no sockets).
@Suite struct UpstreamResponseHandlerTests {
    @Test func completesWithTheWholeResponse() throws {
        let channel = EmbeddedChannel()
        let promise = channel.eventLoop.makePromise(of: UpstreamResponse.self)
        try channel.pipeline.syncOperations.addHandler(UpstreamResponseHandler(promise: promise))
        try channel.writeInbound(HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .continue)))
        try channel.writeInbound(HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .created)))
        try channel.writeInbound(HTTPClientResponsePart.body(ByteBuffer(string: "ok")))
        try channel.writeInbound(HTTPClientResponsePart.end(nil))
        let r = try promise.futureResult.wait()
        #expect(r.status == 201)
        #expect(String(buffer: r.body) == "ok")
    }

    /// The parts go to the receiver as they arrive, with the exchange's attempt token: the
    /// head (names lower-cased, 1xx dropped), each body part, the end of each read burst while
    /// the response is in progress (`writeInbound` ends a read after each part), the end with
    /// its trailers, and no read end after it.
    @Test func partsArriveAsTheyCome() throws {
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 80)).wait()
        let receiver = RecordingReceiver()
        try channel.pipeline.syncOperations.addHandler(UpstreamResponseHandler(receiver: receiver, attempt: 3))
        var head = HTTPResponseHead(version: .http1_1, status: .ok)
        head.headers.add(name: "X-Mixed", value: "A")
        try channel.writeInbound(HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .continue)))
        #expect(receiver.events.isEmpty)
        try channel.writeInbound(HTTPClientResponsePart.head(head))
        try channel.writeInbound(HTTPClientResponsePart.body(ByteBuffer(string: "one")))
        #expect(receiver.events == ["3 head 200 x-mixed=A", "3 read-complete", "3 body one", "3 read-complete"])
        try channel.writeInbound(HTTPClientResponsePart.body(ByteBuffer(string: "two")))
        try channel.writeInbound(HTTPClientResponsePart.end(HTTPHeaders([("Grpc-Status", "0")])))
        #expect(
            receiver.events == [
                "3 head 200 x-mixed=A", "3 read-complete", "3 body one", "3 read-complete", "3 body two", "3 read-complete",
                "3 end grpc-status=0 reusable",
            ])
    }

    /// The exchanges count once each ends, and a kept-alive connection idle for `idleTimeout` is
    /// closed, unless the next exchange takes it first.
    @Test func exchangesAndTheIdleTimeout() throws {
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 80)).wait()
        let loop = channel.embeddedEventLoop
        let promise = loop.makePromise(of: UpstreamResponse.self)
        let handler = UpstreamResponseHandler(promise: promise, idleTimeout: .milliseconds(200))
        try channel.pipeline.syncOperations.addHandler(handler)
        var head = HTTPResponseHead(version: .http1_1, status: .ok)
        head.headers.add(name: "content-length", value: "2")
        try channel.writeInbound(HTTPClientResponsePart.head(head))
        try channel.writeInbound(HTTPClientResponsePart.body(ByteBuffer(string: "ok")))
        #expect(handler.exchanges == 0)
        try channel.writeInbound(HTTPClientResponsePart.end(nil))
        #expect(try promise.futureResult.wait().reusable)
        #expect(handler.exchanges == 1)
        // Taken again within the idle timeout: still open after it.
        loop.advanceTime(by: .milliseconds(150))
        let next = RecordingReceiver()
        #expect(handler.expect(next, attempt: 2))
        loop.advanceTime(by: .milliseconds(300))
        #expect(channel.isActive)
        try channel.writeInbound(HTTPClientResponsePart.head(head))
        try channel.writeInbound(HTTPClientResponsePart.body(ByteBuffer(string: "ok")))
        try channel.writeInbound(HTTPClientResponsePart.end(nil))
        #expect(next.events.last == "2 end reusable")
        #expect(handler.exchanges == 2)
        // Idle for the whole timeout: closed.
        loop.advanceTime(by: .milliseconds(199))
        #expect(channel.isActive)
        loop.advanceTime(by: .milliseconds(1))
        #expect(!channel.isActive)
    }

    /// Backpressure: while reads are held a `read()` goes no further, and it is made when they
    /// are let go; once the response ends reads are never held (the pooled connection must see
    /// its close).
    @Test func heldReadsWaitUntilLetGo() throws {
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 80)).wait()
        let reads = ReadCounter()
        let handler = UpstreamResponseHandler(receiver: RecordingReceiver())
        try channel.pipeline.syncOperations.addHandler(reads)
        try channel.pipeline.syncOperations.addHandler(handler)
        // Nothing is held before the head.
        handler.holdReads(true)
        channel.read()
        #expect(reads.reads == 1)
        try channel.writeInbound(HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
        handler.holdReads(true)
        channel.read()
        channel.read()
        #expect(reads.reads == 1)
        handler.holdReads(false)
        #expect(reads.reads == 2)
        handler.holdReads(true)
        channel.read()
        #expect(reads.reads == 2)
        try channel.writeInbound(HTTPClientResponsePart.end(nil))
        #expect(reads.reads == 3)
        channel.read()
        #expect(reads.reads == 4)
    }

    /// An accepted upgrade's 101 is the response, handed on at its end; the connection stays open.
    @Test func anUpgradeIsHandedOnAtTheEndOfItsHead() throws {
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 80)).wait()
        let receiver = RecordingReceiver()
        try channel.pipeline.syncOperations.addHandler(UpstreamResponseHandler(receiver: receiver, attempt: 1, upgrade: true))
        try channel.writeInbound(HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .switchingProtocols)))
        #expect(receiver.events.isEmpty)
        try channel.writeInbound(HTTPClientResponsePart.end(nil))
        #expect(receiver.events == ["1 head 101 "])
        #expect(channel.isActive)
    }

    @Test func aCloseBeforeTheEndIsAConnectionTermination() throws {
        let channel = EmbeddedChannel()
        let promise = channel.eventLoop.makePromise(of: UpstreamResponse.self)
        try channel.pipeline.syncOperations.addHandler(UpstreamResponseHandler(promise: promise))
        try channel.writeInbound(HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
        try channel.close().wait()
        #expect(throws: UpstreamFailure.connectionTermination) { try promise.futureResult.wait() }
    }

    /// An HTTP/2 stream reset with REFUSED_STREAM is its own failure (retried under
    /// `refused-stream`); another reset code is a connection termination.
    @Test func aRefusedStreamIsNotATermination() throws {
        for (code, failure) in [(HTTP2ErrorCode.refusedStream, UpstreamFailure.refusedStream), (.cancel, .connectionTermination)] {
            let channel = EmbeddedChannel()
            let promise = channel.eventLoop.makePromise(of: UpstreamResponse.self)
            try channel.pipeline.syncOperations.addHandler(UpstreamResponseHandler(promise: promise))
            channel.pipeline.fireErrorCaught(NIOHTTP2Errors.streamClosed(streamID: 1, errorCode: code))
            #expect(throws: failure) { try promise.futureResult.wait() }
        }
    }

    @Test func aBodyInSeveralReadsArrivesWhole() throws {
        let channel = EmbeddedChannel()
        let promise = channel.eventLoop.makePromise(of: UpstreamResponse.self)
        try channel.pipeline.syncOperations.addHandler(UpstreamResponseHandler(promise: promise))
        try channel.writeInbound(HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
        let parts = (0..<5).map { String(repeating: Character(String($0)), count: 1000) }
        for p in parts { try channel.writeInbound(HTTPClientResponsePart.body(ByteBuffer(string: p))) }
        try channel.writeInbound(HTTPClientResponsePart.end(nil))
        #expect(String(buffer: try promise.futureResult.wait().body) == parts.joined())
    }
}

extension UpstreamResponseHandlerTests {
    @Test func aKeepAliveConnectionKeepsTheHandlerForTheNextExchange() throws {
        let channel = EmbeddedChannel()
        let first = channel.eventLoop.makePromise(of: UpstreamResponse.self)
        let handler = UpstreamResponseHandler(promise: first)
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 80)).wait()
        try channel.writeInbound(HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
        try channel.writeInbound(HTTPClientResponsePart.end(nil))
        #expect(try first.futureResult.wait().reusable)
        #expect(channel.isActive)
        // Idle in the pool: a second exchange takes it over, a third cannot while it runs.
        let second = channel.eventLoop.makePromise(of: UpstreamResponse.self)
        #expect(handler.expect(second))
        let third = channel.eventLoop.makePromise(of: UpstreamResponse.self)
        #expect(!handler.expect(third))
        try channel.writeInbound(HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .accepted)))
        try channel.writeInbound(HTTPClientResponsePart.body(ByteBuffer(string: "two")))
        try channel.writeInbound(HTTPClientResponsePart.end(nil))
        let r = try second.futureResult.wait()
        #expect(r.status == 202)
        #expect(String(buffer: r.body) == "two")
        third.fail(UpstreamFailure.connectionTermination)
    }

    @Test func aConnectionThatIsNotKeptAliveIsClosedAndCannotBeTakenOver() throws {
        let channel = EmbeddedChannel()
        let promise = channel.eventLoop.makePromise(of: UpstreamResponse.self)
        let handler = UpstreamResponseHandler(promise: promise)
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 80)).wait()
        var head = HTTPResponseHead(version: .http1_1, status: .ok)
        head.headers.add(name: "connection", value: "close")
        try channel.writeInbound(HTTPClientResponsePart.head(head))
        try channel.writeInbound(HTTPClientResponsePart.end(nil))
        #expect(try !promise.futureResult.wait().reusable)
        #expect(!channel.isActive)
        let next = channel.eventLoop.makePromise(of: UpstreamResponse.self)
        #expect(!handler.expect(next))
        next.fail(UpstreamFailure.connectionTermination)
    }
}

/// Records what an upstream response handler hands on, one line per call.
final class RecordingReceiver: UpstreamResponseReceiver {
    var events: [String] = []

    func upstreamHead(_ attempt: Int, status: Int, headers: [(name: String, value: String)]) {
        events.append("\(attempt) head \(status) " + headers.map { "\($0.name)=\($0.value)" }.joined(separator: ","))
    }

    func upstreamBody(_ attempt: Int, _ chunk: ByteBuffer) { events.append("\(attempt) body \(String(buffer: chunk))") }

    func upstreamReadComplete(_ attempt: Int) { events.append("\(attempt) read-complete") }

    func upstreamEnd(_ attempt: Int, trailers: [HTTPHeader], reusable: Bool) {
        let fields = trailers.map { "\($0.name)=\($0.value) " }.joined()
        events.append("\(attempt) end \(fields)\(reusable ? "reusable" : "closed")")
    }

    func upstreamFailed(_ attempt: Int, _ failure: UpstreamFailure) { events.append("\(attempt) failed \(failure.reason)") }
}
