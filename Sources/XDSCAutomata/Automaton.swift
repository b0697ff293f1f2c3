// Thompson NFA over bytes, subset construction, products and minimisation.

/// Byte classes whose transition columns are identical behave the same; keeps the first of
/// each group. `fill(c, column)` writes class `c`'s column (`height` entries). Returns, for
/// every class, the index of its kept representative, and the kept classes in order.
/// The columns live in one flat buffer and are told apart by a cheap hash, then compared:
/// no array or dictionary per class.
func mergeIdenticalClasses(
    _ classCount: Int, height: Int, fill: (Int, inout UnsafeMutableBufferPointer<Int32>) -> Void
) -> (classMap: [Int], kept: [Int]) {
    var classMap = [Int](repeating: 0, count: classCount)
    var kept: [Int] = []
    var keptHash: [UInt64] = []
    var columns = [Int32](repeating: 0, count: classCount * height)
    columns.withUnsafeMutableBufferPointer { all in
        for c in 0..<classCount {
            var column = UnsafeMutableBufferPointer(rebasing: all[c * height..<(c + 1) * height])
            fill(c, &column)
            let h = ArrayKey.fnv1a(column)
            var found = -1
            for (k, kc) in kept.enumerated() where keptHash[k] == h {
                let base = kc * height
                var same = true
                for i in 0..<height where all[base + i] != column[i] {
                    same = false
                    break
                }
                if same {
                    found = k
                    break
                }
            }
            if found >= 0 {
                classMap[c] = found
            } else {
                classMap[c] = kept.count
                kept.append(c)
                keptHash.append(h)
            }
        }
    }
    return (classMap, kept)
}

/// An `[Int32]` dictionary key with a precomputed cheap hash (FNV-1a): the standard
/// array hashing runs SipHash over every element on each lookup, which dominated.
struct ArrayKey: Hashable {
    let a: [Int32]
    let h: Int

    init(_ a: [Int32]) {
        self.a = a
        h = Int(truncatingIfNeeded: ArrayKey.fnv1a(a))
    }

    /// FNV-1a over the values.
    static func fnv1a<C: Collection<Int32>>(_ values: C) -> UInt64 {
        var x: UInt64 = 0xcbf2_9ce4_8422_2325
        for v in values { x = (x ^ UInt64(UInt32(bitPattern: v))) &* 0x100_0000_01b3 }
        return x
    }

    func hash(into hasher: inout Hasher) { hasher.combine(h) }
    static func == (l: ArrayKey, r: ArrayKey) -> Bool { l.h == r.h && l.a == r.a }
}

/// Thrown when an automaton would exceed its size limit.
struct AutomatonTooLarge: Error, Sendable {}

/// A byte-level NFA with tagged epsilon edges (plain, begin-of-text, end-of-text).
struct NFA {
    struct Edge {
        var lo: UInt8
        var hi: UInt8
        var to: Int32
    }
    /// Epsilon kinds.
    static let plain: UInt8 = 0, begin: UInt8 = 1, end: UInt8 = 2

    var edges: [[Edge]] = []
    var eps: [[(to: Int32, kind: UInt8)]] = []
    var start: Int32 = 0
    var accept: Int32 = 0
    let limit: Int

    init(limit: Int) {
        self.limit = limit
        // Most patterns need a few dozen states: growing the arrays of arrays from empty
        // cost more than the states themselves.
        edges.reserveCapacity(64)
        eps.reserveCapacity(64)
    }

    mutating func newState() throws(AutomatonTooLarge) -> Int32 {
        if edges.count >= limit { throw AutomatonTooLarge() }
        edges.append([])
        eps.append([])
        return Int32(edges.count - 1)
    }

