/// One event as a line of a JSONL extract (the shape `--source FILE.jsonl` reads), for an
/// evidence pack's population extract: card numbers in payload and metadata are masked
/// (last four digits kept), `recorded_at` in UTC with microseconds.
public enum EventJSONLine {
    /// `recordedAt` overrides the UTC rendering (the generator writes regional offsets);
    /// `masking: false` writes payload and metadata as they are.
    public static func encode(_ e: EventRecord, recordedAt: String? = nil, masking: Bool = true) -> String {
        var line: [UInt8] = []
        line.reserveCapacity(512)
        encode(e, recordedAt: recordedAt, masking: masking, into: &line)
        return String(decoding: line, as: UTF8.self)
    }

    /// The same line appended to `out` as bytes: the population extract writes one an event.
    public static func encode(_ e: EventRecord, recordedAt: String? = nil, masking: Bool = true, into out: inout [UInt8]) {
        func text(_ s: StaticString) { out.appendBytes(UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount)) }
        func string(_ s: String) {
            out.appendBytes(of: s)
        }
        func quotedId(_ id: EventID) {
            out.append(0x22)
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 36) { hex in
                id.writeHex(into: hex)
                out.appendBytes(UnsafeBufferPointer(hex))
            }
            out.append(0x22)
        }
        func json(_ column: JSONText) {
            // Text with nothing to mask is copied as its bytes (no String made for it).
            if masking && CardMask.mayHoldCardNumber(column) { string(masked(column)) } else { column.withBytes { out.appendBytes($0) } }
        }
        text("{\"event_id\":")
        quotedId(e.eventId)
        text(",\"event_type\":")
        JSONWriter.stringBytes(masking ? CardMask.masked(e.eventType) : e.eventType, into: &out)
        text(",\"aggregate_id\":")
        quotedId(e.aggregateId)
        text(",\"stream_version\":")
        out.appendDecimal(e.streamVersion)
        text(",\"causation_id\":")
        if let c = e.causationId { quotedId(c) } else { text("null") }
        text(",\"correlation_id\":")
        quotedId(e.correlationId)
        text(",\"hlc_physical\":")
        out.appendDecimal(e.hlcPhysicalMs)
        text(",\"hlc_logical\":")
        out.appendDecimal(Int64(e.hlcLogical))
        text(",\"vector_clock\":")
        json(e.vectorClock)
        text(",\"payload\":")
        json(e.payload)
        text(",\"metadata\":")
        json(e.metadata)
        text(",\"user_id\":")
        if let u = e.userId { quotedId(u) } else { text("null") }
        text(",\"recorded_at\":\"")
        string(recordedAt ?? Instant.iso8601(us: e.recordedAtUs))
        text("\"}\n")
    }

    /// The JSON with card numbers masked, still valid JSON: a card number held as a JSON
    /// number becomes a string (`"************1111"`), as digits and `*` are not a number.
    /// Keys are masked too. Text with an escape is read as its values, since an escape can
    /// spell a digit the text does not show (`\u0034`); text with nothing to mask is kept
    /// byte for byte.
    static func masked(_ json: JSONText) -> String {
        let text = json.text
        guard CardMask.mayHoldCardNumber(json), let value = try? JSONParser.parse(text) else { return text }
        let masked = mask(value)
        return masked == value ? text : JSONWriter.jsonbText(masked)
    }

    static func mask(_ v: JSONValue) -> JSONValue {
        switch v {
        case .string(let s): return .string(CardMask.masked(s))
        case .number(let n):
            let m = CardMask.masked(n)
            return m == n ? v : .string(m)
        case .array(let items): return .array(items.map(mask))
        case .object(let members): return .object(zip(maskedKeys(members.map(\.0)), members).map { ($0, mask($1.1)) })
        case .null, .bool: return v
        }
    }

    /// An object's keys with card numbers masked, no two members merged: distinct card numbers
    /// with the same last four digits mask alike (and jsonb keeps only the last of equal keys),
    /// so a masked key that meets another key of the object takes the first free `~2`, `~3`, …
    /// suffix, in the members' order. The same key written twice stays one key, as it was.
    /// Keys compare byte for byte, as jsonb compares them.
    public static func maskedKeys(_ keys: [String]) -> [String] {
        let masked = keys.map(CardMask.masked)
        guard zip(keys, masked).contains(where: { !$0.utf8.elementsEqual($1.utf8) }) else { return keys }
        var taken = Set(zip(keys, masked).filter { $0.utf8.elementsEqual($1.utf8) }.map { Array($0.0.utf8) })
        var assigned: [[UInt8]: String] = [:]
        // Where each mask's search for a free suffix resumes: thousands of keys masking alike
        // (a hostile document) cost one step each, not a search from `~2` each.
        var nextSuffix: [[UInt8]: Int] = [:]
        return zip(keys, masked).map { key, mask in
            let original = Array(key.utf8)
            if original.elementsEqual(mask.utf8) { return key }
            if let earlier = assigned[original] { return earlier }
            let maskBytes = Array(mask.utf8)
            var candidate = mask
            var suffix = nextSuffix[maskBytes] ?? 1
            while taken.contains(Array(candidate.utf8)) {
                suffix += 1
                candidate = mask + "~" + String(suffix)
            }
            nextSuffix[maskBytes] = suffix
            taken.insert(Array(candidate.utf8))
            assigned[original] = candidate
            return candidate
        }
    }
}
