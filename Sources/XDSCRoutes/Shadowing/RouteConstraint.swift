import XDSCRequest

// The abstract input of the shadowing analysis: what one route matches, in Envoy's terms.
// Deliberately independent of the Envoy configuration model, so any front end can fill it.

/// The path specifier of a route (`RouteMatch.path_specifier`). Matched against the path
/// with the query string and fragment removed.
public enum PathConstraint: Sendable, Hashable {
    /// `prefix`: the path starts with the string.
    case prefix(String, caseSensitive: Bool = true)
    /// `path`: the path equals the string.
    case exact(String, caseSensitive: Bool = true)
    /// `safe_regex`: RE2 full match; `case_sensitive` does not apply (use `(?i)`).
    case regex(String)
    /// `path_separated_prefix`: the path equals the string or continues with `/`.
    case pathSeparatedPrefix(String, caseSensitive: Bool = true)
}

/// How one header or query parameter value is matched.
public enum FieldMatch: Sendable, Hashable {
    case exact(String)
    case prefix(String)
    case suffix(String)
    case contains(String)
    /// RE2 full match; `ignoreCase` does not apply.
    case regex(String)
    /// `present_match`: `true` = the field is present, `false` = absent.
    case present(Bool)
}

/// One header or query-parameter condition of a route, with Envoy's truth table:
/// a present field matches when `match(value) != invert`; a missing field makes every
/// matcher except `present` false, even inverted, unless `treatMissingAsEmpty` (then the
/// value `""` is matched and inverted normally). For `present(p)`: present → `p != invert`,
/// missing → `p == invert`, or `p != invert` with `treatMissingAsEmpty`.
public struct FieldConstraint: Sendable, Hashable {
    /// Header name (lower case; `:method`, `:authority`, `content-type`...) or query
    /// parameter name (compared exactly, no percent-decoding).
    public var name: String
    /// How the value is compared.
    public var match: FieldMatch
    /// ASCII case-insensitive comparison for exact/prefix/suffix/contains.
    public var ignoreCase: Bool
    /// Whether the result is inverted (Envoy's `invert_match`).
    public var invert: Bool
    /// Whether a missing field is compared as the empty string (Envoy's `treat_missing_header_as_empty`).
    public var treatMissingAsEmpty: Bool

    /// Creates a condition; defaults are Envoy's.
    public init(
        name: String, match: FieldMatch, ignoreCase: Bool = false, invert: Bool = false,
        treatMissingAsEmpty: Bool = false
    ) {
        self.name = name
        self.match = match
        self.ignoreCase = ignoreCase
        self.invert = invert
        self.treatMissingAsEmpty = treatMissingAsEmpty
    }

    /// `:method` equal to `method` (the common way to restrict methods).
    public static func method(_ method: String) -> FieldConstraint {
        FieldConstraint(name: ":method", match: .exact(method))
    }
}

/// What one route matches (`RouteMatch`), as far as it can be modelled exactly.
public struct RouteConstraint: Sendable {
    /// The path condition.
    public var path: PathConstraint
    /// Header conditions, all required (AND). Names lower case; `:method` for methods.
    public var headers: [FieldConstraint]
    /// Query-parameter conditions, all required (AND), on the first value of each name.
    public var query: [FieldConstraint]
    /// `grpc: {}`: `content-type` is `application/grpc` or starts with `application/grpc+`.
    public var grpc: Bool
    /// The route has a condition that cannot be modelled (runtime_fraction, cookies,
    /// tls_context, dynamic metadata...). Such a route never counts as covering another and
    /// is never reported as overlapping; it can still be reported as shadowed, since what it
    /// matches is a subset of what its modelled conditions match.
    public var opaque: Bool

    /// Creates a route constraint.
    public init(
        path: PathConstraint, headers: [FieldConstraint] = [], query: [FieldConstraint] = [],
        grpc: Bool = false, opaque: Bool = false
    ) {
        self.path = path
        self.headers = headers
        self.query = query
        self.grpc = grpc
        self.opaque = opaque
    }
}

/// One result of the analysis.
public struct ShadowFinding: Sendable {
    /// Whether the route is unreachable or only partly taken.
    public enum Kind: String, Sendable {
        /// Every request the route matches is taken by earlier routes: it is unreachable.
        case shadowed
        /// An earlier route takes part, but not all, of this route's requests, and the
        /// earlier route is not simply a more specific one (that is the normal idiom). Only
        /// when some shared request reaches the earlier route (no route before it matches);
        /// the witness is such a request.
        case overlap
    }

    /// Whether the route is unreachable or only partly taken.
    public var kind: Kind
    /// Index of the later route.
    public var route: Int
    /// The earlier route(s): the single covering route, the routes that together cover it,
    /// or the one overlapping route. Ascending.
    public var earlier: [Int]
    /// Shadowed by a single earlier route with the same action: safe to delete.
    public var redundantDuplicate: Bool
    /// A request matched by `route` and taken by `earlier[0]` (verified by the caller).
    public var witness: EnvoyRequest
}

/// A case the analysis could not decide (so it reported nothing for it).
public struct UndecidedCase: Sendable {
    /// The index of the (later) route.
    public var route: Int
    /// The earlier route of the pair, when the case is about a pair.
    public var earlier: Int?
    /// Why the case could not be decided.
    public var reason: String
}

/// A route that matches no request Envoy can route (its conditions exclude each other, or
/// exclude every request that reaches the router).
public struct UnmatchableRoute: Sendable {
    /// Which condition makes the route match nothing.
    public enum Cause: Sendable, Equatable {
        /// The path condition matches no path the router sees.
        case path
        /// The conditions on one header (`isQuery` false) or query parameter exclude
        /// every value, absence included.
        case field(name: String, isQuery: Bool)
    }
    /// The route's index in its virtual host.
    public var route: Int
    /// Which condition makes it match nothing.
    public var cause: Cause
}

/// Result of ``analyzeShadowing(_:options:sameAction:verify:)``.
public struct ShadowReport: Sendable {
    /// Findings ordered by route, shadowed before overlaps, then by earlier route.
    public var findings: [ShadowFinding]
    /// Routes that can match no request, in order (no other finding is made for them).
    public var unmatchable: [UnmatchableRoute] = []
    /// Number of undecided cases (routes or pairs about which nothing was reported).
    public var undecidedCount: Int
    /// The first undecided cases with their reasons (at most `ShadowOptions.maxUndecidedDetails`).
    public var undecided: [UndecidedCase]
    /// Number of (route, earlier route) pairs that were actually compared.
    public var comparedPairs: Int
}

/// Tuning of the analysis; the defaults suit real configurations.
public struct ShadowOptions: Sendable {
    /// Which `:path` values (query removed) exist. Default (`slashRooted`): what Envoy's
    /// codecs and connection manager let through to the router, `/` followed by visible
    /// ASCII other than `?` and `#` (docs/route-shadowing.md); query values likewise hold
    /// visible ASCII other than `&` and `#`. `anyBytes`: every byte string free of `?`/`#`.
    public enum PathUniverse: Sendable { case slashRooted, anyBytes }
    /// Which paths exist.
    public var pathUniverse: PathUniverse = .slashRooted
    /// Overlap findings reported per route (the first overlapping earlier routes).
    public var maxOverlapsPerRoute = 8
    /// Work cap of the union-coverage decision (boxes produced by subtraction).
    public var maxCoverageBoxes = 4_000
    /// Work cap of the union-coverage decision (automaton states of all boxes produced).
    public var maxCoverageStates = 200_000
    /// Undecided cases kept with details.
    public var maxUndecidedDetails = 1_000

    /// Default options.
    public init() {}
}