    /// Builds the fragment for `node` and returns its entry and exit states.
    mutating func build(_ node: RegexNode) throws(AutomatonTooLarge) -> (Int32, Int32) {
        switch node {
        case .empty:
            let a = try newState()
            return (a, a)
        case .chars(let cls):
            let a = try newState()
            let b = try newState()
            if cls.ranges.allSatisfy({ $0.upperBound <= 0x7F }) {
                // ASCII only: one byte per code point, the sequences `UTF8Ranges` would give.
                for r in cls.ranges { edges[Int(a)].append(Edge(lo: UInt8(r.lowerBound), hi: UInt8(r.upperBound), to: b)) }
                return (a, b)
            }
            for seq in UTF8Ranges.sequences(cls) {
                var cur = a
                for (k, r) in seq.enumerated() {
                    let nxt = k == seq.count - 1 ? b : try newState()
                    edges[Int(cur)].append(Edge(lo: r.lowerBound, hi: r.upperBound, to: nxt))
                    cur = nxt
                }
            }
            return (a, b)
        case .bytes(let ranges):
            let a = try newState()
            let b = try newState()
            for r in ranges { edges[Int(a)].append(Edge(lo: r.lowerBound, hi: r.upperBound, to: b)) }
            return (a, b)
        case .concat(let items):
            var first: Int32 = -1
            var last: Int32 = -1
            for item in items {
                let (s, e) = try build(item)
                if first < 0 { first = s } else { eps[Int(last)].append((s, NFA.plain)) }
                last = e
            }
            if first < 0 {
                let a = try newState()
                return (a, a)
            }
            return (first, last)
        case .alt(let items):
            let a = try newState()
            let b = try newState()
            for item in items {
                let (s, e) = try build(item)
                eps[Int(a)].append((s, NFA.plain))
                eps[Int(e)].append((b, NFA.plain))
            }
            return (a, b)
        case .rep(let inner, let minN, let maxN):
            let a = try newState()
            var cur = a
            for _ in 0..<minN {
                let (s, e) = try build(inner)
                eps[Int(cur)].append((s, NFA.plain))
                cur = e
            }
            if let maxN {
                let b = try newState()
                eps[Int(cur)].append((b, NFA.plain))
                if maxN > minN {
                    for _ in minN..<maxN {
                        let (s, e) = try build(inner)
                        eps[Int(cur)].append((s, NFA.plain))
                        eps[Int(e)].append((b, NFA.plain))
                        cur = e
                    }
                }
                return (a, b)
            }
            // Unbounded tail: a star loop after the mandatory copies.
            let (s, e) = try build(inner)
            let b = try newState()
            eps[Int(cur)].append((s, NFA.plain))
            eps[Int(cur)].append((b, NFA.plain))
            eps[Int(e)].append((s, NFA.plain))
            eps[Int(e)].append((b, NFA.plain))
            return (a, b)
        case .beginText:
            let a = try newState()
            let b = try newState()
            eps[Int(a)].append((b, NFA.begin))
            return (a, b)
        case .endText:
            let a = try newState()
            let b = try newState()
            eps[Int(a)].append((b, NFA.end))
            return (a, b)
        }
    }
}

/// Epsilon closures over an NFA's configurations (`nfaState * 2 + ended`, see
/// `DFA.determinize`), keeping only the important ones; the closure after a byte edge into
/// each state is computed once and kept in one flat array.
struct EpsilonClosures {
    let nfa: NFA
    /// The configuration standing for "accepting" in a DFA state's set.
    let acceptMarker: Int32
    /// Every kept closure, back to back.
    private(set) var data: [Int32] = []
    private var start: [Int]
    private var count: [Int]
    private var mark: [Int]
    private var stamp = 0
    private var stack: [Int32] = []
    private var out: [Int32] = []

    init(_ nfa: NFA) {
        self.nfa = nfa
        acceptMarker = nfa.accept << 1 | 1
        let n = nfa.edges.count
        start = [Int](repeating: -1, count: n)
        count = [Int](repeating: 0, count: n)
        mark = [Int](repeating: -1, count: 2 * n)
    }

    /// Where in `data` the closure after a byte edge into NFA state `t` lies.
    mutating func afterByte(_ t: Int32) -> Range<Int> {
        let i = Int(t)
        if start[i] < 0 {
            let c = closure(t << 1, consumed: true)
            start[i] = data.count
            count[i] = c.count
            data.append(contentsOf: c)
        }
        return start[i]..<start[i] + count[i]
    }

