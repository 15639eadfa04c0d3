import LedgerAuditCore

/// Events from PostgreSQL, streamed by binary COPY in global order with the scope in the query.
/// COPY takes no bind parameters, so bounds travel as transaction-local settings set through
/// a parameterised `set_config` and read back with `current_setting`: bound, never spliced.
public struct PostgresEventSource: BatchLendingEventSource {
    public let session: PostgresSession
    public let store: StoreLocation
    /// A parallel reader's share of the store: `lo <= hlc_physical < hi` (ms), or the whole store.
    public let hlcPhysicalRange: Range<Int64>?
    /// How the table's columns are read, when the caller has looked them up already (a
    /// parallel reader's ranges share one lookup); else looked up when the stream starts.
    public let columnForms: ColumnForms?

    public init(session: PostgresSession, store: StoreLocation, hlcPhysicalRange: Range<Int64>? = nil, columnForms: ColumnForms? = nil) {
        self.session = session
        self.store = store
        self.hlcPhysicalRange = hlcPhysicalRange
        self.columnForms = columnForms
    }

    public var redactedDescription: String { "postgresql: \(session.redactedConnection), table \(tableName)" }

    var tableName: String { store.quotedTableName }

    static let selectList = ColumnForms.reference.selectList

    /// How each column of the reference layout is read, from the types the table declares. The
    /// reference types are read as they are. Ids kept as text are read through a guarded cast:
    /// a value that is not a UUID quarantines its row (MALFORMED_EVENT naming the column) instead
    /// of stopping the run. A type whose cast could change a value without a word (a numeric
    /// time rounded to an integer, json's repeated keys dropped by jsonb) is refused up front.
    public struct ColumnForms: Sendable, Equatable {
        public static let idColumns = ["event_id", "aggregate_id", "causation_id", "correlation_id", "user_id"]
        /// Id columns declared as text (or varchar, char): read through the guarded cast.
        public var textIds: Set<String> = []
        /// recorded_at is a `timestamp` without zone: read as UTC (the session's TimeZone).
        public var recordedAtWithoutZone = false
        /// hlc_logical is a `bigint`: a value past 32 bits arrives as null (its row quarantined)
        /// instead of failing the cast, and with it the run.
        public var hlcLogicalWide = false

        public static let reference = ColumnForms()

        /// The id columns kept as text, in the reference layout's order.
        var textIdColumns: [String] { ColumnForms.idColumns.filter { textIds.contains($0) } }

        /// What PostgreSQL's uuid input accepts, and nothing else (braces both or neither).
        static let uuidPattern = "^([0-9a-f]{4}(-?[0-9a-f]{4}){7}|\\{[0-9a-f]{4}(-?[0-9a-f]{4}){7}\\})$"

        func id(_ column: String) -> String {
            guard textIds.contains(column) else { return column }
            return "(CASE WHEN \(column) ~* '\(ColumnForms.uuidPattern)' THEN \(column)::uuid END)"
        }

        var selectList: String {
            var list = """
                \(id("event_id"))::uuid, event_type::text, \(id("aggregate_id"))::uuid, stream_version::int8, \(id("causation_id"))::uuid, \
                \(id("correlation_id"))::uuid, hlc_physical::int8, \(hlcLogicalWide ? "(CASE WHEN hlc_logical BETWEEN -2147483648 AND 2147483647 THEN hlc_logical::int4 END)" : "hlc_logical::int4"), vector_clock::jsonb, payload::jsonb, \
                metadata::jsonb, \(id("user_id"))::uuid, recorded_at::timestamptz
                """
            if !textIds.isEmpty {
                // A 14th column: the text ids of this row that are not UUIDs, named for the finding.
                let checks = textIdColumns.map {
                    "CASE WHEN \($0) IS NOT NULL AND \($0) !~* '\(ColumnForms.uuidPattern)' THEN '\($0)' END"
                }
                list += ", concat_ws(', ', \(checks.joined(separator: ", ")))"
            }
            return list
        }

        /// From `format_type` of each column's base type (a domain over uuid is uuid).
        public init(declared: [String: String], table: String) throws(SourceError) {
            func refuse(_ column: String, _ type: String, _ why: String) -> SourceError {
                SourceError("\(table).\(column) is \(type): \(why); lay the table out with store.fields and json_columns (see \"Any PostgreSQL event store\" in the README)")
            }
            for column in ColumnForms.idColumns {
                switch declared[column] {
                case "uuid"?, nil: break
                case let t? where t == "text" || t.hasPrefix("character varying") || t.hasPrefix("character("): textIds.insert(column)
                case let t?: throw refuse(column, t, "an id is read as a uuid, from a uuid or a text column")
                }
            }
            for column in ["stream_version", "hlc_physical", "hlc_logical"] {
                if let t = declared[column], !["bigint", "integer", "smallint"].contains(t) {
                    throw refuse(column, t, "casting it to an integer would round a fraction away without a word")
                }
            }
            hlcLogicalWide = declared["hlc_logical"] == "bigint"
            for column in ["vector_clock", "payload", "metadata"] {
                if let t = declared[column], t != "jsonb" {
                    throw refuse(column, t, "casting it to jsonb would keep only the last of repeated keys (an amount given twice) without a word")
                }
            }
            switch declared["recorded_at"] {
            case "timestamp with time zone"?, nil: break
            case "timestamp without time zone"?: recordedAtWithoutZone = true
            case let t?: throw refuse("recorded_at", t, "a time is read from a timestamp, and text would be parsed by the server's DateStyle")
            }
        }

