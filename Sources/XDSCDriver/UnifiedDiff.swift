/// A line-based unified diff (`diff -u` layout, 3 lines of context), for `--check` and
/// golden tests.
public enum UnifiedDiff {
    private enum Edit: Equatable {
        case same(String)
        case removed(String)
        case added(String)
    }

    /// The diff of `old` and `new`, or "" when they are equal.
    public static func render(old: String, new: String, oldName: String, newName: String, context: Int = 3) -> String {
        if old == new { return "" }
        let a = lines(old)
        let b = lines(new)
        let edits = diff(a, b)
        var out = "--- \(oldName)\n+++ \(newName)\n"
        // Group edits into hunks with `context` unchanged lines around each change.
        var i = 0
        while i < edits.count {
            guard let firstChange = edits[i...].firstIndex(where: { if case .same = $0 { return false } else { return true } }) else {
                break
            }
            var start = max(i, firstChange - context)
            var end = firstChange
            // Extend while further changes lie within 2*context unchanged lines.
            var j = firstChange
            var lastChange = firstChange
            while j < edits.count {
                if case .same = edits[j] {
                    if j - lastChange > 2 * context { break }
                } else {
                    lastChange = j
                }
                j += 1
            }
            end = min(edits.count, lastChange + context + 1)
            if start < i { start = i }
            // Line numbers at the hunk start.
            var oldLine = 1
            var newLine = 1
            for e in edits[..<start] {
                switch e {
                case .same:
                    oldLine += 1
                    newLine += 1
                case .removed: oldLine += 1
                case .added: newLine += 1
                }
            }
            let hunk = edits[start..<end]
            let oldCount = hunk.count { if case .added = $0 { return false } else { return true } }
            let newCount = hunk.count { if case .removed = $0 { return false } else { return true } }
            out += "@@ -\(range(oldLine, oldCount)) +\(range(newLine, newCount)) @@\n"
            for e in hunk {
                switch e {
                case .same(let s): out += " \(s)\n"
                case .removed(let s): out += "-\(s)\n"
                case .added(let s): out += "+\(s)\n"
                }
            }
            i = end
        }
        return out
    }

    private static func range(_ start: Int, _ count: Int) -> String {
        count == 1 ? "\(start)" : "\(count == 0 ? start - 1 : start),\(count)"
    }

    private static func lines(_ s: String) -> [String] {
        if s.isEmpty { return [] }
        var parts = s.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if parts.last == "" { parts.removeLast() }
        return parts
    }

    /// Longest-common-subsequence edit script, after trimming the common prefix and suffix
    /// (which keeps the table small for the usual small change).
    private static func diff(_ a: [String], _ b: [String]) -> [Edit] {
        var prefix = 0
        while prefix < a.count && prefix < b.count && a[prefix] == b[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < a.count - prefix && suffix < b.count - prefix && a[a.count - 1 - suffix] == b[b.count - 1 - suffix] { suffix += 1 }
        let x = Array(a[prefix..<(a.count - suffix)])
        let y = Array(b[prefix..<(b.count - suffix)])
        var middle: [Edit] = []
        if x.isEmpty {
            middle = y.map { .added($0) }
        } else if y.isEmpty {
            middle = x.map { .removed($0) }
        } else {
            let n = x.count
            let m = y.count
            var table = [Int32](repeating: 0, count: (n + 1) * (m + 1))
            for i in stride(from: n - 1, through: 0, by: -1) {
                for j in stride(from: m - 1, through: 0, by: -1) {
                    table[i * (m + 1) + j] =
                        x[i] == y[j] ? table[(i + 1) * (m + 1) + j + 1] + 1 : max(table[(i + 1) * (m + 1) + j], table[i * (m + 1) + j + 1])
                }
            }
            var i = 0
            var j = 0
            while i < n && j < m {
                if x[i] == y[j] {
                    middle.append(.same(x[i]))
                    i += 1
                    j += 1
                } else if table[(i + 1) * (m + 1) + j] >= table[i * (m + 1) + j + 1] {
                    middle.append(.removed(x[i]))
                    i += 1
                } else {
                    middle.append(.added(y[j]))
                    j += 1
                }
            }
            while i < n {
                middle.append(.removed(x[i]))
                i += 1
            }
            while j < m {
                middle.append(.added(y[j]))
                j += 1
            }
        }
        return a[..<prefix].map { .same($0) } + middle + a[(a.count - suffix)...].map { .same($0) }
    }
}
