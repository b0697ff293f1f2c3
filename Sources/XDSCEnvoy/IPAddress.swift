import XDSCJSON

/// An IPv4 or IPv6 address, as Envoy's `Network::Utility::parseInternetAddressNoThrow` reads
/// one (`inet_pton`: dotted decimal without leading zeros, or IPv6 text with an optional
/// embedded IPv4 tail; no brackets, no port) and `addressAsString` writes one (`inet_ntop`).
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// The address in network order: 4 bytes for IPv4, 16 for IPv6.
    public let bytes: [UInt8]

    /// An address from its bytes (4 or 16 of them).
    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses `text`; nil when it is not an address literal.
    public init?(_ text: some StringProtocol) {
        if let v4 = Self.parseIPv4(text) {
            bytes = v4
        } else if let v6 = Self.parseIPv6(text) {
            bytes = v6
        } else {
            return nil
        }
    }

    /// IPv4.
    public var isIPv4: Bool { bytes.count == 4 }

    /// `inet_ntop` text: dotted decimal, or lower-case IPv6 with the longest run of two or
    /// more zero groups (the first of equal runs) as `::`, and `::ffff:a.b.c.d` for an
    /// IPv4-mapped address.
    public var description: String {
        if isIPv4 { return bytes.map(String.init).joined(separator: ".") }
        var groups: [UInt16] = []
        for i in stride(from: 0, to: 16, by: 2) { groups.append(UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1])) }
        if groups[0..<5].allSatisfy({ $0 == 0 }) && groups[5] == 0xFFFF {
            return "::ffff:" + bytes[12...].map(String.init).joined(separator: ".")
        }
        var best = (start: -1, length: 0)
        var i = 0
        while i < 8 {
            guard groups[i] == 0 else {
                i += 1
                continue
            }
            var j = i
            while j < 8 && groups[j] == 0 { j += 1 }
            if j - i >= 2 && j - i > best.length { best = (i, j - i) }
            i = j
        }
        func hex(_ r: ArraySlice<UInt16>) -> String { r.map { String($0, radix: 16) }.joined(separator: ":") }
        guard best.start >= 0 else { return hex(groups[...]) }
        return hex(groups[0..<best.start]) + "::" + hex(groups[(best.start + best.length)...])
    }

    /// `Network::Utility::isLoopbackAddress`: exactly `127.0.0.1` or `::1`.
    public var isLoopback: Bool {
        isIPv4 ? bytes == [127, 0, 0, 1] : bytes == Array(repeating: 0, count: 15) + [1]
    }

    /// `Network::Utility::isInternalAddress`: RFC 1918 (`10/8`, `172.16/12`, `192.168/16`)
    /// and `127.0.0.1` for IPv4; `fd00::/8` (RFC 4193) and `::1` for IPv6.
    public var isRFC1918OrRFC4193: Bool {
        if isIPv4 {
            return bytes[0] == 10 || (bytes[0] == 192 && bytes[1] == 168) || (bytes[0] == 172 && (16...31).contains(bytes[1]))
                || isLoopback
        }
        return bytes[0] == 0xFD || isLoopback
    }

    static func parseIPv4(_ text: some StringProtocol) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for p in parts {
            guard (1...3).contains(p.utf8.count), p.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
            // glibc's inet_pton refuses a leading zero ("01").
            if p.utf8.count > 1 && p.utf8.first == 0x30 { return nil }
            guard let v = UInt8(p) else { return nil }
            out.append(v)
        }
        return out
    }

    static func parseIPv6(_ text: some StringProtocol) -> [UInt8]? {
        guard text.contains(":") else { return nil }
        var head = Substring(text)
        var tail: [UInt8] = []
        // An embedded IPv4 tail takes the last two groups.
        if let colon = head.lastIndex(of: ":"), head[head.index(after: colon)...].contains(".") {
            guard let v4 = parseIPv4(head[head.index(after: colon)...]) else { return nil }
            tail = v4
            head = head[...colon]
            if !head.hasSuffix("::") { head = head.dropLast() }
        }
        func groups(_ s: Substring) -> [UInt8]? {
            if s.isEmpty { return [] }
            var out: [UInt8] = []
            for g in s.split(separator: ":", omittingEmptySubsequences: false) {
                guard (1...4).contains(g.utf8.count), let v = UInt16(g, radix: 16) else { return nil }
                out += [UInt8(v >> 8), UInt8(v & 0xFF)]
            }
            return out
        }
        let halves = head.split(separator: ":", omittingEmptySubsequences: false)
        // `::` is the one place two colons meet.
        if let range = head.range(of: "::") {
            guard head[range.upperBound...].range(of: "::") == nil else { return nil }
            let front = head[..<range.lowerBound]
            let back = head[range.upperBound...]
            guard let f = groups(front), let b = groups(back) else { return nil }
            let fill = 16 - f.count - b.count - tail.count
            guard fill >= 2 else { return nil }
            return f + Array(repeating: 0, count: fill) + b + tail
        }
        guard halves.count + tail.count / 2 == 8, let all = groups(head) else { return nil }
        return all + tail
    }
}

/// `envoy.config.core.v3.CidrRange`: an address prefix and its length in bits.
public struct CidrRange: Hashable, Sendable {
    /// `address_prefix`.
    public var addressPrefix: IPAddress
    /// `prefix_len`: at most 32 for IPv4, 128 for IPv6.
    public var prefixLength: Int

    /// A range.
    public init(addressPrefix: IPAddress, prefixLength: Int) {
        self.addressPrefix = addressPrefix
        self.prefixLength = prefixLength
    }

    /// Whether `address` is in the range (`CidrRange::isInRange`: same family, the first
    /// `prefixLength` bits equal).
    public func contains(_ address: IPAddress) -> Bool {
        guard address.bytes.count == addressPrefix.bytes.count else { return false }
        var bits = prefixLength
        for i in address.bytes.indices where bits > 0 {
            let mask: UInt8 = bits >= 8 ? 0xFF : ~(0xFF >> UInt8(bits))
            if address.bytes[i] & mask != addressPrefix.bytes[i] & mask { return false }
            bits -= 8
        }
        return true
    }

    /// The Envoy v3 JSON form.
    public var json: JSON {
        .object(["address_prefix": .string(addressPrefix.description), "prefix_len": .int(Int64(prefixLength))])
    }
}
