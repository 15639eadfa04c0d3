/// The canonical encoding of one event, `ledger-audit-canonical-v1`: the bytes behind the
/// reports' events digest and the seals' Merkle leaves. Anyone can recompute it:
///
/// a JSON array, no whitespace, of the 13 columns in table order —
/// `["event_id","event_type","aggregate_id",stream_version,"causation_id"|null,"correlation_id",
///   hlc_physical,hlc_logical,vector_clock,payload,metadata,"user_id"|null,recorded_at_us]` —
/// UUIDs in lower-case 8-4-4-4-12 form, `recorded_at` as integer microseconds since the Unix
/// epoch (UTC), JSON columns exactly as PostgreSQL's jsonb prints them — object keys shorter
/// first, then bytewise, the last of duplicate keys kept; `", "` between members and elements,
/// `": "` after keys, no other whitespace; numbers as stored; strings escaping only `"`, `\` and
/// control characters (`\b \f \n \r \t`, others `\u00xx`), other characters as UTF-8.
/// From PostgreSQL the JSON columns are taken as they arrive; from files they are re-written.
public enum CanonicalEvent {
    public static let name = "ledger-audit-canonical-v1"

    public static func encode(_ e: EventRecord, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        uuid(e.eventId, &out); out.append(0x2C)
        string(e.eventType, &out); out.append(0x2C)
        uuid(e.aggregateId, &out); out.append(0x2C)
        integer(e.streamVersion, &out); out.append(0x2C)
        optionalUUID(e.causationId, &out); out.append(0x2C)
        uuid(e.correlationId, &out); out.append(0x2C)
        integer(e.hlcPhysicalMs, &out); out.append(0x2C)
        integer(Int64(e.hlcLogical), &out); out.append(0x2C)
        json(e.vectorClock, &out); out.append(0x2C)
        json(e.payload, &out); out.append(0x2C)
        json(e.metadata, &out); out.append(0x2C)
        optionalUUID(e.userId, &out); out.append(0x2C)
        integer(e.recordedAtUs, &out)
        out.append(UInt8(ascii: "]"))
    }

    public static func encode(_ e: EventRecord) -> [UInt8] {
        var out: [UInt8] = []
        encode(e, into: &out)
        return out
    }

    static func uuid(_ id: EventID, _ out: inout [UInt8]) {
        out.append(0x22)
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: 36))
        out.withUnsafeMutableBufferPointer { b in
            id.writeHex(into: UnsafeMutableBufferPointer(rebasing: b[start..<(start + 36)]))
        }
        out.append(0x22)
    }

    static func optionalUUID(_ id: EventID?, _ out: inout [UInt8]) {
        if let id { uuid(id, &out) } else { out.append(contentsOf: "null".utf8) }
    }

    /// Decimal digits, written without a String.
    static func integer(_ v: Int64, _ out: inout [UInt8]) {
        if v < 0 { out.append(0x2D) }
        var magnitude = v.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var n = 0
            repeat {
                digits[n] = UInt8(truncatingIfNeeded: magnitude % 10) + 0x30
                magnitude /= 10
                n += 1
            } while magnitude > 0
            while n > 0 { n -= 1; out.append(digits[n]) }
        }
    }

    static func string(_ s: String, _ out: inout [UInt8]) {
        JSONWriter.stringBytes(s, into: &out)
    }

    static func json(_ t: JSONText, _ out: inout [UInt8]) {
        var text = t.text
        if t.isJSONBOutput {
            text.withUTF8 { out.append(contentsOf: $0) }
            return
        }
        let written = text.withUTF8 { JSONBCanonical.write($0, into: &out) }
        if !written { JSONWriter.jsonbBytes(t.parse(), into: &out) }
    }
}
