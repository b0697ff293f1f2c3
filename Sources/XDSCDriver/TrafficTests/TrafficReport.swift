import XDSCJSON

/// The results of a traffic spec, rendered as a test runner prints them: no ports, no
/// timings, so the output is the same on every run and machine.
struct TrafficReport {
    let spec: TrafficSpec
    let results: [TrafficTestResult]

    var failed: Int { results.filter { !$0.passed }.count }

    func render(_ format: TrafficTestCommand.Format) -> String {
        switch format {
        case .human: human
        case .json: json.serialized() + "\n"
        case .junit: junit
        }
    }

    func location(_ r: TrafficTestResult) -> String { "\(r.span.file):\(r.span.start.line):\(r.span.start.column)" }

    func line(_ f: TrafficFailure) -> String { "\(f.check): expected \(f.expected), actual \(f.actual)" }

    var human: String {
        var s = ""
        for r in results {
            s += r.passed ? "PASS \(r.name)\n" : "FAIL \(r.name) (\(location(r)))\n"
            for f in r.failures { s += "  \(line(f))\n" }
        }
        let n = results.count
        s += "\(n) test\(n == 1 ? "" : "s"): \(n - failed) passed, \(failed) failed\n"
        return s
    }

    var json: JSON {
        var root = JSONObject()
        root["version"] = .integer(1)
        root["spec"] = .string(spec.path)
        root["tests"] = .array(
            results.map { r in
                var o = JSONObject()
                o["name"] = .string(r.name)
                o["file"] = .string(r.span.file)
                o["line"] = .integer(r.span.start.line)
                o["column"] = .integer(r.span.start.column)
                o["passed"] = .bool(r.passed)
                o["failures"] = .array(
                    r.failures.map { f in
                        .object(["check": .string(f.check), "expected": .string(f.expected), "actual": .string(f.actual)])
                    })
                return .object(o)
            })
        root["passed"] = .integer(results.count - failed)
        root["failed"] = .integer(failed)
        return .object(root)
    }

    var junit: String {
        let name = Self.xml(spec.path)
        var s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        s += "<testsuites name=\"xdsc test traffic\" tests=\"\(results.count)\" failures=\"\(failed)\">\n"
        s += "  <testsuite name=\"\(name)\" tests=\"\(results.count)\" failures=\"\(failed)\" errors=\"0\" skipped=\"0\">\n"
        for r in results {
            s +=
                "    <testcase name=\"\(Self.xml(r.name))\" classname=\"\(name)\" file=\"\(Self.xml(r.span.file))\" line=\"\(r.span.start.line)\""
            if r.passed {
                s += "/>\n"
                continue
            }
            let lines = r.failures.map(line)
            s +=
                ">\n      <failure message=\"\(Self.xml(lines[0]))\">\(Self.xml(lines.joined(separator: "\n")))</failure>\n    </testcase>\n"
        }
        return s + "  </testsuite>\n</testsuites>\n"
    }

    /// Text escaped for an XML attribute or element; characters XML 1.0 cannot hold become U+FFFD.
    static func xml(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n": out += "&#10;"
            case "\t", "\r": out += "&#\(u.value);"
            default: out.unicodeScalars.append(u.value < 0x20 || u.value == 0xFFFE || u.value == 0xFFFF ? "\u{FFFD}" : u)
            }
        }
        return out
    }
}
