extension String {
    /// ASCII-only lower-casing, as Envoy's `absl::AsciiStrToLower`.
    /// Already lower-case text (names and hosts mostly are) is returned without a copy.
    public var asciiLowercased: String {
        guard Self.hasASCIIUppercase(self) else { return self }
        // Written straight into the new string: no byte array in between, and a name of up
        // to 15 bytes (most header names) is a small string, with no allocation at all.
        var s = self
        return s.withUTF8 { bytes in
            String(unsafeUninitializedCapacity: bytes.count) { out in
                var i = 0
                while i < bytes.count {
                    let b = bytes[i]
                    out[i] = b &- 0x41 < 26 ? b + 32 : b
                    i &+= 1
                }
                return i
            }
        }
    }

    /// Whether `s` holds an ASCII capital. Eight bytes at a time: most header lookups are of
    /// absent names, each scanned once before it is lower-cased, so this runs a couple of
    /// dozen times per proxied request.
    static func hasASCIIUppercase(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { b in
            guard let base = b.baseAddress else { return false }
            let n = b.count
            var i = 0
            while i + 8 <= n {
                let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                let high: UInt64 = 0x8080_8080_8080_8080
                if w & high == 0 {
                    // Per byte below 0x80 (no carry crosses bytes): the high bit of `b + 0x3F`
                    // is set from `A` (0x41) up, that of `b + 0x25` from past `Z` (0x5A) up.
                    let fromA = w &+ 0x3F3F_3F3F_3F3F_3F3F
                    let pastZ = w &+ 0x2525_2525_2525_2525
                    if fromA & ~pastZ & high != 0 { return true }
                } else {
                    for j in i..<(i + 8) where b[j] &- 0x41 < 26 { return true }
                }
                i &+= 8
            }
            while i < n {
                if b[i] &- 0x41 < 26 { return true }
                i &+= 1
            }
            return false
        }
    }
}

/// HTTP tokens (RFC 9110 `tchar`): what methods and header names are made of.
public enum HTTPToken {
    /// An ASCII letter or digit or one of ``!#$%&'*+-.^_`|~``; any other byte (so any
    /// non-ASCII text, checked per UTF-8 byte) is not. Inlined into the callers: the
    /// proxy's request encoder checks every byte of every header name it sends.
    @inlinable
    public static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
            UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }
}
