import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Independent pieces of work spread over the processors, with their results in the order
/// of the pieces, so the output is the same as one piece after the other (issue 13: the
/// Envoy lowering and the route analysis of a large policy are per host). Only for work
/// that reads shared values and writes nothing shared; small inputs stay on one thread.
public enum Parallel {
    /// Threads for CPU-bound work: the processors online, at most 4.
    public static let processors: Int = {
        let online = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        return Int(min(4, max(1, online)))
    }()

    /// The routes from which per-host or per-pass work of a policy or route table is spread
    /// over the processors: below it, threads cost more than they save.
    public static let minimumRoutes = 4000

    /// The threads for work over `routes` routes: ``processors`` from ``minimumRoutes``,
    /// else one (a small lint starts no thread).
    public static func workers(forRoutes routes: Int) -> Int {
        routes >= minimumRoutes ? processors : 1
    }

    /// `body(&state, i)` for each `i` in `0..<count`, on up to `workers` threads, each with
    /// its own `state` from `makeState` (a cache the pieces of one thread share); the
    /// results in index order. Which thread takes which piece varies; the results do not,
    /// as long as `body`'s result does not depend on `state`'s history.
    public static func map<State, T>(
        _ count: Int, workers: Int = Parallel.processors, state makeState: () -> State, _ body: (inout State, Int) -> T
    ) -> [T] {
        let threads = min(workers, count)
        if threads <= 1 {
            var state = makeState()
            return (0..<count).map { body(&state, $0) }
        }
        let slots = Slots<T>(count)
        let next = Atomic<Int>(0)
        withoutActuallyEscaping(makeState) { makeState in
            withoutActuallyEscaping(body) { body in
                let work = Work(makeState: makeState, body: body)
                DispatchQueue.concurrentPerform(iterations: threads) { _ in
                    var state = work.makeState()
                    while true {
                        let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                        if i >= count { break }
                        slots.put(i, work.body(&state, i))
                    }
                }
            }
        }
        return slots.take()
    }

    /// `body(i)` for each `i` in `0..<count`, on up to `workers` threads; the results in
    /// index order.
    public static func map<T>(_ count: Int, workers: Int = Parallel.processors, _ body: (Int) -> T) -> [T] {
        map(count, workers: workers, state: {}, { _, i in body(i) })
    }

    /// The closures of one `map`, shared by its threads (which only call them).
    private struct Work<State, T>: @unchecked Sendable {
        let makeState: () -> State
        let body: (inout State, Int) -> T
    }

    /// One slot per piece, each written once by the thread that ran the piece, read after
    /// every thread is done (`concurrentPerform` returns then).
    private final class Slots<T>: @unchecked Sendable {
        private let values: UnsafeMutableBufferPointer<T?>

        init(_ count: Int) {
            values = .allocate(capacity: count)
            values.initialize(repeating: nil)
        }

        deinit {
            values.deinitialize()
            values.deallocate()
        }

        func put(_ i: Int, _ value: T) { values[i] = value }

        func take() -> [T] {
            values.indices.map { i in
                guard let v = values[i].take() else { preconditionFailure("a piece of parallel work produced nothing") }
                return v
            }
        }
    }
}