    /// Important configurations reachable through epsilon edges from `seed`, sorted.
    mutating func closure(_ seed: Int32, consumed: Bool) -> [Int32] {
        stamp += 1
        stack.removeAll(keepingCapacity: true)
        out.removeAll(keepingCapacity: true)
        mark[Int(seed)] = stamp
        stack.append(seed)
        var accepting = false
        while let c = stack.popLast() {
            let st = Int(c >> 1)
            let ended = c & 1
            if st == Int(nfa.accept) { accepting = true }
            if ended == 0 && !nfa.edges[st].isEmpty { out.append(c) }
            for (t, kind) in nfa.eps[st] {
                let nc: Int32
                switch kind {
                case NFA.begin:
                    if consumed { continue }
                    nc = t << 1 | ended
                case NFA.end:
                    nc = t << 1 | 1
                default:
                    nc = t << 1 | ended
                }
                if mark[Int(nc)] != stamp {
                    mark[Int(nc)] = stamp
                    stack.append(nc)
                }
            }
        }
        if accepting { out.append(acceptMarker) }
        out.sort()
        return out
    }
}

/// A complete deterministic automaton over bytes. State 0 is the start state. Bytes are
/// grouped into equivalence classes (`classOf`); `next[state * classCount + class]`.
struct DFA: Sendable {
    var classOf: [UInt16]
    var classCount: Int
    var next: [Int32]
    var accepting: [Bool]
    /// The dead state of a minimal automaton (-1 when there is none).
    var dead: Int32 = -1

    init(classOf: [UInt16], classCount: Int, next: [Int32], accepting: [Bool]) {
        self.classOf = classOf
        self.classCount = classCount
        self.next = next
        self.accepting = accepting
        dead = DFA.findDead(next, accepting, classCount)
    }

    var stateCount: Int { accepting.count }

    @inline(__always) func step(_ s: Int32, _ byte: UInt8) -> Int32 {
        next[Int(s) * classCount + Int(classOf[Int(byte)])]
    }

    /// A one-state automaton accepting everything (`true`) or nothing.
    static func trivial(_ accept: Bool) -> DFA {
        DFA(classOf: [UInt16](repeating: 0, count: 256), classCount: 1, next: [0], accepting: [accept])
    }

    func matches<S: Sequence<UInt8>>(_ bytes: S) -> Bool {
        var s: Int32 = 0
        for b in bytes { s = step(s, b) }
        return accepting[Int(s)]
    }

