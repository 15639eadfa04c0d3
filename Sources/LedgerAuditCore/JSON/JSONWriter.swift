/// Serialises `JSONValue`s. `canonical` sorts object members bytewise by key (the last of
/// duplicates kept, as jsonb does) and writes no whitespace: the encoding behind digests and seals.
public enum JSONWriter {
    public static func write(_ value: JSONValue, canonical: Bool = false) -> String {
        var out = ""
        write(value, canonical: canonical, into: &out)
        return out
    }

    public static func write(_ value: JSONValue, canonical: Bool, into out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n
        case .string(let s): writeString(s, into: &out)
        case .array(let elements):
            out += "["
            for (i, e) in elements.enumerated() {
                if i > 0 { out += "," }
                write(e, canonical: canonical, into: &out)
            }
            out += "]"
        case .object(var members):
            if canonical { members = canonicalMembers(members) }
            out += "{"
            for (i, (k, v)) in members.enumerated() {
                if i > 0 { out += "," }
                writeString(k, into: &out)
                out += ":"
                write(v, canonical: canonical, into: &out)
            }
            out += "}"
        }
    }

    static func canonicalMembers(_ members: [(String, JSONValue)]) -> [(String, JSONValue)] {
        var lastByKey: [String: JSONValue] = [:]
        for (k, v) in members { lastByKey[k] = v }
        return lastByKey.sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
    }

    public static func writeString(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}

extension JSONWriter {
    /// The text PostgreSQL's jsonb prints: keys ordered by length then bytes, `", "` and `": "`.
    /// Extracts written by COPY look like this; the generator writes its CSV the same way.
    public static func jsonbText(_ value: JSONValue) -> String {
        var out = ""
        jsonbText(value, into: &out)
        return out
    }

    static func jsonbText(_ value: JSONValue, into out: inout String) {
        switch value {
        case .array(let elements):
            out += "["
            for (i, e) in elements.enumerated() {
                if i > 0 { out += ", " }
                jsonbText(e, into: &out)
            }
            out += "]"
        case .object(let members):
            var last: [String: JSONValue] = [:]
            for (k, v) in members { last[k] = v }
            let keys = last.keys.sorted { a, b in
                a.utf8.count != b.utf8.count ? a.utf8.count < b.utf8.count : a.utf8.lexicographicallyPrecedes(b.utf8)
            }
            out += "{"
            for (i, k) in keys.enumerated() {
                if i > 0 { out += ", " }
                writeString(k, into: &out)
                out += ": "
                jsonbText(last[k]!, into: &out)
            }
            out += "}"
        default:
            write(value, canonical: false, into: &out)
        }
    }
}
