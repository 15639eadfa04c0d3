import LedgerAuditChecks
import Foundation
import LedgerAuditConfig
import LedgerAuditCore
import LedgerAuditReports
import LedgerAuditSources
import LedgerAuditTestSupport
import Testing

@Suite("verify from the command line and against PostgreSQL", .serialized, .removesTemporaryFolders)
struct VerifyTests {
    @Test("APPEND_ONLY_GAP: the seed's rules leave TRUNCATE open; triggers and revoked grants close it")
    func appendOnly() throws {
        let db = try ScratchDatabase("appendonly")
        try db.load(folder: TestPaths.sample)
        try db.exec("DROP ROLE IF EXISTS ledger_app_\(db.name); CREATE ROLE ledger_app_\(db.name); GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON event_store TO ledger_app_\(db.name)")
        func gaps() throws -> [String] {
            let session = try PostgresSession(conninfo: db.conninfo)
            return try AppendOnlyCheck.run(store: session, location: StoreLocation(), applicationRole: nil).map(\.message)
        }
        let before = try gaps()
        #expect(before.contains { $0.contains("blocks TRUNCATE") })
        #expect(!before.contains { $0.contains("blocks UPDATE") } && !before.contains { $0.contains("blocks DELETE") })
        #expect(before.filter { $0.contains("ledger_app_") }.count == 3)  // UPDATE, DELETE, TRUNCATE
        try db.exec("""
            CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'event_store is append-only'; END $$;
            CREATE TRIGGER no_truncate BEFORE TRUNCATE ON event_store FOR EACH STATEMENT EXECUTE FUNCTION refuse();
            CREATE TRIGGER no_change BEFORE UPDATE OR DELETE ON event_store FOR EACH ROW EXECUTE FUNCTION refuse();
            REVOKE UPDATE, DELETE, TRUNCATE ON event_store FROM ledger_app_\(db.name);
            """)
        #expect(try gaps().isEmpty)
        // The application's role owning the table is a gap of its own.
        let session = try PostgresSession(conninfo: db.conninfo)
        #expect(try AppendOnlyCheck.run(store: session, location: StoreLocation(), applicationRole: "postgres").count == 1)
        try? db.exec("DROP OWNED BY ledger_app_\(db.name); DROP ROLE ledger_app_\(db.name)")
    }

    @Test("verify on the database: exit 1 for the seed schema, with the finding in every format")
    func verifyDatabase() throws {
        let db = try ScratchDatabase("verify")
        try db.load(folder: TestPaths.sample)
        let out = TestPaths.temporaryDirectory("verify")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try runTool(["verify", "--source", db.conninfo, "--out", out, "-q"])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(TestPaths.read(out + "/findings.csv").contains("APPEND_ONLY_GAP,high"))
        #expect(TestPaths.read(out + "/verify.html").contains("APPEND_ONLY_GAP"))
        #expect(LibXML.validateFile(out + "/verify.xml") == nil)
        // Skipping the database check leaves a clean store.
        let clean = try runTool(["verify", "--source", db.conninfo, "--out", out, "-q", "--skip", "append-only"])
        #expect(clean.status == 0, "\(clean.stderr)")
    }

    @Test("the clean sample extract verifies clean; stuck sagas are limbo; --check selects")
    func extracts() throws {
        let out = TestPaths.temporaryDirectory("verify")
        defer { try? FileManager.default.removeItem(atPath: out) }
        #expect(try runTool(["verify", "--source", TestPaths.sample + "/events.jsonl", "--out", out, "-q"]).status == 0)
        #expect(TestPaths.read(out + "/findings.csv").split(separator: "\n").count == 1)
        let stuck = TestPaths.temporaryDirectory("stuck")
        defer { try? FileManager.default.removeItem(atPath: stuck) }
        #expect(try runTool(["generate", "--events", "2000", "--stuck-sagas", "3", "--seed", "5", "--out", stuck]).status == 0)
        let r = try runTool(["verify", "--source", stuck + "/events.jsonl", "--out", out, "-q", "--fail-on", "medium"])
        #expect(r.status == 1)
        let limbo = TestPaths.read(out + "/limbo.csv").split(separator: "\n")
        #expect(limbo.first == "account,currency,hold_key,amount_minor,since_hlc_physical,age_hours,correlation_id,last_event_id")
        #expect(limbo.count == 4)
        #expect(limbo.dropFirst().allSatisfy { $0.hasPrefix("escrow:") })
        let html = TestPaths.read(out + "/verify.html")
        #expect(html.contains("Aging of money held in transit accounts") && html.contains("&gt; 7 d"))
        #expect(LibXML.validateFile(out + "/verify.xml") == nil)
        // Only the stream check: the limbo is not looked for.
        let only = try runTool(["verify", "--source", stuck + "/events.jsonl", "--out", out, "-q", "--check", "stream", "--fail-on", "medium"])
        #expect(only.status == 0)
        #expect(try runTool(["verify", "--check", "nonsense", "--out", out]).status == 2)
        let list = try runTool(["verify", "--list-checks"])
        #expect(list.status == 0 && list.stdout.contains("limbo") && list.stdout.contains("MONEY_IN_LIMBO"))
    }

    @Test("--commands: dangling causation ids not in the registry are ORPHAN_CAUSATION")
    func commandRegistry() throws {
        let dir = TestPaths.temporaryDirectory("commands")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "# known commands\n11111111-1111-4111-8111-111111111111\n".write(toFile: dir + "/commands.txt", atomically: true, encoding: .utf8)
        let r = try runTool(["verify", "--source", TestPaths.sample + "/events.jsonl", "--out", dir, "-q", "--commands", dir + "/commands.txt", "--fail-on", "medium"])
        #expect(r.status == 1)
        #expect(TestPaths.read(dir + "/findings.csv").contains("ORPHAN_CAUSATION"))
        try "not-a-uuid\n".write(toFile: dir + "/bad.txt", atomically: true, encoding: .utf8)
        let bad = try runTool(["verify", "--source", TestPaths.sample + "/events.jsonl", "--out", dir, "--commands", dir + "/bad.txt"])
        #expect(bad.status == 2 && bad.stderr.contains("bad.txt:1"))
    }
}
