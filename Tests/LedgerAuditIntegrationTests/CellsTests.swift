import Foundation
import LedgerAuditCore
import LedgerAuditEngine
@testable import LedgerAuditSources
import LedgerAuditTestSupport
import Testing

/// Several sources in one run (cells): one ledger written by `generate --cells 3`, each cell in
/// its own PostgreSQL server, read as one ledger merged in global order, must give the same
/// reports as the single store holding the union; mixed PostgreSQL and extract sources too.
@Suite("cells: several sources merged into one ledger", .serialized, .removesTemporaryFolders)
struct CellsTests {
    /// The files two runs must agree on, apart from the header's source lines.
    static let comparedFiles = ["balances.csv", "trial_balance.csv", "findings.csv", "reconciliation.csv", "limbo.csv"]

    static func digest(_ folder: String) -> String {
        let text = TestPaths.read(folder + "/run.json")
        guard let r = text.range(of: "\"eventsDigestSHA256\":\"") else { return "" }
        return String(text[r.upperBound...].prefix(64))
    }

    /// A merged run's findings name their source in the evidence; the single store's cannot.
    static func withoutSources(_ text: String) -> String {
        text.replacingOccurrences(of: #"(; )?source=[A-Za-z0-9._ -]+ \((file|postgresql):[^)]*\)"#, with: "", options: .regularExpression)
    }

    static func expectSame(_ a: String, _ b: String, _ what: String) {
        for name in comparedFiles where FileManager.default.fileExists(atPath: a + "/" + name) {
            #expect(TestPaths.read(a + "/" + name) == withoutSources(TestPaths.read(b + "/" + name)), "\(what): \(name) differs between the single store and the cells")
        }
        #expect(!digest(a).isEmpty && digest(a) == digest(b), "\(what): the merged events digest equals the single store's")
    }

    @Test("three PostgreSQL servers, one per cell: balances, verify and reconcile equal the single store over the union; each source has its header line; a cross-cell causation defect is found")
    func threeServers() throws {
        let folder = TestPaths.temporaryDirectory("cells")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let gen = try runTool(["generate", "--events", "4000", "--cells", "3", "--out", folder + "/gen"])
        try #require(gen.status == 0, "\(gen.stderr)")
        // The union on the shared test server; cell 1 there too, in a database of its own;
        // cells 2 and 3 each on a server of its own.
        let whole = try ScratchDatabase("whole")
        try whole.load(folder: folder + "/gen/whole")
        let server2 = try ThrowawayServer(label: "cell2"), server3 = try ThrowawayServer(label: "cell3")
        let cells = [try ScratchDatabase("cell1"), try ScratchDatabase("cell2", server: server2.conninfo), try ScratchDatabase("cell3", server: server3.conninfo)]
        for (i, cell) in cells.enumerated() { try cell.load(folder: folder + "/gen/cell-\(i + 1)") }
        let cellSources = cells.flatMap { ["--source", $0.conninfo] }

        // The append-only check judges each database, so it is compared on its own below.
        for command in ["balances", "verify", "reconcile"] {
            let skip = command == "balances" ? [] : ["--skip", "append-only"]
            let single = try runTool([command, "--source", whole.conninfo, "--out", folder + "/\(command)-whole", "-q"] + skip)
            let merged = try runTool([command] + cellSources + ["--out", folder + "/\(command)-cells", "-q"] + skip)
            #expect(single.status == merged.status, "\(command): \(single.stderr) / \(merged.stderr)")
            CellsTests.expectSame(folder + "/\(command)-whole", folder + "/\(command)-cells", command)
        }
        // The header: the merge, then one line per source with its snapshot, rows and digest.
        let run = TestPaths.read(folder + "/verify-cells/run.json")
        #expect(run.contains("3 sources merged in global order"))
        for i in 1...3 { #expect(run.contains("source \(i): postgresql: ") && run.contains("snapshot "), "source \(i)'s header line") }
        #expect(run.components(separatedBy: "events digest of its events in scope").count - 1 == 3)
        #expect(!run.contains("password"))
        // Append-only is judged in each cell's database, each finding naming its cell.
        let appendOnly = try runTool(["verify"] + cellSources + ["--check", "append-only", "--out", folder + "/append-only", "-q"])
        let gaps = TestPaths.read(folder + "/append-only/findings.csv")
        #expect(appendOnly.status == 1, "\(appendOnly.stderr)")
        for i in 1...3 { #expect(gaps.contains("APPEND_ONLY_GAP") && gaps.contains("source \(i) (postgresql: "), "cell \(i): \(gaps.prefix(600))") }

        // The cut: an as-of instant cell 2 has not yet read past (plus the 5-minute skew bound).
        let last2 = Int64(try cells[1].scalar("SELECT max(hlc_physical) FROM event_store"))!
        let t = last2 - 60_000
        let iso = { (ms: Int64) in ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(ms / 1000))) }
        let behind = try runTool(["verify"] + cellSources + ["--as-of", iso(t), "--skip", "append-only", "--out", folder + "/cut-behind"])
        #expect(behind.stdout.contains("INCOMPLETE for the as-of instant: source 2"), "\(behind.stdout)")
        #expect(TestPaths.read(folder + "/cut-behind/run.json").contains("INCOMPLETE for "))
        let nightly = try runTool(["reconcile"] + cellSources + ["--as-of", iso(t), "--skip", "append-only", "--out", folder + "/cut-reconcile"])
        #expect(nightly.status == 1 && nightly.stdout.contains("INCOMPLETE"), "\(nightly.stdout)")
        let early = try runTool(["verify"] + cellSources + ["--as-of", iso(t - 86_400_000), "--skip", "append-only", "--out", folder + "/cut-early"])
        #expect(early.stdout.contains("consistent cut complete through") && TestPaths.read(folder + "/cut-early/run.json").contains("complete for "), "\(early.stdout)")
        #expect(try runTool(["reconcile", "--source", whole.conninfo, "--allow-incomplete", "--out", folder + "/one"]).status == 2)

        // Cross-cell causation: an event in cell 3 caused by one in cell 1 that comes after it.
        let effect = try cells[2].scalar("SELECT event_id FROM event_store ORDER BY hlc_physical, hlc_logical, event_id LIMIT 1")
        let laterCause = try cells[0].scalar("SELECT event_id FROM event_store ORDER BY hlc_physical DESC, hlc_logical DESC, event_id DESC LIMIT 1")
        try cells[2].exec("ALTER TABLE event_store DISABLE RULE no_update")  // as the owner, past the append-only rule
        try cells[2].exec("UPDATE event_store SET causation_id = '\(laterCause)' WHERE event_id = '\(effect)'")
        let defect = try runTool(["verify"] + cellSources + ["--out", folder + "/verify-defect", "-q"])
        let findings = TestPaths.read(folder + "/verify-defect/findings.csv")
        #expect(findings.contains("CAUSE_AFTER_EFFECT") && findings.contains(effect), "\(defect.status) \(findings.prefix(600))")
        // Each finding about an event names the cell that holds it; each journal line its source.
        let line = findings.split(separator: "\n").first { $0.hasPrefix("CAUSE_AFTER_EFFECT") && $0.contains(effect) } ?? ""
        #expect(line.contains("source=source 3 (postgresql: "), "\(line)")
        let journal = try runTool(["balances"] + cellSources + ["--journal", "--format", "csv", "--out", folder + "/journal", "-q"])
        #expect(journal.status == 0 || journal.status == 1)
        let lines = TestPaths.read(folder + "/journal/journal.csv").split(separator: "\n").dropFirst()
        #expect(!lines.isEmpty && lines.allSatisfy { $0.contains(",source 1 (postgresql: ") || $0.contains(",source 2 (postgresql: ") || $0.contains(",source 3 (postgresql: ") })
    }

    @Test("mixed sources: one cell from PostgreSQL and two from extracts (JSONL and COPY-CSV) equal the whole extract; an event in two cells is DUPLICATE_EVENT naming both")
    func mixedSources() throws {
        let folder = TestPaths.temporaryDirectory("cells-mixed")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try #require(try runTool(["generate", "--events", "3000", "--cells", "3", "--out", folder + "/gen"]).status == 0)
        let cell1 = try ScratchDatabase("mixed1")
        try cell1.load(folder: folder + "/gen/cell-1")
        let sources = ["--source", cell1.conninfo, "--source", folder + "/gen/cell-2/events.jsonl", "--source", folder + "/gen/cell-3/events.csv"]
        for command in ["balances", "verify"] {
            // The PostgreSQL cell's database is judged by append-only; the extract has no database.
            let skip = command == "verify" ? ["--skip", "append-only"] : []
            let single = try runTool([command, "--source", folder + "/gen/whole/events.jsonl", "--out", folder + "/\(command)-whole", "-q"] + skip)
            let merged = try runTool([command] + sources + ["--out", folder + "/\(command)-mixed", "-q"] + skip)
            #expect(single.status == merged.status, "\(command): \(merged.stderr)")
            CellsTests.expectSame(folder + "/\(command)-whole", folder + "/\(command)-mixed", command)
        }
        let projections = (1...3).flatMap { ["--projection", folder + "/gen/cell-\($0)/user_balances.csv"] }
        let whole = try runTool(["reconcile", "--source", folder + "/gen/whole/events.jsonl", "--projection", folder + "/gen/whole/user_balances.csv", "--out", folder + "/rec-whole", "-q"])
        let files = try runTool(["reconcile", "--source", folder + "/gen/cell-1/events.jsonl", "--source", folder + "/gen/cell-2/events.jsonl", "--source", folder + "/gen/cell-3/events.csv"]
                                + projections + ["--out", folder + "/rec-cells", "-q"])
        #expect(whole.status == files.status, "\(files.stderr)")
        CellsTests.expectSame(folder + "/rec-whole", folder + "/rec-cells", "reconcile, one projection file per cell")

        // Cell 2's first event copied into cell 3's extract: the same id in two cells.
        let cell2 = TestPaths.read(folder + "/gen/cell-2/events.jsonl")
        let first = String(cell2.split(separator: "\n")[0])
        let copy = folder + "/cell-3-with-copy.jsonl"
        try (TestPaths.read(folder + "/gen/cell-3/events.jsonl") + first + "\n").write(toFile: copy, atomically: true, encoding: .utf8)
        let r = try runTool(["balances", "--source", folder + "/gen/cell-2/events.jsonl", "--source", copy, "--out", folder + "/dup", "-q"])
        #expect(r.status == 1)
        let dup = TestPaths.read(folder + "/dup/findings.csv")
        #expect(dup.contains("DUPLICATE_EVENT") && dup.contains("first in source 1 (file:") && dup.contains("again in source 2 (file:"), "\(dup.prefix(800))")

        // The same source twice would count its money twice: a usage error.
        let twice = try runTool(["balances", "--source", copy, "--source", copy, "--out", folder + "/twice"])
        #expect(twice.status == 2 && twice.stderr.contains("same source twice"))
    }

    @Test("the catalog's sources: all of them read when no --source is given, or picked by name; a cell's own table, a connection from the environment, a file beside the catalog; a password in the catalog refused")
    func catalogSources() throws {
        let folder = TestPaths.temporaryDirectory("cells-catalog")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try #require(try runTool(["generate", "--events", "3000", "--cells", "3", "--out", folder + "/gen"]).status == 0)
        let east = try ScratchDatabase("named1"), west = try ScratchDatabase("named2")
        try east.load(folder: folder + "/gen/cell-1")
        try east.exec("ALTER TABLE event_store RENAME TO cell_events")
        try west.load(folder: folder + "/gen/cell-2")
        let reference = TestPaths.read(TestPaths.packageRoot + "/samples/auction/ledger-audit.yml")
        let catalog = folder + "/ledger-audit.yml"
        try (reference + """

            sources:
              - name: us-east
                connection: "\(east.conninfo)"
                table: cell_events
              - name: eu-west
                connection_env: LEDGER_AUDIT_TEST_EU_WEST
              - name: ap-south
                file: gen/cell-3/events.jsonl

            """).write(toFile: catalog, atomically: true, encoding: .utf8)
        let env = ["LEDGER_AUDIT_TEST_EU_WEST": west.conninfo]

        let whole = try runTool(["verify", "--source", folder + "/gen/whole/events.jsonl", "--skip", "append-only", "--out", folder + "/whole", "-q"])
        let named = try runTool(["verify", "--config", catalog, "--skip", "append-only", "--out", folder + "/named", "-q"], environment: env)
        try #require(whole.status == named.status && named.status != 2, "\(named.stderr)")
        CellsTests.expectSame(folder + "/whole", folder + "/named", "the catalog's three sources")
        let run = TestPaths.read(folder + "/named/run.json")
        #expect(run.contains("3 sources merged in global order") && run.contains("us-east (postgresql: ") && run.contains("eu-west (postgresql: ") && run.contains("ap-south (file:"), "\(run.prefix(600))")
        #expect(run.contains("us-east: postgresql: ") && run.contains("cell_events"), "the header line of a source names it and its table")
        try #require(try runTool(["balances", "--config", catalog, "--journal", "--format", "csv", "--out", folder + "/journal", "-q"], environment: env).status == 0)
        let journal = TestPaths.read(folder + "/journal/journal.csv").split(separator: "\n").dropFirst()
        #expect(!journal.isEmpty && journal.allSatisfy { $0.contains(",us-east (postgresql: ") || $0.contains(",eu-west (postgresql: ") || $0.contains(",ap-south (file:") })

        // Two of them by name, beside a --source that is not a name.
        let picked = try runTool(["balances", "--config", catalog, "--source", "eu-west", "--source", "ap-south", "--out", folder + "/picked", "-q"], environment: env)
        let plain = try runTool(["balances", "--source", west.conninfo, "--source", folder + "/gen/cell-3/events.jsonl", "--out", folder + "/plain", "-q"])
        #expect(picked.status == plain.status && TestPaths.read(folder + "/picked/balances.csv") == TestPaths.read(folder + "/plain/balances.csv"), "\(picked.stderr)")
        #expect(try runTool(["balances", "--config", catalog, "--source", "us-east", "--out", folder + "/one", "-q"]).status == 0, "one named source, its own table")
        let unset = try runTool(["balances", "--config", catalog, "--out", folder + "/unset", "-q"])
        #expect(unset.status == 2 && unset.stderr.contains("LEDGER_AUDIT_TEST_EU_WEST") && unset.stderr.contains("not set"), "\(unset.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/unset"))

        // A password would be copied into every evidence pack with the catalog: refused, unprinted.
        try (reference + "\nsources:\n  - name: a\n    connection: \"\(west.conninfo) password=hunter2secret\"\n  - name: b\n    file: gen/cell-3/events.jsonl\n")
            .write(toFile: folder + "/password.yml", atomically: true, encoding: .utf8)
        let secret = try runTool(["balances", "--config", folder + "/password.yml", "--out", folder + "/secret", "-q"])
        #expect(secret.status == 2 && secret.stderr.contains("holds a password") && !secret.stderr.contains("hunter2secret"), "\(secret.stderr)")
    }

    @Test("a cell written during a merged run: the reports are its snapshot's, and a cell behind the as-of instant stays incomplete though later events land in it while it is read")
    func cellWrittenDuringTheRun() throws {
        let folder = TestPaths.temporaryDirectory("cells-live")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try #require(try runTool(["generate", "--events", "20000", "--cells", "2", "--out", folder + "/gen"]).status == 0)
        let cells = [try ScratchDatabase("live1"), try ScratchDatabase("live2")]
        for (i, cell) in cells.enumerated() { try cell.load(folder: folder + "/gen/cell-\(i + 1)") }
        let sources = cells.flatMap { ["--source", $0.conninfo] }
        // T a minute before cell 2's last event; cell 1 made complete past T plus the skew bound
        // by one event a day later (money moves nowhere: an unknown type).
        let last2 = Int64(try cells[1].scalar("SELECT max(hlc_physical) FROM event_store"))!
        let t = last2 - 60_000
        let late = last2 + 86_400_000
        try cells[0].exec("""
            INSERT INTO event_store SELECT gen_random_uuid(), 'AUDIT_MARKER', gen_random_uuid(), 1, NULL, gen_random_uuid(),
              \(late), 0, '{}', '{}', '{}', NULL, now()
            """)
        let iso = { (ms: Int64) in ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(ms / 1000))) }
        let arguments = ["verify"] + sources + ["--as-of", iso(t), "--skip", "append-only"]
        let before = try runTool(arguments + ["--out", folder + "/before"])
        #expect(before.stdout.contains("INCOMPLETE for the as-of instant: source 2"), "\(before.stdout)")

