import Foundation
import LedgerAuditConfig
import LedgerAuditCore
import LedgerAuditReports
import LedgerAuditSources
import LedgerAuditTestSupport
import Testing

@Suite("trace and one-stream statements from the command line", .serialized, .removesTemporaryFolders)
struct TraceCommandTests {
    let events = TestPaths.sample + "/events.jsonl"

    /// A seller of the sample: the aggregate and event id of its first SELLER_CREDITED_PENDING.
    func seller() throws -> (user: String, credit: String) {
        let line = try #require(TestPaths.read(events).split(separator: "\n").first { $0.contains("\"SELLER_CREDITED_PENDING\"") })
        let json = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        return (json["aggregate_id"] as! String, json["event_id"] as! String)
    }

    func csv(_ path: String) -> [[String]] {
        TestPaths.read(path).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    @Test("trace --account: postings and lots sum to balances.csv; provenance paths start at a deposit; HTML and valid XML")
    func traceAccount() throws {
        let (user, _) = try seller()
        let out = TestPaths.temporaryDirectory("trace-account"), bal = TestPaths.temporaryDirectory("trace-balances")
        let r = try runTool(["trace", "--source", events, "--account", "user:\(user):*", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Conservation per lot: holds"))
        #expect(try runTool(["balances", "--source", events, "--account", "user:\(user):*", "--out", bal, "-q"]).status == 0)
        let balances = csv(bal + "/balances.csv").dropFirst()
        let postings = csv(out + "/trace_postings.csv")
        #expect(postings[0] == TraceReport.postingColumns)
        let lots = csv(out + "/provenance.csv")
        #expect(lots[0] == TraceReport.lotColumns)
        for row in balances {
            let sum = postings.dropFirst().filter { $0[0] == row[0] && $0[1] == row[1] }.reduce(Int64(0)) { $0 + Int64($1[6])! }
            #expect(sum == Int64(row[2]), "\(row[0])")
            let held = lots.dropFirst().filter { $0[0] == row[0] && $0[1] == row[1] }.reduce(Int64(0)) { $0 + Int64($1[7])! }
            #expect(held == Int64(row[2]), "\(row[0])")
        }
        #expect(lots.dropFirst().allSatisfy { $0[8].hasPrefix("external:deposits → ") && $0[5] == "external:deposits" && $0[4] == "FUNDS_DEPOSITED" })
        // Some of the seller's cents came through an escrow from another user's deposit.
        #expect(lots.dropFirst().contains { $0[8].contains("→ escrow:") && $0[8].hasSuffix("user:\(user):available") })
        #expect(LibXML.validateFile(out + "/trace.xml") == nil)
        let html = TestPaths.read(out + "/trace.html")
        #expect(html.contains("Provenance: where the cents came from") && html.contains("By origin"))
        let lifo = TestPaths.temporaryDirectory("trace-lifo")
        defer { try? FileManager.default.removeItem(atPath: lifo) }
        #expect(try runTool(["trace", "--source", events, "--account", "user:\(user):*", "--lots", "lifo", "--out", lifo, "--format", "csv", "-q"]).status == 0)
        #expect(TestPaths.read(lifo + "/provenance.csv") != TestPaths.read(out + "/provenance.csv"))
    }

    @Test("trace --event: causes to the root, effects, the saga and what each moved; bad requests exit 2")
    func traceEvent() throws {
        let (user, credit) = try seller()
        let out = TestPaths.temporaryDirectory("trace-event")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try runTool(["trace", "--source", events, "--event", credit, "--out", out, "-q"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = csv(out + "/trace_events.csv")
        #expect(rows[0] == TraceReport.eventColumns)
        let target = try #require(rows.first { $0[0] == "target" })
        #expect(target[3] == credit && target[4] == "SELLER_CREDITED_PENDING" && target[5] == user)
        #expect(rows.contains { $0[0] == "cause" && $0[4] == "ESCROW_FUNDED" })
        #expect(rows.contains { $0[0] == "saga" && $0[3] == credit })
        let postings = csv(out + "/trace_event_postings.csv")
        #expect(postings.contains { $0[0] == credit && $0[4] == "user:\(user):pending" })
        #expect(LibXML.validateFile(out + "/trace.xml") == nil)
        #expect(TestPaths.read(out + "/trace.html").contains("class=\"tree\""))
        #expect(try runTool(["trace", "--source", events, "--event", "00000000-0000-4000-8000-000000000000", "--out", out]).status == 2)
        #expect(try runTool(["trace", "--source", events, "--event", credit, "--account", "x", "--out", out]).status == 2)
        #expect(try runTool(["trace", "--source", events, "--account", "x", "--lots", "lofi", "--out", out]).status == 2)
    }

    @Test("statement for one user reads only that stream through the index, and agrees with a full scan; --as-known-at is stated")
    func oneStreamStatement() throws {
        let db = try ScratchDatabase("onestream")
        try db.load(folder: TestPaths.sample)
        let (user, _) = try seller()
        let fast = TestPaths.temporaryDirectory("stmt-fast"), full = TestPaths.temporaryDirectory("stmt-full")
        let args = ["statement", "--source", db.conninfo, "--account", "user:\(user):*", "--from", "2026-05-02T00:00:00Z", "--to", "2026-05-20T00:00:00Z"]
        let r = try runTool(args + ["--out", fast, "-q"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try runTool(args + ["--out", full, "--full-scan", "-q"]).status == 0)
        #expect(TestPaths.read(fast + "/statement.csv") == TestPaths.read(full + "/statement.csv"))
        #expect(TestPaths.read(fast + "/statement.csv").split(separator: "\n").count > 2)
        #expect(TestPaths.read(fast + "/run.json").contains("Read only the stream of aggregate \(user)"))
        #expect(!TestPaths.read(full + "/run.json").contains("Read only the stream"))
        #expect(TestPaths.read(fast + "/statement.html").contains("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"balance-chart\""))

        // The plan uses the (aggregate_id, stream_version) index, not a scan of the store.
        let session = try PostgresSession(conninfo: db.conninfo)
        let source = PostgresEventSource(session: session, store: StoreLocation())
        let (sql, settings) = source.eventQuery(scope: ReplayScope(aggregateIds: [EventID(user)!]))
        // One libpq round trip: the session setting, then the plan (the last result is returned).
        let plan = try db.scalar("SELECT set_config('\(settings[0].0)', '\(settings[0].1)', false); EXPLAIN (FORMAT JSON) " + sql)
        #expect(plan.contains("event_store_aggregate_id_stream_version_key"), "\(plan)")

        let known = TestPaths.temporaryDirectory("stmt-known")

        defer { try? FileManager.default.removeItem(atPath: known) }
        #expect(try runTool(args + ["--as-known-at", "2026-05-10T00:00:00Z", "--out", known, "-q"]).status == 0)
        #expect(TestPaths.read(known + "/run.json").contains("2026-05-10T00:00:00"))
        #expect(TestPaths.read(known + "/statement.html").contains("As known at"))
    }
}