    /// Subset construction. Configurations are `nfaState * 2 + ended`, where `ended` means an
    /// end-of-text assertion was passed (no more bytes allowed). Begin-of-text assertions are
    /// only passable in the start state (nothing consumed yet). This makes `^`/`$` exact
    /// wherever they appear.
    ///
    /// DFA states are keyed by their *important* configurations only — states with byte
    /// edges (not ended), plus one marker for "accepting" — since nothing else influences
    /// the future; epsilon closures after a byte are computed once per NFA state.
    static func determinize(_ nfa: NFA, limit: Int) throws(AutomatonTooLarge) -> DFA {
        // Byte equivalence classes from the edge boundaries.
        var cut = [Bool](repeating: false, count: 257)
        cut[0] = true
        for list in nfa.edges {
            for e in list {
                cut[Int(e.lo)] = true
                cut[Int(e.hi) + 1] = true
            }
        }
        var classOf = [UInt16](repeating: 0, count: 256)
        var k = -1
        for b in 0..<256 {
            if cut[b] { k += 1 }
            classOf[b] = UInt16(k)
        }
        let classCount = k + 1
        let n = nfa.edges.count
        // The byte edges by class, flat: state `st` owns `edgeStart[st]..<edgeStart[st + 1]`.
        var edgeStart = [Int](repeating: 0, count: n + 1)
        var edges: [(lo: Int, hi: Int, to: Int32)] = []
        for (st, list) in nfa.edges.enumerated() {
            for e in list { edges.append((Int(classOf[Int(e.lo)]), Int(classOf[Int(e.hi)]), e.to)) }
            edgeStart[st + 1] = edges.count
        }
        var closures = EpsilonClosures(nfa)
        var ids: [ArrayKey: Int32] = [:]
        var sets: [[Int32]] = []
        let startSet = closures.closure(nfa.start << 1, consumed: false)
        ids[ArrayKey(startSet)] = 0
        sets.append(startSet)
        var next: [Int32] = []
        var accepting: [Bool] = []
        // The byte-edge targets of the current state, grouped by class (a counting sort into
        // one flat array): class `c` owns `bucketStart[c]..<bucketStart[c + 1]`.
        var bucketStart = [Int](repeating: 0, count: classCount + 1)
        var bucketFill = [Int](repeating: 0, count: classCount)
        var bucket: [Int32] = []
        var emptyId: Int32? = startSet.isEmpty ? 0 : nil
        var unionMark = [Int](repeating: -1, count: 2 * n)
        var unionStamp = 0
        var target: [Int32] = []
        var idx = 0
        while idx < sets.count {
            let set = sets[idx]
            accepting.append(set.contains(closures.acceptMarker))
            for c in 0...classCount { bucketStart[c] = 0 }
            for conf in set where conf != closures.acceptMarker {
                let st = Int(conf >> 1)
                for e in edgeStart[st]..<edgeStart[st + 1] {
                    for c in edges[e].lo...edges[e].hi { bucketStart[c + 1] += 1 }
                }
            }
            for c in 0..<classCount {
                bucketStart[c + 1] += bucketStart[c]
                bucketFill[c] = bucketStart[c]
            }
            if bucket.count < bucketStart[classCount] {
                bucket = [Int32](repeating: 0, count: bucketStart[classCount])
            }
            for conf in set where conf != closures.acceptMarker {
                let st = Int(conf >> 1)
                for e in edgeStart[st]..<edgeStart[st + 1] {
                    for c in edges[e].lo...edges[e].hi {
                        bucket[bucketFill[c]] = edges[e].to
                        bucketFill[c] += 1
                    }
                }
            }
            for c in 0..<classCount {
                let items = bucketStart[c]..<bucketStart[c + 1]
                // Most classes lead nowhere: skip the closure and hashing for them.
                if items.isEmpty, let e = emptyId {
                    next.append(e)
                    continue
                }
                // One buffer for every target set: only a new state keeps (a copy of) it.
                target.removeAll(keepingCapacity: true)
                if !items.isEmpty {
                    unionStamp += 1
                    for i in items {
                        let range = closures.afterByte(bucket[i])
                        for j in range where unionMark[Int(closures.data[j])] != unionStamp {
                            unionMark[Int(closures.data[j])] = unionStamp
                            target.append(closures.data[j])
                        }
                    }
                    target.sort()
                }
                if target.isEmpty, let e = emptyId {
                    next.append(e)
                    continue
                }
                let key = ArrayKey(target)
                if let id = ids[key] {
                    next.append(id)
                } else {
                    if sets.count >= limit { throw AutomatonTooLarge() }
                    let id = Int32(sets.count)
                    ids[key] = id
                    sets.append(target)
                    next.append(id)
                    if target.isEmpty { emptyId = id }
                }
            }
            idx += 1
        }
        return DFA(classOf: classOf, classCount: classCount, next: next, accepting: accepting).reduced()
    }

    /// Combined byte classes of two automata: for each new class, the class in `a` and in `b`.
    private static func pairClasses(_ a: DFA, _ b: DFA) -> (classOf: [UInt16], pairs: [(Int, Int)]) {
        var map = [Int32](repeating: -1, count: a.classCount * b.classCount)
        var classOf = [UInt16](repeating: 0, count: 256)
        var pairs: [(Int, Int)] = []
        for byte in 0..<256 {
            let ca = Int(a.classOf[byte])
            let cb = Int(b.classOf[byte])
            let key = ca * b.classCount + cb
            if map[key] >= 0 {
                classOf[byte] = UInt16(map[key])
            } else {
                let c = UInt16(pairs.count)
                map[key] = Int32(c)
                pairs.append((ca, cb))
                classOf[byte] = c
            }
        }
        return (classOf, pairs)
    }

