import Crypto
import LedgerAuditCore

/// Events from a PostgreSQL store that is not the reference table (the Python `eventsourcing`
/// library, Message DB, Marten, Eventuous, …), laid out by the catalog's `store:` mapping.
///
/// The query selects only the columns the mapping names, each as text (bytea as its bytes), in
/// the store's global order, by binary COPY in the run's one read-only snapshot. Identifiers are
/// quoted; nothing from the catalog is spliced as a value. Every row is read (sequence stores
/// have no HLC index to bound on) and the scope is applied here, so an event's place in the
/// order (`orderPosition`) is the same in every pass over the snapshot.
public struct MappedStoreSource: BatchLendingEventSource {
    public let session: PostgresSession
    public let store: StoreLocation
    public let mapping: StoreMapping

    public init(session: PostgresSession, store: StoreLocation, mapping: StoreMapping) {
        self.session = session
        self.store = store
        self.mapping = mapping
    }

    public var redactedDescription: String { "postgresql: \(session.redactedConnection), table \(store.quotedTableName)" }

    /// The selected columns, in query order: each column the fields read, then the order columns.
    public var selectedColumns: [StoreMapping.Column] {
        var out: [StoreMapping.Column] = []
        for field in StoreMapping.Field.allCases {
            if let c = mapping.source(field).column, !out.contains(c) { out.append(c) }
        }
        for c in mapping.order where !out.contains(c) { out.append(c) }
        return out
    }

    func expression(_ c: StoreMapping.Column) -> String {
        let ref = (c.joined ? "j." : "e.") + ConnectionString.quoteIdentifier(c.name)
        // bytea arrives as its bytes (UTF-8 JSON, checked here); everything else as PostgreSQL's text.
        return mapping.jsonType(c) == .bytea ? ref + "::bytea" : ref + "::text"
    }

    /// The SELECT behind the stream. Public for the benchmark and tests.
    public var eventQuery: String {
        var from = "\(store.quotedTableName) AS e"
        if let join = mapping.join {
            let on = join.on.map { "e.\(ConnectionString.quoteIdentifier($0.events)) = j.\(ConnectionString.quoteIdentifier($0.joined))" }.joined(separator: " AND ")
            from += " JOIN \(ConnectionString.quoteIdentifier(join.schema)).\(ConnectionString.quoteIdentifier(join.table)) AS j ON \(on)"
        }
        let order = mapping.order.map { "e." + ConnectionString.quoteIdentifier($0.name) }.joined(separator: ", ")
        return "SELECT \(selectedColumns.map(expression).joined(separator: ", ")) FROM \(from) ORDER BY \(order)"
    }

    /// The rows `Limits.databaseRowsLentPerBatch` at a time, as decoded (`BatchLendingEventSource`).
    public func streamBatches(scope: ReplayScope, _ body: (UnsafeMutableBufferPointer<SourceRow>) throws -> Void) throws -> SourceReport {
        var report = SourceReport()
        report.notes.append("one READ ONLY transaction at REPEATABLE READ")
        report.notes.append("store layout from the catalog: order by \(mapping.orderDescription)")
        if mapping.timeWithoutZone { report.notes.append("time column \(mapping.source(.time)) has no zone: read as UTC") }
        ServerSortNote.add(to: &report, for: eventQuery, orderColumns: mapping.order.map { ConnectionString.quoteIdentifier($0.name) }.joined(separator: ", "), session: session)
        var decoder = BinaryCopyDecoder(fieldCount: selectedColumns.count)
        var rows = MappedRowDecoder(mapping: mapping, columns: selectedColumns)
        var batch = RowBatch()
        try session.copyOut("COPY (\(eventQuery)) TO STDOUT (FORMAT binary)") { message in
            guard let fields = try decoder.fields(of: message) else { return }
            report.rowsRead += 1
            let row = rows.decode(fields, rowNumber: Int64(report.rowsRead))
            if case .event(let e) = row, !scope.includes(e) { return }
            try batch.add(row, body)
        }
        try batch.lend(body)
        return report
    }
}

/// Turns one selected row into an `EventRecord` as the mapping says, naming the field and the
/// store column when a value does not fit. Keeps, per stream, its currency (when the store
/// names it once per stream) and, when causation values are positions, each position's event.
struct MappedRowDecoder {
    let mapping: StoreMapping
    let index: [StoreMapping.Column: Int]
    let orderIndex: Int
    /// Stream → the currency its opening event named (memory in proportion to streams).
    var streamCurrency: [EventID: String] = [:]
    /// Order position value → event id, for causation by position (Message DB); 24 B an event.
    var eventAtPosition: [Int64: EventID] = [:]

    init(mapping: StoreMapping, columns: [StoreMapping.Column]) {
        self.mapping = mapping
        var index: [StoreMapping.Column: Int] = [:]
        for (i, c) in columns.enumerated() { index[c] = i }
        self.index = index
        orderIndex = index[mapping.order[0]]!
    }

    struct Problem: Error { var message: String }

