import Testing
import XDSCRequest
import XDSCRoutes

/// Runs the analysis with the independent evaluator as `verify`.
func analyze(
    _ routes: [RouteConstraint], sameAction: @escaping (Int, Int) -> Bool = { _, _ in false },
    options: ShadowOptions = ShadowOptions()
) -> ShadowReport {
    let ev = Evaluator()
    return analyzeShadowing(routes, options: options, sameAction: sameAction) { i, w in ev.matches(routes[i], w) }
}

func shadowed(_ r: ShadowReport) -> [Int: [Int]] {
    var out: [Int: [Int]] = [:]
    for f in r.findings where f.kind == .shadowed { out[f.route] = f.earlier }
    return out
}

func overlaps(_ r: ShadowReport) -> [[Int]] {
    r.findings.filter { $0.kind == .overlap }.map { [$0.earlier[0], $0.route] }
}

func hdr(_ name: String, _ m: FieldMatch, ignoreCase: Bool = false, invert: Bool = false, empty: Bool = false) -> FieldConstraint {
    FieldConstraint(name: name, match: m, ignoreCase: ignoreCase, invert: invert, treatMissingAsEmpty: empty)
}

@Suite("Shadowing analysis")
struct ShadowingTests {
    @Test func prefixShadowsExact() {
        let r = analyze([RouteConstraint(path: .prefix("/api")), RouteConstraint(path: .exact("/apis"))])
        #expect(shadowed(r) == [1: [0]])
        #expect(r.findings[0].witness.path == "/apis")
        #expect(r.undecidedCount == 0)
    }

    @Test func specificBeforeGeneralIsFine() {
        let r = analyze([
            RouteConstraint(path: .exact("/apis")), RouteConstraint(path: .prefix("/api")),
            RouteConstraint(path: .regex("/users/[0-9]+")), RouteConstraint(path: .prefix("/users/")),
        ])
        #expect(r.findings.isEmpty)
        #expect(r.undecidedCount == 0)
    }

    @Test func regexShadowedByPrefix() {
        let r = analyze([RouteConstraint(path: .prefix("/users/")), RouteConstraint(path: .regex("/users/[0-9]+"))])
        #expect(shadowed(r) == [1: [0]])
        #expect(r.findings[0].witness.path == "/users/0")
    }

    @Test func partialOverlap() {
        let r = analyze([RouteConstraint(path: .regex("/api/[a-z]+")), RouteConstraint(path: .prefix("/api/v"))])
        #expect(overlaps(r) == [[0, 1]])
        #expect(r.findings[0].witness.path == "/api/v")
    }

    @Test func caseInsensitivePrefix() {
        let r = analyze([
            RouteConstraint(path: .prefix("/API", caseSensitive: false)),
            RouteConstraint(path: .exact("/api/x")),
            RouteConstraint(path: .prefix("/Api/Y")),
        ])
        #expect(shadowed(r) == [1: [0], 2: [0]])
        // Case-sensitive first, case-insensitive later: partial overlap.
        let r2 = analyze([RouteConstraint(path: .prefix("/api")), RouteConstraint(path: .prefix("/API", caseSensitive: false))])
        #expect(r2.findings.isEmpty)  // /api ⊆ ci(/API): specific before general
        let r3 = analyze([RouteConstraint(path: .prefix("/api/v1")), RouteConstraint(path: .regex("(?i)/API/V[0-9]"))])
        #expect(overlaps(r3) == [[0, 1]])
    }

    @Test func pathSeparatedPrefix() {
        let r = analyze([
            RouteConstraint(path: .pathSeparatedPrefix("/api/dev")),
            RouteConstraint(path: .prefix("/api/dev/")),
            RouteConstraint(path: .exact("/api/dev")),
            RouteConstraint(path: .prefix("/api/developer")),
        ])
        #expect(shadowed(r) == [1: [0], 2: [0]])
        #expect(overlaps(r).isEmpty)
    }