    /// The product automaton accepting `op(inA, inB)`.
    static func product(_ a: DFA, _ b: DFA, limit: Int, _ op: (Bool, Bool) -> Bool) throws(AutomatonTooLarge) -> DFA {
        let (classOf, pairs) = pairClasses(a, b)
        let cc = pairs.count
        let nb = b.stateCount
        let flat = a.stateCount * nb <= 1 << 20
        var flatIds = flat ? [Int32](repeating: -1, count: a.stateCount * nb) : []
        var ids: [Int64: Int32] = [:]
        if flat { flatIds[0] = 0 } else { ids[0] = 0 }
        var queue: [(Int32, Int32)] = [(0, 0)]
        var next: [Int32] = []
        next.reserveCapacity(cc * 4)
        var accepting: [Bool] = []
        var idx = 0
        while idx < queue.count {
            let (sa, sb) = queue[idx]
            accepting.append(op(a.accepting[Int(sa)], b.accepting[Int(sb)]))
            let ba = Int(sa) * a.classCount
            let bb = Int(sb) * b.classCount
            for c in 0..<cc {
                let (ca, cb) = pairs[c]
                let ta = a.next[ba + ca]
                let tb = b.next[bb + cb]
                let existing: Int32?
                if flat {
                    let v = flatIds[Int(ta) * nb + Int(tb)]
                    existing = v >= 0 ? v : nil
                } else {
                    existing = ids[Int64(ta) << 32 | Int64(tb)]
                }
                if let id = existing {
                    next.append(id)
                } else {
                    if queue.count >= limit { throw AutomatonTooLarge() }
                    let id = Int32(queue.count)
                    if flat { flatIds[Int(ta) * nb + Int(tb)] = id } else { ids[Int64(ta) << 32 | Int64(tb)] = id }
                    queue.append((ta, tb))
                    next.append(id)
                }
            }
            idx += 1
        }
        return DFA(classOf: classOf, classCount: cc, next: next, accepting: accepting).reduced()
    }

    /// Whether some string is accepted by both (`negateB == false`) or by `a` and not `b`.
    /// Explores the product lazily and stops at the first hit.
    static func productHasAccepting(_ a: DFA, _ b: DFA, negateB: Bool, limit: Int) throws(AutomatonTooLarge) -> Bool {
        // Fast exits.
        if !a.accepting.contains(true) { return false }
        let (_, pairs) = pairClasses(a, b)
        let nb = b.stateCount
        let flat = a.stateCount * nb <= 1 << 20
        var seenFlat = flat ? [Bool](repeating: false, count: a.stateCount * nb) : []
        var seen: Set<Int64> = []
        if flat { seenFlat[0] = true } else { seen.insert(0) }
        var count = 1
        var stack: [(Int32, Int32)] = [(0, 0)]
        while let (sa, sb) = stack.popLast() {
            if a.accepting[Int(sa)] && (b.accepting[Int(sb)] != negateB) { return true }
            let ba = Int(sa) * a.classCount
            let bb = Int(sb) * b.classCount
            for (ca, cb) in pairs {
                let ta = a.next[ba + ca]
                let tb = b.next[bb + cb]
                // Prune where nothing can be accepted any more.
                if ta == a.dead || (!negateB && tb == b.dead) { continue }
                let inserted: Bool
                if flat {
                    let k = Int(ta) * nb + Int(tb)
                    inserted = !seenFlat[k]
                    seenFlat[k] = true
                } else {
                    inserted = seen.insert(Int64(ta) << 32 | Int64(tb)).inserted
                }
                if inserted {
                    count += 1
                    if count > limit { throw AutomatonTooLarge() }
                    stack.append((ta, tb))
                }
            }
        }
        return false
    }

    /// The state from which nothing is accepted (a minimal complete DFA has at most one), or -1.
    static func findDead(_ next: [Int32], _ accepting: [Bool], _ cc: Int) -> Int32 {
        for s in 0..<accepting.count where !accepting[s] {
            var selfLoop = true
            for c in 0..<cc where next[s * cc + c] != Int32(s) {
                selfLoop = false
                break
            }
            if selfLoop { return Int32(s) }
        }
        return -1
    }

