import Foundation
import LedgerAuditConfig
import LedgerAuditCore
import LedgerAuditEngine
@testable import LedgerAuditSources
import LedgerAuditTestSupport
import Testing

/// Against the real PostgreSQL that scripts/test starts (never a mock).
@Suite("PostgreSQL source", .serialized, .removesTemporaryFolders)
struct PostgresSourceTests {
    @Test("the sample gives byte-identical balances.csv from the database and from both extracts, at three instants")
    func fileAndDatabaseAgree() throws {
        let db = try ScratchDatabase("sample")
        try db.load(folder: TestPaths.sample)
        for asOf in ["2026-05-03T14:23:00Z", "2026-05-10T00:00:00+02:00", nil] as [String?] {
            var outputs: [String] = []
            for source in [db.conninfo, TestPaths.sample + "/events.jsonl", TestPaths.sample + "/events.csv"] {
                let out = TestPaths.temporaryDirectory("pg")
                defer { try? FileManager.default.removeItem(atPath: out) }
                let r = try runTool(["balances", "--source", source, "--out", out, "-q"] + (asOf.map { ["--as-of", $0] } ?? []))
                #expect(r.status == 0, "\(r.stderr)")
                outputs.append(TestPaths.read(out + "/balances.csv"))
            }
            #expect(outputs[0] == outputs[1])
            #expect(outputs[0] == outputs[2])
            #expect(outputs[0].split(separator: "\n").count > 100)
        }
    }

    @Test("as-of and the recorded basis are pushed into SQL; streaming matches an in-memory replay")
    func scopeInSQL() throws {
        let db = try ScratchDatabase("scope")
        try db.load(folder: TestPaths.sample)
        let session = try PostgresSession(conninfo: db.conninfo)
        let source = PostgresEventSource(session: session, store: StoreLocation())
        let (sql, settings) = source.eventQuery(scope: ReplayScope(hlcPhysicalMaxMs: 1_777_818_180_000, recordedAtMaxUs: 1_777_818_180_000_000))
        #expect(sql.contains("current_setting('ledger_audit.hlc_physical_max')::int8"))
        #expect(sql.contains("ORDER BY hlc_physical, hlc_logical, event_id"))
        #expect(!sql.contains("1777818180000"))  // bound through set_config, never spliced
        #expect(settings.count == 2)
        let catalog = CatalogLoader.reference()
        for basis in TimeBasis.allCases {
            let scope = ReplayScope.asOf(1_777_818_180_000_000, basis: basis)
            let fromDB = try Replay(catalog: catalog).run(source: source, scope: scope, eventIdsMayRepeat: false)
            let fromFile = try Replay(catalog: catalog).run(source: try FileExtractSource(path: TestPaths.sample + "/events.csv"), scope: scope, eventIdsMayRepeat: true)
            #expect(fromDB.book.sortedRows().map { "\($0.0.account)\($0.1)" } == fromFile.book.sortedRows().map { "\($0.0.account)\($0.1)" })
            #expect(fromDB.population.eventsInScope == fromFile.population.eventsInScope)
        }
    }

    @Test("a reference table without a key on event_id: a repeated id with another hlc is quarantined, never posted twice (one reader and --jobs 2)")
    func repeatedIdWithoutKey() throws {
        let db = try ScratchDatabase("nokey")
        try db.load(folder: TestPaths.sample)
        try db.exec("ALTER TABLE event_store DROP CONSTRAINT event_store_pkey")
        // The first deposit again, last in hlc order, so it is never next to its first copy.
        try db.exec("""
            INSERT INTO event_store SELECT event_id, event_type, aggregate_id, stream_version + 1000000, causation_id, correlation_id,
              (SELECT max(hlc_physical) + 1 FROM event_store), 0, vector_clock, payload, metadata, user_id, recorded_at
            FROM event_store WHERE event_type = 'FUNDS_DEPOSITED' ORDER BY hlc_physical, event_id LIMIT 1
            """)
        for jobs in [[], ["--jobs", "2"]] {
            let out = TestPaths.temporaryDirectory("nokey")
            defer { try? FileManager.default.removeItem(atPath: out) }
            let r = try runTool(["balances", "--source", db.conninfo, "--out", out, "-q"] + jobs)
            #expect(r.status == 1, "\(jobs) \(r.stderr)")
            #expect(TestPaths.read(out + "/balances.csv") == TestPaths.read(TestPaths.packageRoot + "/Tests/Golden/balances-all.csv"), "\(jobs)")
            #expect(TestPaths.read(out + "/findings.csv").contains("DUPLICATE_EVENT"), "\(jobs)")
        }
        // The server keeps ids unique only with a key on event_id alone, without a predicate.
        #expect(try !AuditSession.eventIdIsUnique(in: StoreLocation(), session: PostgresSession(conninfo: db.conninfo)))
        try db.exec("DROP RULE no_delete ON event_store")
        try db.exec("DELETE FROM event_store WHERE stream_version > 1000000")
        try db.exec("ALTER TABLE event_store ADD PRIMARY KEY (event_id)")
        #expect(try AuditSession.eventIdIsUnique(in: StoreLocation(), session: PostgresSession(conninfo: db.conninfo)))
        // A unique index with a predicate does not make every id unique.
        try db.exec("ALTER TABLE event_store DROP CONSTRAINT event_store_pkey; CREATE UNIQUE INDEX partial_ids ON event_store (event_id) WHERE hlc_logical = 0")
        #expect(try !AuditSession.eventIdIsUnique(in: StoreLocation(), session: PostgresSession(conninfo: db.conninfo)))
    }