        // The same run while cell 2 receives events past T: its snapshot predates them.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TestPaths.binary)
        p.arguments = arguments + ["--out", folder + "/during"]
        let output = Pipe()
        p.standardOutput = output
        try p.run()
        let streaming = cells[1].waitUntilStreaming(p)
        var written = 0
        while p.isRunning {
            try cells[1].exec("""
                WITH u AS (SELECT user_id FROM user_balances WHERE currency = 'USD' ORDER BY user_id LIMIT 1)
                INSERT INTO event_store SELECT gen_random_uuid(), 'FUNDS_DEPOSITED', u.user_id,
                  (SELECT max(stream_version) + 1 FROM event_store WHERE aggregate_id = u.user_id), NULL, gen_random_uuid(),
                  \(late), 0, '{}', '{"amount": 100, "currency": "USD"}', '{}', u.user_id, now() FROM u
                """)
            written += 1
        }
        p.waitUntilExit()
        let stdout = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(streaming && written > 0, "the run ended before writes could start")
        #expect(p.terminationStatus == before.status)
        #expect(stdout.contains("INCOMPLETE for the as-of instant: source 2"), "\(stdout)")
        for name in ["findings.csv", "limbo.csv"] {
            #expect(TestPaths.read(folder + "/during/" + name) == TestPaths.read(folder + "/before/" + name), "\(name) differs from the run before the writes")
        }
        // Read again after the writes, cell 2 has read past T: the cut is complete.
        let after = try runTool(arguments + ["--out", folder + "/after"])
        #expect(after.stdout.contains("consistent cut complete through"), "\(after.stdout)")
    }

    @Test("parallel readers (--jobs 1, 2, 4) on one store: byte-identical reports, with and without an as-of bound, and while events are inserted during the run")
    func parallelReaders() throws {
        let folder = TestPaths.temporaryDirectory("jobs")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try #require(try runTool(["generate", "--events", "20000", "--out", folder + "/gen"]).status == 0)
        let db = try ScratchDatabase("jobs")
        try db.load(folder: folder + "/gen")
        // As loaded each reader takes one contiguous range; with an index led by hlc_physical the
        // store is cut into many small ranges dealt round-robin.
        for indexed in [false, true] {
        if indexed { try db.exec("CREATE INDEX ON event_store (hlc_physical, hlc_logical, event_id)") }
        for asOf in [nil, "2026-05-08T12:00:00Z"] {
            for command in ["balances", "verify"] {
                var first: [String: String] = [:]
                // auto: the test server shares this machine (a Unix socket), so one reader.
                for jobs in ["1", "2", "4", "auto"] {
                    let out = folder + "/\(command)-\(jobs)-\(asOf == nil ? "all" : "asof")\(indexed ? "-indexed" : "")"
                    // One generated-at for every run (SOURCE_DATE_EPOCH): then every byte of every file must agree.
                    let r = try runTool([command, "--source", db.conninfo, "--jobs", jobs, "--out", out, "-q"] + (asOf.map { ["--as-of", $0] } ?? []),
                                        environment: ["SOURCE_DATE_EPOCH": "1780000000"])
                    #expect(r.status == 0 || r.status == 1, "\(r.stderr)")
                    for name in try FileManager.default.contentsOfDirectory(atPath: out).sorted() {
                        let text = TestPaths.read(out + "/" + name)
                        if jobs == "1" { first[name] = text } else { #expect(first[name] == text, "\(command) --jobs \(jobs) \(asOf ?? "all") indexed \(indexed): \(name) differs from one reader") }
                    }
                }
            }
        }
        }
        // Written while four readers stream: the run reports its snapshot, as one reader did before.
        let before = folder + "/balances-1-all"
        let out = folder + "/during"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TestPaths.binary)
        p.arguments = ["balances", "--source", db.conninfo, "--jobs", "4", "--out", out, "-q"]
        try p.run()
        let streaming = db.waitUntilStreaming(p)
        var written = 0
        while p.isRunning {
            try db.exec("""
                WITH u AS (SELECT user_id FROM user_balances WHERE currency = 'USD' ORDER BY user_id LIMIT 1)
                INSERT INTO event_store SELECT gen_random_uuid(), 'FUNDS_DEPOSITED', u.user_id,
                  (SELECT max(stream_version) + 1 FROM event_store WHERE aggregate_id = u.user_id), NULL, gen_random_uuid(),
                  1778000000000, 0, '{}', '{"amount": 100, "currency": "USD"}', '{}', u.user_id, now() FROM u
                """)
            written += 1
        }
        p.waitUntilExit()
        #expect(streaming && written > 0, "the run ended before writes could start")
        #expect(p.terminationStatus == 0)
        #expect(TestPaths.read(out + "/balances.csv") == TestPaths.read(before + "/balances.csv"))
        #expect(try runTool(["balances", "--source", folder + "/gen/events.jsonl", "--jobs", "2", "--out", folder + "/file-jobs"]).status == 2)
        // Not given, --jobs is auto: an extract is read by its one reader, not refused.
        #expect(try runTool(["balances", "--source", folder + "/gen/events.jsonl", "--out", folder + "/file-auto", "-q"]).status == 0)
        for wrong in ["0", "65", "many", ""] {
            #expect(try runTool(["balances", "--source", db.conninfo, "--jobs", wrong, "--out", folder + "/wrong"]).status == 2, "--jobs '\(wrong)'")
        }
    }

    @Test("--jobs auto: one reader per core only when the server is on another machine; a Unix socket, loopback or an address of this machine's interfaces share its cores")
    func automaticReaders() throws {
        #expect(ReaderCount.automatic(cores: 8, serverSharesThisMachine: false) == 8)
        #expect(ReaderCount.automatic(cores: 8, serverSharesThisMachine: true) == 1)
        #expect(ReaderCount.automatic(cores: 1, serverSharesThisMachine: false) == 1)
        #expect(ReaderCount.automatic(cores: 500, serverSharesThisMachine: false) == Limits.parallelReadersMax)
        #expect(ReaderCount.coresOnline >= 1)
        #expect(PostgresSession.isAddressOfThisMachine("127.0.0.1"))
        #expect(PostgresSession.isAddressOfThisMachine("::1"))
        // TEST-NET-1 (RFC 5737) is never an address of this machine.
        #expect(!PostgresSession.isAddressOfThisMachine("192.0.2.1"))
        let db = try ScratchDatabase("autoreaders")
        let session = try PostgresSession(conninfo: db.conninfo)
        #expect(session.serverSharesThisMachine, "the test server listens on a Unix socket")
    }
}
