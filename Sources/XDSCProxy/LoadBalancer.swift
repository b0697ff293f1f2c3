import XDSCEnvoy

/// One cluster's endpoint picking (`source/common/upstream/load_balancer_impl.cc` and the
/// round-robin, random and least-request extensions): over the healthy endpoints, or all of
/// them in panic (fewer than 50% healthy, Envoy's default `healthy_panic_threshold`).
/// Deterministic: every random draw comes from the proxy's seeded source.
struct LoadBalancer {
    /// The endpoints' `load_balancing_weight`s (1 when unset), in configuration order.
    let weights: [UInt64]
    /// `lb_policy`.
    let policy: Cluster.LbPolicy
    /// Requests in flight per endpoint (least request).
    private(set) var active: [Int]
    /// Requests in flight per `RoutingPriority` (each priority's `max_requests`).
    private var requestsByPriority = [0, 0]
    /// Whether each endpoint passes its health check.
    var healthy: [Bool]
    /// RING_HASH and MAGLEV: the table over the endpoints picked from (HashLoadBalancing.swift).
    private var consistent: ConsistentHashing?
    /// The cluster's outlier detection (OutlierDetector.swift): the one record of which
    /// endpoints are ejected (picked from like unhealthy ones).
    var outlier: OutlierDetector?
    private var rrIndex = 0
    private var scheduler: EDFScheduler?

    /// Every endpoint has the same weight.
    private let uniform: Bool

    /// A balancer; `hashing` gives RING_HASH and MAGLEV their endpoint keys and table sizes.
    init(weights: [UInt64], policy: Cluster.LbPolicy, hashing: ConsistentHashing? = nil) {
        self.weights = weights.map { max($0, 1) }
        self.uniform = Set(self.weights).count <= 1
        self.policy = policy
        self.active = Array(repeating: 0, count: weights.count)
        self.healthy = Array(repeating: true, count: weights.count)
        if policy == .ringHash || policy == .maglev {
            consistent = hashing ?? ConsistentHashing(keys: weights.indices.map(String.init), policy: policy)
        }
    }

    /// Requests in flight to the whole cluster.
    var activeRequests: Int { active.reduce(0, +) }

    /// Requests in flight at `priority`.
    func requests(_ priority: RoutingPriority) -> Int { requestsByPriority[priority.index] }

    /// Whether outlier detection ejected endpoint `i`.
    func isEjected(_ i: Int) -> Bool { outlier?.ejected[i] ?? false }

    /// The endpoints picked from: the healthy ones, or every one in panic.
    var hostsToUse: [Int] {
        let up = healthy.indices.filter { healthy[$0] && !isEjected($0) }
        return up.count * 100 < 50 * healthy.count ? Array(healthy.indices) : up
    }

    /// The next endpoint's index, nil when the cluster has none; `random` draws a value.
    /// RING_HASH and MAGLEV look `hash` up (the route's hash policy), or a random draw without one.
    /// A pick in `avoiding` (the endpoints of earlier attempts, under `previous_hosts`) is
    /// made again, up to `picks` picks in all, the last one kept whatever it is
    /// (`LoadBalancerBase::chooseHost`, `shouldSelectAnotherHost`); RING_HASH and MAGLEV
    /// re-pick with the same hash and the attempt number (thread_aware_lb_impl.cc).
    mutating func pick(random: () -> UInt64, hash: UInt64? = nil, avoiding: [Int], picks: Int) -> Int? {
        guard !avoiding.isEmpty else { return pick(random: random, hash: hash) }
        // A consistent hash is computed once (`computeHashKey`), each re-pick looks it up with
        // its attempt number; the other policies simply pick again.
        let h = consistent != nil ? (hash ?? random()) : hash
        var host: Int?
        for attempt in 0..<max(picks, 1) {
            host = pick(random: random, hash: h, attempt: UInt32(attempt))
            guard let chosen = host, avoiding.contains(chosen) else { return host }
        }
        return host
    }

