// The only file that imports json-c.
import CJSONC

extension JSON {
    /// `serialized()` as json-c writes it: the reference the Swift writer is tested against.
    func jsoncSerialized() -> String {
        let obj = JSON.makeObject(self)
        defer { json_object_put(obj) }
        let flags = Int32(JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)
        var length = 0
        guard let cstr = json_object_to_json_string_length(obj, flags, &length) else { return "null\n" }
        // Copy before json_object_put frees the buffer.
        let text = String(decoding: UnsafeRawBufferPointer(start: cstr, count: length), as: UTF8.self)
        return JSON.compactEmptyContainers(text) + "\n"
    }

    /// `compactText()` as json-c writes it, for the same test.
    func jsoncCompactText() -> String {
        let obj = JSON.makeObject(self)
        defer { json_object_put(obj) }
        let flags = Int32(JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
        var length = 0
        guard let cstr = json_object_to_json_string_length(obj, flags, &length) else { return "null" }
        return String(decoding: UnsafeRawBufferPointer(start: cstr, count: length), as: UTF8.self)
    }

    /// Parses a JSON text with json-c (object key order kept).
    public static func parse(_ text: String) throws(JSONParseError) -> JSON {
        guard let tok = json_tokener_new_ex(Int32(JSON_TOKENER_DEFAULT_DEPTH)) else {
            throw JSONParseError(message: "out of memory", offset: 0)
        }
        defer { json_tokener_free(tok) }
        json_tokener_set_flags(tok, Int32(JSON_TOKENER_STRICT))
        var bytes = Array(text.utf8)
        let parsed: OpaquePointer? = bytes.withUnsafeMutableBufferPointer { buf in
            buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) {
                json_tokener_parse_ex(tok, $0, Int32(buf.count))
            }
        }
        let err = json_tokener_get_error(tok)
        if err != json_tokener_success {
            let message = String(cString: json_tokener_error_desc(err))
            if let parsed { json_object_put(parsed) }
            throw JSONParseError(message: message, offset: Int(json_tokener_get_parse_end(tok)))
        }
        let end = Int(json_tokener_get_parse_end(tok))
        if end < bytes.count, bytes[end...].contains(where: { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }) {
            if let parsed { json_object_put(parsed) }
            throw JSONParseError(message: "unexpected text after the JSON value", offset: end)
        }
        defer { if let parsed { json_object_put(parsed) } }
        return convert(parsed)
    }

    private static func convert(_ o: OpaquePointer?) -> JSON {
        guard let o else { return .null }
        switch json_object_get_type(o) {
        case json_type_null: return .null
        case json_type_boolean: return .bool(json_object_get_boolean(o) != 0)
        case json_type_int: return .int(json_object_get_int64(o))
        case json_type_double: return .double(json_object_get_double(o))
        case json_type_string:
            let len = Int(json_object_get_string_len(o))
            guard let p = json_object_get_string(o) else { return .string("") }
            return .string(String(decoding: UnsafeRawBufferPointer(start: p, count: len), as: UTF8.self))
        case json_type_array:
            let n = json_object_array_length(o)
            return .array((0..<n).map { convert(json_object_array_get_idx(o, $0)) })
        case json_type_object:
            var result = JSONObject()
            // json-c iterates an object in insertion order.
            var it = json_object_iter_begin(o)
            var end = json_object_iter_end(o)
            while json_object_iter_equal(&it, &end) == 0 {
                let key = String(cString: json_object_iter_peek_name(&it))
                result[key] = convert(json_object_iter_peek_value(&it))
                json_object_iter_next(&it)
            }
            return .object(result)
        default: return .null
        }
    }

    private static func makeObject(_ v: JSON) -> OpaquePointer? {
        switch v {
        case .null: return nil
        case .bool(let b): return json_object_new_boolean(b ? 1 : 0)
        case .int(let i): return json_object_new_int64(i)
        case .double(let d):
            return json_object_new_double_s(d, doubleText(d))
        case .string(let s):
            var s = s
            return s.withUTF8 { buf in
                buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(buf.count, 1)) {
                    json_object_new_string_len($0, Int32(buf.count))
                }
            }
        case .array(let items):
            let a = json_object_new_array_ext(Int32(items.count))
            for item in items { json_object_array_add(a, makeObject(item)) }
            return a
        case .object(let obj):
            let o = json_object_new_object()
            for (k, v) in obj.members { json_object_object_add(o, k, makeObject(v)) }
            return o
        }
    }

    /// json-c prints an empty container over two lines; make it `{}` / `[]`. A raw newline
    /// never occurs inside a JSON string, so this cannot touch string contents.
    private static func compactEmptyContainers(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "{") || b == UInt8(ascii: "[") {
                var j = i + 1
                if j < bytes.count, bytes[j] == UInt8(ascii: "\n") {
                    j += 1
                    while j < bytes.count, bytes[j] == UInt8(ascii: " ") { j += 1 }
                    let close = b == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                    if j < bytes.count, bytes[j] == close {
                        out.append(b)
                        out.append(close)
                        i = j + 1
                        continue
                    }
                }
            }
            out.append(b)
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
