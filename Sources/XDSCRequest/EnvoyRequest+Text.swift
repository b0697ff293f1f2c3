extension EnvoyRequest {
    /// The authority as examples show it: "" when absent.
    public var authorityText: String { authority ?? "" }
    /// The path as examples show it: "" for a path-less request.
    public var pathText: String { path ?? "" }

    /// The request as a `curl` command line (single-quoted for POSIX shells) that sends
    /// exactly this request's method, authority, path and extra headers: a present-but-empty
    /// header as `-H 'name;'` (curl drops a header written `name: ` with nothing after it),
    /// bytes curl or HTTP/1.1 will not carry raw in a URL (space, controls, non-ASCII)
    /// percent-encoded, `-g` when the URL holds `[]{}`, which curl would otherwise read as a
    /// glob, and `-I` for `HEAD`.
    public var curlCommand: String {
        var parts = ["curl"]
        // `-X HEAD` makes curl wait for a body that never comes; `-I` sends HEAD properly.
        if method == "HEAD" {
            parts.append("-I")
        } else if method != "GET" {
            parts += ["-X", method]
        }
        for h in headers {
            parts += ["-H", Self.shellQuote(h.value.isEmpty ? "\(h.name);" : "\(h.name): \(h.value)")]
        }
        let url = "http://\(authorityText)\(Self.urlEncoded(pathText))"
        if url.contains(where: { "[]{}".contains($0) }) { parts.append("-g") }
        parts.append(Self.shellQuote(url))
        return parts.joined(separator: " ")
    }

    /// `target` with every byte outside visible ASCII percent-encoded; everything else
    /// (including `%`) is kept, since Envoy matches the target as sent, without decoding.
    static func urlEncoded(_ target: String) -> String {
        var out = ""
        for b in target.utf8 {
            if (0x21...0x7E).contains(b) {
                out.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                out += "%" + (b < 0x10 ? "0" : "") + String(b, radix: 16, uppercase: true)
            }
        }
        return out
    }

    private static func shellQuote(_ s: String) -> String {
        "'" + s.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }
}
