import NIOCore
import NIOEmbedded
import Testing

@testable import XDSCProxy

/// The shared route-timeout timer on an `EmbeddedEventLoop` (virtual time).
@Suite struct DeadlineQueueTests {
    @Test func eachTimerFiresAtItsOwnDeadline() {
        let loop = EmbeddedEventLoop()
        let q = DeadlineQueue(eventLoop: loop)
        var fired: [String] = []
        _ = q.schedule(in: .seconds(10)) { fired.append("a") }
        loop.advanceTime(by: .seconds(3))
        _ = q.schedule(in: .seconds(10)) { fired.append("b") }
        loop.advanceTime(by: .milliseconds(6_999))
        #expect(fired.isEmpty)
        loop.advanceTime(by: .milliseconds(1))
        #expect(fired == ["a"])
        loop.advanceTime(by: .milliseconds(2_999))
        #expect(fired == ["a"])
        loop.advanceTime(by: .milliseconds(1))
        #expect(fired == ["a", "b"])
        #expect(!q.isArmed)
    }

    @Test func aCancelledTimerNeverFiresAndTheNextOneStillDoes() {
        let loop = EmbeddedEventLoop()
        let q = DeadlineQueue(eventLoop: loop)
        var fired: [String] = []
        let a = q.schedule(in: .seconds(10)) { fired.append("a") }
        loop.advanceTime(by: .seconds(1))
        _ = q.schedule(in: .seconds(10)) { fired.append("b") }
        a.cancel()
        loop.advanceTime(by: .seconds(9))
        #expect(fired == [])
        loop.advanceTime(by: .seconds(1))
        #expect(fired == ["b"])
    }

    @Test func cancelledTimersDoNotPileUp() {
        let loop = EmbeddedEventLoop()
        let q = DeadlineQueue(eventLoop: loop)
        for _ in 0..<1000 {
            q.schedule(in: .seconds(15)) { Issue.record("a cancelled timer fired") }.cancel()
            loop.advanceTime(by: .milliseconds(1))
        }
        _ = q.schedule(in: .seconds(15)) {}
        #expect(q.activeCount == 1)
        loop.advanceTime(by: .seconds(16))
        #expect(q.activeCount == 0)
    }

    @Test func anEarlierDeadlineAfterALaterOneStillFiresOnTime() {
        let loop = EmbeddedEventLoop()
        let q = DeadlineQueue(eventLoop: loop)
        var fired: [String] = []
        _ = q.schedule(in: .seconds(15)) { fired.append("long") }
        _ = q.schedule(in: .seconds(1)) { fired.append("short") }
        loop.advanceTime(by: .seconds(1))
        #expect(fired == ["short"])
        loop.advanceTime(by: .seconds(14))
        #expect(fired == ["short", "long"])
    }

    @Test func aTimerScheduledWhileOneFiresIsKept() {
        let loop = EmbeddedEventLoop()
        let q = DeadlineQueue(eventLoop: loop)
        var fired: [String] = []
        _ = q.schedule(in: .seconds(1)) {
            fired.append("a")
            _ = q.schedule(in: .seconds(1)) { fired.append("b") }
        }
        loop.advanceTime(by: .seconds(1))
        #expect(fired == ["a"])
        loop.advanceTime(by: .seconds(1))
        #expect(fired == ["a", "b"])
    }

    @Test func stoppingKeepsTheActiveTimersAndCancellationWorks() {
        let loop = EmbeddedEventLoop()
        let q = DeadlineQueue(eventLoop: loop)
        var fired: [String] = []
        _ = q.schedule(in: .seconds(5)) { fired.append("a") }
        let b = q.schedule(in: .seconds(6)) { fired.append("b") }
        q.stop()
        #expect(!q.isArmed)
        b.cancel()
        let c = q.schedule(in: .seconds(7)) { fired.append("c") }
        loop.advanceTime(by: .seconds(5))
        #expect(fired == ["a"])
        c.cancel()
        loop.advanceTime(by: .seconds(5))
        #expect(fired == ["a"])
    }
}
