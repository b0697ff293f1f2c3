import Synchronization
import Testing
import XDSCDiagnostics

/// Work spread over threads comes back in the order of its pieces, each piece run once.
@Suite struct ParallelTests {
    @Test func resultsComeInIndexOrderWhateverTheThreads() {
        let expected = (0..<1000).map { "piece \($0)" }
        for workers in [1, 2, 3, 8] {
            #expect(Parallel.map(1000, workers: workers) { "piece \($0)" } == expected)
        }
        #expect(Parallel.map(0, workers: 4) { $0 }.isEmpty)
        #expect(Parallel.map(1, workers: 4) { $0 + 1 } == [1])
    }

    @Test func eachPieceRunsOnceWithItsThreadsOwnState() {
        let runs = Atomic<Int>(0)
        let states = Atomic<Int>(0)
        let outOfOrder = Atomic<Int>(0)
        let out = Parallel.map(
            500, workers: 4,
            state: { () -> [Int] in
                states.wrappingAdd(1, ordering: .relaxed)
                return []
            },
            { seen, i -> Int in
                runs.wrappingAdd(1, ordering: .relaxed)
                // A thread's state holds only the pieces that thread ran, in the order it ran them.
                if let last = seen.last, last >= i { outOfOrder.wrappingAdd(1, ordering: .relaxed) }
                seen.append(i)
                return i * i
            })
        #expect(out == (0..<500).map { $0 * $0 })
        #expect(runs.load(ordering: .relaxed) == 500)
        #expect(outOfOrder.load(ordering: .relaxed) == 0)
        #expect((1...4).contains(states.load(ordering: .relaxed)))
    }
}
