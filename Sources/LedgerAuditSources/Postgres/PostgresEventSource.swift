import LedgerAuditCore

/// Events from PostgreSQL, streamed by binary COPY in global order with the scope in the query.
/// COPY takes no bind parameters, so bounds travel as transaction-local settings set through
/// a parameterised `set_config` and read back with `current_setting`: bound, never spliced.
public struct PostgresEventSource: EventSource {
    public let session: PostgresSession
    public let store: StoreLocation
    /// A parallel reader's share of the store: `lo <= hlc_physical < hi` (ms), or the whole store.
    public let hlcPhysicalRange: Range<Int64>?

    public init(session: PostgresSession, store: StoreLocation, hlcPhysicalRange: Range<Int64>? = nil) {
        self.session = session
        self.store = store
        self.hlcPhysicalRange = hlcPhysicalRange
    }

    public var redactedDescription: String { "postgresql: \(session.redactedConnection), table \(tableName)" }

    var tableName: String { store.quotedTableName }

    static let selectList = """
        event_id::uuid, event_type::text, aggregate_id::uuid, stream_version::int8, causation_id::uuid, \
        correlation_id::uuid, hlc_physical::int8, hlc_logical::int4, vector_clock::jsonb, payload::jsonb, \
        metadata::jsonb, user_id::uuid, recorded_at::timestamptz
        """

    /// The SELECT behind the stream, and the settings it reads. Public for the benchmark and tests.
    public func eventQuery(scope: ReplayScope) -> (sql: String, settings: [(String, String)]) {
        var conditions: [String] = []
        var settings: [(String, String)] = []
        if let m = scope.hlcPhysicalMaxMs {
            settings.append(("ledger_audit.hlc_physical_max", String(m)))
            conditions.append("hlc_physical <= current_setting('ledger_audit.hlc_physical_max')::int8")
        }
        if let m = scope.recordedAtMaxUs {
            settings.append(("ledger_audit.recorded_at_max", Instant.iso8601(us: m)))
            conditions.append("recorded_at <= current_setting('ledger_audit.recorded_at_max')::timestamptz")
        }
        if let k = scope.globalOrderMax {
            settings.append(("ledger_audit.order_max_physical", String(k.hlcPhysicalMs)))
            settings.append(("ledger_audit.order_max_logical", String(k.hlcLogical)))
            settings.append(("ledger_audit.order_max_event", k.eventId.description))
            conditions.append("(hlc_physical, hlc_logical, event_id) <= (current_setting('ledger_audit.order_max_physical')::int8, current_setting('ledger_audit.order_max_logical')::int4, current_setting('ledger_audit.order_max_event')::uuid)")
        }
        if let r = hlcPhysicalRange {
            settings.append(("ledger_audit.range_lo", String(r.lowerBound)))
            settings.append(("ledger_audit.range_hi", String(r.upperBound)))
            conditions.append("hlc_physical >= current_setting('ledger_audit.range_lo')::int8 AND hlc_physical < current_setting('ledger_audit.range_hi')::int8")
        }
        if let ids = scope.aggregateIds {
            settings.append(("ledger_audit.aggregates", "{" + ids.map(\.description).joined(separator: ",") + "}"))
            conditions.append("aggregate_id = ANY (current_setting('ledger_audit.aggregates')::uuid[])")
        }
        let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let sql = "SELECT \(PostgresEventSource.selectList) FROM \(tableName)\(whereClause) ORDER BY hlc_physical, hlc_logical, event_id"
        return (sql, settings)
    }

    public func stream(scope: ReplayScope, _ body: (SourceRow) throws -> Void) throws -> SourceReport {
        let (sql, settings) = eventQuery(scope: scope)
        for (name, value) in settings {
            _ = try session.query("SELECT set_config($1, $2, true)", [name, value])
        }
        var report = SourceReport()
        report.notes.append("one READ ONLY transaction at REPEATABLE READ")
        var decoder = BinaryCopyDecoder()
        var rowNumber = 0
        try session.copyOut("COPY (\(sql)) TO STDOUT (FORMAT binary)") { message in
            guard let fields = try decoder.fields(of: message) else { return }
            rowNumber += 1
            report.rowsRead += 1
            try body(BinaryCopyDecoder.row(fields, rowNumber: rowNumber))
        }
        return report
    }
}

extension StoreLocation {
    /// `"schema"."table"`, quoted as identifiers: never spliced as text.
    public var quotedTableName: String {
        ConnectionString.quoteIdentifier(schema) + "." + ConnectionString.quoteIdentifier(table)
    }
}