    @Test("a read whose server sorts a large table first says so, with the index to create, in the summary and the report's notes; an index in the order, or a small table, says nothing")
    func serverSortNote() throws {
        let db = try ScratchDatabase("sortnote")
        try db.load(folder: TestPaths.sample)
        func notes(_ environment: [String: String] = [:]) throws -> (summary: [String], header: String) {
            let out = TestPaths.temporaryDirectory("sortnote")
            defer { try? FileManager.default.removeItem(atPath: out) }
            let r = try runTool(["verify", "--source", db.conninfo, "--out", out, "--format", "csv"], environment: environment)
            #expect(r.status == 0 || r.status == 1, "\(r.stderr)")
            return (r.stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("note: the server sorts") }, TestPaths.read(out + "/run.json"))
        }
        // 3,039 rows: a sort of moments, not worth a note.
        var seen = try notes()
        #expect(seen.summary.isEmpty)
        #expect(!seen.header.contains("the server sorts"))
        // The planner told the table holds a million rows (its estimate is all the note reads).
        try db.exec("UPDATE pg_class SET reltuples = 1000000 WHERE oid = 'event_store'::regclass")
        seen = try notes()
        #expect(seen.summary == ["note: the server sorts every row (some 1,000,000 by its planner's estimate) before it sends the first: its plan has no index in the order hlc_physical, hlc_logical, event_id; an index on (hlc_physical, hlc_logical, event_id) lets rows stream from the start"])
        #expect(seen.header.contains("the server sorts every row (some 1,000,000"))
        // With the index the README advises (and sorting made dear, as it is for a large table), rows stream: no note.
        try db.exec("CREATE INDEX event_store_order ON event_store (hlc_physical, hlc_logical, event_id)")
        try db.exec("UPDATE pg_class SET reltuples = 1000000 WHERE oid = 'event_store'::regclass")
        seen = try notes(["PGOPTIONS": "-c enable_sort=off"])
        #expect(seen.summary.isEmpty)
        #expect(!seen.header.contains("the server sorts"))
        // A read of one stream sorts only that stream's events.
        try db.exec("DROP INDEX event_store_order")
        try db.exec("UPDATE pg_class SET reltuples = 1000000 WHERE oid = 'event_store'::regclass")
        let session = try PostgresSession(conninfo: db.conninfo)
        let stream = try db.scalar("SELECT aggregate_id FROM event_store LIMIT 1")
        let report = try PostgresEventSource(session: session, store: StoreLocation())
            .stream(scope: ReplayScope(aggregateIds: [try #require(EventID(stream))])) { _ in }
        #expect(report.serverSortNote == nil)
        // A plan refused leaves the note out, and the run's transaction goes on (a savepoint).
        #expect(ServerSortNote.note(for: "SELECT no_such_column FROM event_store ORDER BY 1", orderColumns: "x", session: session, rowsMin: 1) == nil)
        #expect(try session.query("SELECT count(*) FROM event_store").first?.first == "3039")
        #expect(ServerSortNote.note(for: "SELECT * FROM event_store ORDER BY hlc_physical", orderColumns: "hlc_physical", session: session, rowsMin: 1) != nil)
    }

    @Test("the run is one READ ONLY REPEATABLE READ transaction: writes are refused")
    func readOnly() throws {
        let db = try ScratchDatabase("ro")
        try db.exec("CREATE TABLE t (x int)")
        let session = try PostgresSession(conninfo: db.conninfo)
        let iso = try session.query("SHOW transaction_isolation")
        #expect(iso.first?.first == "repeatable read")
        #expect(try session.query("SHOW transaction_read_only").first?.first == "on")
        #expect(throws: SourceError.self) { try session.execute("INSERT INTO t VALUES (1)") }
    }

    @Test("schema and table names from the catalog are quoted identifiers")
    func quotedIdentifiers() throws {
        let db = try ScratchDatabase("ident")
        try db.exec(#"CREATE SCHEMA "Ledger Data"; CREATE TABLE "Ledger Data"."Event""Store" (LIKE pg_catalog.pg_class INCLUDING ALL) ;"#)
        try db.exec(#"DROP TABLE "Ledger Data"."Event""Store"; CREATE TABLE "Ledger Data"."Event""Store" (event_id uuid, event_type varchar(64), aggregate_id uuid, stream_version bigint, causation_id uuid, correlation_id uuid, hlc_physical bigint, hlc_logical int, vector_clock jsonb, payload jsonb, metadata jsonb, user_id uuid, recorded_at timestamptz)"#)
        try db.exec(#"INSERT INTO "Ledger Data"."Event""Store" VALUES ('11111111-1111-4111-8111-111111111111','FUNDS_DEPOSITED','22222222-2222-4222-8222-222222222222',1,NULL,'33333333-3333-4333-8333-333333333333',1000,0,'{}','{"amount": 4200}','{}','22222222-2222-4222-8222-222222222222',now())"#)
        let dir = TestPaths.temporaryDirectory("ident")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let catalog = ReferenceCatalog.yaml.replacingOccurrences(of: "  schema: public\n  table: event_store", with: "  schema: Ledger Data\n  table: Event\"Store")
        try catalog.write(toFile: dir + "/c.yml", atomically: true, encoding: .utf8)
        let r = try runTool(["balances", "--source", db.conninfo, "--config", dir + "/c.yml", "--out", dir, "-q"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(TestPaths.read(dir + "/balances.csv").contains("user:22222222-2222-4222-8222-222222222222:available,USD,4200,42.00"))
    }

    @Test("libpq defaults apply with no --source (PGHOST, PGPORT, PGDATABASE, PGUSER)")
    func libpqDefaults() throws {
        let db = try ScratchDatabase("env")
        try db.load(folder: TestPaths.sample)
        var env: [String: String] = [:]
        for part in db.conninfo.split(separator: " ") {
            let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
            let name = ["host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "dbname": "PGDATABASE"][kv[0]]!
            env[name] = kv[1]
        }
        let out = TestPaths.temporaryDirectory("env")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try runTool(["balances", "--out", out, "-q"], environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(TestPaths.read(out + "/balances.csv") == TestPaths.read(TestPaths.packageRoot + "/Tests/Golden/balances-all.csv"))
    }

    @Test("quarantine works the same from the database: jsonb keeps 12.5 and turns 1.2e3 into 1200")
    func quarantineFromDatabase() throws {
        let db = try ScratchDatabase("bad")
        try db.load(folder: TestPaths.sample + "/../../Tests/Fixtures/empty")
        let rows = [("1", "12.5"), ("2", "1.2e3"), ("3", "\"1e3\""), ("4", "9223372036854775808"), ("5", "\"42\"")]
        for (n, amount) in rows {
            try db.exec("INSERT INTO event_store VALUES ('00000000-0000-4000-8000-00000000000\(n)','FUNDS_DEPOSITED','22222222-2222-4222-8222-222222222222',\(n),NULL,'33333333-3333-4333-8333-333333333333',\(n)000,0,'{}','{\"amount\": \(amount)}','{}','22222222-2222-4222-8222-222222222222',now())")
        }
        let out = TestPaths.temporaryDirectory("bad")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try runTool(["balances", "--source", db.conninfo, "--out", out, "-q"])
        #expect(r.status == 1)
        let findings = TestPaths.read(out + "/findings.csv")
        #expect(findings.components(separatedBy: "BAD_AMOUNT").count - 1 == 3)
        // 1.2e3 arrives as 1200 (jsonb normalised it); "42" is exact.
        #expect(TestPaths.read(out + "/balances.csv").contains("user:22222222-2222-4222-8222-222222222222:available,USD,1242,12.42"))
    }

    @Test("a reference table that keeps its ids as text and recorded_at without zone reads as the typed table does; an id that is not a UUID quarantines its row; json and numeric columns are refused before reading")
    func declaredColumnTypes() throws {
        let typed = try ScratchDatabase("typed"), loose = try ScratchDatabase("loose")
        try typed.load(folder: TestPaths.sample)
        try loose.load(folder: TestPaths.sample)
        try loose.exec("""
            ALTER TABLE event_store ALTER event_id TYPE text, ALTER aggregate_id TYPE text, ALTER causation_id TYPE text,
              ALTER correlation_id TYPE varchar(40), ALTER user_id TYPE text, ALTER recorded_at TYPE timestamp USING recorded_at AT TIME ZONE 'UTC'
            """)
        let folder = TestPaths.temporaryDirectory("types")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let alice = "user:38b84b8d-f473-4f16-92b1-98982eeabfa4:*"
        for (name, db) in [("typed", typed), ("loose", loose)] {
            for (run, args) in [("all", ["balances"]), ("asof", ["balances", "--as-of", "2026-05-03T14:23:00Z"]), ("known", ["balances", "--as-known-at", "2026-05-10T00:00:00Z"]),
                                ("statement", ["statement", "--account", alice])] {
                let r = try runTool(args + ["--source", db.conninfo, "--format", "csv", "--out", folder + "/\(name)-\(run)", "-q"])
                #expect(r.status == 0, "\(name) \(run): \(r.stderr)")
            }
        }
        for run in ["all", "asof", "known", "statement"] {
            for file in ["balances.csv", "statement.csv", "findings.csv"] where FileManager.default.fileExists(atPath: folder + "/typed-\(run)/" + file) {
                #expect(TestPaths.read(folder + "/typed-\(run)/" + file) == TestPaths.read(folder + "/loose-\(run)/" + file), "\(run): \(file)")
            }
        }
        let digest = { (f: String) in TestPaths.read(f + "/run.json").components(separatedBy: "\"eventsDigestSHA256\":\"").dropFirst().first?.prefix(64) ?? "" }
        #expect(!digest(folder + "/typed-all").isEmpty && digest(folder + "/typed-all") == digest(folder + "/loose-all"))
        let notes = TestPaths.read(folder + "/loose-all/run.json")
        #expect(notes.contains("recorded_at is a timestamp without time zone: read as UTC") && notes.contains("ids kept as text (event_id, aggregate_id, causation_id, correlation_id, user_id)"))

        // Not a UUID: that row is quarantined, the run goes on, every balance as before.
        try loose.exec("""
            INSERT INTO event_store SELECT 'not-a-uuid', event_type, aggregate_id, stream_version + 1000, causation_id, correlation_id, hlc_physical, hlc_logical,
              vector_clock, payload, metadata, user_id, recorded_at FROM event_store ORDER BY hlc_physical LIMIT 1
            """)
        // A bigint hlc_logical past 32 bits: that row quarantined, never the run stopped.
        try loose.exec("ALTER TABLE event_store ALTER hlc_logical TYPE bigint")
        try loose.exec("""
            INSERT INTO event_store SELECT '0f0f0f0f-0000-4000-8000-00000000b16b', event_type, aggregate_id, stream_version + 2000, causation_id, correlation_id, hlc_physical,
              4294967296, vector_clock, payload, metadata, user_id, recorded_at FROM event_store WHERE event_id <> 'not-a-uuid' ORDER BY hlc_physical LIMIT 1
            """)
        let bad = try runTool(["balances", "--source", loose.conninfo, "--format", "csv", "--out", folder + "/bad", "-q"])
        #expect(bad.status == 1, "\(bad.stderr)")
        let badFindings = TestPaths.read(folder + "/bad/findings.csv")
        #expect(badFindings.contains("MALFORMED_EVENT") && badFindings.contains("event_id hold text that is not a UUID"))
        #expect(badFindings.components(separatedBy: "MALFORMED_EVENT").count - 1 == 2, "\(badFindings)")
        #expect(TestPaths.read(folder + "/bad/balances.csv") == TestPaths.read(folder + "/typed-all/balances.csv"))

        // A cast that would change a value without a word: refused before a row is read.
        for (alter, column) in [("ALTER payload TYPE json", "payload is json"), ("ALTER hlc_physical TYPE numeric", "hlc_physical is numeric")] {
            let db = try ScratchDatabase("refused")
            try db.load(folder: TestPaths.sample)
            try db.exec("ALTER TABLE event_store " + alter)
            let r = try runTool(["balances", "--source", db.conninfo, "--out", folder + "/refused", "-q"])
            #expect(r.status == 3 && r.stderr.contains(column), "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: folder + "/refused/balances.csv"))
        }
    }
}