    /// Whether some accepted string starts with `p`.
    func acceptsSomeWithPrefix(_ p: [UInt8]) -> Bool {
        var s: Int32 = 0
        for b in p {
            s = step(s, b)
            if s == dead { return false }
        }
        return s != dead
    }

    /// Whether every accepted string equals `x` (the language is empty or exactly {x}).
    func acceptsOnly(_ x: [UInt8]) -> Bool {
        guard acceptsOnlyWithPrefix(x) else { return false }
        var s: Int32 = 0
        for b in x {
            s = step(s, b)
            if s == dead { return true }
        }
        // Nothing longer than x may be accepted.
        for c in 0..<classCount where next[Int(s) * classCount + c] != dead { return false }
        return true
    }

    /// Whether every string `p + w`, where `w` avoids the bytes in `avoid`, is accepted.
    func acceptsAllExtensions(of p: [UInt8], avoiding avoid: [UInt8]) -> Bool {
        var s: Int32 = 0
        for b in p { s = step(s, b) }
        // Classes with at least one allowed byte.
        var allowed = [Bool](repeating: false, count: classCount)
        var avoided = [Bool](repeating: false, count: 256)
        for b in avoid { avoided[Int(b)] = true }
        for b in 0..<256 where !avoided[b] { allowed[Int(classOf[b])] = true }
        var seen = Set<Int32>([s])
        var stack = [s]
        while let t = stack.popLast() {
            if !accepting[Int(t)] { return false }
            for c in 0..<classCount where allowed[c] {
                let u = next[Int(t) * classCount + c]
                if seen.insert(u).inserted { stack.append(u) }
            }
        }
        return true
    }

    /// Whether every accepted string starts with `p`.
    func acceptsOnlyWithPrefix(_ p: [UInt8]) -> Bool {
        var size = [Int](repeating: 0, count: classCount)
        for b in 0..<256 { size[Int(classOf[b])] += 1 }
        var s: Int32 = 0
        for b in p {
            if s == dead { return true }
            if accepting[Int(s)] { return false }
            let own = Int(classOf[Int(b)])
            for c in 0..<classCount {
                let t = next[Int(s) * classCount + c]
                if t == dead { continue }
                if c != own || size[c] > 1 { return false }
            }
            s = next[Int(s) * classCount + own]
        }
        return true
    }

    func complemented() -> DFA {
        var d = self
        for i in d.accepting.indices { d.accepting[i].toggle() }
        return d.reduced()
    }

    /// Automata up to this size are only trimmed, not minimised: Moore refinement needs as
    /// many rounds as the longest literal chain, which dominated the analysis time, and the
    /// algorithms here need only the invariants `trimmed()` gives.
    static let minimizeAbove = 128

    func reduced() -> DFA {
        let t = trimmed()
        return t.stateCount > DFA.minimizeAbove ? t.minimized() : t
    }

    /// Collapses every state from which nothing is accepted into one dead state (so `dead`
    /// is exactly the non-live state) and merges byte classes with identical columns.
    /// Keeps state 0 as the start; assumes every state is reachable, and keeps it so.
    func trimmed() -> DFA {
        let n = stateCount
        let cc = classCount
        let live = liveStates()
        if !live[0] { return DFA.trivial(false) }
        var map = [Int32](repeating: -1, count: n)
        var count: Int32 = 0
        for s in 0..<n where live[s] {
            map[s] = count
            count += 1
        }
        let hasDead = Int(count) < n
        let deadId = count
        let total = Int(count) + (hasDead ? 1 : 0)
        // Columns after renaming, to merge byte classes that behave identically.
        let (classMap, kept) = mergeIdenticalClasses(cc, height: total) { c, col in
            for s in 0..<n where live[s] {
                let t = Int(next[s * cc + c])
                col[Int(map[s])] = live[t] ? map[t] : deadId
            }
            if hasDead { col[Int(deadId)] = deadId }
        }
        let ncc = kept.count
        var newNext = [Int32](repeating: deadId, count: total * ncc)
        var newAcc = [Bool](repeating: false, count: total)
        for s in 0..<n where live[s] {
            let i = Int(map[s])
            newAcc[i] = accepting[s]
            for (nc, c) in kept.enumerated() {
                let t = Int(next[s * cc + c])
                newNext[i * ncc + nc] = live[t] ? map[t] : deadId
            }
        }
        var d = DFA(classOf: classOf.map { UInt16(classMap[Int($0)]) }, classCount: ncc, next: newNext, accepting: newAcc)
        d.dead = hasDead ? deadId : -1
        return d
    }