        init() {}
    }

    /// `columnForms`, or the forms the table's declared types call for.
    public func resolvedColumnForms() throws(SourceError) -> ColumnForms {
        if let columnForms { return columnForms }
        return try ColumnForms(declared: try declaredTypes(), table: tableName)
    }

    /// The declared type of each column of the table (domains by their base type).
    func declaredTypes() throws(SourceError) -> [String: String] {
        let rows = try session.query("""
            SELECT a.attname, format_type(COALESCE(NULLIF(t.typbasetype, 0), a.atttypid), NULL)
            FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
            WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
            """, [tableName])
        var types: [String: String] = [:]
        for row in rows where row.count == 2 {
            if let name = row[0], let type = row[1] { types[name] = type }
        }
        return types
    }

    /// The SELECT behind the stream, and the settings it reads. Public for the benchmark and tests.
    public func eventQuery(scope: ReplayScope, forms: ColumnForms = .reference) -> (sql: String, settings: [(String, String)]) {
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
            conditions.append("(hlc_physical, hlc_logical, \(forms.id("event_id"))) <= (current_setting('ledger_audit.order_max_physical')::int8, current_setting('ledger_audit.order_max_logical')::int4, current_setting('ledger_audit.order_max_event')::uuid)")
        }
        if let r = hlcPhysicalRange {
            settings.append(("ledger_audit.range_lo", String(r.lowerBound)))
            settings.append(("ledger_audit.range_hi", String(r.upperBound)))
            conditions.append("hlc_physical >= current_setting('ledger_audit.range_lo')::int8 AND hlc_physical < current_setting('ledger_audit.range_hi')::int8")
        }
        if let ids = scope.aggregateIds {
            settings.append(("ledger_audit.aggregates", "{" + ids.map(\.description).joined(separator: ",") + "}"))
            conditions.append("\(forms.id("aggregate_id")) = ANY (current_setting('ledger_audit.aggregates')::uuid[])")
        }
        let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        // Text ids are ordered as the uuids they hold (a text order is the collation's, not the spec's).
        let sql = "SELECT \(forms.selectList) FROM \(tableName)\(whereClause) ORDER BY hlc_physical, hlc_logical, \(forms.id("event_id"))"
        return (sql, settings)
    }

    /// The rows `Limits.databaseRowsLentPerBatch` at a time, as decoded (`BatchLendingEventSource`).
    public func streamBatches(scope: ReplayScope, _ body: (UnsafeMutableBufferPointer<SourceRow>) throws -> Void) throws -> SourceReport {
        let forms = try resolvedColumnForms()
        let (sql, settings) = eventQuery(scope: scope, forms: forms)
        for (name, value) in settings {
            _ = try session.query("SELECT set_config($1, $2, true)", [name, value])
        }
        var report = SourceReport()
        report.notes.append("one READ ONLY transaction at REPEATABLE READ")
        if forms.recordedAtWithoutZone { report.notes.append("recorded_at is a timestamp without time zone: read as UTC") }
        if !forms.textIds.isEmpty {
            report.notes.append("ids kept as text (" + forms.textIdColumns.joined(separator: ", ") + ") read as the UUIDs they hold; a row whose id is not one is quarantined")
        }
        // A read of some streams or of one range (parallel readers) sorts only what it reads.
        if scope.aggregateIds == nil && hlcPhysicalRange == nil {
            ServerSortNote.add(to: &report, for: sql, orderColumns: "hlc_physical, hlc_logical, event_id", session: session)
        }
        var decoder = BinaryCopyDecoder(fieldCount: forms.textIds.isEmpty ? 13 : 14)
        var rowNumber = 0
        var batch = RowBatch()
        try session.copyOut("COPY (\(sql)) TO STDOUT (FORMAT binary)") { message in
            guard let fields = try decoder.fields(of: message) else { return }
            rowNumber += 1
            report.rowsRead += 1
            try batch.add(BinaryCopyDecoder.row(fields, rowNumber: rowNumber), body)
        }
        try batch.lend(body)
        return report
    }
}

extension StoreLocation {
    /// `"schema"."table"`, quoted as identifiers: never spliced as text.
    public var quotedTableName: String {
        ConnectionString.quoteIdentifier(schema) + "." + ConnectionString.quoteIdentifier(table)
    }
}
