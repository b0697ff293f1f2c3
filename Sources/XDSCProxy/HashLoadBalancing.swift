import XDSCEnvoy
import XDSCRequest

/// XXH64 (Yann Collet's xxHash, 64-bit), the hash behind Envoy's `HashUtil::xxHash64`
/// (source/common/common/hash.h), written from the published algorithm.
enum XXHash64 {
    private static let p1: UInt64 = 0x9E37_79B1_85EB_CA87
    private static let p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    private static let p3: UInt64 = 0x1656_67B1_9E37_79F9
    private static let p4: UInt64 = 0x85EB_CA77_C2B2_AE63
    private static let p5: UInt64 = 0x27D4_EB2F_1656_67C5

    /// The hash of a string's UTF-8 bytes.
    static func hash(_ s: String, seed: UInt64 = 0) -> UInt64 {
        var s = s
        return s.withUTF8 { hash($0, seed: seed) }
    }

    /// The hash of `bytes`.
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>, seed: UInt64 = 0) -> UInt64 {
        let n = bytes.count
        var i = 0
        func u64(_ at: Int) -> UInt64 {
            var v: UInt64 = 0
            for k in 0..<8 { v |= UInt64(bytes[at + k]) << (8 * UInt64(k)) }
            return v
        }
        func u32(_ at: Int) -> UInt64 {
            var v: UInt64 = 0
            for k in 0..<4 { v |= UInt64(bytes[at + k]) << (8 * UInt64(k)) }
            return v
        }
        func round(_ acc: UInt64, _ input: UInt64) -> UInt64 {
            rotl(acc &+ input &* p2, 31) &* p1
        }
        func merge(_ acc: UInt64, _ v: UInt64) -> UInt64 {
            (acc ^ round(0, v)) &* p1 &+ p4
        }
        var h: UInt64
        if n >= 32 {
            var v1 = seed &+ p1 &+ p2
            var v2 = seed &+ p2
            var v3 = seed
            var v4 = seed &- p1
            while i + 32 <= n {
                v1 = round(v1, u64(i))
                v2 = round(v2, u64(i + 8))
                v3 = round(v3, u64(i + 16))
                v4 = round(v4, u64(i + 24))
                i += 32
            }
            h = rotl(v1, 1) &+ rotl(v2, 7) &+ rotl(v3, 12) &+ rotl(v4, 18)
            h = merge(h, v1)
            h = merge(h, v2)
            h = merge(h, v3)
            h = merge(h, v4)
        } else {
            h = seed &+ p5
        }
        h = h &+ UInt64(n)
        while i + 8 <= n {
            h ^= round(0, u64(i))
            h = rotl(h, 27) &* p1 &+ p4
            i += 8
        }
        if i + 4 <= n {
            h ^= u32(i) &* p1
            h = rotl(h, 23) &* p2 &+ p3
            i += 4
        }
        while i < n {
            h ^= UInt64(bytes[i]) &* p5
            h = rotl(h, 11) &* p1
            i += 1
        }
        h ^= h >> 33
        h = h &* p2
        h ^= h >> 29
        h = h &* p3
        h ^= h >> 32
        return h
    }

    private static func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }
}

/// The 64-bit MurmurHash2 variant of libstdc++'s `_Hash_bytes` behind Envoy's
/// `MurmurHash::murmurHash2` (source/common/common/hash.cc), the ring hash's `MURMUR_HASH_2`:
/// whole little-endian 8-byte words are mixed in, then the 1 to 7 bytes left as one
/// little-endian value, with Envoy's default seed `STD_HASH_SEED` (hash.h).
enum MurmurHash2 {
    /// `MurmurHash::STD_HASH_SEED`.
    static let standardSeed: UInt64 = 0xc70f_6907
    private static let mul: UInt64 = 0xc6a4_a793_5bd1_e995

    /// The hash of a string's UTF-8 bytes.
    static func hash(_ s: String, seed: UInt64 = standardSeed) -> UInt64 {
        var s = s
        return s.withUTF8 { hash($0, seed: seed) }
    }