    @Test func headerTruthTable() {
        // A header condition makes the earlier route narrower: later catch-all not shadowed.
        let r1 = analyze([
            RouteConstraint(path: .prefix("/"), headers: [hdr("x-env", .exact("prod"))]),
            RouteConstraint(path: .prefix("/")),
        ])
        #expect(r1.findings.isEmpty)
        // Inverted exact matches present-and-different only; together with the exact value
        // it covers "present", but not "absent".
        let r2 = analyze([
            RouteConstraint(path: .prefix("/"), headers: [hdr("x", .exact("a"), invert: true)]),
            RouteConstraint(path: .prefix("/"), headers: [hdr("x", .exact("a"))]),
            RouteConstraint(path: .prefix("/"), headers: [hdr("x", .present(true))]),
            RouteConstraint(path: .prefix("/")),
        ])
        #expect(shadowed(r2) == [2: [0, 1]])
        #expect(overlaps(r2).isEmpty)
        // Missing header with treat_missing_header_as_empty matches "" (present_match false = absent).
        let r3 = analyze([
            RouteConstraint(path: .prefix("/"), headers: [hdr("x", .exact(""), empty: true)]),
            RouteConstraint(path: .prefix("/a"), headers: [hdr("x", .present(false))]),
        ])
        #expect(shadowed(r3) == [1: [0]])
        // Without it, the missing header does not match even an inverted matcher.
        let r4 = analyze([
            RouteConstraint(path: .prefix("/"), headers: [hdr("x", .exact("b"), invert: true)]),
            RouteConstraint(path: .prefix("/a"), headers: [hdr("x", .present(false))]),
        ])
        #expect(r4.findings.isEmpty)
        // present(true) inverted means absent: same set as present(false).
        let r5 = analyze(
            [
                RouteConstraint(path: .prefix("/"), headers: [hdr("x", .present(true), invert: true)]),
                RouteConstraint(path: .prefix("/"), headers: [hdr("x", .present(false))]),
            ],
            sameAction: { _, _ in true })
        #expect(shadowed(r5) == [1: [0]])
        #expect(r5.findings.first?.redundantDuplicate == true)
        #expect(r5.findings.first?.witness.headers.isEmpty == true)
        // Ignore-case prefix covers a later exact value of any case.
        let r6 = analyze([
            RouteConstraint(path: .prefix("/"), headers: [hdr("x", .prefix("ab"), ignoreCase: true)]),
            RouteConstraint(path: .prefix("/"), headers: [hdr("x", .exact("ABc"))]),
        ])
        #expect(shadowed(r6) == [1: [0]])
        #expect(r6.findings.first?.witness.headers.first?.value == "ABc")
    }

    @Test func queryParameters() {
        let r = analyze([
            RouteConstraint(path: .prefix("/"), query: [hdr("q", .prefix("1"))]),
            RouteConstraint(path: .prefix("/"), query: [hdr("q", .exact("12"))]),
            RouteConstraint(path: .prefix("/"), query: [hdr("q", .present(false))]),
            RouteConstraint(path: .prefix("/"), query: [hdr("q", .regex("[0-9]+"))]),
        ])
        #expect(shadowed(r) == [1: [0]])
        #expect(r.findings.first?.witness.path == "/?q=12")
        #expect(overlaps(r) == [[0, 3]])
    }

    @Test func methodsUnion() {
        let get = RouteConstraint(path: .prefix("/api"), headers: [.method("GET")])
        let post = RouteConstraint(path: .prefix("/api"), headers: [.method("POST")])
        let both = RouteConstraint(path: .prefix("/api/x"), headers: [hdr(":method", .regex("GET|POST"))])
        let any = RouteConstraint(path: .prefix("/api/x"))
        let r = analyze([get, post, both, any])
        #expect(shadowed(r) == [2: [0, 1]])
        #expect(r.findings.first { $0.route == 2 }?.witness.method == "GET")
        // Other methods reach route 3, and GET/POST /api/y do not: partial overlaps.
        #expect(shadowed(r)[3] == nil)
        #expect(overlaps(r) == [[0, 3], [1, 3]])
        // Not-GET (inverted) plus GET cover every method.
        let notGet = RouteConstraint(path: .prefix("/"), headers: [hdr(":method", .exact("GET"), invert: true)])
        let r2 = analyze([notGet, get, any])
        #expect(shadowed(r2) == [2: [0, 1]])
    }