    /// One pick (`chooseHostOnce`); `attempt` is the host selection attempt of a consistent hash.
    mutating func pick(random: () -> UInt64, hash: UInt64? = nil, attempt: UInt32 = 0) -> Int? {
        if consistent != nil {
            let hosts = hostsToUse
            return hosts.isEmpty
                ? nil : consistent?.pick(hosts: hosts, weights: weights, hash: hash ?? random(), active: active, attempt: attempt)
        }
        // Every endpoint healthy and equally weighted (the common case): the same picks as
        // below over all the endpoints, without building the host list.
        if uniform && !healthy.isEmpty && !(outlier?.anyEjected ?? false) && !healthy.contains(false) {
            let n = healthy.count
            switch policy {
            case .random: return Int(random() % UInt64(n))
            case .leastRequest:
                let first = Int(random() % UInt64(n))
                let second = Int(random() % UInt64(n))
                return active[second] < active[first] ? second : first
            case .roundRobin, .ringHash, .maglev:
                defer { rrIndex += 1 }
                return rrIndex % n
            }
        }
        let hosts = hostsToUse
        guard !hosts.isEmpty else { return nil }
        let weighted = Set(hosts.map { weights[$0] }).count > 1
        switch policy {
        case .random:
            // `RandomLoadBalancer` ignores weights.
            return hosts[Int(random() % UInt64(hosts.count))]
        case .leastRequest where !weighted:
            // Power of two choices: the sampled endpoint with fewer active requests wins.
            let first = hosts[Int(random() % UInt64(hosts.count))]
            let second = hosts[Int(random() % UInt64(hosts.count))]
            return active[second] < active[first] ? second : first
        case .leastRequest, .roundRobin, .ringHash, .maglev:
            guard weighted else {
                defer { rrIndex += 1 }
                return hosts[rrIndex % hosts.count]
            }
            return weightedPick(hosts)
        }
    }

    /// Smooth weighted picking with an earliest-deadline-first schedule (`EdfScheduler`),
    /// rebuilt when the set of endpoints changes. Least request divides the weight by the
    /// active requests plus one (`active_request_bias` 1.0) when an endpoint is rescheduled.
    private mutating func weightedPick(_ hosts: [Int]) -> Int {
        let w = weights
        let active = self.active
        let leastRequest = policy == .leastRequest
        if scheduler?.hosts != hosts { scheduler = EDFScheduler(hosts: hosts, weight: { Double(w[$0]) }) }
        return scheduler!.pick { i in
            leastRequest ? Double(w[i]) / Double(active[i] + 1) : Double(w[i])
        }
    }

    /// An attempt to endpoint `i` at `priority` starts.
    mutating func started(_ i: Int, _ priority: RoutingPriority = .default) {
        active[i] += 1
        requestsByPriority[priority.index] += 1
    }

    /// An attempt to endpoint `i` at `priority` ended.
    mutating func ended(_ i: Int, _ priority: RoutingPriority = .default) {
        guard active[i] > 0 else { return }
        active[i] -= 1
        requestsByPriority[priority.index] = max(0, requestsByPriority[priority.index] - 1)
    }
}

/// Earliest deadline first over weighted entries: each pick takes the smallest deadline (ties
/// in insertion order) and puts the entry back one period (1 / weight) later.
struct EDFScheduler {
    /// The endpoints scheduled.
    let hosts: [Int]
    private var entries: [(deadline: Double, order: Int, host: Int)]
    private var now = 0.0
    private var order = 0

    init(hosts: [Int], weight: (Int) -> Double) {
        self.hosts = hosts
        entries = []
        for h in hosts {
            entries.append((1 / weight(h), order, h))
            order += 1
        }
    }

    /// The next endpoint; `weight` gives its weight when it is put back.
    mutating func pick(weight: (Int) -> Double) -> Int {
        var best = 0
        for i in entries.indices.dropFirst()
        where entries[i].deadline < entries[best].deadline
            || (entries[i].deadline == entries[best].deadline && entries[i].order < entries[best].order)
        {
            best = i
        }
        let e = entries[best]
        now = e.deadline
        entries[best] = (now + 1 / max(weight(e.host), 1e-9), order, e.host)
        order += 1
        return e.host
    }
}
