extension String {
    /// ASCII-only lower-casing, as Envoy's `absl::AsciiStrToLower`.
    /// Already lower-case text (names and hosts mostly are) is returned without a copy.
    public var asciiLowercased: String {
        guard Self.hasASCIIUppercase(utf8) else { return self }
        return String(decoding: utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 32 : $0 }, as: UTF8.self)
    }

    /// Whether `bytes` holds an ASCII capital, scanning the contiguous UTF-8 directly
    /// (native strings are), which the generic `contains(where:)` on the view does not.
    static func hasASCIIUppercase(_ bytes: UTF8View) -> Bool {
        bytes.withContiguousStorageIfAvailable { b in b.contains { $0 &- 0x41 < 26 } }
            ?? bytes.contains { $0 &- 0x41 < 26 }
    }
}
