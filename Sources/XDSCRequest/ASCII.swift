extension String {
    /// ASCII-only lower-casing, as Envoy's `absl::AsciiStrToLower`.
    /// Already lower-case text (names and hosts mostly are) is returned without a copy.
    public var asciiLowercased: String {
        guard Self.hasASCIIUppercase(utf8) else { return self }
        // Written straight into the new string: no byte array in between, and a name of up
        // to 15 bytes (most header names) is a small string, with no allocation at all.
        let bytes = utf8
        return String(unsafeUninitializedCapacity: bytes.count) { out in
            var i = 0
            for b in bytes {
                out[i] = b &- 0x41 < 26 ? b + 32 : b
                i += 1
            }
            return i
        }
    }

    /// Whether `bytes` holds an ASCII capital, scanning the contiguous UTF-8 directly
    /// (native strings are) in a plain loop: most header lookups are of absent names, each
    /// scanned once, so this runs several times per proxied request.
    static func hasASCIIUppercase(_ bytes: UTF8View) -> Bool {
        bytes.withContiguousStorageIfAvailable { b in
            var i = 0
            while i < b.count {
                if b[i] &- 0x41 < 26 { return true }
                i &+= 1
            }
            return false
        } ?? bytes.contains { $0 &- 0x41 < 26 }
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
