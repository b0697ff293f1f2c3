import Testing
import XDSCEnvoy
import XDSCRequest

@testable import XDSCProxy

/// xxHash64, Envoy's ring and Maglev tables and the hash policy. The expected values were
/// computed with the reference xxHash library (libxxhash 0.8.1 through ctypes) and a
/// transcription of ring_hash_lb.cc / maglev_lb.cc / hash_policy.cc, not with this code.
@Suite struct HashLoadBalancingTests {
    static let hosts: [(index: Int, key: String, weight: UInt64)] = [
        (0, "10.0.0.1:80", 1), (1, "10.0.0.2:80", 2), (2, "10.0.0.3:80", 1),
    ]

    @Test func xxHash64MatchesTheReference() {
        #expect(XXHash64.hash("") == 0xEF46_DB37_51D8_E999)
        #expect(XXHash64.hash("a") == 0xD24E_C4F1_A98C_6E5B)
        #expect(XXHash64.hash("abc") == 0x44BC_2CF5_AD77_0999)
        #expect(XXHash64.hash("10.0.0.1:80_0") == 0x7504_1381_E737_1A08)
        // 56 bytes: the four-lane loop, then the 8-byte tail.
        #expect(XXHash64.hash("The quick brown fox jumps over the lazy dog, twice over.") == 0xFB9F_56CE_D8AD_4FC4)
        #expect(XXHash64.hash("10.0.0.1:80", seed: 1) == 0xA456_919B_CBFF_AA92)
    }

    @Test func murmurHash2MatchesEnvoysAndLibstdcxx() {
        // Envoy's test/common/common/hash_test.cc values.
        #expect(MurmurHash2.hash("foo") == 9_631_199_822_919_835_226)
        #expect(MurmurHash2.hash("bar") == 11_474_628_671_133_349_555)
        #expect(MurmurHash2.hash("foo\nbar") == 16_306_510_975_912_980_159)
        #expect(MurmurHash2.hash("lyft") == 12_847_078_931_730_529_320)
        #expect(MurmurHash2.hash("") == 6_142_509_188_972_423_790)
        // Whole 8-byte words (and a tail after them): libstdc++'s std::hash<std::string>,
        // the same function, computed with g++.
        #expect(MurmurHash2.hash("abcdefgh") == 0x783D_B3E3_8DB8_98BB)
        #expect(MurmurHash2.hash("abcdefghi") == 0xB4EC_9257_851C_8AAF)
        #expect(MurmurHash2.hash("10.0.0.1:80_0") == 0xBD8F_6461_ECFF_B28C)
        #expect(MurmurHash2.hash("The quick brown fox jumps over the lazy dog, twice over.") == 0x0B11_5E93_5CDB_AB58)
    }

    @Test func aMurmurRingHashesTheEntriesWithMurmur() {
        // The entries' hashes from libstdc++'s std::hash, sorted.
        let ring = RingHashTable(
            hosts: Self.hosts, minimumSize: 8, maximumSize: RingHashTable.defaultMaximumSize, hashFunction: .murmurHash2)
        #expect(ring.ring.map(\.host) == [2, 2, 1, 1, 0, 1, 0, 1])
        #expect(ring.ring.first?.hash == 0x1696_07D9_10F9_5E66)
        #expect(ring.ring.last?.hash == 0xD890_08B5_A565_E571)
        #expect(ring.ring.contains { $0.hash == 0xBD8F_6461_ECFF_B28C && $0.host == 0 })
        #expect(ring != RingHashTable(hosts: Self.hosts, minimumSize: 8, maximumSize: RingHashTable.defaultMaximumSize))
    }

    @Test func mersenneTwisterMatchesStdMt19937() {
        // std::mt19937 from libstdc++ (g++): the default seed's first output, and a 64-bit seed,
        // which it keeps modulo 2^32.
        var a = MT19937(seed: 5489)
        #expect(a.next() == 3_499_211_612)
        var b = MT19937(seed: 0x0123_4567_89AB_CDEF)
        #expect([b.next(), b.next()] == [2_183_920_094, 3_540_873_395])
    }

