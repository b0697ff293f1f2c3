extension String {
    /// ASCII-only lower-casing, as Envoy's `absl::AsciiStrToLower`.
    /// Already lower-case text (names and hosts mostly are) is returned without a copy.
    public var asciiLowercased: String {
        guard utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) else { return self }
        return String(decoding: utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 32 : $0 }, as: UTF8.self)
    }
}