    @Test func severalPrefixesTogether() {
        // "/a" and "/b" and exact "/" together do not cover "/" prefix ("/c" is left) ...
        let r = analyze([
            RouteConstraint(path: .prefix("/a")), RouteConstraint(path: .prefix("/b")),
            RouteConstraint(path: .exact("/")), RouteConstraint(path: .regex("/[ab].*|/")),
        ])
        #expect(shadowed(r) == [3: [0, 1, 2]])
        let r2 = analyze([
            RouteConstraint(path: .regex("/[^x].*")), RouteConstraint(path: .exact("/")),
            RouteConstraint(path: .prefix("/x")), RouteConstraint(path: .prefix("/")),
        ])
        // "/\n\n" would escape "/[^x].*" (`.` excludes "\n"), but no routed path holds a
        // newline: the catch-all is shadowed.
        #expect(shadowed(r2) == [3: [0, 1, 2]])
        let r3 = analyze([
            RouteConstraint(path: .regex("(?s)/[^x].*")), RouteConstraint(path: .exact("/")),
            RouteConstraint(path: .prefix("/x")), RouteConstraint(path: .prefix("/")),
        ])
        // [^x] is one valid UTF-8 character, so "/" followed by a non-UTF-8 byte would
        // escape, but routed paths are visible ASCII.
        #expect(shadowed(r3) == [3: [0, 1, 2]])
        let r4 = analyze([
            RouteConstraint(path: .regex("/([^x]|\\C)\\C*")), RouteConstraint(path: .exact("/")),
            RouteConstraint(path: .prefix("/x")), RouteConstraint(path: .prefix("/")),
        ])
        #expect(shadowed(r4) == [2: [0], 3: [0, 1]])  // \\C also matches "x"
    }

    @Test func unsupportedRegexIsUndecided() {
        let r = analyze([RouteConstraint(path: .prefix("/")), RouteConstraint(path: .regex("/\\bfoo"))])
        #expect(r.findings.isEmpty)
        #expect(r.undecidedCount == 1)
        let r2 = analyze([RouteConstraint(path: .regex("/x\\b")), RouteConstraint(path: .exact("/x"))])
        #expect(r2.findings.isEmpty)
        #expect(r2.undecidedCount == 2)
        // An unsupported earlier route does not stop a decided cover.
        let r3 = analyze([
            RouteConstraint(path: .regex("\\pL")), RouteConstraint(path: .prefix("/")),
            RouteConstraint(path: .exact("/x")),
        ])
        #expect(shadowed(r3) == [2: [1]])
    }

    @Test func opaqueRoutes() {
        let r = analyze([RouteConstraint(path: .prefix("/"), opaque: true), RouteConstraint(path: .exact("/a"))])
        #expect(r.findings.isEmpty)
        #expect(r.undecidedCount == 1)
        let r2 = analyze([RouteConstraint(path: .prefix("/")), RouteConstraint(path: .exact("/a"), opaque: true)])
        #expect(shadowed(r2) == [1: [0]])
        let r3 = analyze([RouteConstraint(path: .prefix("/a"), opaque: true), RouteConstraint(path: .regex("/[ab]"))])
        #expect(r3.findings.isEmpty)
        let r4 = analyze([RouteConstraint(path: .regex("/[ab]")), RouteConstraint(path: .prefix("/a"), opaque: true)])
        #expect(r4.findings.isEmpty)
        #expect(r4.undecidedCount == 1)
    }

    @Test func verificationDisagreementDropsFinding() {
        let routes = [RouteConstraint(path: .prefix("/api")), RouteConstraint(path: .exact("/apis"))]
        let r = analyzeShadowing(routes, sameAction: { _, _ in false }, verify: { _, _ in false })
        #expect(r.findings.isEmpty)
        #expect(r.undecidedCount == 1)
    }

    @Test func grpc() {
        let r = analyze([
            RouteConstraint(path: .prefix("/"), grpc: true),
            RouteConstraint(path: .prefix("/svc"), headers: [hdr("content-type", .exact("application/grpc"))]),
            RouteConstraint(path: .prefix("/svc"), headers: [hdr("content-type", .exact("application/grpc-web"))]),
            RouteConstraint(path: .prefix("/svc"), headers: [hdr("content-type", .prefix("application/grpc"))]),
        ])
        #expect(shadowed(r) == [1: [0]])
        #expect(overlaps(r) == [[0, 3]])
    }