    @Test func boundedLoadProbesInTheHashSeededOrder() {
        // Expected values from a transcription of `BoundedLoadHashingLoadBalancer::chooseHost`
        // compiled with g++ against std::mt19937, not from this code.
        let five = [Int](0..<5)
        let weights = [UInt64](repeating: 1, count: 5)
        // Endpoint 0 is over its bound (5 > ceil(15 * 0.2)): the shuffle seeded by the hash picks.
        let busy = [5, 1, 1, 1, 1]
        let picks = [1, 42, 0xDEAD_BEEF_CAFE_F00D, 7_777_777].map {
            BoundedLoad.pick(0, hosts: five, weights: weights, active: busy, factor: 150, hash: $0)
        }
        #expect(picks == [2, 1, 3, 1])
        // Within its bound (3 <= 3) the hashed endpoint stays.
        #expect(BoundedLoad.pick(0, hosts: five, weights: weights, active: [3, 1, 1, 1, 1], factor: 150, hash: 1) == 0)
        let spread = [42, 4].map { BoundedLoad.pick(0, hosts: five, weights: weights, active: [9, 5, 3, 4, 6], factor: 100, hash: $0) }
        #expect(spread == [1, 4])
        // Weights scale the bound: endpoint 1 (half the weight) may hold ceil(5 * 0.5) = 3 of 4 in flight.
        #expect(BoundedLoad.pick(1, hosts: [0, 1, 2], weights: [1, 2, 1], active: [1, 9, 0], factor: 100, hash: 42) == 2)
        #expect(BoundedLoad.pick(1, hosts: [0, 1, 2], weights: [1, 2, 1], active: [1, 3, 0], factor: 100, hash: 42) == 1)
    }

    @Test func useHostnameForHashingKeysTheRingByName() {
        let targets = ["a.internal", "b.internal", "c.internal"].enumerated().map { i, name in
            UpstreamTargets.Target(
                endpoint: ProxyEndpoint(host: "10.0.0.\(i + 1)", port: 80, hostname: name), host: "127.0.0.1", port: 9000 + i)
        }
        var byName = ClusterSettings(lbPolicy: .ringHash)
        byName.useHostnameForHashing = true
        var named = LoadBalancer(targets, byName, now: 0)
        var addressed = LoadBalancer(targets, ClusterSettings(lbPolicy: .ringHash), now: 0)
        let names = [(0, "a.internal", UInt64(1)), (1, "b.internal", 1), (2, "c.internal", 1)].map {
            (index: $0.0, key: $0.1, weight: $0.2)
        }
        let ring = RingHashTable(hosts: names, minimumSize: RingHashTable.defaultMinimumSize, maximumSize: RingHashTable.defaultMaximumSize)
        let keys = (0..<40).map { XXHash64.hash("user-\($0)") }
        let picks = keys.map { named.pick(random: { 0 }, hash: $0) }
        #expect(picks == keys.map { ring.pick($0) })
        #expect(picks != keys.map { addressed.pick(random: { 0 }, hash: $0) })
    }

    @Test func ringHasEnvoysEntriesInHashOrder() {
        // minimum_ring_size 8 with weights 1:2:1 gives 2, 4 and 2 entries.
        let ring = RingHashTable(hosts: Self.hosts, minimumSize: 8, maximumSize: RingHashTable.defaultMaximumSize)
        #expect(ring.ring.map(\.host) == [0, 1, 1, 2, 0, 1, 2, 1])
        #expect(ring.ring.first?.hash == 0x1834_1D92_7EA1_0691)
        #expect(ring.ring.last?.hash == 0xC3E1_BECC_4FB1_1DE1)
        #expect(ring.ring.contains { $0.hash == 0x7504_1381_E737_1A08 && $0.host == 0 })
        let picks = ["alice", "bob", "carol", "dave", "erin"].map { ring.pick(XXHash64.hash($0)) }
        #expect(picks == [2, 2, 1, 1, 1])
        // Above the last entry wraps to the first; the first entry's own hash picks it.
        #expect(ring.pick(UInt64.max) == 0)
        #expect(ring.pick(0x1834_1D92_7EA1_0691) == 0)
        #expect(ring.pick(0x1834_1D92_7EA1_0692) == 1)
    }

    @Test func ringSizeIsCappedByTheMaximum() {
        let ring = RingHashTable(hosts: Self.hosts, minimumSize: 1024, maximumSize: 6)
        #expect(ring.ring.count == 6)
        #expect(RingHashTable(hosts: [], minimumSize: 8, maximumSize: 8).pick(1) == nil)
    }

