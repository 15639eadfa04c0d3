/// One event as a line of a JSONL extract (the shape `--source FILE.jsonl` reads), for an
/// evidence pack's population extract: card numbers in payload and metadata are masked
/// (first six and last four digits kept), `recorded_at` in UTC with microseconds.
public enum EventJSONLine {
    /// `recordedAt` overrides the UTC rendering (the generator writes regional offsets);
    /// `masking: false` writes payload and metadata as they are.
    public static func encode(_ e: EventRecord, recordedAt: String? = nil, masking: Bool = true) -> String {
        var line = "{\"event_id\":\"\(e.eventId)\",\"event_type\":"
        JSONWriter.writeString(masking ? CardMask.masked(e.eventType) : e.eventType, into: &line)
        line += ",\"aggregate_id\":\"\(e.aggregateId)\",\"stream_version\":\(e.streamVersion),\"causation_id\":"
        line += e.causationId.map { "\"\($0)\"" } ?? "null"
        line += ",\"correlation_id\":\"\(e.correlationId)\",\"hlc_physical\":\(e.hlcPhysicalMs),\"hlc_logical\":\(e.hlcLogical),\"vector_clock\":"
        line += masking ? masked(e.vectorClock) : e.vectorClock.text
        line += ",\"payload\":" + (masking ? masked(e.payload) : e.payload.text)
        line += ",\"metadata\":" + (masking ? masked(e.metadata) : e.metadata.text)
        line += ",\"user_id\":" + (e.userId.map { "\"\($0)\"" } ?? "null")
        line += ",\"recorded_at\":\"" + (recordedAt ?? Instant.iso8601(us: e.recordedAtUs)) + "\"}\n"
        return line
    }

    /// The JSON with card numbers masked, still valid JSON: a card number held as a JSON
    /// number becomes a string (`"************1111"`), as digits and `*` are not a number.
    static func masked(_ json: JSONText) -> String {
        let text = json.text
        guard CardMask.masked(text) != text, let value = try? JSONParser.parse(text) else { return text }
        return JSONWriter.jsonbText(mask(value))
    }

    static func mask(_ v: JSONValue) -> JSONValue {
        switch v {
        case .string(let s): return .string(CardMask.masked(s))
        case .number(let n):
            let m = CardMask.masked(n)
            return m == n ? v : .string(m)
        case .array(let items): return .array(items.map(mask))
        case .object(let members): return .object(members.map { ($0.0, mask($0.1)) })
        case .null, .bool: return v
        }
    }
}
