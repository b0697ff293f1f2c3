// Telling, without building a regex's automaton, whether its language inside a universe is
// exact and non-empty: most routes of a large table are never compared with another one,
// so the analysis only needs to know that such a route is modelled and matches something.

/// What ``Language/triageRegex(_:within:)`` could tell about `regex(pattern) ∩ universe`.
public enum RegexTriage: Sendable, Equatable {
    /// `Language.regex(pattern).intersection(universe)` is undecided, for this reason.
    case undecided(String)
    /// `Language.regex(pattern).intersection(universe)` is exact (no size limit is reached
    /// while it is built) and has a member.
    case nonEmpty
    /// Not told cheaply: build the language.
    case unknown
}

extension Language {
    /// Triage of `regex(pattern).intersection(universe)` from the pattern's NFA alone, and
    /// the pattern's ``regexFoldedLiteralPrefix(_:)`` from the same parse.
    ///
    /// The answers are exactly those of building the language: `.undecided` carries the
    /// reason the language would carry, and `.nonEmpty` holds only when no automaton built
    /// on the way can exceed ``stateLimit``. That is shown with a bound on the subset
    /// construction: the pattern's leading one-byte items (literal bytes, ASCII classes, `^`)
    /// form a chain whose DFA states are single NFA states, and the rest has at most
    /// 2^(k+1) states for its k NFA states with byte edges (plus the accepting marker).
    /// Emptiness is then plain reachability in the NFA × universe graph.
    public static func triageRegex(_ pattern: String, within universe: Language) -> (triage: RegexTriage, foldedPrefix: [UInt8]) {
        let node: RegexNode
        do {
            node = try RegexParser.parse(pattern)
        } catch {
            return (.undecided(error.reason), [])
        }
        var prefix: [UInt8] = []
        _ = literalPrefix(node, folded: true, &prefix)
        guard case .dfa(let u) = universe.storage else { return (.unknown, prefix) }
        var nfa = NFA(limit: nfaLimit)
        do {
            let (s, e) = try nfa.build(node)
            nfa.start = s
            nfa.accept = e
        } catch {
            return (.undecided("automaton too large"), prefix)
        }
        // The chain: `NFA.build` numbers a concatenation's items in order, two states each
        // for a one-byte item or `^`.
        var chainItems = 0
        var chainStates = 0
        if case .concat(let items) = node {
            chain: for item in items {
                switch item {
                case .bytes: chainItems += 1
                case .chars(let cls) where cls.ranges.allSatisfy({ $0.upperBound <= 0x7F }): chainItems += 1
                case .beginText: break
                default: break chain
                }
                chainStates += 2
            }
        }
        var restImportant = 0
        for st in chainStates..<nfa.edges.count where !nfa.edges[st].isEmpty { restImportant += 1 }
        guard restImportant < 20, chainItems + (1 << (restImportant + 1)) <= stateLimit / max(u.stateCount, 1) else {
            return (.unknown, prefix)
        }
        return (nfa.reaches(within: u) ? .nonEmpty : .unknown, prefix)
    }
}

extension NFA {
    /// Whether some string the NFA accepts (with `DFA.determinize`'s assertion rules) is in
    /// `u`: a search over (state, ended, consumed, universe state).
    func reaches(within u: DFA) -> Bool {
        let us = u.stateCount
        func id(_ st: Int32, _ ended: Int, _ consumed: Int, _ q: Int32) -> Int {
            ((Int(st) * 2 + ended) * 2 + consumed) * us + Int(q)
        }
        var seen = [Bool](repeating: false, count: edges.count * 4 * us)
        var stack: [(st: Int32, ended: Int, consumed: Int, q: Int32)] = [(start, 0, 0, 0)]
        seen[id(start, 0, 0, 0)] = true
        while let (st, ended, consumed, q) = stack.popLast() {
            if st == accept && u.accepting[Int(q)] { return true }
            for (t, kind) in eps[Int(st)] {
                var e = ended
                switch kind {
                case NFA.begin: if consumed == 1 { continue }
                case NFA.end: e = 1
                default: break
                }
                let k = id(t, e, consumed, q)
                if !seen[k] {
                    seen[k] = true
                    stack.append((t, e, consumed, q))
                }
            }
            if ended == 1 { continue }
            for edge in edges[Int(st)] {
                for b in edge.lo...edge.hi {
                    let r = u.step(q, b)
                    if r == u.dead { continue }
                    let k = id(edge.to, 0, 1, r)
                    if !seen[k] {
                        seen[k] = true
                        stack.append((edge.to, 0, 1, r))
                    }
                }
            }
        }
        return false
    }
}
