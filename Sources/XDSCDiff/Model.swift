import XDSCDiagnostics
import XDSCEnvoy
import XDSCJSON
import XDSCRequest

/// One side of a diff: the route tables (one per listener, or one per Envoy route
/// configuration no listener names), the clusters and the listeners, whatever the input was
/// (policies or Envoy files).
public struct DiffSide: Sendable {
    /// A route table with the key that pairs it with the other side's.
    public struct Table: Sendable {
        /// `listener NAME`, or `route_config NAME` for a route configuration no listener uses.
        public var key: String
        /// The listener whose connection manager uses the table (inline or through RDS), if any.
        public var listener: String?
        /// The table, with source positions on its hosts and routes.
        public var config: RouteConfiguration
        /// A table.
        public init(key: String, config: RouteConfiguration, listener: String? = nil) {
            self.key = key
            self.config = config
            self.listener = listener
        }
    }

    /// A named element compared as a whole (a cluster, a listener's own attributes) with its
    /// source position.
    public struct NamedElement: Sendable {
        /// The element's name.
        public var name: String
        /// The element as Envoy JSON (canonical field order).
        public var json: JSON
        /// Where it is written.
        public var source: SourceSpan?
        /// An element.
        public init(name: String, json: JSON, source: SourceSpan?) {
            self.name = name
            self.json = json
            self.source = source
        }
    }

    /// The route tables.
    public var tables: [Table]
    /// The clusters (a policy's services, or Envoy clusters with their EDS endpoints).
    public var clusters: [NamedElement]
    /// The listeners' own attributes (``ListenerAttributes``), without their route tables.
    public var listeners: [NamedElement]
    /// Whether the side was read from policies only: its changes are named in policy terms
    /// (service, host) when the other side's are too.
    public var isPolicy: Bool

    /// A side.
    public init(tables: [Table], clusters: [NamedElement] = [], listeners: [NamedElement] = [], isPolicy: Bool = false) {
        self.tables = tables
        self.clusters = clusters
        self.listeners = listeners
        self.isPolicy = isPolicy
    }
}

/// A position for a diff entry: `file:line:col`.
public struct DiffPosition: Equatable, Sendable, CustomStringConvertible {
    /// The file, as given on the command line.
    public var file: String
    /// 1-based line.
    public var line: Int
    /// 1-based column.
    public var column: Int

    init?(_ s: SourceSpan?) {
        guard let s else { return nil }
        file = s.file
        line = s.start.line
        column = s.start.column
    }

    /// `file:line:col`.
    public var description: String { "\(file):\(line):\(column)" }

    var json: JSON { .object(["file": .string(file), "line": .int(Int64(line)), "column": .int(Int64(column))]) }
}

/// One field whose value changed: its path relative to the element, and the two values
/// (compact JSON; nil when the field is absent on that side).
public struct FieldChange: Equatable, Sendable {
    /// The field path, e.g. `route.cluster`.
    public var path: String
    /// The old value (compact JSON), nil when absent.
    public var old: String?
    /// The new value (compact JSON), nil when absent.
    public var new: String?
}

/// One semantic change.
public struct SemanticChange: Equatable, Sendable {
    /// What happened to the element.
    public enum Kind: String, Sendable { case added, removed, changed, moved }
    /// The kind of element.
    public enum Element: String, Sendable {
        /// A listener (policy or Envoy).
        case listener
        /// An Envoy cluster.
        case cluster
        /// A policy's service (the cluster it compiles to).
        case service
        /// An Envoy virtual host.
        case virtualHost = "virtual host"
        /// A policy's host (the virtual host it compiles to).
        case host
        /// A route (policy or Envoy).
        case route
    }

    /// What happened.
    public var kind: Kind
    /// To what.
    public var element: Element
    /// The element's name (routes without one: `#N`, their old position, 1-based).
    public var name: String
    /// Where it sits: `listener `public``, `listener `public`, host `api``.
    public var context: String
    /// The old position (nil when added).
    public var old: DiffPosition?
    /// The new position (nil when removed).
    public var new: DiffPosition?
    /// The fields that changed (changed entries).
    public var fields: [FieldChange] = []
    /// For moves: the old and new positions in the table (1-based).
    public var oldIndex: Int?
    /// For moves: the new position in the table (1-based).
    public var newIndex: Int?
}

/// The side of one behaviour class: which route wins and what happens.
public struct BehaviourSide: Equatable, Sendable {
    /// `route `users``, `route #3`, or `no route`.
    public var route: String
    /// The winning route's position, when a route wins.
    public var position: DiffPosition?
    /// What Envoy does: `users`, `users-v2 (90%), users (10%)`, `redirect 301 to ...`.
    public var outcome: String
}

/// One class of requests whose outcome changes, with a verified example.
public struct BehaviourChange: Equatable, Sendable {
    /// The route table: `listener `NAME`` or `route_config `NAME``.
    public var listener: String
    /// The old virtual host's name (nil: none takes the host).
    public var oldHost: String?
    /// The new virtual host's name (nil: none takes the host).
    public var newHost: String?
    /// A request of the class, verified on both sides.
    public var example: EnvoyRequest
    /// The old side.
    public var before: BehaviourSide
    /// The new side.
    public var after: BehaviourSide
    /// The aspects that differ: `destination`, `timeout`, `retry policy`, ...
    public var aspects: [String]
}

/// Everything a diff found.
public struct DiffReport: Sendable {
    /// The semantic changes, in report order.
    public var semantic: [SemanticChange] = []
    /// The behaviour classes, in report order.
    public var behaviour: [BehaviourChange] = []
    /// Cases that could not be decided exactly (nothing was reported for them).
    public var undecided = 0
    /// The first undecided cases with their reasons.
    public var undecidedDetails: [String] = []
    /// Whether the semantic part was computed.
    public var semanticComputed = true
    /// Whether the behavioural part was computed.
    public var behaviourComputed = true

    /// An empty report.
    public init() {}

    /// No change of the kinds computed.
    public var isEqual: Bool { semantic.isEmpty && behaviour.isEmpty }
}
