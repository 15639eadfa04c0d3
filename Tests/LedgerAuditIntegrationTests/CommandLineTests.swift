import Foundation
import LedgerAuditTestSupport
import Testing

/// Runs the built binary as users and schedulers do: files written, stdout, exit status.
@Suite("ledger-audit from the command line", .removesTemporaryFolders)
struct CommandLineTests {
    @Test("balances on the shipped sample: exit 0, golden balances.csv, empty findings.csv")
    func balancesOnSample() throws {
        let out = TestPaths.temporaryDirectory("cli")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try runTool(["balances", "--source", TestPaths.sample + "/events.jsonl", "--out", out, "--as-of", "2026-05-03T14:23:00Z"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(TestPaths.read(out + "/balances.csv") == TestPaths.read(TestPaths.packageRoot + "/Tests/Golden/balances-may03-1423.csv"))
        #expect(TestPaths.read(out + "/findings.csv").split(separator: "\n").count == 1)
        #expect(r.stdout.contains("conservation holds"))
        #expect(r.stdout.contains("time basis hlc"))
        #expect(r.stdout.contains("sorted before replay"))
        // No temporary file is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).sorted() == ["balances.csv", "balances.html", "balances.xml", "findings.csv", "run.json", "trial_balance.csv"])
    }

    @Test("--account filters by exact name or prefix*")
    func accountFilter() throws {
        let out = TestPaths.temporaryDirectory("cli")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try runTool(["balances", "--source", TestPaths.sample + "/events.csv", "--out", out, "-q", "--account", "external:*", "--account", "platform:fees"])
        #expect(r.status == 0)
        #expect(r.stdout.isEmpty)
        let rows = TestPaths.read(out + "/balances.csv").split(separator: "\n").dropFirst()
        #expect(rows.count == 9)
        #expect(rows.allSatisfy { $0.hasPrefix("external:") || $0.hasPrefix("platform:fees,") })
    }

    @Test("bad amounts: exit 1 (high findings), findings.csv lists them, balances exclude them")
    func badAmountsExitOne() throws {
        let dir = TestPaths.temporaryDirectory("cli")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let u = "11111111-1111-4111-8111-111111111111"
        func line(_ id: Int, _ amount: String) -> String {
            #"{"event_id":"00000000-0000-4000-8000-00000000000\#(id)","event_type":"FUNDS_DEPOSITED","aggregate_id":"\#(u)","stream_version":\#(id),"causation_id":null,"correlation_id":"\#(u)","hlc_physical":\#(id),"hlc_logical":0,"vector_clock":{},"payload":{"amount":\#(amount)},"metadata":{},"user_id":"\#(u)","recorded_at":"2026-05-01T00:00:00Z"}"#
        }
        let text = [line(1, "100"), line(2, "12.5"), line(3, "\"-4\""), line(4, "18446744073709551616")].joined(separator: "\n") + "\n"
        try text.write(toFile: dir + "/e.jsonl", atomically: true, encoding: .utf8)
        let r = try runTool(["balances", "--source", dir + "/e.jsonl", "--out", dir + "/out"])
        #expect(r.status == 1)
        let findings = TestPaths.read(dir + "/out/findings.csv")
        #expect(findings.components(separatedBy: "BAD_AMOUNT").count - 1 == 3)
        #expect(TestPaths.read(dir + "/out/balances.csv").contains("user:\(u):available,USD,100,1.00"))
        #expect(r.stdout.contains("quarantined 3"))
        // With --fail-on critical the same run is clean.
        let r2 = try runTool(["balances", "--source", dir + "/e.jsonl", "--out", dir + "/out", "--fail-on", "critical"])
        #expect(r2.status == 0)
    }

    @Test("bad configuration exits 2 naming file, line and key")
    func badConfig() throws {
        let dir = TestPaths.temporaryDirectory("cli")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "events:\n  X:\n    from: \"a:{oops}\"\n    to: b\n".write(toFile: dir + "/c.yml", atomically: true, encoding: .utf8)
        let r = try runTool(["balances", "--config", dir + "/c.yml", "--source", TestPaths.sample + "/events.jsonl", "--out", dir])
        #expect(r.status == 2)
        #expect(r.stderr.contains("c.yml:3: events.X.from"))
    }

    @Test("bad usage exits 2", arguments: [
        ["balances", "--as-of", "yesterday"], ["balances", "--format", "pdf"], ["balances", "--bogus"],
        ["balances", "--source", "ledger.txt"], ["balances", "--time-basis", "wall"], ["balances", "--fail-on", "severe"],
        ["balances", "--journal", "--format", "html"], ["balances", "--from", "2026-05-02T00:00:00Z", "--as-of", "2026-05-01T00:00:00Z"],
    ])
    func badUsage(arguments: [String]) throws {
        let r = try runTool(arguments + ["--out", TestPaths.temporaryDirectory("cli")])
        #expect(r.status == 2, "\(arguments): \(r.stderr)")
    }

    @Test("an unreachable server or missing file exits 3, and no password is shown", arguments: [
        "postgresql://auditor:Hunter2Secret@127.0.0.1:1/ledger",
        "host=/nonexistent port=1 user=auditor password=Hunter2Secret dbname=ledger",
        "postgresql://auditor@127.0.0.1:1/ledger?password=Hunter2Secret",
    ])
    func unreachable(source: String) throws {
        let r = try runTool(["balances", "--source", source, "--out", TestPaths.temporaryDirectory("cli")])
        #expect(r.status == 3)
        #expect(!r.stderr.contains("Hunter2Secret") && !r.stdout.contains("Hunter2Secret"))
        #expect(r.stderr.contains("cannot connect"))
    }

    @Test("a catalog, command registry or key that cannot be read is exit 2 with the reason: a folder, bytes that are not UTF-8 (by offset), a missing key; a catalog through a pipe is read")
    func unreadableTextFiles() throws {
        let dir = TestPaths.temporaryDirectory("cli")
        let events = TestPaths.sample + "/events.jsonl"
        var r = try runTool(["balances", "--config", dir, "--source", events, "--out", dir + "/o"])
        #expect(r.status == 2 && r.stderr.contains("cannot read the catalog \(dir): it is a directory, not a file"), "\(r.stderr)")
        try Data([0x35, 0x64, 0xFF, 0x0A]).write(to: URL(fileURLWithPath: dir + "/commands.txt"))
        r = try runTool(["verify", "--commands", dir + "/commands.txt", "--source", events, "--out", dir + "/o"])
        #expect(r.status == 2 && r.stderr.contains("cannot read the command registry \(dir)/commands.txt: it is not UTF-8 text (a bad byte at offset 2)"), "\(r.stderr)")
        r = try runTool(["evidence", "--sign-key", dir + "/none.key", "--as-of", "2026-05-03T00:00:00Z", "--source", events, "--out", dir + "/pack"])
        #expect(r.status == 2 && r.stderr.contains("cannot read the signing key \(dir)/none.key: No such file or directory"), "\(r.stderr)")
        let piped = try runProgram(["bash", "-c", "\"$0\" balances --config <(cat \"$1\") --source \"$2\" --out \"$3\" -q", TestPaths.binary, TestPaths.sample + "/ledger-audit.yml", events, dir + "/piped"])
        #expect(piped.status == 0, "\(piped.output)")
        #expect(TestPaths.read(dir + "/piped/balances.csv").contains("platform:fees"))
    }

    @Test func missingExtract() throws {
        let r = try runTool(["balances", "--source", "/nonexistent/events.jsonl", "--out", TestPaths.temporaryDirectory("cli")])
        #expect(r.status == 3)
    }

    @Test("generate writes the same ledger for the same seed")
    func generateIsDeterministic() throws {
        let a = TestPaths.temporaryDirectory("gen"), b = TestPaths.temporaryDirectory("gen")
        #expect(try runTool(["generate", "--events", "500", "--seed", "7", "--out", a]).status == 0)
        #expect(try runTool(["generate", "--events", "500", "--seed", "7", "--out", b]).status == 0)
        for f in ["events.jsonl", "events.csv", "user_balances.csv", "load.sql"] {
            #expect(TestPaths.read(a + "/" + f) == TestPaths.read(b + "/" + f), "\(f)")
        }
    }
}
