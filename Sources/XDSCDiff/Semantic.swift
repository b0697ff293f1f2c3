import XDSCDiagnostics
import XDSCEnvoy
import XDSCJSON

/// The semantic diff: elements compared as Envoy sees them (decoded, then re-encoded in
/// canonical field order), so formatting, comments, key order and YAML anchors never show.
enum SemanticDiff {
    /// Leaf fields of a JSON value, `a.b[2].c` -> compact value text.
    static func flatten(_ j: JSON, _ prefix: String, into out: inout [String: String]) {
        switch j {
        case .object(let o):
            if o.isEmpty { out[prefix] = "{}" }
            for (k, v) in o.members { flatten(v, prefix.isEmpty ? k : prefix + "." + k, into: &out) }
        case .array(let a):
            if a.isEmpty { out[prefix] = "[]" }
            for (i, v) in a.enumerated() { flatten(v, "\(prefix)[\(i)]", into: &out) }
        default: out[prefix] = j.compactText()
        }
    }

    /// The fields that differ between two values (sorted by path), ignoring `skip` keys at
    /// the top level.
    static func fieldChanges(_ a: JSON, _ b: JSON, skip: Set<String> = []) -> [FieldChange] {
        func strip(_ j: JSON) -> JSON {
            guard case .object(var o) = j else { return j }
            for k in skip { o[k] = nil }
            return .object(o)
        }
        var fa: [String: String] = [:]
        var fb: [String: String] = [:]
        flatten(strip(a), "", into: &fa)
        flatten(strip(b), "", into: &fb)
        var out: [FieldChange] = []
        for k in Set(fa.keys).union(fb.keys).sorted() where fa[k] != fb[k] {
            out.append(FieldChange(path: k, old: fa[k], new: fb[k]))
        }
        return out
    }

