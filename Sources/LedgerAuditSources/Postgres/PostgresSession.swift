import CLibPQ
#if canImport(Glibc)
import Glibc
#endif
import LedgerAuditCore

/// One libpq connection holding one `READ ONLY` transaction at `REPEATABLE READ`: every read of
/// a run (events, projections, catalog checks) sees the same snapshot.
public final class PostgresSession: StoreCatalog {
    let connection: OpaquePointer
    public let redactedConnection: String
    let password: String?
    /// Kept to open a sibling in the same snapshot (`siblingOpener`); never shown.
    private let conninfo: String

    /// `conninfo` may be a `postgresql://` URI, a key=value string, or empty for libpq's defaults
    /// (PGHOST, PGDATABASE, ~/.pgpass, service files, sslmode) as in psql.
    /// `importingSnapshot`: a snapshot another session of the run exported (`pg_export_snapshot`),
    /// so both read exactly the same rows (parallel readers, as `pg_dump -j` does).
    public init(conninfo: String, importingSnapshot snapshot: String? = nil) throws(SourceError) {
        let redacted = conninfo.isEmpty ? "(libpq defaults: PG* environment, ~/.pgpass, service file)" : ConnectionString.redacted(conninfo)
        let password = PostgresSession.password(in: conninfo)
        connection = try PostgresSession.connect(conninfo, redacted: redacted, password: password)
        redactedConnection = redacted
        self.password = password
        self.conninfo = conninfo
        try execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        if let snapshot {
            try execute("SET TRANSACTION SNAPSHOT " + PostgresSession.quoteLiteral(snapshot))
        }
        try execute("SET LOCAL TimeZone = 'UTC'")
    }

    /// Whether the server runs on this machine (a Unix socket, a loopback address or an address
    /// of one of this machine's interfaces): its backends then share the client's cores.
    public var serverSharesThisMachine: Bool {
        let host = PQhost(connection).map { String(cString: $0) } ?? ""
        if host.isEmpty || host.hasPrefix("/") || host.hasPrefix("@") || host == "localhost" { return true }
        let address = PQhostaddr(connection).map { String(cString: $0) } ?? ""
        return PostgresSession.isAddressOfThisMachine(address.isEmpty ? host : address)
    }

