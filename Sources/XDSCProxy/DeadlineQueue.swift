import NIOCore

/// Timers of one event loop that share a single scheduled task, for timeouts that are
/// almost always cancelled long before they fire (a route's 15 s timeout around a request
/// answered in a millisecond). Scheduling and cancelling a NIO task per request costs an
/// allocation, a heap insertion and a heap removal that scans the heap; here a timer is an
/// entry appended to a queue ordered by deadline, cancelling it drops its action, and one
/// task stays scheduled for the earliest entry (re-armed when it fires for an entry that was
/// cancelled meanwhile). Each timer still fires at its own deadline.
///
/// A deadline earlier than the last queued one (a shorter timeout after a longer one) gets a
/// task of its own, so the queue stays ordered. Confined to its event loop.
final class DeadlineQueue {
    /// A queued timer.
    final class Entry {
        let deadline: NIODeadline
        /// Nil once the timer fired or was cancelled.
        var action: (() -> Void)?

        init(deadline: NIODeadline, action: @escaping () -> Void) {
            self.deadline = deadline
            self.action = action
        }
    }

    /// A timer from ``schedule(in:_:)``.
    enum Timer {
        case queued(Entry)
        case scheduled(Scheduled<Void>)

        /// Its action will not run (nothing happens when it already ran).
        func cancel() {
            switch self {
            case .queued(let e): e.action = nil
            case .scheduled(let s): s.cancel()
            }
        }
    }

    private let eventLoop: EventLoop
    /// Ordered by deadline; the first entries may be fired or cancelled ones not dropped yet.
    private var entries = CircularBuffer<Entry>()
    /// The task for the earliest entry, when one is scheduled.
    private var armed: Scheduled<Void>?
    /// Stopped: every timer gets a task of its own.
    private var stopped = false

    init(eventLoop: EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Runs `action` on the event loop `amount` from now, unless the timer is cancelled first.
    func schedule(in amount: TimeAmount, _ action: @escaping () -> Void) -> Timer {
        eventLoop.preconditionInEventLoop()
        let deadline = eventLoop.now + amount
        dropInactive()
        if stopped || entries.last.map({ deadline < $0.deadline }) ?? false {
            return .scheduled(eventLoop.assumeIsolated().scheduleTask(deadline: deadline, action))
        }
        let entry = Entry(deadline: deadline, action: action)
        entries.append(entry)
        // The earliest active entry (not always this one when called from a firing timer).
        if armed == nil, let first = entries.first { arm(at: first.deadline) }
        return .queued(entry)
    }

    /// Cancels the shared task (the connection closed); the queued timers that are still
    /// active fire nevertheless, each from a task of its own.
    func stop() {
        stopped = true
        armed?.cancel()
        armed = nil
        dropInactive()
        while let e = entries.popFirst() {
            guard let action = e.action else { continue }
            let timer = eventLoop.assumeIsolated().scheduleTask(deadline: e.deadline) {
                guard let action = e.action else { return }
                e.action = nil
                action()
            }
            _ = timer
        }
    }

    /// The timers queued and not yet fired or cancelled (for tests).
    var activeCount: Int { entries.filter { $0.action != nil }.count }

    /// Whether the shared task is scheduled (for tests).
    var isArmed: Bool { armed != nil }

    private func dropInactive() {
        while let first = entries.first, first.action == nil { entries.removeFirst() }
    }

    private func arm(at deadline: NIODeadline) {
        armed = eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            self.fire()
        }
    }

    /// The shared task: runs every entry that is due, then waits for the next active one.
    private func fire() {
        armed = nil
        let now = eventLoop.now
        while let first = entries.first {
            guard let action = first.action else {
                entries.removeFirst()
                continue
            }
            guard first.deadline <= now else { break }
            entries.removeFirst()
            first.action = nil
            action()
        }
        if armed == nil, let first = entries.first { arm(at: first.deadline) }
    }
}
