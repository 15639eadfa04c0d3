#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LedgerAuditCore

/// Reads a projection table (the application's read model) as projected balances, from the
/// run's PostgreSQL snapshot or from a COPY-CSV file of the table. A value that is not an
/// integer is a problem to report, never a zero.
public enum ProjectionReader {
    public struct Problem: Sendable {
        public var origin: String
        public var message: String
    }

    public static func name(_ m: ProjectionMapping) -> String { "\(m.schema).\(m.table)" }

    /// From the database, in the same REPEATABLE READ snapshot as the events.
    public static func read(session: PostgresSession, mapping m: ProjectionMapping, defaultCurrency: String) throws -> ([ProjectedBalance], [Problem]) {
        let rows = try session.query(selectSQL(m))
        return convert(rows.map { Array($0) }, mapping: m, defaultCurrency: defaultCurrency, origin: { "row \($0 + 1)" })
    }

    /// Before the pass: the query `read` runs, returning no row, so a missing table, column or
    /// grant is an error before the events are read rather than after.
    public static func probe(session: PostgresSession, mapping m: ProjectionMapping) throws {
        _ = try session.query(selectSQL(m) + " LIMIT 0")
    }

    static func selectSQL(_ m: ProjectionMapping) -> String {
        let q = ConnectionString.quoteIdentifier
        var select = [q(m.keyColumn) + "::text", (m.currencyColumn.map { q($0) + "::text" } ?? "NULL")]
        select += m.columns.map { q($0.column) + "::text" }
        return "SELECT " + select.joined(separator: ", ") + " FROM " + q(m.schema) + "." + q(m.table)
    }

    /// Whether a projection file is a pipe (read once, so its rows are kept, not read again).
    public static func isPipe(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFIFO
    }

    /// From `COPY table TO STDOUT WITH (FORMAT csv, HEADER)`.
    public static func read(csvPath: String, mapping m: ProjectionMapping, defaultCurrency: String) throws -> ([ProjectedBalance], [Problem]) {
        let file = try ExtractFile(path: csvPath, role: "projection file", readOnce: true)
        var header: [String]?
        var rows: [[String?]] = []
        var bad: [Problem] = []
        var lineNumber = 0
        try file.forEachRecord(quoted: true) { piece in
            lineNumber += 1
            guard case .record(_, _, let record) = piece else {
                bad.append(Problem(origin: "\(csvPath) record \(lineNumber)", message: "longer than \(Limits.extractRecordBytesMax) bytes; skipped"))
                return
            }
            guard !isBlank(record) else { return }
            guard let fields = CopyCSVFormat.fields(record) else {
                bad.append(Problem(origin: "\(csvPath) record \(lineNumber)", message: "not a valid CSV record"))
                return
            }
            if header == nil {
                header = fields.map { $0.text ?? "" }
                return
            }
            rows.append(fields.map(\.text))
        }
        guard let header else { throw SourceError("the projection file \(csvPath) is empty") }
        let wanted = [m.keyColumn] + (m.currencyColumn.map { [$0] } ?? []) + m.columns.map(\.column)
        let missing = wanted.filter { !header.contains($0) }
        guard missing.isEmpty else { throw SourceError("the projection file \(csvPath) lacks column(s) \(missing.joined(separator: ", ")); write it with COPY \(m.table) TO STDOUT WITH (FORMAT csv, HEADER)") }
        let index = Dictionary(header.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { a, _ in a })
        let ordered: [[String?]] = rows.map { row in
            var out: [String?] = [row.count > index[m.keyColumn]! ? row[index[m.keyColumn]!] : nil]
            out.append(m.currencyColumn.flatMap { c in row.count > index[c]! ? row[index[c]!] : nil })
            for col in m.columns { out.append(row.count > index[col.column]! ? row[index[col.column]!] : nil) }
            return out
        }
        let (balances, problems) = convert(ordered, mapping: m, defaultCurrency: defaultCurrency, origin: { "\(csvPath) record \($0 + 2)" })
        return (balances, bad + problems)
    }

    /// Rows of [key, currency?, column values…] to balances, one per mapped column.
    static func convert(_ rows: [[String?]], mapping m: ProjectionMapping, defaultCurrency: String, origin: (Int) -> String) -> ([ProjectedBalance], [Problem]) {
        var out: [ProjectedBalance] = []
        var problems: [Problem] = []
        // One string a column, shared by its rows (not one allocation a projected balance).
        let origins = m.columns.map { "\(name(m)).\($0.column)" }
        for (n, row) in rows.enumerated() {
            guard let key = row[0], !key.isEmpty else {
                problems.append(Problem(origin: origin(n), message: "\(name(m)) has a row without a \(m.keyColumn)"))
                continue
            }
            // CHAR(3) pads; a currency is its letters.
            let currency = (row[1] ?? defaultCurrency).trimmingCharacters(in: " ")
            for (i, col) in m.columns.enumerated() {
                let columnOrigin = origins[i]
                let account = col.account.replacingAll("{key}", with: key)
                guard let text = row[2 + i], let value = Int64(text) else {
                    problems.append(Problem(origin: origin(n), message: "\(name(m)).\(col.column) for \(m.keyColumn) \(key) is not an integer of minor units: '\(String((row[2 + i] ?? "NULL").prefix(40)))'"))
                    continue
                }
                out.append(ProjectedBalance(account: account, currency: currency, amountMinor: value, origin: columnOrigin))
            }
        }
        return (out, problems)
    }

    /// A projection's checkpoint: its query returns one row, either `event_id` or
    /// `hlc_physical, hlc_logical, event_id`; an event id alone is placed by the event table.
    public static func checkpoint(session: PostgresSession, mapping m: ProjectionMapping, store: StoreLocation) throws -> GlobalOrderKey? {
        guard case .query(let sql)? = m.checkpoint else { return nil }
        guard let row = try session.query(sql).first else { throw SourceError("the checkpoint query of \(name(m)) returned no row") }
        if row.count >= 3, let p = row[0].flatMap({ Int64($0) }), let l = row[1].flatMap({ Int32($0) }), let id = row[2].flatMap(EventID.init) {
            return GlobalOrderKey(hlcPhysicalMs: p, hlcLogical: l, eventId: id)
        }
        guard let text = row.first ?? nil, let id = EventID(text) else {
            throw SourceError("the checkpoint query of \(name(m)) must return event_id, or hlc_physical, hlc_logical, event_id")
        }
        return try position(of: id, session: session, store: store)
    }

    public static func position(of id: EventID, session: PostgresSession, store: StoreLocation) throws -> GlobalOrderKey {
        // An untyped parameter takes the column's type: uuid, or text holding the canonical form.
        let q = ConnectionString.quoteIdentifier
        let rows = try session.query("SELECT hlc_physical::text, hlc_logical::text FROM \(q(store.schema)).\(q(store.table)) WHERE event_id = $1", [id.description])
        guard let r = rows.first, let p = r[0].flatMap({ Int64($0) }), let l = r[1].flatMap({ Int32($0) }) else {
            throw SourceError("the checkpoint event \(id) is not in the event store")
        }
        return GlobalOrderKey(hlcPhysicalMs: p, hlcLogical: l, eventId: id)
    }
}