    @Test func pathUniverse() {
        // Routed paths start with "/" ("*" is answered before routing), so "/" covers all.
        let routes = [RouteConstraint(path: .prefix("/")), RouteConstraint(path: .regex("[a-z/]+"))]
        #expect(shadowed(analyze(routes)) == [1: [0]])
        var any = ShadowOptions()
        any.pathUniverse = .anyBytes
        #expect(shadowed(analyze(routes, options: any)).isEmpty)
        // "?" never reaches path matching: an exact path containing it matches nothing.
        let r = analyze([RouteConstraint(path: .exact("/a?b"))])
        #expect(r.unmatchable.map(\.route) == [0])
        #expect(r.undecidedCount == 0)
    }

    @Test func catchAllRegexesShadow() {
        // Issue 8.4: newlines, bytes the codecs reject and paths without "/" never reach
        // the router, so these catch-alls cover `prefix: /api/`.
        for re in ["(?s).*", "/.*", "/[^?]*", ".*", "/\\S*"] {
            let r = analyze([RouteConstraint(path: .regex(re)), RouteConstraint(path: .prefix("/api/"))])
            #expect(shadowed(r) == [1: [0]], "\(re)")
            #expect(overlaps(r).isEmpty, "\(re)")
        }
        let r = analyze([RouteConstraint(path: .regex("(?s)/api/.*")), RouteConstraint(path: .prefix("/api/"))])
        #expect(shadowed(r) == [1: [0]])
        // Every witness is a path a client can send: "/" then visible ASCII.
        let o = analyze([RouteConstraint(path: .regex("/[^a].*")), RouteConstraint(path: .regex("/[^b]+"))])
        for f in o.findings {
            #expect(f.witness.pathText.utf8.allSatisfy { (0x21...0x7E).contains($0) }, "\(f.witness)")
            #expect(f.witness.pathText.hasPrefix("/"))
        }
        #expect(!o.findings.isEmpty)
    }

    @Test func overlapOnlyWhenSharedRequestsReachTheEarlierRoute() {
        // Issue 8.5: #3 and #2 share only "/a", which #1 takes: no overlap for that pair.
        let r = analyze([
            RouteConstraint(path: .prefix("/a")), RouteConstraint(path: .regex("/[ab]")),
            RouteConstraint(path: .regex("/(a|c)")),
        ])
        #expect(!overlaps(r).contains([1, 2]))
        #expect(overlaps(r).contains([0, 2]))
        // The witness must reach the earlier route: with "/x" taken first, the shared
        // request of #2 and #3 must avoid it.
        let r2 = analyze([
            RouteConstraint(path: .exact("/xa")), RouteConstraint(path: .regex("/x[ab]|/y")),
            RouteConstraint(path: .regex("/x[a-c]|/z")),
        ])
        let f = r2.findings.first { $0.kind == .overlap && $0.route == 2 && $0.earlier == [1] }
        #expect(f?.witness.path == "/xb")
    }

    @Test func probeRequestsStayInsideTheUniverse() {
        // A probe query value outside the query universe (it used to end in DEL) "escaped"
        // both earlier routes and hid this shadow: absent q goes to #1, present q to #2.
        let getPost = FieldConstraint(name: ":method", match: .regex("GET|POST"))
        let r = analyze([
            RouteConstraint(path: .regex("/a\\C*"), query: [FieldConstraint(name: "q", match: .present(false))]),
            RouteConstraint(path: .prefix("/"), headers: [getPost], query: [FieldConstraint(name: "q", match: .present(true))]),
            RouteConstraint(path: .regex("/a/?"), headers: [getPost]),
        ])
        #expect(shadowed(r) == [2: [0, 1]])
    }

    @Test func nonUTF8WitnessBytesArePercentEncoded() {
        // With every byte string allowed, "(?s)/." first leaves only "/" + a byte >= 0x80 for
        // the shadow witness: it is shown percent-encoded, never as U+FFFD.
        var any = ShadowOptions()
        any.pathUniverse = .anyBytes
        let r = analyzeShadowing(
            [RouteConstraint(path: .regex("(?s)/.")), RouteConstraint(path: .regex("/\\C")), RouteConstraint(path: .regex("/\\C"))],
            options: any, sameAction: { _, _ in false }, verify: { _, _ in true })
        let f = r.findings.first { $0.kind == .shadowed && $0.route == 2 }
        #expect(f?.witness.path == "/%80")
        #expect(f?.witness.pathText.contains("\u{FFFD}") == false)
    }

