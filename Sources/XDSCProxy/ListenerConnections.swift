import NIOCore
import NIOSSL
import NIOTLS

/// How a listener's new connections are set up, as Envoy's listener does it: the filter
/// chain is chosen (after the ClientHello when the `tls_inspector` has something to select
/// on), the chain's TLS is added when it has one, then the chain's HTTP handlers.
struct ListenerConnections: Sendable {
    /// No filter chain matches the connection: Envoy closes it.
    struct NoFilterChain: Error {}

    let listener: ProxyListener
    /// One per chain, in `listener.chains` order, then the default chain's.
    let pipelines: [DownstreamPipeline]

    /// The connections of `listener`, each chain served by the pipeline `make` gives it.
    init(_ listener: ProxyListener, make: (ProxyFilterChain) -> DownstreamPipeline) {
        self.listener = listener
        self.pipelines = listener.allChains.map(make)
    }

    /// Sets up a new connection (on its event loop).
    func configure(_ channel: Channel) throws {
        guard listener.inspectsClientHello else {
            try serve(.uninspected, channel: channel)
            return
        }
        try channel.pipeline.syncOperations.addHandler(
            ClientHelloInspector { facts, context in try self.serve(facts, channel: context.channel) })
    }

    /// Adds the handlers of the chain `facts` select.
    private func serve(_ facts: ConnectionFacts, channel: Channel) throws {
        guard let i = listener.chainIndex(for: facts) else { throw NoFilterChain() }
        let chain = listener.allChains[i]
        let downstream = pipelines[i]
        let ops = channel.pipeline.syncOperations
        guard let context = chain.serverContext else {
            // Plain text: the connection manager's `codec_type` (AUTO detects the HTTP/2 preface).
            try downstream.configure(channel: channel)
            return
        }
        try ops.addHandler(NIOSSLServerHandler(context: context))
        // The HTTP handlers follow the handshake and its ALPN result (`codec_type` AUTO serves
        // HTTP/2 when ALPN chose `h2`).
        try ops.addHandler(
            ApplicationProtocolNegotiationHandler { (result: ALPNResult, channel: Channel) in
                let negotiated: String? = if case .negotiated(let name) = result { name } else { nil }
                return channel.eventLoop.makeCompletedFuture { try downstream.configure(channel: channel, negotiated: negotiated) }
            })
        // A client that never finishes the handshake is closed like one that never sends a request.
        let timeout = downstream.listener.options.clientIdleTimeout.timeAmount
        let handshake = channel.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            if (try? channel.pipeline.syncOperations.handler(type: ApplicationProtocolNegotiationHandler.self)) != nil {
                channel.close(promise: nil)
            }
        }
        channel.closeFuture.whenComplete { _ in handshake.cancel() }
    }
}

extension ProxyListener {
    /// The chains in selection order, the default chain last.
    var allChains: [ProxyFilterChain] { chains + (defaultChain.map { [$0] } ?? []) }

    /// The index in `allChains` of the chain for a connection (`chain(for:)`).
    func chainIndex(for facts: ConnectionFacts) -> Int? {
        func transportMatch(_ candidates: [Int]) -> Int? {
            candidates.first { chains[$0].transportProtocol == facts.transportProtocol }
                ?? candidates.first { (chains[$0].transportProtocol ?? "").isEmpty }
        }
        let fallback = defaultChain == nil ? nil : chains.count
        func named(_ name: String) -> [Int] { chains.indices.filter { chains[$0].serverNames.contains(name) } }
        let server = facts.serverName
        if !server.isEmpty {
            let exact = named(server)
            if !exact.isEmpty { return transportMatch(exact) ?? fallback }
            var i = server.index(after: server.startIndex)
            while let dot = server[i...].firstIndex(of: "."), server.index(after: dot) < server.endIndex {
                let wildcard = named("*" + server[dot...])
                if !wildcard.isEmpty { return transportMatch(wildcard) ?? fallback }
                i = server.index(after: dot)
            }
        }
        return transportMatch(chains.indices.filter { chains[$0].serverNames.isEmpty }) ?? fallback
    }

    /// The chain for a connection, as `FilterChainManagerImpl::findFilterChain` picks it over
    /// the fields the proxy models: the exact server name, then the longest wildcard
    /// (`*.example.com`), then chains without server names; among those the exact transport
    /// protocol, then chains without one; nothing matched is the default chain, or nil
    /// (Envoy closes the connection).
    func chain(for facts: ConnectionFacts) -> ProxyFilterChain? { chainIndex(for: facts).map { allChains[$0] } }

    /// Whether a plain-text connection (no TLS, no SNI) gets a filter chain, as in Envoy: not
    /// when every chain matches on server names or `transport_protocol: tls` and there is no
    /// default chain.
    public var servesPlainText: Bool { chainIndex(for: .uninspected) != nil }

    /// Whether a connection's first bytes are inspected before a chain is chosen: the
    /// listener has the `tls_inspector` and a chain matches on what it finds.
    var inspectsClientHello: Bool {
        tlsInspector && allChains.contains { !$0.serverNames.isEmpty || $0.transportProtocol != nil }
    }
}
