import NIOCore
import NIOSSL
import XDSCEnvoy

/// How `TrafficClient` speaks TLS to a listener (`https://` URLs of `xdsc test traffic`): the
/// SNI it sends and what it trusts, either the CAs of a file or exactly the certificates
/// the listener serves (so a self-signed or test certificate needs no CA).
public struct ClientTLS: Sendable {
    /// The SNI (the URL's host); none for an IP address, which SNI cannot carry.
    public var serverName: String?
    /// The client certificate and key, for listeners that require one (PEM sources).
    public var clientCertificate: (chain: TLSSource, key: TLSSource)?
    let trust: Trust

    enum Trust: Sendable {
        /// The server's chain must lead to one of these CAs.
        case authorities([NIOSSLCertificate])
        /// The server's leaf must be one of these certificates.
        case pinned([NIOSSLCertificate])
    }

    /// Trusts the CAs in `caFile` (a PEM file).
    public static func trusting(caFile: String, serverName: String?) throws -> ClientTLS {
        let cas = try TLSContexts.certificates(.file(caFile), "CA", at: nil)
        return ClientTLS(serverName: TLSContexts.serverName(serverName), trust: .authorities(cas))
    }

    /// Trusts exactly the certificates `listener`'s TLS chains serve.
    public static func trusting(listener: ProxyListener, serverName: String?) throws -> ClientTLS {
        var leaves: [NIOSSLCertificate] = []
        for chain in listener.allChains {
            guard let source = chain.tls?.certificateChain else { continue }
            if let first = try TLSContexts.certificates(source, "certificate chain", at: nil).first { leaves.append(first) }
        }
        return ClientTLS(serverName: TLSContexts.serverName(serverName), trust: .pinned(leaves))
    }

    /// The handler for one connection, offering `applicationProtocols` in ALPN (`h2` for an
    /// HTTP/2 request, `http/1.1` otherwise, as curl offers them).
    func handler(applicationProtocols: [String] = ["http/1.1"]) throws -> NIOSSLClientHandler {
        var c = TLSConfiguration.makeClientConfiguration()
        c.applicationProtocols = applicationProtocols
        if let pair = clientCertificate {
            c.certificateChain = try TLSContexts.certificates(pair.chain, "client certificate", at: nil).map { .certificate($0) }
            c.privateKey = .privateKey(try TLSContexts.privateKey(pair.key, at: nil))
        }
        switch trust {
        case .authorities(let cas):
            c.trustRoots = .certificates(cas)
            c.certificateVerification = serverName == nil ? .noHostnameVerification : .fullVerification
            return try NIOSSLClientHandler(context: NIOSSLContext(configuration: c), serverHostname: serverName)
        case .pinned(let leaves):
            c.certificateVerification = .noHostnameVerification
            return try NIOSSLClientHandler(context: NIOSSLContext(configuration: c), serverHostname: serverName) { presented, promise in
                promise.succeed(presented.first.map(leaves.contains) == true ? .certificateVerified : .failed)
            }
        }
    }
}
