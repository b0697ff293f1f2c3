import NIOCore
import NIOEmbedded
import Testing

@testable import XDSCProxy

/// ``HTTP09RequestLine`` on an `EmbeddedChannel`: which first lines it rewrites, that it
/// waits for the line feed, and that it leaves the pipeline after the first line.
@Suite struct HTTP09RequestLineTests {
    /// Feeds `parts` one read each; the bytes that came out, and whether the handler is still there.
    static func run(_ parts: [String], close: Bool = false) throws -> (out: String, stays: Bool) {
        let handler = HTTP09RequestLine()
        let channel = EmbeddedChannel(handler: handler)
        for p in parts { try channel.writeInbound(channel.allocator.buffer(string: p)) }
        if close { channel.pipeline.fireChannelInactive() }
        var out = ""
        while let b = try channel.readInbound(as: ByteBuffer.self) { out += String(buffer: b) }
        let stays = (try? channel.pipeline.syncOperations.context(handler: handler)) != nil
        _ = try? channel.finish()
        return (out, stays)
    }

    @Test(arguments: [
        ("GET /\r\n", "GET / HTTP/1.0\r\n\r\n"),
        ("GET /a\n", "GET /a HTTP/1.0\r\n\r\n"),
        ("GET /a \r\nrest", "GET /a HTTP/1.0\r\n\r\nrest"),
        ("GET / HTTP/1.1\r\nhost: a\r\n\r\n", "GET / HTTP/1.1\r\nhost: a\r\n\r\n"),
        ("GET\r\n", "GET\r\n"),
        ("G(T /\r\n", "G(T /\r\n"),
        ("\r\n", "\r\n"),
    ])
    func theFirstLineIsRewrittenOnlyWithoutAVersion(input: String, expected: String) throws {
        let (out, stays) = try Self.run([input])
        #expect(out == expected)
        #expect(!stays)
    }

    @Test func aLineInSeveralReadsWaitsForItsLineFeed() throws {
        #expect(try Self.run(["GE", "T /x"]) == ("", true))
        #expect(try Self.run(["GE", "T /x", "\r\n"]).out == "GET /x HTTP/1.0\r\n\r\n")
        // After the first line everything passes unchanged, another HTTP/0.9 line included.
        #expect(try Self.run(["GET / HTTP/1.1\r\n", "GET /\r\n"]).out == "GET / HTTP/1.1\r\nGET /\r\n")
    }

    @Test func whatWasHeldGoesOnWhenTheConnectionEnds() throws {
        #expect(try Self.run(["GET /x"], close: true).out == "GET /x")
    }

    @Test func aLongLineGoesOnUnchanged() throws {
        let long = "GET /" + String(repeating: "a", count: HTTP09RequestLine.maximumLine)
        #expect(try Self.run([long]).out == long)
    }
}
