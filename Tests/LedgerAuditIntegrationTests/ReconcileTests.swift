import Foundation
import LedgerAuditReports
import LedgerAuditTestSupport
import Testing

@Suite("reconcile: the nightly job", .serialized, .removesTemporaryFolders)
struct ReconcileTests {
    func generate(_ extra: [String], events: Int = 1500) throws -> String {
        let dir = TestPaths.temporaryDirectory("recon-gen")
        let r = try runTool(["generate", "--events", String(events), "--seed", "11", "--out", dir] + extra)
        #expect(r.status == 0, "\(r.stderr)")
        return dir
    }

    func reconcile(_ ledger: String, _ extra: [String] = []) throws -> (RunResult, [[String]], String) {
        let out = TestPaths.temporaryDirectory("recon-out")
        let r = try runTool(["reconcile", "--source", ledger + "/events.jsonl", "--projection", ledger + "/user_balances.csv", "--out", out, "--skip", "append-only"] + extra)
        let rows = TestPaths.read(out + "/reconciliation.csv").split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        return (r, rows, out)
    }

    /// Event id → (type, aggregate, amount) from a generated extract.
    func events(_ ledger: String) -> [String: (type: String, aggregate: String, amount: Int)] {
        var out: [String: (String, String, Int)] = [:]
        for line in TestPaths.read(ledger + "/events.jsonl").split(separator: "\n") {
            let o = try! JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            let p = o["payload"] as! [String: Any]
            let amount = (p["amount"] as? Int) ?? Int(p["amount"] as? String ?? "") ?? -1
            out[o["event_id"] as! String] = (o["event_type"] as! String, o["aggregate_id"] as! String, amount)
        }
        return out
    }

    @Test("a clean ledger reconciles: exit 0, every row a match, one summary line")
    func clean() throws {
        let ledger = try generate([])
        let (r, rows, _) = try reconcile(ledger)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(!rows.isEmpty && rows.allSatisfy { $0[5] == "match" })
        #expect(r.stdout.split(separator: "\n").count == 1)
        #expect(r.stdout.hasPrefix("reconcile: OK; \(rows.count) accounts compared, \(rows.count) matched, 0 mismatched"))
    }

    @Test("drifts: each found with its status and, where an event explains it, the suspect", arguments: [
        ("missed-event", "mismatch", true), ("applied-twice", "mismatch", true), ("manual-edit", "mismatch", false),
        ("missing-user", "missing_in_projection", false), ("row-without-events", "missing_in_events", false),
    ])
    func drift(kind: String, status: String, explained: Bool) throws {
        let ledger = try generate(["--drift", kind])
        let (r, rows, out) = try reconcile(ledger)
        #expect(r.status == 1)
        let bad = rows.filter { $0[5] != "match" }
        #expect(!bad.isEmpty && bad.allSatisfy { $0[5] == status }, "\(bad)")
        #expect(TestPaths.read(out + "/findings.csv").components(separatedBy: "PROJECTION_MISMATCH,high").count - 1 == bad.count)
        if explained {
            let row = bad[0]
            let suspect = events(ledger)[row[6]]
            #expect(suspect?.type == "FUNDS_DEPOSITED")
            #expect(suspect.map { abs(Int(row[4])!) == $0.amount } == true)
            #expect(row[0].contains(suspect?.aggregate ?? "?"))
        } else if status == "mismatch" {
            #expect(bad[0][6].isEmpty)
        }
        #expect(LibXML.validateFile(out + "/reconcile.xml") == nil)
        #expect(TestPaths.read(out + "/reconcile.html").contains("Last movements of mismatched accounts"))
    }