    mutating func decode(_ f: [UnsafeRawBufferPointer?], rowNumber: Int64) -> SourceRow {
        let location = "row \(rowNumber) of the store"
        var eventId: EventID?
        var aggregateId: EventID?
        do {
            // Each JSON column parsed at most once a row.
            var cache = [JSONValue?](repeating: nil, count: f.count)
            func text(_ field: StoreMapping.Field) throws -> String? {
                try self.text(field, f, &cache)
            }
            guard let streamText = try text(.stream), !streamText.isEmpty else { throw Problem(message: "the stream (\(mapping.source(.stream))) is empty or null") }
            let streamName = EventID(streamText) == nil ? streamText : nil
            let aggregate = EventID(streamText) ?? MappedRowDecoder.derivedID("stream", streamText)
            aggregateId = aggregate
            guard let versionText = try text(.streamVersion), let version = Int64(versionText) else {
                throw Problem(message: "the stream version (\(mapping.source(.streamVersion))) is not a 64-bit integer")
            }
            let id: EventID
            if mapping.records(.eventId) {
                guard let t = try text(.eventId), !t.isEmpty else { throw Problem(message: "the event id (\(mapping.source(.eventId))) is empty or null") }
                id = EventID(t) ?? MappedRowDecoder.derivedID("event", t)
            } else {
                // No id of its own: the stream and version name the event.
                id = MappedRowDecoder.derivedID("event", streamText + "/" + String(version))
            }
            eventId = id
            guard var type = try text(.eventType), !type.isEmpty else { throw Problem(message: "the event type (\(mapping.source(.eventType))) is empty or null") }
            if mapping.eventTypeFromTopic, let colon = type.lastIndex(of: ":") { type = String(type[type.index(after: colon)...]) }
            guard let timeText = try text(.time) else { throw Problem(message: "the time (\(mapping.source(.time))) is null") }
            guard let timeUs = time(timeText) else {
                throw Problem(message: "the time (\(mapping.source(.time))) is not \(mapping.timeEpochUnit.map { "an integer count of \($0.rawValue) since 1970 within the years 1 to 9999" } ?? "a timestamp\(mapping.timeWithoutZone ? "" : " with a zone (set store.time_without_zone: true for a timestamp column, or store.time_epoch for an integer)")"): '\(RowDecoder.clip(timeText))'")
            }
            guard timeUs >= Limits.instantMinUs, timeUs <= Limits.instantMaxUs else { throw Problem(message: "the time is outside the years 1 to 9999") }
            let payload = try json(.payload, f, &cache)
            let metadata = mapping.records(.metadata) ? try json(.metadata, f, &cache) : JSONText.emptyObject
            var causation: EventID?
            if let t = try text(.causation), !t.isEmpty {
                switch mapping.causationNames {
                case .eventId: causation = EventID(t) ?? MappedRowDecoder.derivedID("event", t)
                case .position:
                    guard let p = Int64(t) else { throw Problem(message: "the causation (\(mapping.source(.causation))) is not a position: '\(RowDecoder.clip(t))'") }
                    // A position no event had (yet) stands for itself, so the causation check names it.
                    causation = eventAtPosition[p] ?? MappedRowDecoder.derivedID("position", t)
                }
            }
            let correlation = try text(.correlation).flatMap { $0.isEmpty ? nil : (EventID($0) ?? MappedRowDecoder.derivedID("correlation", $0)) } ?? id
            let actor = try text(.actor).flatMap { $0.isEmpty ? nil : (EventID($0) ?? MappedRowDecoder.derivedID("actor", $0)) }
            if mapping.causationNames == .position, let raw = f[orderIndex], let p = Int64(MappedRowDecoder.string(raw) ?? "") {
                eventAtPosition[p] = id
            }
            if let path = mapping.streamCurrencyPath, streamCurrency[aggregate] == nil,
               case .string(let code)? = payload.value(at: path).value {
                streamCurrency[aggregate] = code
            }
            let record = EventRecord(
                eventId: id, eventType: type, aggregateId: aggregate, streamVersion: version, causationId: causation,
                correlationId: correlation, hlcPhysicalMs: Instant.floorDivMod(timeUs, 1000).0, hlcLogical: 0,
                vectorClock: JSONText.emptyObject, payload: payload, metadata: metadata, userId: actor, recordedAtUs: timeUs,
                orderPosition: rowNumber, streamName: streamName, streamCurrency: streamCurrency[aggregate])
            return .event(record)
        } catch let p as Problem {
            return .malformed(MalformedRow(location: location, reason: p.message, eventId: eventId, aggregateId: aggregateId))
        } catch {
            return .malformed(MalformedRow(location: location, reason: "\(error)", eventId: eventId, aggregateId: aggregateId))
        }
    }

    /// µs since the epoch from the time field's text, or nil.
    func time(_ text: String) -> Int64? {
        if let unit = mapping.timeEpochUnit {
            guard let n = Int64(text) else { return nil }
            let (us, overflow) = n.multipliedReportingOverflow(by: unit.microseconds)
            return overflow ? nil : us
        }
        return Instant.parseTimestampUs(mapping.timeWithoutZone && !MappedRowDecoder.hasZone(text) ? text + "+00" : text)
    }