    /// The hash of `bytes`.
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>, seed: UInt64 = standardSeed) -> UInt64 {
        func shiftMix(_ v: UInt64) -> UInt64 { v ^ (v >> 47) }
        let n = bytes.count
        let aligned = n & ~7
        var h = seed ^ (UInt64(n) &* mul)
        var i = 0
        while i < aligned {
            var word: UInt64 = 0
            for k in 0..<8 { word |= UInt64(bytes[i + k]) << (8 * UInt64(k)) }
            h ^= shiftMix(word &* mul) &* mul
            h = h &* mul
            i += 8
        }
        if n & 7 != 0 {
            var rest: UInt64 = 0
            for k in stride(from: n - 1, through: aligned, by: -1) { rest = (rest << 8) | UInt64(bytes[k]) }
            h ^= rest
            h = h &* mul
        }
        h = shiftMix(h) &* mul
        return shiftMix(h)
    }
}

/// Envoy's ring hash (source/extensions/load_balancing_policies/ring_hash/ring_hash_lb.cc):
/// each endpoint puts `scale * normalized weight` entries, hashed from `"<address>_<i>"`,
/// on a ring sorted by hash (XX_HASH, or MURMUR_HASH_2 with `STD_HASH_SEED`); a request's
/// hash (always xxHash, hash_policy.cc) picks the first entry at or above it (ketama's search,
/// wrapping to the first entry).
struct RingHashTable: Equatable {
    /// Envoy's `DefaultMinRingSize` and `DefaultMaxRingSize`.
    static let defaultMinimumSize: UInt64 = 1024
    static let defaultMaximumSize: UInt64 = 8_388_608

    /// (hash, endpoint index), sorted by hash.
    let ring: [(hash: UInt64, host: Int)]

    static func == (a: RingHashTable, b: RingHashTable) -> Bool { a.ring.elementsEqual(b.ring) { $0 == $1 } }

    /// The ring over `hosts` (endpoint index, address key, weight), in the order given.
    init(
        hosts: [(index: Int, key: String, weight: UInt64)], minimumSize: UInt64, maximumSize: UInt64,
        hashFunction: RingHashLbConfig.HashFunction = .xxHash
    ) {
        guard !hosts.isEmpty else {
            ring = []
            return
        }
        let sum = Double(hosts.reduce(UInt64(0)) { $0 + max($1.weight, 1) })
        let normalized = hosts.map { Double(max($0.weight, 1)) / sum }
        let minWeight = normalized.min() ?? 1
        let scale = min((minWeight * Double(minimumSize)).rounded(.up) / minWeight, Double(maximumSize))
        var entries: [(hash: UInt64, host: Int)] = []
        entries.reserveCapacity(Int(scale.rounded(.up)))
        var current = 0.0
        var target = 0.0
        for (h, w) in zip(hosts, normalized) {
            target += scale * w
            var i = 0
            while current < target {
                let key = "\(h.key)_\(i)"
                entries.append((hashFunction == .murmurHash2 ? MurmurHash2.hash(key) : XXHash64.hash(key), h.index))
                i += 1
                current += 1
            }
        }
        // Envoy's std::sort leaves equal hashes in an unspecified order; ties keep insertion order here.
        ring = entries.enumerated().sorted { ($0.element.hash, $0.offset) < ($1.element.hash, $1.offset) }.map(\.element)
    }

    /// `Ring::chooseHost`: the endpoint for hash `h`; nil when the ring is empty. Host
    /// selection `attempt` n (a retry host predicate rejected the earlier picks) takes the
    /// entry n places further round the ring.
    func pick(_ h: UInt64, attempt: UInt32 = 0) -> Int? {
        guard !ring.isEmpty else { return nil }
        // ketama_get_server, with signed bounds as Envoy keeps them.
        var low = 0
        var high = ring.count
        var mid = 0
        while true {
            mid = (low + high) / 2
            if mid == ring.count {
                mid = 0
                break
            }
            let midValue = ring[mid].hash
            let below: UInt64 = mid == 0 ? 0 : ring[mid - 1].hash
            if h <= midValue && h > below { break }
            if midValue < h { low = mid + 1 } else { high = mid - 1 }
            if low > high {
                mid = 0
                break
            }
        }
        if attempt > 0 { mid = (mid + Int(attempt)) % ring.count }
        return ring[mid].host
    }
}