    static func isAddressOfThisMachine(_ address: String) -> Bool {
        if address.hasPrefix("127.") || address == "::1" || address == "::ffff:127.0.0.1" { return true }
        var interfaces: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&interfaces) == 0, let first = interfaces else { return false }
        defer { freeifaddrs(interfaces) }
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let socketAddress = entry.pointee.ifa_addr else { continue }
            let family = Int32(socketAddress.pointee.sa_family)
            guard family == AF_INET || family == AF_INET6 else { continue }
            let length = socklen_t(family == AF_INET ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size)
            guard getnameinfo(socketAddress, length, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST) == 0 else { continue }
            var name = String(cString: text)
            if let zone = name.firstIndex(of: "%") { name = String(name[..<zone]) }
            if name == address { return true }
        }
        return false
    }

    /// Exports this transaction's snapshot for other sessions (`pg_export_snapshot`); valid while this session lives.
    public func exportSnapshot() throws(SourceError) -> String {
        let rows = try query("SELECT pg_export_snapshot()", [])
        guard let id = rows.first?.first ?? nil else { throw SourceError("pg_export_snapshot returned nothing") }
        return id
    }

    /// A way to open a second session that reads exactly what this one reads: this
    /// transaction's snapshot is exported now, and the sibling imports it. Open it on the
    /// thread that will use it; it must open while this session lives.
    public func siblingOpener() throws(SourceError) -> @Sendable () throws(SourceError) -> PostgresSession {
        let snapshot = try exportSnapshot()
        let conninfo = self.conninfo
        return { () throws(SourceError) in try PostgresSession(conninfo: conninfo, importingSnapshot: snapshot) }
    }

    static func quoteLiteral(_ s: String) -> String { "'" + s.replacingAll("'", with: "''") + "'" }

    /// Connects, or frees the half-open connection and says why (no password in the message).
    static func connect(_ conninfo: String, redacted: String, password: String?) throws(SourceError) -> OpaquePointer {
        guard let conn = PQconnectdb(conninfo) else { throw SourceError("libpq could not allocate a connection") }
        guard PQstatus(conn) == CONNECTION_OK else {
            let message = scrub(String(cString: PQerrorMessage(conn)), password: password)
            PQfinish(conn)
            throw SourceError("cannot connect to PostgreSQL (\(redacted)): \(message.trimmingTrailingNewlines())")
        }
        PQsetClientEncoding(conn, "UTF8")
        return conn
    }

    deinit {
        _ = PQexec(connection, "ROLLBACK").map { PQclear($0) }
        PQfinish(connection)
    }

    static func password(in conninfo: String) -> String? {
        var errmsg: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &errmsg) else {
            if let errmsg { PQfreemem(errmsg) }
            return nil
        }
        defer { PQconninfoFree(options) }
        var p = options
        while let keyword = p.pointee.keyword {
            if String(cString: keyword) == "password", let v = p.pointee.val { return String(cString: v) }
            p += 1
        }
        return nil
    }

    /// Never echo a password, even if a server message quotes the connection string.
    static func scrub(_ message: String, password: String?) -> String {
        guard let password, !password.isEmpty else { return message }
        return message.replacingAll(password, with: "***")
    }

    func lastError() -> String {
        PostgresSession.scrub(String(cString: PQerrorMessage(connection)), password: password).trimmingTrailingNewlines()
    }

    public func execute(_ sql: String) throws(SourceError) {
        guard let result = PQexec(connection, sql) else { throw SourceError("PostgreSQL: \(lastError())") }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            throw SourceError("PostgreSQL refused \(sql.prefix(60)): \(lastError())")
        }
    }

    /// Runs a query with bound text parameters; returns rows of optional text.
    public func query(_ sql: String, _ parameters: [String?] = []) throws(SourceError) -> [[String?]] {
        var cStrings: [UnsafeMutablePointer<CChar>?] = parameters.map { $0.map { strdup($0) } ?? nil }
        defer { cStrings.forEach { free($0) } }
        let result: OpaquePointer? = cStrings.withUnsafeMutableBufferPointer { buf in
            buf.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: max(buf.count, 1)) { values in
                PQexecParams(connection, sql, Int32(parameters.count), nil, parameters.isEmpty ? nil : values, nil, nil, 0)
            }
        }
        guard let result else { throw SourceError("PostgreSQL: \(lastError())") }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK else {
            throw SourceError("PostgreSQL query failed: \(lastError())")
        }
        var rows: [[String?]] = []
        for r in 0..<PQntuples(result) {
            var row: [String?] = []
            for c in 0..<PQnfields(result) {
                row.append(PQgetisnull(result, r, c) == 1 ? nil : String(cString: PQgetvalue(result, r, c)))
            }
            rows.append(row)
        }
        return rows
    }

    /// Streams `COPY (…) TO STDOUT (FORMAT binary)`, one row message at a time.
    func copyOut(_ sql: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let start = PQexec(connection, sql) else { throw SourceError("PostgreSQL: \(lastError())") }
        let status = PQresultStatus(start)
        PQclear(start)
        guard status == PGRES_COPY_OUT else { throw SourceError("PostgreSQL refused the event query: \(lastError())") }
        var buffer: UnsafeMutablePointer<CChar>?
        var bodyError: Error?
        while true {
            let n = PQgetCopyData(connection, &buffer, 0)
            if n == -1 { break }
            if n == -2 { throw SourceError("PostgreSQL stream failed: \(lastError())") }
            if bodyError == nil {
                do {
                    try body(UnsafeRawBufferPointer(start: buffer, count: Int(n)))
                } catch {
                    // Keep draining so the connection stays usable; report after.
                    bodyError = error
                }
            }
            PQfreemem(buffer)
        }
        while let result = PQgetResult(connection) {
            let s = PQresultStatus(result)
            PQclear(result)
            if s != PGRES_COMMAND_OK { throw SourceError("PostgreSQL stream ended with an error: \(lastError())") }
        }
        if let bodyError { throw bodyError }
    }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var s = Substring(self)
        while s.last == "\n" || s.last == "\r" || s.last == " " { s = s.dropLast() }
        return String(s)
    }
}

/// Rows decoded from the server, kept until `Limits.databaseRowsLentPerBatch` of them are lent
/// to the fold together (`BatchLendingEventSource`). Each row is moved in, never copied, and let
/// go on this thread, which made it.
struct RowBatch {
    private var rows: [SourceRow] = []

    init() { rows.reserveCapacity(Limits.databaseRowsLentPerBatch) }

    mutating func add(_ row: consuming SourceRow, _ body: (UnsafeMutableBufferPointer<SourceRow>) throws -> Void) throws {
        rows.append(row)
        if rows.count >= Limits.databaseRowsLentPerBatch { try lend(body) }
    }

    /// The rows kept so far, lent and let go (at the end of the stream, whatever is left).
    mutating func lend(_ body: (UnsafeMutableBufferPointer<SourceRow>) throws -> Void) throws {
        guard !rows.isEmpty else { return }
        defer { rows.removeAll(keepingCapacity: true) }
        try rows.withUnsafeMutableBufferPointer { try body($0) }
    }
}
