import Foundation
import NIOSSL
import XDSCEnvoy

/// A subject alternative name a certificate presents: its type and its value as Envoy
/// prints it (`Utility::generalNameAsString`: DNS, URI and email as written, an IP address in
/// its textual form).
struct PresentedSAN: Equatable, Sendable {
    var type: SubjectAltNameMatcher.SANType
    var value: String

    /// The DNS, email, URI and IP address SANs of `certificate`, in certificate order.
    static func of(_ certificate: NIOSSLCertificate) -> [PresentedSAN] {
        certificate._subjectAlternativeNames().compactMap { name in
            let bytes = name.contents.withUnsafeBufferPointer { Array($0) }
            switch name.nameType {
            case .dnsName: return PresentedSAN(type: .dns, value: String(decoding: bytes, as: UTF8.self))
            case .email: return PresentedSAN(type: .email, value: String(decoding: bytes, as: UTF8.self))
            case .uri: return PresentedSAN(type: .uri, value: String(decoding: bytes, as: UTF8.self))
            case .ipAddress: return ipAddress(bytes).map { PresentedSAN(type: .ipAddress, value: $0) }
            default: return nil
            }
        }
    }

    /// An IPv4 or IPv6 address in `inet_ntop` form.
    static func ipAddress(_ bytes: [UInt8]) -> String? {
        let family: Int32
        switch bytes.count {
        case 4: family = AF_INET
        case 16: family = AF_INET6
        default: return nil
        }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let ok = bytes.withUnsafeBytes { raw in inet_ntop(family, raw.baseAddress, &text, socklen_t(text.count)) != nil }
        guard ok else { return nil }
        return String(cString: text)
    }
}

/// What an upstream's certificate must show beyond the CA check, as Envoy's
/// `DefaultCertValidator::verifyCertificate` checks it (default_validator.cc): a SAN equal to
/// one of `verifySubjectAltNames` (`auto_san_validation`), and a SAN one of `matchers` matches
/// (`match_typed_subject_alt_names`, or the deprecated `match_subject_alt_names`).
struct CertificateCheck: Equatable, Sendable {
    /// The SAN list the request's host gives (`verifySubjectAltNameListOverride`).
    var verifySubjectAltNames: [String] = []
    /// The SAN matchers of the validation context.
    var matchers: [SubjectAltNameMatcher] = []

    /// Whether there is nothing to check.
    var isEmpty: Bool { verifySubjectAltNames.isEmpty && matchers.isEmpty }

    /// nil when a certificate with `sans` passes; else Envoy's error detail (the text its
    /// transport failure reason carries).
    func failure(_ sans: [PresentedSAN]) -> String? {
        if !verifySubjectAltNames.isEmpty {
            let ok = sans.contains { san in
                verifySubjectAltNames.contains { san.type == .dns ? Self.dnsNameMatch($0, pattern: san.value) : $0 == san.value }
            }
            if !ok { return "verify cert failed: verify SAN list" }
        }
        if !matchers.isEmpty && !matchers.contains(where: { m in sans.contains { Self.matches(m, $0) } }) {
            return "verify cert failed: SAN matcher"
        }
        return nil
    }

    /// `StringSanMatcher::match` (san_matcher.cc): same type; an exact matcher on a DNS SAN
    /// follows DNS matching (a wildcard certificate name matches), others are string matchers.
    static func matches(_ m: SubjectAltNameMatcher, _ san: PresentedSAN) -> Bool {
        guard m.sanType == san.type else { return false }
        if san.type == .dns, case .exact(let name) = m.matcher.pattern { return dnsNameMatch(name, pattern: san.value) }
        return m.matcher.matches(san.value)
    }

    /// `Utility::dnsNameMatch` (tls/utility.cc): equal ignoring ASCII case, or `pattern` has a
    /// wildcard in its first label only (not an A-label), the rest equal and the first label
    /// matching around the `*`.
    static func dnsNameMatch(_ name: String, pattern: String) -> Bool {
        let n = name.lowercased()
        let p = pattern.lowercased()
        if n == p { return true }
        let ps = p.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let ns = n.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard ps.count == 2, ns.count == 2 else { return false }
        guard ps[0].contains("*"), !ps[1].contains("*"), !ps[0].hasPrefix("xn--") else { return false }
        return ns[1] == ps[1] && labelWildcardMatch(ns[0], pattern: ps[0])
    }

    /// `Utility::labelWildcardMatch`: `*` alone matches any label; one `*` matches a label
    /// that starts with what is before it and ends with what is after it.
    static func labelWildcardMatch(_ label: Substring, pattern: Substring) -> Bool {
        if pattern == "*" { return true }
        let parts = pattern.split(separator: "*", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return false }
        return pattern.utf8.count <= label.utf8.count + 1 && label.hasPrefix(parts[0]) && label.hasSuffix(parts[1])
    }
}

/// Envoy's transport failure reason for a failed TLS handshake (`SslSocket::drainErrorQueue`,
/// ssl_socket.cc): `TLS_error:`, then `|code:library:function:reason` per BoringSSL error,
/// then `:` and the certificate check's detail when there is one, then `:TLS_error_end`.
enum TransportFailureReason {
    /// BoringSSL's `CERTIFICATE_VERIFY_FAILED` (`ERR_PACK(ERR_LIB_SSL, 125)`), as Envoy prints it.
    static let certificateVerifyFailed = "|268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED"

    /// The reason of a handshake the certificate check failed with `detail`.
    static func certificateCheck(_ detail: String) -> String {
        "TLS_error:" + certificateVerifyFailed + ":" + detail + ":TLS_error_end"
    }

    /// The reason of a handshake NIOSSL failed with `error`; nil when BoringSSL reported
    /// nothing (the peer closed during the handshake: Envoy gives no reason then either).
    static func of(_ error: NIOSSLError) -> String? {
        guard case .handshakeFailed(.sslError(let stack)) = error else { return nil }
        let entries = stack.compactMap { entry(String(describing: $0)) }
        guard !entries.isEmpty else { return nil }
        return "TLS_error:" + entries.joined() + ":TLS_error_end"
    }

    /// `|code:library:function:reason` of NIOSSL's description of one BoringSSL error
    /// (`Error: CODE error:HEX:LIBRARY:FUNCTION:REASON at FILE:LINE`).
    static func entry(_ description: String) -> String? {
        guard description.hasPrefix("Error: ") else { return nil }
        let rest = description.dropFirst("Error: ".count)
        guard let space = rest.firstIndex(of: " ") else { return nil }
        let code = rest[..<space]
        var text = rest[rest.index(after: space)...]
        if let at = text.range(of: " at ", options: .backwards) { text = text[..<at.lowerBound] }
        let parts = text.split(separator: ":", maxSplits: 4, omittingEmptySubsequences: false)
        guard !code.isEmpty, code.allSatisfy(\.isNumber), parts.count == 5, parts[0] == "error" else { return nil }
        return "|\(code):\(parts[2]):\(parts[3]):\(parts[4])"
    }
}