    /// Added, removed and changed elements of two lists paired by name; `label` is the name
    /// reported.
    static func named(
        _ a: [DiffSide.NamedElement], _ b: [DiffSide.NamedElement], element: SemanticChange.Element, label: (String) -> String
    ) -> [SemanticChange] {
        var out: [SemanticChange] = []
        let olds = Dictionary(a.map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
        let news = Set(b.map(\.name))
        for c in a where !news.contains(c.name) {
            out.append(.init(kind: .removed, element: element, name: label(c.name), context: "", old: DiffPosition(c.source), new: nil))
        }
        for c in b {
            guard let o = olds[c.name] else {
                out.append(.init(kind: .added, element: element, name: label(c.name), context: "", old: nil, new: DiffPosition(c.source)))
                continue
            }
            let f = fieldChanges(o.json, c.json)
            if !f.isEmpty {
                out.append(
                    .init(
                        kind: .changed, element: element, name: label(c.name), context: "", old: DiffPosition(o.source),
                        new: DiffPosition(c.source), fields: f))
            }
        }
        return out
    }

    static func listenerLabel(_ name: String) -> String { "listener `\(name)`" }

    static func run(old: DiffSide, new: DiffSide) -> [SemanticChange] {
        let policyTerms = old.isPolicy && new.isPolicy
        // Clusters (a policy's services) and listeners' own attributes, by name.
        var out = named(old.clusters, new.clusters, element: policyTerms ? .service : .cluster, label: { $0 })
        out += named(old.listeners, new.listeners, element: .listener, label: listenerLabel)
        // Route tables, by key. A listener's table added or removed with it is the listener's
        // change, not one of its own.
        let newListeners = Set(new.listeners.map(\.name))
        let oldListeners = Set(old.listeners.map(\.name))
        let newTables = Dictionary(new.tables.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        let oldKeys = Set(old.tables.map(\.key))
        for t in old.tables where newTables[t.key] == nil && !(t.listener.map { !newListeners.contains($0) } ?? false) {
            out.append(.init(kind: .removed, element: .listener, name: t.key, context: "", old: DiffPosition(t.config.source), new: nil))
        }
        for t in new.tables where !oldKeys.contains(t.key) && !(t.listener.map { !oldListeners.contains($0) } ?? false) {
            out.append(.init(kind: .added, element: .listener, name: t.key, context: "", old: nil, new: DiffPosition(t.config.source)))
        }
        let hostElement: SemanticChange.Element = policyTerms ? .host : .virtualHost
        for t in old.tables {
            guard let n = newTables[t.key] else { continue }
            tableFields(t, n, into: &out)
            hosts(t.config, n.config, key: t.key, element: hostElement, into: &out)
        }
        return out
    }

    /// The fields of a route table other than its virtual hosts. A listener's table adds them,
    /// as `route_config.FIELD`, to the listener's change.
    static func tableFields(_ a: DiffSide.Table, _ b: DiffSide.Table, into out: inout [SemanticChange]) {
        var ta = a.config
        var tb = b.config
        ta.virtualHosts = []
        tb.virtualHosts = []
        var f = fieldChanges(ta.json, tb.json, skip: ["virtual_hosts"])
        guard !f.isEmpty else { return }
        if a.listener != nil {
            f = f.map { FieldChange(path: "route_config." + $0.path, old: $0.old, new: $0.new) }
            if let k = out.firstIndex(where: { $0.element == .listener && $0.kind == .changed && $0.name == a.key }) {
                out[k].fields = (out[k].fields + f).sorted { $0.path < $1.path }
                return
            }
        }
        out.append(
            .init(
                kind: .changed, element: .listener, name: a.key, context: "", old: DiffPosition(a.config.source),
                new: DiffPosition(b.config.source), fields: f))
    }

    static func hosts(
        _ a: RouteConfiguration, _ b: RouteConfiguration, key: String, element: SemanticChange.Element, into out: inout [SemanticChange]
    ) {
        let newHosts = Dictionary(b.virtualHosts.map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
        let oldNames = Set(a.virtualHosts.map(\.name))
        for h in a.virtualHosts where newHosts[h.name] == nil {
            out.append(.init(kind: .removed, element: element, name: h.name, context: key, old: DiffPosition(h.source), new: nil))
        }
        for h in b.virtualHosts where !oldNames.contains(h.name) {
            out.append(.init(kind: .added, element: element, name: h.name, context: key, old: nil, new: DiffPosition(h.source)))
        }
        for h in a.virtualHosts {
            guard let n = newHosts[h.name] else { continue }
            var ha = h
            var hb = n
            ha.routes = []
            hb.routes = []
            let hf = fieldChanges(ha.json, hb.json, skip: ["routes"])
            if !hf.isEmpty {
                out.append(
                    .init(
                        kind: .changed, element: element, name: h.name, context: key, old: DiffPosition(h.source),
                        new: DiffPosition(n.source), fields: hf))
            }
            routes(h.routes, n.routes, context: "\(key), host `\(h.name)`", into: &out)
        }
    }

    /// Pairs old and new routes: by name; unnamed routes by an identical match (the k-th old
    /// route with a match pairs with the k-th new one); the unnamed routes left pair by their
    /// order among the unpaired ones. Returns `pair[old] = new`.
    static func pairRoutes(_ a: [Route], _ b: [Route]) -> [Int: Int] {
        var pair: [Int: Int] = [:]
        var taken = Set<Int>()
        var byName: [String: Int] = [:]
        for (j, r) in b.enumerated() { if let n = r.name, byName[n] == nil { byName[n] = j } }
        for (i, r) in a.enumerated() {
            if let n = r.name, let j = byName[n], !taken.contains(j) {
                pair[i] = j
                taken.insert(j)
            }
        }
        var byMatch: [String: [Int]] = [:]
        for (j, r) in b.enumerated() where r.name == nil && !taken.contains(j) {
            byMatch[r.match.json.compactText(), default: []].append(j)
        }
        for (i, r) in a.enumerated() where r.name == nil && pair[i] == nil {
            let k = r.match.json.compactText()
            if var list = byMatch[k], !list.isEmpty {
                let j = list.removeFirst()
                byMatch[k] = list
                pair[i] = j
                taken.insert(j)
            }
        }
        let leftOld = a.indices.filter { a[$0].name == nil && pair[$0] == nil }
        let leftNew = b.indices.filter { b[$0].name == nil && !taken.contains($0) }
        for (i, j) in zip(leftOld, leftNew) { pair[i] = j }
        return pair
    }

    static func routeLabel(_ r: Route, _ i: Int) -> String { r.name ?? "#\(i + 1)" }

    /// The old indices of paired routes that keep their place: a longest increasing
    /// subsequence of new positions in old order. The others moved.
    static func stayers(_ pair: [Int: Int]) -> Set<Int> {
        let olds = pair.keys.sorted()
        let seq = olds.map { pair[$0]! }
        var tails: [Int] = []  // index into seq
        var prev = [Int](repeating: -1, count: seq.count)
        for (k, v) in seq.enumerated() {
            var lo = 0
            var hi = tails.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if seq[tails[mid]] < v { lo = mid + 1 } else { hi = mid }
            }
            if lo > 0 { prev[k] = tails[lo - 1] }
            if lo == tails.count { tails.append(k) } else { tails[lo] = k }
        }
        var keep = Set<Int>()
        var k = tails.last ?? -1
        while k >= 0 {
            keep.insert(olds[k])
            k = prev[k]
        }
        return keep
    }

    static func routes(_ a: [Route], _ b: [Route], context: String, into out: inout [SemanticChange]) {
        let pair = pairRoutes(a, b)
        let paired = Set(pair.values)
        let keep = stayers(pair)
        for (i, r) in a.enumerated() where pair[i] == nil {
            out.append(
                .init(kind: .removed, element: .route, name: routeLabel(r, i), context: context, old: DiffPosition(r.source), new: nil))
        }
        for (j, r) in b.enumerated() where !paired.contains(j) {
            out.append(
                .init(kind: .added, element: .route, name: routeLabel(r, j), context: context, old: nil, new: DiffPosition(r.source)))
        }
        for i in pair.keys.sorted() {
            let j = pair[i]!
            let f = fieldChanges(a[i].json, b[j].json)
            if !f.isEmpty {
                out.append(
                    .init(
                        kind: .changed, element: .route, name: routeLabel(a[i], i), context: context, old: DiffPosition(a[i].source),
                        new: DiffPosition(b[j].source), fields: f))
            }
            if !keep.contains(i) {
                out.append(
                    .init(
                        kind: .moved, element: .route, name: routeLabel(a[i], i), context: context, old: DiffPosition(a[i].source),
                        new: DiffPosition(b[j].source), oldIndex: i + 1, newIndex: j + 1))
            }
        }
    }
}