    @Test func maglevTablesMatchEnvoys() {
        #expect(MaglevTable(hosts: Self.hosts, size: 7).table == [2, 1, 0, 2, 1, 1, 0])
        #expect(MaglevTable(hosts: Self.hosts, size: 13).table == [2, 0, 1, 1, 1, 1, 1, 0, 1, 0, 2, 0, 2])
        let big = MaglevTable(hosts: Self.hosts, size: MaglevTable.defaultSize)
        #expect((0..<3).map { h in big.table.filter { $0 == h }.count } == [16385, 32768, 16384])
        #expect(["alice", "bob", "carol", "dave", "erin"].map { big.pick(XXHash64.hash($0)) } == [0, 2, 1, 2, 1])
    }

    static func request(path: String = "/", headers: [HTTPHeader] = [], remote: String = "10.1.2.3") -> EnvoyRequest {
        EnvoyRequest(
            method: "GET", scheme: "http", authority: "example.com", path: path, headers: headers, randomValue: 0, tls: false,
            isInternal: false, remoteAddress: remote)
    }

    @Test func hashPolicyFoldsAndStopsAtATerminalPolicy() {
        let r = Self.request(
            path: "/x?user=bob&user=zed", headers: [HTTPHeader("x-user", "alice"), HTTPHeader("cookie", "a=1; s=\"bob\"")])
        #expect(RequestHash.hash([.header("x-user")], request: r) == XXHash64.hash("alice"))
        #expect(RequestHash.hash([.header("x-user"), .cookie("s")], request: r) == 0x75C0_5EAB_FCE6_10A9)
        #expect(RequestHash.hash([.header("x-user"), .queryParameter("user")], request: r) == 0x75C0_5EAB_FCE6_10A9)
        #expect(RequestHash.hash([.terminal(.header("x-user")), .cookie("s")], request: r) == XXHash64.hash("alice"))
        // A terminal policy without a hash does not stop the rest.
        #expect(RequestHash.hash([.terminal(.header("x-none")), .cookie("s")], request: r) == XXHash64.hash("bob"))
        #expect(RequestHash.hash([.sourceIP], request: r) == XXHash64.hash("10.1.2.3"))
        #expect(RequestHash.hash([.filterState("k"), .cookie("missing")], request: r) == nil)
    }

    @Test func headerValuesAreSortedAndHashedTogether() {
        let r = Self.request(headers: [HTTPHeader("x-k", "cd"), HTTPHeader("x-k", "ab")])
        #expect(RequestHash.hash([.header("x-k")], request: r) == 0xDE03_27B0_D25D_92CC)
    }

    @Test func balancerLooksTheHashUpAmongTheHealthyEndpoints() {
        let hashing = ConsistentHashing(keys: Self.hosts.map(\.key), policy: .ringHash, minimumRingSize: 8)
        var lb = LoadBalancer(weights: [1, 2, 1], policy: .ringHash, hashing: hashing)
        var draws: UInt64 = 0
        let random = { () -> UInt64 in
            draws += 1
            return UInt64.max
        }
        let alice = XXHash64.hash("alice")
        let picks = [lb.pick(random: random, hash: alice), lb.pick(random: random, hash: alice)]
        #expect(picks == [2, 2])
        #expect(draws == 0)
        // Without a hash: a random one (here past the last entry, so the first).
        let unhashed = lb.pick(random: random)
        #expect(unhashed == 0)
        #expect(draws == 1)
        // Endpoint 2 ejected by outlier detection (two 5xx in a row): the ring is rebuilt over 0 and 1.
        var detector = OutlierDetector(
            OutlierDetector.Settings(OutlierDetection(consecutive5xx: 2, maxEjectionPercent: 50)), hosts: 3, now: 0)
        for _ in 0..<2 { detector.record(.status(503), host: 2, now: 1, random: { 0 }) }
        #expect(detector.ejected == [false, false, true])
        lb.outlier = detector
        let ring = RingHashTable(hosts: Array(Self.hosts.prefix(2)), minimumSize: 8, maximumSize: RingHashTable.defaultMaximumSize)
        let rebuilt = lb.pick(random: random, hash: alice)
        #expect(rebuilt == ring.pick(alice))
        #expect(rebuilt != 2)
    }
}