    @Test func unmatchableRoutes() {
        // Issue 8.6: a regex without the leading "/" matches no routed path.
        let r = analyze([RouteConstraint(path: .regex("a.*")), RouteConstraint(path: .prefix("/"))])
        #expect(r.unmatchable.map(\.route) == [0])
        #expect(r.unmatchable.first?.cause == .path)
        #expect(r.findings.isEmpty)
        // Contradicting conditions on one header.
        let h = analyze([
            RouteConstraint(
                path: .prefix("/"),
                headers: [FieldConstraint(name: "x-a", match: .exact("1")), FieldConstraint(name: "x-a", match: .exact("2"))])
        ])
        #expect(h.unmatchable.first?.cause == .field(name: "x-a", isQuery: false))
    }

    @Test func deterministicOutput() {
        var routes: [RouteConstraint] = []
        for k in 0..<40 {
            routes.append(RouteConstraint(path: .prefix("/p\(k % 7)"), headers: k % 3 == 0 ? [.method("GET")] : []))
            routes.append(RouteConstraint(path: .regex("/p\(k % 5)/[a-z]+")))
        }
        let a = analyze(routes)
        let b = analyze(routes)
        #expect(
            a.findings.map { "\($0.kind)\($0.route)\($0.earlier)\($0.witness)" }
                == b.findings.map { "\($0.kind)\($0.route)\($0.earlier)\($0.witness)" })
        #expect(!a.findings.isEmpty)
    }
}

@Suite("Shadowing witnesses")
struct WitnessTests {
    @Test func witnessIsTakenByTheCoveringRoute() {
        // Route 2 is inside route 1; route 0 takes "/a/x" first, so the witness avoids it.
        let routes = [
            RouteConstraint(path: .exact("/a/x")), RouteConstraint(path: .prefix("/a")),
            RouteConstraint(path: .regex("/a/[a-z]")),
        ]
        let r = analyze(routes)
        let f = r.findings.first { $0.route == 2 }
        #expect(f?.earlier == [1])
        #expect(f?.witness.path == "/a/a")
        #expect(Evaluator().matches(routes[0], f!.witness) == false)
    }

    @Test func witnessCarriesHeadersAndQuery() {
        let routes = [
            RouteConstraint(path: .prefix("/"), headers: [.method("POST"), hdr("x-v", .prefix("2"))]),
            RouteConstraint(
                path: .exact("/x"), headers: [.method("POST"), hdr("x-v", .exact("21"))],
                query: [hdr("debug", .present(true))]),
        ]
        let r = analyze(routes)
        let w = r.findings.first!.witness
        #expect(w.method == "POST")
        #expect(w.path == "/x?debug=")
        #expect(w.headers.map { $0.name + "=" + $0.value } == ["x-v=21"])
    }
}

@Suite("Caps give undecided, never a guess")
struct CapTests {
    @Test func unionCoverageCap() {
        let routes = [
            RouteConstraint(path: .prefix("/a"), headers: [.method("GET")]),
            RouteConstraint(path: .prefix("/a"), headers: [hdr(":method", .exact("GET"), invert: true)]),
            RouteConstraint(path: .prefix("/a/b")),
        ]
        #expect(shadowed(analyze(routes)) == [2: [0, 1]])
        var tight = ShadowOptions()
        tight.maxCoverageBoxes = 0
        let r = analyze(routes, options: tight)
        #expect(r.findings.isEmpty)
        #expect(r.undecided.contains { $0.route == 2 && $0.reason.contains("work cap") })
    }

    @Test func overlapCapPerRoute() {
        var routes = (0..<12).map { RouteConstraint(path: .prefix("/x"), headers: [hdr("h\($0)", .present(true))]) }
        routes.append(RouteConstraint(path: .prefix("/x/y")))
        var opts = ShadowOptions()
        opts.maxOverlapsPerRoute = 3
        let r = analyze(routes, options: opts)
        #expect(overlaps(r).filter { $0[1] == 12 } == [[0, 12], [1, 12], [2, 12]])
    }

    @Test func caseInsensitiveWithoutLettersIsPlain() {
        let r = analyze([
            RouteConstraint(path: .prefix("/", caseSensitive: false)), RouteConstraint(path: .exact("/1/2", caseSensitive: false)),
        ])
        #expect(shadowed(r) == [1: [0]])
    }
}
