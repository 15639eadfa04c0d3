import LedgerAuditCore

/// One column's value as a source delivers it, before typing.
enum ColumnValue {
    case null
    case text(String)
    case json(JSONValue)
    /// A nested JSON column of a JSONL line, kept as its (validated) text.
    case jsonText(JSONText)
    /// A UUID column already parsed where it was read (no String in between).
    case uuid(EventID)
    /// A timestamp column already parsed where it was read: µs since the epoch.
    case instantUs(Int64)
    /// An integer column already parsed where it was read, from text that is exactly this
    /// value's decimal form (`ColumnValue.integer(exactText:)`): words naming it quote that text.
    case integer(Int64)

    /// An integer column's bytes as a value when they are its plain decimal form (no sign but
    /// `-`, no leading zero, not `-0`, within 64 bits), so that `String(value)` gives the text
    /// back; nil for anything else, which goes the general way. A line's three integer columns
    /// boxed as JSON numbers were three allocations an event.
    static func integer(exactText bytes: UnsafeBufferPointer<UInt8>) -> ColumnValue? {
        // The plain form's shape; the digits are then read as `Int64(text)` reads them.
        guard let first = bytes.first else { return nil }
        let digits = first == 0x2D ? 1 : 0
        guard digits < bytes.count, bytes.count - digits <= 18 else { return nil }
        let lead = bytes[digits]
        guard lead >= 0x31 && lead <= 0x39 || (lead == 0x30 && bytes.count == 1) else { return nil }
        return JSONLFormat.decimalInt64(bytes).map(ColumnValue.integer)
    }
}

/// The event_store columns, in the order every source reads them.
enum EventColumn: Int, CaseIterable {
    case eventId, eventType, aggregateId, streamVersion, causationId, correlationId,
         hlcPhysical, hlcLogical, vectorClock, payload, metadata, userId, recordedAt

    var name: String {
        switch self {
        case .eventId: return "event_id"
        case .eventType: return "event_type"
        case .aggregateId: return "aggregate_id"
        case .streamVersion: return "stream_version"
        case .causationId: return "causation_id"
        case .correlationId: return "correlation_id"
        case .hlcPhysical: return "hlc_physical"
        case .hlcLogical: return "hlc_logical"
        case .vectorClock: return "vector_clock"
        case .payload: return "payload"
        case .metadata: return "metadata"
        case .userId: return "user_id"
        case .recordedAt: return "recorded_at"
        }
    }

    var nullable: Bool { self == .causationId || self == .userId }
}

/// Types the columns of one row (text or JSON values) into an `EventRecord`, naming the column
/// and the problem when a value does not fit.
struct RowDecoder {
    struct Problem: Error { var message: String }

    static func decode(_ value: (EventColumn) -> ColumnValue?, location: @autoclosure () -> String) -> SourceRow {
        var eventId: EventID?
        var aggregateId: EventID?
        do {
            let id = try uuid(value, .eventId)
            eventId = id
            let aggregate = try uuid(value, .aggregateId)
            aggregateId = aggregate
            let record = EventRecord(
                eventId: id!,
                eventType: try eventType(value),
                aggregateId: aggregate!,
                streamVersion: try int64(value, .streamVersion),
                causationId: try uuid(value, .causationId),
                correlationId: try uuid(value, .correlationId)!,
                hlcPhysicalMs: try int64(value, .hlcPhysical),
                hlcLogical: try int32(value, .hlcLogical),
                vectorClock: try json(value, .vectorClock),
                payload: try json(value, .payload),
                metadata: try json(value, .metadata),
                userId: try uuid(value, .userId),
                recordedAtUs: try timestamp(value, .recordedAt)
            )
            if let why = record.outOfRange { throw Problem(message: why) }
            return .event(record)
        } catch let p as Problem {
            return .malformed(MalformedRow(location: location(), reason: p.message, eventId: eventId, aggregateId: aggregateId))
        } catch {
            return .malformed(MalformedRow(location: location(), reason: "\(error)", eventId: eventId, aggregateId: aggregateId))
        }
    }

