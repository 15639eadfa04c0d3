import Foundation
import LedgerAuditTestSupport
import Testing

/// Our own hostile suite: each bad value, file shape and string class an attacker or a careless
/// exporter can produce, run through every command in every output format. For each: no crash,
/// no hang, the promised finding or exit status, every untouched balance exact, no full card
/// number, no raw control character, no live markup, nothing under a final name after a failure.
@Suite("hostile input: every command, every format", .serialized, .removesTemporaryFolders)
struct HostileSuiteTests {
    static let pan = "4111111111111111"
    static let sampleLines: [String] = TestPaths.read(TestPaths.sample + "/events.jsonl").split(separator: "\n").map(String.init)
    static let csvLines: [String] = TestPaths.read(TestPaths.sample + "/events.csv").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)

    /// A row that moves no money (BID_PLACED) so the clean balances stay the expected ones.
    static func bid(_ fields: [String: String]) -> String {
        var f: [String: String] = [
            "event_id": "\"0f0f0f0f-0000-4000-8000-000000000001\"", "event_type": "\"BID_PLACED\"",
            "aggregate_id": "\"0f0f0f0f-0000-4000-8000-0000000000aa\"", "stream_version": "1", "causation_id": "null",
            "correlation_id": "\"0f0f0f0f-0000-4000-8000-0000000000cc\"", "hlc_physical": "1778000000000", "hlc_logical": "0",
            "vector_clock": "{}", "payload": "{\"amount\": 100}", "metadata": "{}", "user_id": "null", "recorded_at": "\"2026-05-05T17:33:20Z\"",
        ]
        for (k, v) in fields { f[k] = v }
        let order = ["event_id", "event_type", "aggregate_id", "stream_version", "causation_id", "correlation_id", "hlc_physical", "hlc_logical",
                     "vector_clock", "payload", "metadata", "user_id", "recorded_at"]
        return "{" + order.map { "\"\($0)\": \(f[$0]!)" }.joined(separator: ", ") + "}"
    }

    struct Case: CustomStringConvertible, Sendable {
        var name: String
        /// File name and content of the hostile source.
        var file: String
        var content: @Sendable () -> String
        /// Exit status every report command must give.
        var status: Int32
        /// A code every report must carry (status 1), or text stderr must name (status 2/3).
        var expect: String
        var extraArguments: [String] = []
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "stream_version at Int64.max", file: "x.jsonl", content: { (sampleLines + [bid(["stream_version": "9223372036854775807"])]).joined(separator: "\n") },
             status: 1, expect: "STREAM_GAP"),
        Case(name: "stream_version at Int64.min", file: "x.jsonl", content: { (sampleLines + [bid(["stream_version": "-9223372036854775808"])]).joined(separator: "\n") },
             status: 1, expect: "STREAM"),
        Case(name: "hlc_physical at Int64.max", file: "x.jsonl", content: { (sampleLines + [bid(["hlc_physical": "9223372036854775807"])]).joined(separator: "\n") },
             status: 1, expect: "MALFORMED_EVENT"),
        Case(name: "hlc_physical at Int64.min", file: "x.jsonl", content: { (sampleLines + [bid(["hlc_physical": "-9223372036854775808"])]).joined(separator: "\n") },
             status: 1, expect: "MALFORMED_EVENT"),
        Case(name: "hlc_logical past Int32", file: "x.jsonl", content: { (sampleLines + [bid(["hlc_logical": "2147483648"])]).joined(separator: "\n") },
             status: 1, expect: "MALFORMED_EVENT"),
        Case(name: "recorded_at in year 10000", file: "x.jsonl", content: { (sampleLines + [bid(["recorded_at": "\"10000-01-01T00:00:00Z\""])]).joined(separator: "\n") },
             status: 1, expect: "MALFORMED_EVENT"),
        Case(name: "a column repeated in a JSONL row", file: "x.jsonl",
             content: { (sampleLines + [String(bid([:]).dropLast()) + ", \"payload\": {\"amount\": 5}}"]).joined(separator: "\n") }, status: 1, expect: "MALFORMED_EVENT"),
        Case(name: "each JSON type as event_id", file: "x.jsonl",
             content: { (sampleLines + ["1", "true", "[]", "{}", "\"x\"", "null"].map { bid(["event_id": $0]) }).joined(separator: "\n") }, status: 1, expect: "MALFORMED_EVENT"),
        Case(name: "each JSON type in each column", file: "x.jsonl",
             content: {
                 let columns = ["event_id", "event_type", "aggregate_id", "stream_version", "causation_id", "correlation_id", "hlc_physical",
                                "hlc_logical", "vector_clock", "payload", "metadata", "user_id", "recorded_at"]
                 let types = ["null", "true", "12", "1.5", "\"x\"", "[]", "{}", "9223372036854775808"]
                 return (sampleLines + columns.flatMap { c in types.map { bid([c: $0]) } }).joined(separator: "\n")
             }, status: 1, expect: "MALFORMED_EVENT"),
        Case(name: "a truncated last row", file: "x.jsonl", content: { (sampleLines + [String(bid([:]).prefix(70))]).joined(separator: "\n") },
             status: 1, expect: "MALFORMED_EVENT"),
        Case(name: "a doubled row", file: "x.jsonl", content: { (sampleLines + [bid([:]), bid([:])]).joined(separator: "\n") },
             status: 1, expect: "DUPLICATE_EVENT"),
        Case(name: "an over-long row (17 MB) is quarantined and the run goes on", file: "x.jsonl",
             content: { (sampleLines + [bid(["payload": "{\"pad\": \"" + String(repeating: "a", count: 17 << 20) + "\"}"])]).joined(separator: "\n") },
             status: 1, expect: "MALFORMED_EVENT"),
        Case(name: "a UTF-8 byte-order mark (JSONL)", file: "x.jsonl", content: { "\u{FEFF}" + sampleLines.joined(separator: "\n") }, status: 0, expect: ""),
        Case(name: "a UTF-8 byte-order mark (CSV)", file: "x.csv", content: { "\u{FEFF}" + csvLines.joined(separator: "\n") }, status: 0, expect: ""),
        Case(name: "a CSV header naming a column twice", file: "x.csv",
             content: { ([csvLines[0] + ",payload"] + csvLines.dropFirst().map { $0.isEmpty ? $0 : $0 + ",\"{\"\"amount\"\": 1}\"" }).joined(separator: "\n") },
             status: 3, expect: "payload twice"),
        Case(name: "a bare double quote inside an unquoted CSV field", file: "x.csv",
             content: { var l = csvLines; l[5] = l[5].replacingOccurrences(of: "FUNDS_", with: "FU\"NDS_"); return l.joined(separator: "\n") },
             status: 3, expect: "unterminated CSV quoted field"),
        Case(name: "an empty CSV extract", file: "x.csv", content: { "" }, status: 3, expect: "no events"),
        Case(name: "a header-only CSV extract", file: "x.csv", content: { csvLines[0] + "\n" }, status: 3, expect: "no events"),
        Case(name: "an empty JSONL extract", file: "x.jsonl", content: { "\n\n" }, status: 3, expect: "no events"),
        Case(name: "an empty extract with --allow-empty", file: "x.csv", content: { csvLines[0] + "\n" }, status: 1, expect: "EMPTY_SOURCE", extraArguments: ["--allow-empty"]),
        Case(name: "a card number and terminal escapes in ledger text", file: "x.jsonl",
             content: { (sampleLines + [bid(["event_type": "\"BID\\u001b[31mPLACED \(pan)\"", "metadata": "{\"note\": \"<script>alert(1)</script>\\u001b]0;pwned\\u0007 \(pan)\"}"])]).joined(separator: "\n") },
             status: 1, expect: "CARD_NUMBER_EXPOSED"),
    ]

    /// Every report command, default formats (html, xml, csv).
    static func commands(_ source: String, _ out: String) -> [[String]] {
        [
            ["balances", "--source", source, "--out", out + "/b", "--journal"],
            ["verify", "--source", source, "--out", out + "/v", "--as-of", "2026-06-01T00:00:00Z"],
            ["reconcile", "--source", source, "--out", out + "/r", "--projection", TestPaths.sample + "/user_balances.csv"],
            ["statement", "--source", source, "--out", out + "/s", "--account", "user:38b84b8d-f473-4f16-92b1-98982eeabfa4:*"],
            ["trace", "--source", source, "--out", out + "/t", "--account", "user:38b84b8d-f473-4f16-92b1-98982eeabfa4:available"],
            ["evidence", "--source", source, "--out", out + "/pack", "--as-of", "2026-06-01T00:00:00Z"],
            ["seal", "--source", source, "--out", out + "/seal", "--seals", out + "/seals.jsonl"],
        ]
    }

    static let cleanBalances = TestPaths.read(TestPaths.packageRoot + "/Tests/Golden/balances-all.csv")

    /// What no output may hold, whatever the input.
    static func assertClean(_ text: String, _ where_: String) {
        #expect(!text.contains(pan), "full card number in \(where_)")
        #expect(!text.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n" && $0 != "\t" && $0 != "\r") || $0.value == 0x7F }, "raw control character in \(where_)")
        // Markup is live only where a browser reads it; the JSON extract carries it as data.
        if where_.hasSuffix(".html") || where_.hasSuffix(".xml") || where_.contains("stdout") {
            #expect(!text.contains("<script>alert"), "live markup in \(where_)")
        }
    }

    static func allFiles(_ folder: String) -> [String] {
        (FileManager.default.enumerator(atPath: folder)?.allObjects as? [String] ?? []).map { folder + "/" + $0 }
    }

    @Test("each hostile case through every command", arguments: cases)
    func hostile(_ c: Case) throws {
        let folder = TestPaths.temporaryDirectory("hostile")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let source = folder + "/" + c.file
        try c.content().write(toFile: source, atomically: false, encoding: .utf8)
        for command in Self.commands(source, folder + "/out") {
            let r = try runTool(command + c.extraArguments, timeLimitSeconds: 120)
            let label = "\(c.name): \(command[0])"
            #expect(!r.crashed && !r.timedOut, "\(label) crashed or hung: \(r.stderr)")
            Self.assertClean(r.stdout, label + " stdout")
            Self.assertClean(r.stderr, label + " stderr")
            // seal reports seals, not findings of the replay's checks: it fails only on SEAL_BROKEN or a bad source.
            let expected: Int32 = command[0] == "seal" && c.status == 1 && !["MALFORMED_EVENT", "DUPLICATE_EVENT", "EMPTY_SOURCE"].contains(c.expect) ? 0 : c.status
            let balancesOnly = command[0] == "balances" || command[0] == "statement" || command[0] == "trace" || command[0] == "seal"
            let checkCodes = ["STREAM_GAP", "STREAM", "CARD_NUMBER_EXPOSED"]
            var want = balancesOnly && checkCodes.contains(c.expect) ? 0 : expected
            // A statement reads its account's stream only: a row elsewhere is not its business.
            if command[0] == "statement" && c.expect == "DUPLICATE_EVENT" { want = 0 }
            // The sample's projection carries one deliberate drift: reconcile always finds it.
            if command[0] == "reconcile" && want < 2 { want = 1 }
            #expect(r.status == want, "\(label): exit \(r.status), wanted \(want); \(r.stderr)")
            if want >= 2 {
                #expect(r.stderr.contains(c.expect), "\(label): \(r.stderr)")
            }
        }
        let files = Self.allFiles(folder + "/out")
        for f in files where !f.hasSuffix("seals.jsonl.leaves") {
            Self.assertClean(TestPaths.read(f), f)
        }
        if c.status >= 2 {
            // Nothing under a final name after a failure.
            #expect(files.filter { !$0.hasSuffix("/b") && !$0.hasSuffix("/out") }.allSatisfy { (try? FileManager.default.contentsOfDirectory(atPath: $0)) != nil }, "\(files)")
            #expect(!files.contains { $0.hasSuffix(".csv") || $0.hasSuffix(".html") || $0.hasSuffix(".xml") || $0.hasSuffix("run.json") }, "\(c.name): \(files)")
        } else if c.expect.isEmpty || c.expect == "MALFORMED_EVENT" || c.expect == "DUPLICATE_EVENT" || c.expect == "STREAM_GAP" || c.expect == "STREAM" || c.expect == "CARD_NUMBER_EXPOSED" {
            // Untouched balances exact: the hostile row moves nothing, every other balance is the sample's.
            #expect(TestPaths.read(folder + "/out/b/balances.csv") == Self.cleanBalances, "\(c.name): balances changed")
        }
        if c.status == 1 {
            #expect(TestPaths.read(folder + "/out/v/findings.csv").contains(c.expect), "\(c.name)")
        }
    }

    /// A hold holding more than any Int64: the money leaves its account by a release naming
    /// another hold, the hold keeps its lot, and the same amount is reserved again (2 × 2^62).
    /// The limbo check summed a hold in Int64 and trapped at the end of the pass (exit 132, no
    /// report) before stop 51. Every command runs to its end; `limbo.csv` has the exact sum.
    @Test("a hold past Int64 through every command: no crash, the exact amount in limbo.csv")
    func holdPastInt64() throws {
        let folder = TestPaths.temporaryDirectory("hostile-hold")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let big = "4611686018427387904"
        func event(_ n: Int, _ type: String, _ payload: String) -> String {
            Self.bid(["event_id": "\"0f0f0f0f-0000-4000-8000-00000000010\(n)\"", "event_type": "\"\(type)\"",
                      "aggregate_id": "\"0f0f0f0f-0000-4000-8000-0000000001aa\"", "stream_version": "\(n)",
                      "correlation_id": "\"0f0f0f0f-0000-4000-8000-0000000001c\(n)\"", "hlc_physical": "177800000000\(n)",
                      "user_id": "\"0f0f0f0f-0000-4000-8000-0000000001aa\"", "payload": payload])
        }
        let lines = Self.sampleLines + [
            event(1, "FUNDS_DEPOSITED", "{\"amount\": \(big)}"),
            event(2, "FUNDS_RESERVED", "{\"amount\": \(big), \"reservation_id\": \"R1\"}"),
            event(3, "RESERVATION_RELEASED", "{\"amount\": \(big), \"reservation_id\": \"R2\"}"),
            event(4, "FUNDS_RESERVED", "{\"amount\": \(big), \"reservation_id\": \"R1\"}"),
        ]
        let source = folder + "/x.jsonl"
        try lines.joined(separator: "\n").write(toFile: source, atomically: false, encoding: .utf8)
        for command in Self.commands(source, folder + "/out") {
            let r = try runTool(command, timeLimitSeconds: 120)
            #expect(!r.crashed && !r.timedOut && r.status <= 1, "\(command[0]): exit \(r.status) \(r.stderr)")
        }
        let limbo = TestPaths.read(folder + "/out/v/limbo.csv")
        #expect(limbo.contains("user:0f0f0f0f-0000-4000-8000-0000000001aa:reserved,USD,R1,9223372036854775808,"), "\(limbo)")
        #expect(TestPaths.read(folder + "/out/v/verify.xml").contains("amountMinor=\"9223372036854775808\""))
    }

    @Test("a catalog number at its type's limit is exit 2 naming the key", arguments: ["clock_skew_max_ms: 9223372036854775807", "limbo_after_ms: 9223372036854775807", "limbo_after_hours: -1", "clock_skew_max_ms: 99999999999999999999"])
    func catalogLimits(line: String) throws {
        let folder = TestPaths.temporaryDirectory("hostile-catalog")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let catalog = TestPaths.read(TestPaths.sample + "/ledger-audit.yml") + "\n" + line + "\n"
        try catalog.write(toFile: folder + "/c.yml", atomically: false, encoding: .utf8)
        let r = try runTool(["verify", "--source", TestPaths.sample + "/events.jsonl", "--config", folder + "/c.yml", "--out", folder + "/out"], timeLimitSeconds: 60)
        #expect(!r.crashed && r.status == 2, "\(line): \(r.status) \(r.stderr)")
        #expect(r.stderr.contains(String(line.split(separator: ":")[0])))
    }

    @Test("an edited seal file is SEAL_BROKEN naming the line, never a crash", arguments: ["\"tree_size\":99999999999999999", "\"tree_size\":-5", "\"tree_size\":\"x\"", "\"seal\":0", "\"as_of_ms\":9223372036854775807"])
    func editedSeals(edit: String) throws {
        let folder = TestPaths.temporaryDirectory("hostile-seal")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let seals = folder + "/seals.jsonl"
        let source = TestPaths.sample + "/events.jsonl"
        #expect(try runTool(["seal", "--source", source, "--seals", seals, "--out", folder + "/s", "-q"]).status == 0)
        var line = TestPaths.read(seals)
        let key = String(edit.split(separator: ":")[0])
        line = line.replacingOccurrences(of: #"\#(key):[^,]*"#, with: edit, options: .regularExpression)
        try line.write(toFile: seals, atomically: false, encoding: .utf8)
        for command in [["verify", "--out", folder + "/v"], ["reconcile", "--out", folder + "/r", "--projection", TestPaths.sample + "/user_balances.csv"], ["seal", "--out", folder + "/s2"]] {
            let r = try runTool(command + ["--source", source, "--seals", seals], timeLimitSeconds: 60)
            #expect(!r.crashed && r.status == 1, "\(edit) \(command[0]): \(r.status) \(r.stderr)")
        }
        #expect(TestPaths.read(folder + "/v/findings.csv").contains("SEAL_BROKEN"))
        #expect(TestPaths.read(folder + "/v/findings.csv").contains("line 1"))
    }

    @Test("templates: a partial that includes itself, or unescaped ledger text, is exit 2 naming the template")
    func templates() throws {
        let folder = TestPaths.temporaryDirectory("hostile-templates")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let built = TestPaths.packageRoot + "/templates"
        for (name, extra, expect) in [("loop", ("section.mustache", "{{> section}}"), "includes itself"), ("raw", ("section.mustache", "{{{title}}}"), "unescaped"), ("amp", ("report.mustache", "{{& title}}"), "unescaped")] {
            let dir = folder + "/" + name
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for f in ["report.mustache", "section.mustache", "section-findings.mustache"] {
                var text = TestPaths.read(built + "/" + f)
                if f == extra.0 { text += extra.1 }
                try text.write(toFile: dir + "/" + f, atomically: false, encoding: .utf8)
            }
            let r = try runTool(["balances", "--source", TestPaths.sample + "/events.jsonl", "--templates", dir, "--out", folder + "/out-" + name], timeLimitSeconds: 30)
            #expect(!r.timedOut && r.status == 2, "\(name): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains(expect) && r.stderr.contains(extra.0), "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: folder + "/out-" + name + "/balances.html"))
        }
    }

    @Test("--source is named without guessing: a file in a date-partitioned folder, file: and pg: prefixes, and a name that is neither")
    func sourceNames() throws {
        let folder = TestPaths.temporaryDirectory("hostile-source")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let partitioned = folder + "/dt=2024-03-01"
        try FileManager.default.createDirectory(atPath: partitioned, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: TestPaths.sample + "/events.jsonl", toPath: partitioned + "/events.jsonl")
        #expect(try runTool(["balances", "--source", partitioned + "/events.jsonl", "--out", folder + "/a", "-q"]).status == 0)
        #expect(try runTool(["balances", "--source", "file:" + partitioned + "/events.jsonl", "--out", folder + "/b", "-q"]).status == 0)
        #expect(TestPaths.read(folder + "/a/balances.csv") == Self.cleanBalances)
        let neither = try runTool(["balances", "--source", "ledger-export", "--out", folder + "/c"])
        #expect(neither.status == 2 && neither.stderr.contains("neither an existing file") && neither.stderr.contains("file:PATH"))
        let missing = try runTool(["balances", "--source", partitioned + "/missing.jsonl", "--out", folder + "/d"])
        #expect(missing.status == 3)
        let pg = try runTool(["balances", "--source", "pg:host=/nonexistent port=1 dbname=x", "--out", folder + "/e"])
        #expect(pg.status == 3 && pg.stderr.contains("cannot connect"))
    }

    @Test("options at their edges are exit 2, never a crash", arguments: [
        ["balances", "--as-of", "99999999999999999999"], ["balances", "--as-of", "9223372036854775807"], ["balances", "--as-of", "-9223372036854775808"],
        ["balances", "--as-of", "2026-02-30T00:00:00Z"], ["balances", "--as-of", "2026-05-03T14:23:00"], ["statement"], ["trace", "--event", "not-a-uuid"],
        ["verify", "--check", "nope"], ["balances", "--format", ""], ["seal"], ["evidence", "--as-of", "x", "--out", "/tmp/never"],
        // The same source twice would count its money twice: refused, never merged.
        ["balances", "--source", TestPaths.sample + "/events.jsonl"],
        // More sources than reader threads the run allows (a source index is 16 bits).
        ["balances"] + (0..<300).flatMap { ["--source", "/nonexistent/cell-\($0).jsonl"] },
    ])
    func optionEdges(arguments: [String]) throws {
        let r = try runTool(arguments + ["--source", TestPaths.sample + "/events.jsonl"], timeLimitSeconds: 60)
        #expect(!r.crashed && r.status == 2, "\(arguments): \(r.status) \(r.stderr)")
    }

    @Test("verify-pack refusing a bad zip leaves no temp folder behind")
    func badZip() throws {
        let folder = TestPaths.temporaryDirectory("hostile-zip")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Data(repeating: 0x50, count: 5 << 20).write(to: URL(fileURLWithPath: folder + "/bad.zip"))
        let before = Set((try? FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory())) ?? []).filter { $0.hasPrefix("ledger-audit-verify-pack") }
        let r = try runTool(["verify-pack", folder + "/bad.zip"])
        #expect(!r.crashed && r.status != 0)
        let after = Set((try? FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory())) ?? []).filter { $0.hasPrefix("ledger-audit-verify-pack") }
        #expect(after == before)
    }
}