    @Test("a projection through a pipe (a named FIFO whose writer starts later, or `<(psql …)`) is read once and kept: the same reconciliation as from the file; a folder is refused naming the projection file")
    func projectionFromPipe() throws {
        let ledger = try generate([])
        let (fromFile, _, fileOut) = try reconcile(ledger)
        let dir = TestPaths.temporaryDirectory("recon-pipe")
        let fifo = dir + "/user_balances.csv"
        #expect(mkfifo(fifo, 0o600) == 0)
        let rows = TestPaths.read(ledger + "/user_balances.csv")
        let writer = Thread {
            let fd = open(fifo, O_WRONLY)
            rows.utf8CString.withUnsafeBytes { raw in _ = write(fd, raw.baseAddress, raw.count - 1) }
            close(fd)
        }
        writer.start()
        let r = try runTool(["reconcile", "--source", ledger + "/events.jsonl", "--projection", fifo, "--out", dir + "/out", "--skip", "append-only"], timeLimitSeconds: 120)
        #expect(r.status == fromFile.status && !r.timedOut, "\(r.stderr)")
        #expect(TestPaths.read(dir + "/out/reconciliation.csv") == TestPaths.read(fileOut + "/reconciliation.csv"))
        let folder = try runTool(["reconcile", "--source", ledger + "/events.jsonl", "--projection", dir, "--out", dir + "/out2"])
        #expect(folder.status == 3 && folder.stderr.contains("cannot read projection file \(dir): it is a directory, not a file"), "\(folder.stderr)")
    }

