import Foundation
import LedgerAuditReports
import LedgerAuditTestSupport
import Testing

@Suite("statement from the command line", .removesTemporaryFolders)
struct StatementCommandTests {
    @Test("a user's buckets over a period: statement.csv per outputs.md, HTML and valid XML")
    func userStatement() throws {
        // The first user of the sample's balances.
        let balances = TestPaths.read(TestPaths.packageRoot + "/Tests/Golden/balances-all.csv").split(separator: "\n")
        let user = balances.first { $0.hasPrefix("user:") }!.split(separator: ":")[1]
        let out = TestPaths.temporaryDirectory("statement")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try runTool(["statement", "--source", TestPaths.sample + "/events.jsonl", "--account", "user:\(user):*",
                             "--from", "2026-05-02T00:00:00Z", "--to", "2026-05-12T00:00:00Z", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("user:\(user):available"))
        let lines = TestPaths.read(out + "/statement.csv").split(separator: "\n")
        #expect(lines.first == "account,currency,event_id,event_type,hlc_physical,recorded_at,correlation_id,user_id,amount_minor,running_balance_minor")
        #expect(lines.count > 1)
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("user:\(user):") })
        #expect(LibXML.validateFile(out + "/statement.xml") == nil)
        #expect(TestPaths.read(out + "/statement.html").contains("Opening and closing balances"))
        #expect(try runTool(["statement", "--source", TestPaths.sample + "/events.jsonl", "--out", out]).status == 2)
    }
}
