/// Serialises `JSONValue`s. `canonical` orders object members as jsonb does (shorter keys first,
/// then bytewise; the last of duplicates kept) and writes no whitespace: the encoding behind
/// digests and seals, so a file extract and the database give the same bytes.
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
        return lastByKey.sorted { jsonbKeyOrder($0.key, $1.key) }
    }

    /// jsonb's key order: by length in bytes, then bytewise.
    static func jsonbKeyOrder(_ a: String, _ b: String) -> Bool {
        a.utf8.count != b.utf8.count ? a.utf8.count < b.utf8.count : bytewiseCompare(a, b) < 0
    }

    public static func writeString(_ s: String, into out: inout String) {
        let clean = s.withUTF8InPlace { JSONStringScan.isPlain($0) }
        if clean {
            out += "\""
            out += s
            out += "\""
            return
        }
        var bytes: [UInt8] = []
        stringBytes(s, into: &bytes)
        out += String(decoding: bytes, as: UTF8.self)
    }
}

extension JSONWriter {
    /// The text PostgreSQL's jsonb prints: keys ordered by length then bytes, `", "` and `": "`.
    /// Extracts written by COPY look like this; the generator writes its CSV the same way.
    /// Written into bytes (no String appends): it runs for every event of a file extract and of
    /// stores whose JSON is not jsonb.
    public static func jsonbText(_ value: JSONValue) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        jsonbBytes(value, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func jsonbBytes(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n): out.append(contentsOf: n.utf8)
        case .string(let s): stringBytes(s, into: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (i, e) in elements.enumerated() {
                if i > 0 { out.append(0x2C); out.append(0x20) }
                jsonbBytes(e, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            // The last of duplicate keys is kept, as jsonb does; small objects need no table.
            // Keys are the same only byte for byte, as jsonb compares them: Swift's String
            // equality would merge "é" written precomposed and decomposed, which jsonb keeps
            // as two keys (and the digest would then differ from the server's).
            var keep: [Int] = []
            keep.reserveCapacity(members.count)
            if members.count <= 16 {
                for i in members.indices {
                    var later = false
                    for j in (i + 1)..<members.count where members[j].0.utf8.elementsEqual(members[i].0.utf8) {
                        later = true
                        break
                    }
                    if !later { keep.append(i) }
                }
            } else {
                var lastIndex: [[UInt8]: Int] = [:]
                for (i, m) in members.enumerated() { lastIndex[Array(m.0.utf8)] = i }
                keep = Array(lastIndex.values)
            }
            keep.sort { jsonbKeyOrder(members[$0].0, members[$1].0) }
            out.append(UInt8(ascii: "{"))
            for (n, i) in keep.enumerated() {
                if n > 0 { out.append(0x2C); out.append(0x20) }
                stringBytes(members[i].0, into: &out)
                out.append(UInt8(ascii: ":")); out.append(0x20)
                jsonbBytes(members[i].1, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// A JSON string as `writeString` writes it, into bytes.
    static func stringBytes(_ s: String, into out: inout [UInt8]) {
        // Text with nothing to escape (event types, most keys and values) in one append.
        let plain = s.withUTF8InPlace { bytes -> Bool in
            guard JSONStringScan.isPlain(bytes) else { return false }
            out.append(0x22)
            out.appendBytes(bytes)
            out.append(0x22)
            return true
        }
        if plain { return }
        out.append(0x22)
        for b in s.utf8 {
            switch b {
            case 0x22: out.append(0x5C); out.append(0x22)
            case 0x5C: out.append(0x5C); out.append(0x5C)
            case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
            case 0x08: out.append(0x5C); out.append(UInt8(ascii: "b"))
            case 0x0C: out.append(0x5C); out.append(UInt8(ascii: "f"))
            case 0..<0x20:
                let hex: StaticString = "0123456789abcdef"
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex.utf8Start[Int(b >> 4)], hex.utf8Start[Int(b & 0xF)]])
            default: out.append(b)
            }
        }
        out.append(0x22)
    }
}
