import CLibPQ
import Foundation

/// A database of its own for one test, on the throwaway server that scripts/test starts.
/// Admin statements run outside ledger-audit's read-only transaction, through libpq directly.
public final class ScratchDatabase {
    public let name: String
    public let conninfo: String
    let adminConninfo: String

    /// The server's conninfo (dbname=postgres); scripts/test exports it.
    public static var serverConninfo: String? { ProcessInfo.processInfo.environment["LEDGER_AUDIT_TEST_PG"] }

    public struct Unavailable: Error, CustomStringConvertible {
        public var description = "LEDGER_AUDIT_TEST_PG is not set: run the tests with scripts/test, which starts a throwaway PostgreSQL"
    }

    /// On the test server, or on `server` (a `ThrowawayServer` of the test's own).
    public init(_ label: String, server given: String? = nil) throws {
        guard let server = given ?? ScratchDatabase.serverConninfo else { throw Unavailable() }
        adminConninfo = server
        name = "t_\(label)_\(UUID().uuidString.prefix(8).lowercased())"
        conninfo = server.replacingOccurrences(of: "dbname=postgres", with: "dbname=\(name)")
        try ScratchDatabase.exec(adminConninfo, "CREATE DATABASE \(name)")
    }

    deinit {
        try? ScratchDatabase.exec(adminConninfo, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    public func exec(_ sql: String) throws { try ScratchDatabase.exec(conninfo, sql) }

    /// Waits until `run` is streaming events from this database (its snapshot is taken);
    /// false when it ended first. Only this database's sessions count: other tests stream from
    /// the same server at the same time.
    public func waitUntilStreaming(_ run: Process) -> Bool {
        for _ in 0..<5000 where run.isRunning {
            if ((try? scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'COPY (SELECT event_id%'")) ?? "0") != "0" { return true }
            usleep(1000)
        }
        return false
    }

    /// The first column of the first row, as text.
    public func scalar(_ sql: String) throws -> String {
        guard let conn = PQconnectdb(conninfo) else { throw SQLFailure(message: "no connection") }
        defer { PQfinish(conn) }
        guard let r = PQexec(conn, sql) else { throw SQLFailure(message: String(cString: PQerrorMessage(conn))) }
        defer { PQclear(r) }
        guard PQresultStatus(r) == PGRES_TUPLES_OK, PQntuples(r) > 0 else { throw SQLFailure(message: "\(sql.prefix(60)): " + String(cString: PQerrorMessage(conn))) }
        return String(cString: PQgetvalue(r, 0, 0))
    }

    /// Loads a generated folder (events.csv, user_balances.csv, load.sql) with psql.
    public func load(folder: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        p.arguments = [conninfo, "-q", "-v", "ON_ERROR_STOP=1", "-f", "load.sql"]
        p.currentDirectoryURL = URL(fileURLWithPath: folder)
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw SQLFailure(message: "psql load.sql failed in \(folder)") }
    }

    public struct SQLFailure: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    static func exec(_ conninfo: String, _ sql: String) throws {
        guard let conn = PQconnectdb(conninfo) else { throw SQLFailure(message: "no connection") }
        defer { PQfinish(conn) }
        guard PQstatus(conn) == CONNECTION_OK else { throw SQLFailure(message: String(cString: PQerrorMessage(conn))) }
        guard let r = PQexec(conn, sql) else { throw SQLFailure(message: String(cString: PQerrorMessage(conn))) }
        defer { PQclear(r) }
        let s = PQresultStatus(r)
        guard s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK else {
            throw SQLFailure(message: "\(sql.prefix(80)): " + String(cString: PQerrorMessage(conn)))
        }
    }
}

/// A PostgreSQL server of one test's own (scripts/pg-start in a folder the test removes), for
/// tests that need several servers, such as one per cell. Stopped and removed on deinit.
public final class ThrowawayServer {
    public let folder: String
    public let conninfo: String

    public init(label: String) throws {
        folder = TestPaths.temporaryDirectory("pg-\(label)")
        // system(3), not Process: the server outlives pg-start, and Foundation's Process waits
        // for descendants that keep its descriptors (it never returns).
        let outPath = folder + "/pg-start.out"
        let status = system("'\(TestPaths.packageRoot)/scripts/pg-start' '\(folder)/pg' 5432 > '\(outPath)' 2>&1 < /dev/null")
        let output = TestPaths.read(outPath)
        guard status == 0, let line = output.split(separator: "\n").last(where: { $0.hasPrefix("host=") }) else {
            try? FileManager.default.removeItem(atPath: folder)
            throw ScratchDatabase.SQLFailure(message: "pg-start failed: \(output)")
        }
        conninfo = String(line)
    }

    deinit {
        _ = try? runProgram([TestPaths.packageRoot + "/scripts/pg-stop", folder + "/pg"])
        try? FileManager.default.removeItem(atPath: folder)
    }
}