    static func present(_ value: (EventColumn) -> ColumnValue?, _ column: EventColumn) throws -> ColumnValue {
        guard let v = value(column) else {
            if column.nullable { return .null }
            throw Problem(message: "column \(column.name) is missing")
        }
        if case .null = v, !column.nullable { throw Problem(message: "column \(column.name) is null") }
        return v
    }

    static func clip(_ s: String) -> String { s.count > 40 ? String(s.prefix(40)) + "…" : s }

    static func uuid(_ value: (EventColumn) -> ColumnValue?, _ column: EventColumn) throws -> EventID? {
        switch try present(value, column) {
        case .null: return nil
        case .uuid(let id): return id
        case .text(let s), .json(.string(let s)):
            guard let id = EventID(s) else { throw Problem(message: "column \(column.name) is not a UUID: '\(clip(s))'") }
            return id
        case .json(let j): throw Problem(message: "column \(column.name) is a JSON \(j.kindName), not a UUID")
        case .jsonText: throw Problem(message: "column \(column.name) is JSON, not a UUID")
        case .instantUs: throw Problem(message: "column \(column.name) is a timestamp, not a UUID")
        case .integer: throw Problem(message: "column \(column.name) is a JSON number, not a UUID")
        }
    }

    static func eventType(_ value: (EventColumn) -> ColumnValue?) throws -> String {
        switch try present(value, .eventType) {
        case .text(let s), .json(.string(let s)):
            guard !s.isEmpty else { throw Problem(message: "column event_type is empty") }
            return s
        default: throw Problem(message: "column event_type is not text")
        }
    }

    static func integerText(_ value: (EventColumn) -> ColumnValue?, _ column: EventColumn) throws -> String {
        switch try present(value, column) {
        case .text(let s), .json(.string(let s)), .json(.number(let s)): return s
        case .integer(let v): return String(v)
        default: throw Problem(message: "column \(column.name) is not an integer")
        }
    }

    static func int64(_ value: (EventColumn) -> ColumnValue?, _ column: EventColumn) throws -> Int64 {
        if case .integer(let v)? = value(column) { return v }
        let s = try integerText(value, column)
        guard let v = Int64(s) else { throw Problem(message: "column \(column.name) is not a 64-bit integer: '\(clip(s))'") }
        return v
    }

    static func int32(_ value: (EventColumn) -> ColumnValue?, _ column: EventColumn) throws -> Int32 {
        if case .integer(let v)? = value(column), let narrow = Int32(exactly: v) { return narrow }
        let s = try integerText(value, column)
        guard let v = Int32(s) else { throw Problem(message: "column \(column.name) is not a 32-bit integer: '\(clip(s))'") }
        return v
    }

    static func json(_ value: (EventColumn) -> ColumnValue?, _ column: EventColumn) throws -> JSONText {
        switch try present(value, column) {
        case .null: throw Problem(message: "column \(column.name) is null")
        case .jsonText(let t): return t
        case .json(let j): return JSONText(j)
        case .uuid: throw Problem(message: "column \(column.name) is a UUID, not JSON")
        case .instantUs: throw Problem(message: "column \(column.name) is a timestamp, not JSON")
        case .integer(let v): return JSONText(.number(String(v)))
        case .text(let s):
            do {
                return try JSONText.validating(s)
            } catch {
                throw Problem(message: "column \(column.name) is not valid JSON (\(error))")
            }
        }
    }

    static func timestamp(_ value: (EventColumn) -> ColumnValue?, _ column: EventColumn) throws -> Int64 {
        switch try present(value, column) {
        case .instantUs(let us): return us
        case .text(let s), .json(.string(let s)):
            guard let us = Instant.parseTimestampUs(s) else {
                throw Problem(message: "column \(column.name) is not a timestamp with a zone offset: '\(clip(s))'")
            }
            return us
        default: throw Problem(message: "column \(column.name) is not a timestamp")
        }
    }
}
