#if canImport(Glibc)
import Glibc
#endif
import LedgerAuditCore

/// Writes the generated ledger as an extract pair (events.jsonl, events.csv as COPY writes it),
/// the projection (user_balances.csv) and a psql loader (load.sql).
public struct FileSink: GeneratorSink {
    let directory: String
    var jsonl: BufferedFile
    var csv: BufferedFile
    var projection: BufferedFile
    var count = 0
    public var eventCount: Int { count }

    public init(directory: String) throws {
        self.directory = directory
        jsonl = try BufferedFile(path: directory + "/events.jsonl")
        csv = try BufferedFile(path: directory + "/events.csv")
        projection = try BufferedFile(path: directory + "/user_balances.csv")
        csv.write("event_id,event_type,aggregate_id,stream_version,causation_id,correlation_id,hlc_physical,hlc_logical,vector_clock,payload,metadata,user_id,recorded_at\n")
        projection.write("user_id,available_balance,reserved_balance,pending_balance,currency,updated_at\n")
    }

    /// Extracts come from several regions: recorded_at is written with their offsets in JSONL.
    static let offsetsMinutes: [Int64] = [0, 120, -300, 540, 330]

    public mutating func event(_ e: EventRecord) throws {
        count += 1
        let offset = FileSink.offsetsMinutes[count % FileSink.offsetsMinutes.count]
        let line = EventJSONLine.encode(e, recordedAt: FileSink.isoWithOffset(us: e.recordedAtUs, offsetMinutes: offset), masking: false)
        jsonl.write(line)

        var row = "\(e.eventId),"
        row += CSVQuote.field(e.eventType) + ",\(e.aggregateId),\(e.streamVersion),"
        row += (e.causationId?.description ?? "") + ",\(e.correlationId),\(e.hlcPhysicalMs),\(e.hlcLogical),"
        row += CSVQuote.field(JSONWriter.jsonbText(e.vectorClock.parse())) + ","
        row += CSVQuote.field(JSONWriter.jsonbText(e.payload.parse())) + ","
        row += CSVQuote.field(JSONWriter.jsonbText(e.metadata.parse())) + ","
        row += (e.userId?.description ?? "") + "," + FileSink.postgresTimestamp(us: e.recordedAtUs) + "\n"
        csv.write(row)
    }

    public mutating func projectionRow(userId: EventID, availableMinor: Int64, reservedMinor: Int64, pendingMinor: Int64, currency: String) throws {
        projection.write("\(userId),\(availableMinor),\(reservedMinor),\(pendingMinor),\(currency),2026-06-01 00:00:00+00\n")
    }

    public mutating func finish() throws {
        try jsonl.close()
        try csv.close()
        try projection.close()
        try BufferedFile.writeWhole(directory + "/load.sql", FileSink.loaderSQL)
    }

    /// `2026-05-03 14:23:00.123456+00`, as COPY prints timestamptz with TimeZone UTC, DateStyle ISO.
    static func postgresTimestamp(us: Int64) -> String {
        var iso = Instant.iso8601(us: us)
        iso = String(iso.dropLast())  // drop Z
        var t = iso.replacingAll("T", with: " ")
        // COPY trims trailing zeros of the fraction (and the point when all are zero).
        while t.hasSuffix("0") { t.removeLast() }
        if t.hasSuffix(".") { t.removeLast() }
        return t + "+00"
    }

    static func isoWithOffset(us: Int64, offsetMinutes: Int64) -> String {
        let local = Instant.iso8601(us: us + offsetMinutes * 60_000_000)
        let base = String(local.dropLast())
        guard offsetMinutes != 0 else { return base + "Z" }
        let sign = offsetMinutes < 0 ? "-" : "+"
        let m = abs(offsetMinutes)
        return base + sign + (m / 60 < 10 ? "0" : "") + String(m / 60) + ":" + (m % 60 < 10 ? "0" : "") + String(m % 60)
    }

    /// Schema of auction-ledger.md, the append-only rules, the projection, and the loads.
    public static let loaderSQL = """
        -- Loads a generated auction ledger. Run from the folder holding the CSV files:
        --   psql -v ON_ERROR_STOP=1 -f load.sql
        CREATE TABLE IF NOT EXISTS event_store (
          event_id        UUID PRIMARY KEY,
          event_type      VARCHAR(64) NOT NULL,
          aggregate_id    UUID NOT NULL,
          stream_version  BIGINT NOT NULL,
          causation_id    UUID,
          correlation_id  UUID NOT NULL,
          hlc_physical    BIGINT NOT NULL,
          hlc_logical     INTEGER NOT NULL,
          vector_clock    JSONB NOT NULL,
          payload         JSONB NOT NULL,
          metadata        JSONB NOT NULL,
          user_id         UUID,
          recorded_at     TIMESTAMPTZ NOT NULL DEFAULT NOW(),
          UNIQUE (aggregate_id, stream_version)
        );
        CREATE TABLE IF NOT EXISTS user_balances (
          user_id           UUID PRIMARY KEY,
          available_balance BIGINT NOT NULL,
          reserved_balance  BIGINT NOT NULL,
          pending_balance   BIGINT NOT NULL,
          currency          CHAR(3) NOT NULL DEFAULT 'USD',
          updated_at        TIMESTAMPTZ NOT NULL DEFAULT NOW()
        );
        \\copy event_store FROM 'events.csv' WITH (FORMAT csv, HEADER)
        \\copy user_balances FROM 'user_balances.csv' WITH (FORMAT csv, HEADER)
        CREATE OR REPLACE RULE no_update AS ON UPDATE TO event_store DO INSTEAD NOTHING;
        CREATE OR REPLACE RULE no_delete AS ON DELETE TO event_store DO INSTEAD NOTHING;
        ANALYZE event_store;
        ANALYZE user_balances;

        """
}

/// CSV quoting as COPY does it: quote when the field holds a delimiter, quote, CR or LF, or is empty.
enum CSVQuote {
    static func field(_ s: String) -> String {
        if s.isEmpty { return "\"\"" }
        var needs = false
        for u in s.utf8 where u == 0x2C || u == 0x22 || u == 0x0A || u == 0x0D { needs = true; break }
        return needs ? "\"" + s.replacingAll("\"", with: "\"\"") + "\"" : s
    }
}

/// A plain buffered writer for generated files (they are inputs, not reports: no rename dance).
struct BufferedFile {
    let fd: Int32
    let path: String
    var buffer: [UInt8] = []

    init(path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw GeneratorError("cannot write \(path)") }
        buffer.reserveCapacity(1 << 20)
    }

    mutating func write(_ s: String) {
        buffer.append(contentsOf: s.utf8)
        if buffer.count >= 1 << 20 { flush() }
    }

    mutating func flush() {
        var done = 0
        while done < buffer.count {
            let n = buffer.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n <= 0 { if errno == EINTR { continue }; fatalError("cannot write \(path)") }
            done += n
        }
        buffer.removeAll(keepingCapacity: true)
    }

    mutating func close() throws {
        flush()
        guard Glibc.close(fd) == 0 else { throw GeneratorError("cannot close \(path)") }
    }

    static func writeWhole(_ path: String, _ text: String) throws {
        var f = try BufferedFile(path: path)
        f.write(text)
        try f.close()
    }
}

public struct GeneratorError: Error, CustomStringConvertible {
    public var description: String
    init(_ d: String) { description = d }
}