    /// The states from which some accepting state is reachable: reverse reachability over
    /// the predecessor lists, kept in one flat array (offsets per state).
    private func liveStates() -> [Bool] {
        let n = stateCount
        let cc = classCount
        var start = [Int](repeating: 0, count: n + 1)
        for s in 0..<n {
            for c in 0..<cc {
                let t = Int(next[s * cc + c])
                if t != s { start[t + 1] += 1 }
            }
        }
        for s in 0..<n { start[s + 1] += start[s] }
        var fillAt = start
        var preds = [Int32](repeating: 0, count: start[n])
        for s in 0..<n {
            for c in 0..<cc {
                let t = Int(next[s * cc + c])
                if t != s {
                    preds[fillAt[t]] = Int32(s)
                    fillAt[t] += 1
                }
            }
        }
        var live = accepting
        var stack: [Int32] = []
        for s in 0..<n where live[s] { stack.append(Int32(s)) }
        while let t = stack.popLast() {
            for k in start[Int(t)]..<start[Int(t) + 1] where !live[Int(preds[k])] {
                live[Int(preds[k])] = true
                stack.append(preds[k])
            }
        }
        return live
    }

    /// Moore partition refinement, then merging of byte classes that behave identically.
    /// Assumes all states are reachable (true for every constructor here).
    func minimized() -> DFA {
        let n = stateCount
        let cc = classCount
        var block = accepting.map { $0 ? Int32(1) : Int32(0) }
        var blockCount = Set(block).count
        var sig = [Int32](repeating: 0, count: cc + 1)
        while true {
            var ids: [ArrayKey: Int32] = [:]
            ids.reserveCapacity(n)
            var newBlock = [Int32](repeating: 0, count: n)
            for s in 0..<n {
                sig[0] = block[s]
                for c in 0..<cc { sig[c + 1] = block[Int(next[s * cc + c])] }
                let key = ArrayKey(sig)
                if let id = ids[key] {
                    newBlock[s] = id
                } else {
                    let id = Int32(ids.count)
                    ids[key] = id
                    newBlock[s] = id
                }
            }
            let count = ids.count
            block = newBlock
            if count == blockCount { break }
            blockCount = count
        }
        // Renumber blocks in BFS order from the start so state 0 stays the start.
        var order = [Int32](repeating: -1, count: blockCount)
        var rep = [Int](repeating: -1, count: blockCount)
        for s in 0..<n where rep[Int(block[s])] < 0 { rep[Int(block[s])] = s }
        var queue: [Int32] = [block[0]]
        order[Int(block[0])] = 0
        var qi = 0
        while qi < queue.count {
            let b = queue[qi]
            qi += 1
            let s = rep[Int(b)]
            for c in 0..<cc {
                let t = block[Int(next[s * cc + c])]
                if order[Int(t)] < 0 {
                    order[Int(t)] = Int32(queue.count)
                    queue.append(t)
                }
            }
        }
        // Merge equivalent byte classes (identical columns).
        let (classMap, keptClasses) = mergeIdenticalClasses(cc, height: queue.count) { c, col in
            for (i, b) in queue.enumerated() { col[i] = order[Int(block[Int(next[rep[Int(b)] * cc + c])])] }
        }
        let ncc = keptClasses.count
        var newNext = [Int32](repeating: 0, count: queue.count * ncc)
        var newAcc = [Bool](repeating: false, count: queue.count)
        for (i, b) in queue.enumerated() {
            let s = rep[Int(b)]
            newAcc[i] = accepting[s]
            for (nc, c) in keptClasses.enumerated() {
                newNext[i * ncc + nc] = order[Int(block[Int(next[s * cc + c])])]
            }
        }
        let newClassOf = classOf.map { UInt16(classMap[Int($0)]) }
        return DFA(classOf: newClassOf, classCount: ncc, next: newNext, accepting: newAcc)
    }