/// Envoy's Maglev table (source/extensions/load_balancing_policies/maglev/maglev_lb.cc,
/// `OriginalMaglevTable`): endpoints sorted by address key; each has offset
/// `xxHash64(key) % size` and skip `xxHash64(key, 1) % (size - 1) + 1`; rounds fill the
/// table in that order, an endpoint taking its next free permutation slot whenever
/// `round * weight >= target` (target grows by the largest normalized weight per slot).
struct MaglevTable: Equatable {
    /// Envoy's `DefaultTableSize`.
    static let defaultSize: UInt64 = 65537

    /// Endpoint index per slot.
    let table: [Int]

    /// The table over `hosts` (endpoint index, address key, weight).
    init(hosts: [(index: Int, key: String, weight: UInt64)], size: UInt64) {
        guard !hosts.isEmpty, size > 1 else {
            table = []
            return
        }
        let sum = Double(hosts.reduce(UInt64(0)) { $0 + max($1.weight, 1) })
        struct Entry {
            var host: Int
            var offset: UInt64
            var skip: UInt64
            var weight: Double
            var target = 0.0
            var next: UInt64 = 0
        }
        var entries = hosts.sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }.map { h in
            Entry(
                host: h.index, offset: XXHash64.hash(h.key) % size, skip: XXHash64.hash(h.key, seed: 1) % (size - 1) + 1,
                weight: Double(max(h.weight, 1)) / sum)
        }
        let maxWeight = entries.map(\.weight).max() ?? 1
        var slots = [Int](repeating: -1, count: Int(size))
        var filled: UInt64 = 0
        var round = 1.0
        while filled < size {
            for i in entries.indices where filled < size {
                if round * entries[i].weight < entries[i].target { continue }
                entries[i].target += maxWeight
                var c = Int((entries[i].offset &+ entries[i].skip &* entries[i].next) % size)
                while slots[c] != -1 {
                    entries[i].next += 1
                    c = Int((entries[i].offset &+ entries[i].skip &* entries[i].next) % size)
                }
                slots[c] = entries[i].host
                entries[i].next += 1
                filled += 1
            }
            round += 1
        }
        table = slots
    }

    /// `chooseHost`: the endpoint for hash `h`; nil when the table is empty. Host selection
    /// `attempt` n flips the hash with `~0 - n + 1` (a large change for each re-pick).
    func pick(_ h: UInt64, attempt: UInt32 = 0) -> Int? {
        guard !table.isEmpty else { return nil }
        let hash = attempt > 0 ? h ^ (UInt64.max &- UInt64(attempt) &+ 1) : h
        return table[Int(hash % UInt64(table.count))]
    }
}

/// The route's `hash_policy` evaluated as Envoy's `HashPolicyImpl::generateHash`
/// (source/common/http/hash_policy.cc): each policy that yields a hash is folded in as
/// `rotl(hash, 1) ^ new`; after a `terminal` policy, once a hash exists, the rest are skipped.
enum RequestHash {
    /// The request's hash, nil when no policy yields one. `filter_state` never does here
    /// (the proxy keeps no filter state), nor does a cookie the request lacks (no `ttl` cookie
    /// is generated).
    static func hash(_ policies: [HashPolicy], request: EnvoyRequest) -> UInt64? {
        var hash: UInt64?
        for p in policies {
            let terminal: Bool
            let value: UInt64?
            if case .terminal(let inner) = p {
                terminal = true
                value = evaluate(inner, request)
            } else {
                terminal = false
                value = evaluate(p, request)
            }
            if let value {
                let old = hash.map { ($0 << 1) | ($0 >> 63) } ?? 0
                hash = old ^ value
            }
            if terminal && hash != nil { break }
        }
        return hash
    }