    static func hasZone(_ t: String) -> Bool {
        // A zone is a trailing Z or a +hh / -hh after the time (the date's dashes come first).
        guard let last = t.utf8.last else { return false }
        if last == UInt8(ascii: "Z") || last == UInt8(ascii: "z") { return true }
        return t.utf8.dropFirst(10).contains(UInt8(ascii: "+")) || t.utf8.dropFirst(10).contains(UInt8(ascii: "-"))
    }

    static func string(_ raw: UnsafeRawBufferPointer) -> String? {
        // Checked in place and copied as checked (`String(validating:)` is generic code, slow a field).
        ByteScan.stringIfUTF8(raw.bindMemory(to: UInt8.self))
    }

    /// A field as text: a column's text, or the scalar at a JSON path (strings and numbers).
    func text(_ field: StoreMapping.Field, _ f: [UnsafeRawBufferPointer?], _ cache: inout [JSONValue?]) throws -> String? {
        switch mapping.source(field) {
        case .absent: return nil
        case .column(let c):
            guard let raw = f[index[c]!] else { return nil }
            guard let s = MappedRowDecoder.string(raw) else { throw Problem(message: "column \(c.name) is not UTF-8") }
            return s
        case .json(let c, let path):
            let doc = try parsed(c, f, &cache)
            var value: JSONValue? = mapping.typeTaggedValues ? doc.untagged : doc
            for key in path {
                guard let v = value, case .object = v else { return nil }
                if v.memberCount(key) > 1 { throw Problem(message: "\(field.rawValue) (\(mapping.source(field))) appears more than once") }
                value = mapping.typeTaggedValues ? v.member(key)?.untagged : v.member(key)
            }
            switch value {
            case nil, .null?: return nil
            case .string(let s)?: return s
            case .number(let n)?: return n
            case let other?: throw Problem(message: "\(field.rawValue) (\(mapping.source(field))) is a JSON \(other.kindName), not text")
            }
        }
    }

    /// A JSON column's document, parsed once a row.
    func parsed(_ c: StoreMapping.Column, _ f: [UnsafeRawBufferPointer?], _ cache: inout [JSONValue?]) throws -> JSONValue {
        let i = index[c]!
        if let v = cache[i] { return v }
        guard let raw = f[i] else { return .null }
        guard let s = MappedRowDecoder.string(raw) else { throw Problem(message: "column \(c.name) is not UTF-8") }
        do {
            let v = try JSONParser.parse(s)
            cache[i] = v
            return v
        } catch {
            throw Problem(message: "column \(c.name) is not valid JSON (\(error))")
        }
    }

    /// Payload or metadata: a whole JSON column (jsonb's text kept as it is), or a JSON path.
    func json(_ field: StoreMapping.Field, _ f: [UnsafeRawBufferPointer?], _ cache: inout [JSONValue?]) throws -> JSONText {
        switch mapping.source(field) {
        case .absent: return JSONText.emptyObject
        case .column(let c):
            // Stores allow a message without data (Message DB's data is nullable): it carries nothing.
            guard let raw = f[index[c]!] else { return JSONText.emptyObject }
            if mapping.jsonType(c) == .jsonb && !mapping.typeTaggedValues {
                guard let s = MappedRowDecoder.string(raw) else { throw Problem(message: "\(field.rawValue) (column \(c.name)) is not UTF-8") }
                return JSONText(validated: s, isJSONBOutput: true)
            }
            // Parsed once and written as jsonb prints it, so the canonical encoding takes the
            // text as it is (no second parse); type tags are read through here, once.
            let value = try parsed(c, f, &cache)
            return JSONText(validated: JSONWriter.jsonbText(mapping.typeTaggedValues ? value.deepUntagged : value), isJSONBOutput: true)
        case .json(let c, let path):
            var value: JSONValue? = try parsed(c, f, &cache)
            for key in path { value = value?.member(key) }
            guard let value, value != .null else { throw Problem(message: "\(field.rawValue) (\(mapping.source(field))) is missing") }
            return JSONText(validated: JSONWriter.jsonbText(mapping.typeTaggedValues ? value.deepUntagged : value), isJSONBOutput: true)
        }
    }

    /// A stable UUID for a value the store keeps as text (a stream name, an id that is not a
    /// UUID): SHA-256 of kind and text, as a version-8 UUID. Two stores with the same text get
    /// the same id, so cells and re-runs agree.
    static func derivedID(_ kind: String, _ text: String) -> EventID {
        let digest = Array(SHA256.hash(data: Array(("ledger-audit:" + kind + ":" + text).utf8)))
        var high: UInt64 = 0, low: UInt64 = 0
        for i in 0..<8 { high = high << 8 | UInt64(digest[i]) }
        for i in 8..<16 { low = low << 8 | UInt64(digest[i]) }
        high = (high & ~0xF000) | 0x8000  // version 8
        low = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000  // RFC 4122 variant
        return EventID(high: high, low: low)
    }
}
