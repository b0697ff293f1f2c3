/// HTTP/1.1 responses read back off the wire, strictly: a status line, header lines
/// (`name: value`, no bare CR or LF), then the body framed by `content-length`, by
/// `transfer-encoding: chunked` or, for the last response of a closed connection, by the
/// close. A response to `HEAD`, a 1xx, 204 or 304 has no body.
struct WireResponse {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    /// The values of header `name` (any case).
    func values(_ name: String) -> [String] { headers.filter { $0.name.lowercased() == name }.map(\.value) }

    /// Whether the response says the connection closes after it.
    var closes: Bool { values("connection").contains { $0.lowercased().contains("close") } }
}

/// Splits response bytes into `WireResponse`s.
struct WireResponseParser {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The responses, given the method of the request each answers (nil past the known
    /// requests), and whether the connection is closed; or what is malformed.
    static func parse(_ bytes: [UInt8], methods: [String], closed: Bool) -> Result<[WireResponse], WireError> {
        var parser = WireResponseParser(bytes)
        var out: [WireResponse] = []
        while parser.offset < bytes.count {
            let method = out.count < methods.count ? methods[out.count] : nil
            switch parser.response(head: method == "HEAD", closed: closed) {
            case .success(let r): out.append(r)
            case .failure(let e): return .failure(WireError(message: "response #\(out.count): \(e.message)"))
            }
        }
        return .success(out)
    }

    mutating func response(head: Bool, closed: Bool) -> Result<WireResponse, WireError> {
        guard let statusLine = line() else { return .failure(WireError(message: "no complete status line")) }
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0] == "HTTP/1.1", parts[1].count == 3, let status = Int(parts[1]), status >= 100 else {
            return .failure(WireError(message: "bad status line `\(statusLine)`"))
        }
        var headers: [(name: String, value: String)] = []
        while true {
            guard let l = line() else { return .failure(WireError(message: "headers end without an empty line")) }
            if l.isEmpty { break }
            guard let colon = l.firstIndex(of: ":"), colon != l.startIndex else {
                return .failure(WireError(message: "bad header line `\(l)`"))
            }
            headers.append((String(l[..<colon]), String(l[l.index(after: colon)...].drop { $0 == " " })))
        }
        var r = WireResponse(status: status, headers: headers, body: [])
        if head || status < 200 || status == 204 || status == 304 { return .success(r) }
        let lengths = Set(r.values("content-length"))
        let chunked = r.values("transfer-encoding").contains { $0.lowercased().contains("chunked") }
        if chunked && !lengths.isEmpty { return .failure(WireError(message: "both content-length and chunked")) }
        if lengths.count > 1 { return .failure(WireError(message: "content-lengths \(lengths.sorted()) differ")) }
        if let text = lengths.first {
            guard let n = Int(text), n >= 0 else { return .failure(WireError(message: "bad content-length `\(text)`")) }
            guard bytes.count - offset >= n else {
                return .failure(WireError(message: "body of \(bytes.count - offset) bytes, content-length \(n)"))
            }
            r.body = Array(bytes[offset..<offset + n])
            offset += n
            return .success(r)
        }
        if chunked {
            return chunks().map { body in
                r.body = body
                return r
            }
        }
        // Framed by the close: only the last response of a closed connection.
        guard closed else { return .failure(WireError(message: "no framing on an open connection")) }
        r.body = Array(bytes[offset...])
        offset = bytes.count
        return .success(r)
    }

    mutating func chunks() -> Result<[UInt8], WireError> {
        var body: [UInt8] = []
        while true {
            guard let sizeLine = line(), let size = Int(sizeLine.split(separator: ";").first ?? "", radix: 16), size >= 0 else {
                return .failure(WireError(message: "bad chunk size line"))
            }
            if size == 0 { break }
            guard bytes.count - offset >= size + 2, bytes[offset + size] == 13, bytes[offset + size + 1] == 10 else {
                return .failure(WireError(message: "chunk of \(size) bytes is cut short"))
            }
            body += bytes[offset..<offset + size]
            offset += size + 2
        }
        while true {
            guard let trailer = line() else { return .failure(WireError(message: "chunked body without its last CRLF")) }
            if trailer.isEmpty { return .success(body) }
        }
    }

    /// The next CRLF-terminated line (a bare CR or LF inside is malformed), or nil.
    mutating func line() -> String? {
        var i = offset
        while i + 1 < bytes.count {
            if bytes[i] == 13 && bytes[i + 1] == 10 {
                let text = bytes[offset..<i]
                guard !text.contains(13), !text.contains(10) else { return nil }
                offset = i + 2
                return String(decoding: text, as: UTF8.self)
            }
            if bytes[i] == 10 { return nil }
            i += 1
        }
        return nil
    }
}

/// What is malformed in the response bytes.
struct WireError: Error {
    var message: String
}