    /// Preference cost of a byte in witnesses: printable ASCII is cheap (letters, then digits,
    /// then common path punctuation), everything else is very expensive.
    static let byteCost: [Int] = (0..<256).map { b in
        switch b {
        case 0x61...0x7A: return 100
        case 0x30...0x39: return 101
        case 0x41...0x5A: return 102
        case 0x2F, 0x2D, 0x5F, 0x2E: return 103
        case 0x7E: return 104
        case 0x21...0x7E: return 105
        case 0x20: return 110
        default: return 100_000
        }
    }

    /// The cheapest accepted string under `byteCost` (so short and readable), ties broken by
    /// byte preference; nil when the language is empty.
    func cheapestMember() -> [UInt8]? {
        let n = stateCount
        let cc = classCount
        // Best byte of each class.
        var best = [Int](repeating: -1, count: cc)
        for b in 0..<256 {
            let c = Int(classOf[b])
            if best[c] < 0 || DFA.byteCost[b] < DFA.byteCost[best[c]] { best[c] = b }
        }
        // Reverse edges and Dijkstra from the accepting states (costs are small integers;
        // a simple binary heap keeps this O(E log V)).
        var rev = [[(Int32, Int32)]](repeating: [], count: n)
        for s in 0..<n {
            for c in 0..<cc {
                rev[Int(next[s * cc + c])].append((Int32(s), Int32(c)))
            }
        }
        var dist = [Int](repeating: Int.max, count: n)
        var heap = MinHeap()
        for s in 0..<n where accepting[s] {
            dist[s] = 0
            heap.push((0, Int32(s)))
        }
        if heap.isEmpty { return nil }
        while let (d, s) = heap.pop() {
            if d > dist[Int(s)] { continue }
            for (p, c) in rev[Int(s)] {
                let nd = d + DFA.byteCost[best[Int(c)]]
                if nd < dist[Int(p)] {
                    dist[Int(p)] = nd
                    heap.push((nd, p))
                }
            }
        }
        if dist[0] == Int.max { return nil }
        var out: [UInt8] = []
        var s = 0
        while !(accepting[s] && dist[s] == 0) {
            var choice = -1
            for c in 0..<cc {
                let t = Int(next[s * cc + c])
                guard dist[t] != Int.max, dist[t] + DFA.byteCost[best[c]] == dist[s] else { continue }
                if choice < 0 || DFA.byteOrder(best[c], best[choice]) { choice = c }
            }
            if choice < 0 { return nil }  // cannot happen
            out.append(UInt8(best[choice]))
            s = Int(next[s * cc + choice])
            if out.count > 1_000_000 { return nil }
        }
        return out
    }

    /// Tie-break between equally cheap bytes: lower cost, then smaller byte value.
    static func byteOrder(_ x: Int, _ y: Int) -> Bool {
        byteCost[x] != byteCost[y] ? byteCost[x] < byteCost[y] : x < y
    }
}

/// A tiny binary min-heap of (cost, state).
struct MinHeap {
    private var a: [(Int, Int32)] = []
    var isEmpty: Bool { a.isEmpty }
    mutating func push(_ x: (Int, Int32)) {
        a.append(x)
        var i = a.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if a[p].0 <= a[i].0 { break }
            a.swapAt(p, i)
            i = p
        }
    }
    mutating func pop() -> (Int, Int32)? {
        guard !a.isEmpty else { return nil }
        let top = a[0]
        let last = a.removeLast()
        if !a.isEmpty {
            a[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1
                let r = l + 1
                var m = i
                if l < a.count, a[l].0 < a[m].0 { m = l }
                if r < a.count, a[r].0 < a[m].0 { m = r }
                if m == i { break }
                a.swapAt(m, i)
                i = m
            }
        }
        return top
    }
}