    static func evaluate(_ p: HashPolicy, _ r: EnvoyRequest) -> UInt64? {
        switch p {
        case .header(let name):
            // Every value, sorted, hashed as one stream (`xxHash64(Span)` over the concatenation).
            let n = name.lowercased()
            let values: [String]
            switch n {
            case ":authority", "host": values = r.authority.map { [$0] } ?? []
            case ":path": values = r.path.map { [$0] } ?? []
            case ":method": values = [r.method]
            case ":scheme": values = [r.scheme]
            default: values = r.headers.filter { $0.name.lowercased() == n }.map(\.value)
            }
            guard !values.isEmpty else { return nil }
            return XXHash64.hash(values.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }.joined())
        case .cookie(let name):
            return cookie(name, r.headers).map { XXHash64.hash($0) }
        case .sourceIP:
            return r.remoteAddress.isEmpty ? nil : XXHash64.hash(r.remoteAddress)
        case .queryParameter(let name):
            return queryParameter(name, path: r.path ?? "").map { XXHash64.hash($0) }
        case .filterState:
            return nil
        case .terminal(let inner):
            return evaluate(inner, r)
        }
    }

    /// `Utility::parseCookieValue`: the first `name=value` pair of the `cookie` headers, with
    /// surrounding double quotes removed; nil when absent or empty.
    static func cookie(_ name: String, _ headers: [HTTPHeader]) -> String? {
        for h in headers where h.name.lowercased() == "cookie" {
            for part in h.value.split(separator: ";", omittingEmptySubsequences: true) {
                let pair = part.drop { $0 == " " || $0 == "\t" }
                guard let eq = pair.firstIndex(of: "="), pair[..<eq] == name[...] else { continue }
                var v = pair[pair.index(after: eq)...]
                if v.count >= 2 && v.first == "\"" && v.last == "\"" { v = v.dropFirst().dropLast() }
                return v.isEmpty ? nil : String(v)
            }
        }
        return nil
    }

    /// `QueryParamsMulti::parseQueryString(path).getFirstValue(name)`: not percent-decoded.
    static func queryParameter(_ name: String, path: String) -> String? {
        guard let q = path.firstIndex(of: "?") else { return nil }
        var query = path[path.index(after: q)...]
        if let hash = query.firstIndex(of: "#") { query = query[..<hash] }
        for param in query.split(separator: "&", omittingEmptySubsequences: true) {
            if let eq = param.firstIndex(of: "=") {
                if param[..<eq] == name[...] { return String(param[param.index(after: eq)...]) }
            } else if param == name[...] {
                return ""
            }
        }
        return nil
    }
}

/// The 32-bit Mersenne Twister (`std::mt19937`), which Envoy's bounded-load hashing seeds
/// with the request's hash, written from the published algorithm. libstdc++ keeps the seed
/// modulo 2^32.
struct MT19937 {
    private var state = [UInt32](repeating: 0, count: 624)
    private var index = 624

    init(seed: UInt64) {
        state[0] = UInt32(truncatingIfNeeded: seed)
        for i in 1..<624 {
            state[i] = 1_812_433_253 &* (state[i - 1] ^ (state[i - 1] >> 30)) &+ UInt32(i)
        }
    }