    @Test("lag: with a checkpoint the events the projection has not applied yet are no mismatch")
    func lagWithCheckpoint() throws {
        let ledger = try generate([])
        var lines = TestPaths.read(ledger + "/events.jsonl").split(separator: "\n").map(String.init)
        let lastEvent = lines.map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
            .max { ($0["hlc_physical"] as! Int, $0["hlc_logical"] as! Int, $0["event_id"] as! String) < ($1["hlc_physical"] as! Int, $1["hlc_logical"] as! Int, $1["event_id"] as! String) }!
        let user = lastEvent["aggregate_id"] as! String
        // A deposit the projection has not applied yet, later than everything else.
        let version = lines.filter { $0.contains("\"aggregate_id\":\"\(user)\"") }.count + 1
        lines.append(#"{"event_id":"eeeeeeee-0000-4000-8000-000000000001","event_type":"FUNDS_DEPOSITED","aggregate_id":"\#(user)","stream_version":\#(version),"causation_id":null,"correlation_id":"eeeeeeee-0000-4000-8000-000000000002","hlc_physical":1999999999999,"hlc_logical":0,"vector_clock":{},"payload":{"amount":500,"currency":"USD"},"metadata":{},"user_id":"\#(user)","recorded_at":"2033-05-18T03:33:19.999Z"}"#)
        try (lines.joined(separator: "\n") + "\n").write(toFile: ledger + "/events.jsonl", atomically: true, encoding: .utf8)
        let (lagging, _, _) = try reconcile(ledger)
        #expect(lagging.status == 1)
        let (r, rows, out) = try reconcile(ledger, ["--checkpoint", lastEvent["event_id"] as! String])
        #expect(r.status == 0, "\(r.stdout)")
        #expect(rows.allSatisfy { $0[5] == "match" })
        #expect(TestPaths.read(out + "/reconcile.html").contains("the store is 1 events"))
    }

    @Test("file and PostgreSQL sources give identical reconciliation.csv; the sample's drift is found")
    func fileAndDatabase() throws {
        let db = try ScratchDatabase("recon")
        try db.load(folder: TestPaths.sample)
        let out = TestPaths.temporaryDirectory("recon-db")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try runTool(["reconcile", "--source", db.conninfo, "--out", out, "--skip", "append-only", "-q",
                             "--metrics-file", out + "/metrics.prom", "--summary-json", out + "/summary.json"])
        #expect(r.status == 1)
        let fromFile = TestPaths.temporaryDirectory("recon-file")
        defer { try? FileManager.default.removeItem(atPath: fromFile) }
        _ = try runTool(["reconcile", "--source", TestPaths.sample + "/events.csv", "--projection", TestPaths.sample + "/user_balances.csv", "--out", fromFile, "--skip", "append-only", "-q"])
        let csv = TestPaths.read(out + "/reconciliation.csv")
        #expect(csv == TestPaths.read(fromFile + "/reconciliation.csv"))
        #expect(csv.split(separator: "\n").filter { !$0.contains(",match,") }.count == 2)  // header + the sample's one drift
        let metrics = TestPaths.read(out + "/metrics.prom")
        #expect(metrics.contains("ledger_audit_mismatches 1\n") && metrics.contains("ledger_audit_findings{severity=\"high\"} 1\n"))
        #expect(metrics.contains("# TYPE ledger_audit_last_success_timestamp_seconds gauge"))
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json"))) as! [String: Any]
        #expect(summary["mismatched"] as? Int == 1 && summary["success"] as? Bool == false)
    }

    @Test("the projection is read during the pass on a second connection in the run's snapshot; a role allowed one connection reads it after the pass, with the same rows")
    func projectionReadOnASecondConnection() throws {
        let db = try ScratchDatabase("recon2nd")
        try db.load(folder: TestPaths.sample)
        let role = "one_" + db.name.suffix(8)
        try db.exec("""
            CREATE ROLE \(role) LOGIN CONNECTION LIMIT 1;
            GRANT CONNECT ON DATABASE \(db.name) TO \(role);
            GRANT USAGE ON SCHEMA public TO \(role);
            GRANT SELECT ON ALL TABLES IN SCHEMA public TO \(role);
            """)
        defer { try? db.exec("DROP OWNED BY \(role); DROP ROLE \(role)") }
        let limited = db.conninfo.replacingOccurrences(of: "user=postgres", with: "user=\(role)")
        #expect(limited != db.conninfo)
        var csv: [String] = []
        for conninfo in [db.conninfo, limited] {
            let out = TestPaths.temporaryDirectory("recon-2nd")
            defer { try? FileManager.default.removeItem(atPath: out) }
            let r = try runTool(["reconcile", "--source", conninfo, "--out", out, "--skip", "append-only", "-q"])
            #expect(r.status == 1, "\(r.stderr)")
            csv.append(TestPaths.read(out + "/reconciliation.csv"))
        }
        #expect(csv[0] == csv[1])
        #expect(csv[0].split(separator: "\n").filter { !$0.contains(",match,") }.count == 2)  // header + the sample's one drift
    }

    @Test("concurrency: events and projections written during the run cause no false mismatch; counts are the snapshot's")
    func concurrentWriters() throws {
        let ledger = try generate([], events: 40_000)
        let db = try ScratchDatabase("concurrent")
        try db.load(folder: ledger)
        let before = try db.scalar("SELECT count(*) FROM event_store")
        let out = TestPaths.temporaryDirectory("recon-conc")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TestPaths.binary)
        p.arguments = ["reconcile", "--source", db.conninfo, "--out", out, "--skip", "append-only", "--summary-json", out + "/summary.json"]
        let stdout = Pipe()
        p.standardOutput = stdout
        try p.run()
        // Wait until the run is streaming its events (its snapshot is taken), then write.
        let streaming = db.waitUntilStreaming(p)
        var written = 0
        while p.isRunning {
            try db.exec("""
                BEGIN;
                WITH u AS (SELECT user_id FROM user_balances WHERE currency = 'USD' ORDER BY user_id LIMIT 1)
                INSERT INTO event_store SELECT gen_random_uuid(), 'FUNDS_DEPOSITED', u.user_id,
                  (SELECT max(stream_version) + 1 FROM event_store WHERE aggregate_id = u.user_id), NULL, gen_random_uuid(),
                  (extract(epoch FROM now()) * 1000)::bigint, 0, '{}', '{"amount": 100, "currency": "USD"}', '{}', u.user_id, now() FROM u;
                UPDATE user_balances SET available_balance = available_balance + 100
                  WHERE user_id = (SELECT user_id FROM user_balances WHERE currency = 'USD' ORDER BY user_id LIMIT 1);
                COMMIT;
                """)
            written += 1
        }
        p.waitUntilExit()
        let line = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(streaming, "the run ended before writes could start")
        #expect(written > 0)
        #expect(p.terminationStatus == 0, "\(line)")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json"))) as! [String: Any]
        #expect(String(summary["eventsReplayed"] as! Int) == before)
        let run = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/run.json"))) as! [String: Any]
        #expect(run["eventsRead"] as? String == before)
        #expect(try Int(db.scalar("SELECT count(*) FROM event_store"))! == Int(before)! + written)
    }
}