    /// The next 32-bit output.
    mutating func next() -> UInt32 {
        if index >= 624 {
            for i in 0..<624 {
                let y = (state[i] & 0x8000_0000) | (state[(i + 1) % 624] & 0x7FFF_FFFF)
                state[i] = state[(i + 397) % 624] ^ (y >> 1) ^ (y & 1 == 0 ? 0 : 0x9908_B0DF)
            }
            index = 0
        }
        var y = state[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C_5680
        y ^= (y << 15) & 0xEFC6_0000
        y ^= y >> 18
        return y
    }
}

/// `hash_balance_factor`: Envoy's `BoundedLoadHashingLoadBalancer::chooseHost`
/// (thread_aware_lb_impl.cc, consistent hashing with bounded loads). An endpoint may hold
/// `ceil((((active + 1) * factor + 99) / 100) * its normalized weight)` requests (at least one; the
/// division is an integer one),
/// `active` being the cluster's requests in flight; when the hashed endpoint holds more, the
/// others are visited in a random order seeded by the hash (a Fisher-Yates shuffle drawn from
/// `std::mt19937`) and the first within its bound wins, else the least overloaded.
enum BoundedLoad {
    static func pick(_ first: Int, hosts: [Int], weights: [UInt64], active: [Int], factor: UInt32, hash: UInt64) -> Int {
        let overall = UInt32(truncatingIfNeeded: active.reduce(0, +))
        let totalSlots = ((overall &+ 1) &* factor &+ 99) / 100
        let sum = Double(hosts.reduce(UInt64(0)) { $0 + weights[$1] })
        func overload(_ h: Int) -> Double {
            let weight = Double(weights[h]) / sum
            let slots = max(UInt32((Double(totalSlots) * weight).rounded(.up)), 1)
            return Double(active[h]) / Double(slots)
        }
        var least = first
        var leastFactor = overload(first)
        if leastFactor <= 1 { return first }
        var random = MT19937(seed: hash)
        var order = Array(hosts.indices)
        for i in order.indices {
            // `uniform_int`: a draw in [0, k) by division, redrawn when it lands on k.
            let k = UInt32(order.count - i)
            var j = k
            while j >= k { j = UInt32((UInt64(random.next()) / ((UInt64(UInt32.max) + 1) / UInt64(k)))) }
            order.swapAt(i, i + Int(j))
            let h = hosts[order[i]]
            if h == first { continue }
            let f = overload(h)
            if f <= 1 { return h }
            if leastFactor > f {
                least = h
                leastFactor = f
            }
        }
        return least
    }
}

/// A RING_HASH or MAGLEV cluster's table, rebuilt when the endpoints picked from change
/// (Envoy rebuilds it on every host-set update: health, ejection, membership).
struct ConsistentHashing {
    /// Each endpoint's hash key (`address()->asString()`: `ip:port`, IPv6 in brackets).
    let keys: [String]
    let policy: Cluster.LbPolicy
    let minimumRingSize: UInt64
    let maximumRingSize: UInt64
    let tableSize: UInt64
    /// `ring_hash_lb_config.hash_function`.
    let hashFunction: RingHashLbConfig.HashFunction
    /// `hash_balance_factor` (nil: unbounded).
    let balanceFactor: UInt32?
    private var hosts: [Int]?
    private var ring: RingHashTable?
    private var maglev: MaglevTable?

    init(
        keys: [String], policy: Cluster.LbPolicy, minimumRingSize: UInt64? = nil, maximumRingSize: UInt64? = nil, tableSize: UInt64? = nil,
        hashFunction: RingHashLbConfig.HashFunction = .xxHash, balanceFactor: UInt32? = nil
    ) {
        self.hashFunction = hashFunction
        self.balanceFactor = balanceFactor
        self.keys = keys
        self.policy = policy
        self.minimumRingSize = minimumRingSize ?? RingHashTable.defaultMinimumSize
        self.maximumRingSize = maximumRingSize ?? RingHashTable.defaultMaximumSize
        self.tableSize = tableSize ?? MaglevTable.defaultSize
    }

    /// The endpoint for `hash` among `hosts` (indices into `keys`, `weights` and `active`, the
    /// requests in flight per endpoint, which bound the load with `hash_balance_factor`).
    mutating func pick(hosts: [Int], weights: [UInt64], hash: UInt64, active: [Int] = [], attempt: UInt32 = 0) -> Int? {
        if self.hosts != hosts {
            self.hosts = hosts
            let entries = hosts.map { (index: $0, key: keys[$0], weight: weights[$0]) }
            if policy == .maglev {
                maglev = MaglevTable(hosts: entries, size: tableSize)
            } else {
                ring = RingHashTable(
                    hosts: entries, minimumSize: minimumRingSize, maximumSize: maximumRingSize, hashFunction: hashFunction)
            }
        }
        guard let first = policy == .maglev ? maglev?.pick(hash, attempt: attempt) : ring?.pick(hash, attempt: attempt) else { return nil }
        guard let balanceFactor, active.count == weights.count else { return first }
        return BoundedLoad.pick(first, hosts: hosts, weights: weights, active: active, factor: balanceFactor, hash: hash)
    }
}
