import Foundation
import LedgerAuditCore
import LedgerAuditEngine
import LedgerAuditTestSupport
import Testing

/// The commands are thin: each builds a plan and calls the engine. Run in process and through
/// the binary, every report file is the same byte for byte (SOURCE_DATE_EPOCH fixes the clock),
/// from PostgreSQL and from both extract formats.
@Suite("engine in process = the command line", .serialized, .removesTemporaryFolders)
struct EngineCommandTests {
    static let epochSeconds: Int64 = 1_790_000_000
    static let alice = "user:38b84b8d-f473-4f16-92b1-98982eeabfa4"

    /// A command's arguments and the plan the engine is given for it.
    static func cases(source: String, isDatabase: Bool, folder: ScratchFolder) -> [(name: String, arguments: [String], request: ReportRequest)] {
        let asOf = "2026-05-15T00:00:00Z", asOfUs: Int64 = 1_778_803_200_000_000
        let projection = isDatabase ? [] : [TestPaths.sample + "/user_balances.csv"]
        func out(_ n: String) -> ReportOutput { ReportOutput(folder: folder.sub("engine-" + n)) }
        return [
            ("balances", ["balances", "--as-of", asOf, "--from", "2026-05-08T00:00:00Z", "--journal"],
             ReportRequest(.balances(filters: [], fromUs: 1_778_198_400_000_000, journal: true), scope: ReportScope(asOfUs: asOfUs), output: out("balances"))),
            ("verify", ["verify", "--as-of", asOf],
             ReportRequest(.verify(CheckSelection()), scope: ReportScope(asOfUs: asOfUs), output: out("verify"))),
            ("reconcile", ["reconcile"] + projection.flatMap { ["--projection", $0] },
             ReportRequest(.reconcile(ReconcileOptions(projectionFiles: projection)), scope: .wholeSnapshot, output: out("reconcile"))),
            ("statement", ["statement", "--account", alice + ":*", "--to", asOf, "--full-scan"],
             ReportRequest(.statement(accounts: [alice + ":*"], fromUs: nil, readOnlyStreams: false), scope: ReportScope(asOfUs: asOfUs), output: out("statement"))),
            ("trace", ["trace", "--account", alice + ":available", "--as-of", asOf],
             ReportRequest(.traceAccounts(accounts: [alice + ":available"], lots: .fifo), scope: ReportScope(asOfUs: asOfUs), output: out("trace"))),
        ]
    }

    func compare(source: String, isDatabase: Bool) throws {
        let folder = ScratchFolder("engine-cli")
        let facts = RunFacts(toolVersion: AuditEngine.toolVersion, gitRevision: "x", runBy: RunFacts.osUser(), clockUs: { Self.epochSeconds * 1_000_000 })
        let environment = ["SOURCE_DATE_EPOCH": String(Self.epochSeconds), "LEDGER_AUDIT_GIT_REVISION": "x"]
        for c in Self.cases(source: source, isDatabase: isDatabase, folder: folder) {
            let cliFolder = folder.sub("cli-" + c.name)
            let r = try runTool(c.arguments + ["--source", source, "--out", cliFolder, "-q"], environment: environment)
            #expect(r.status == 0 || r.status == 1, "\(c.name): \(r.stderr)")
            let session = try AuditSession.open(source: source, catalog: try LoadedCatalog.load(nil), facts: facts)
            _ = try AuditEngine.run(AuditPlan(reports: [c.request]), in: session)
            var cli = reportFiles(cliFolder), engine = reportFiles(c.request.output.folder)
            // The journal and run.json name their folder; everything else is compared as is.
            for name in ["run.json"] { cli[name] = cli[name]?.replacingOccurrences(of: cliFolder, with: "F"); engine[name] = engine[name]?.replacingOccurrences(of: c.request.output.folder, with: "F") }
            #expect(cli.count >= 4, "\(c.name)")
            #expect(cli.keys.sorted() == engine.keys.sorted(), "\(c.name)")
            for (file, text) in cli { #expect(text == engine[file], "\(c.name)/\(file) differs between the command and the engine") }
        }
    }

    @Test("both extract formats", arguments: ["events.jsonl", "events.csv"])
    func extracts(file: String) throws { try compare(source: TestPaths.sample + "/" + file, isDatabase: false) }

    @Test("PostgreSQL")
    func database() throws {
        let db = try ScratchDatabase("engine")
        try db.load(folder: TestPaths.sample)
        try compare(source: db.conninfo, isDatabase: true)
    }

    @Test("an unwritable --out is exit 4 with the path named, and no report under a final name")
    func unwritable() throws {
        let folder = ScratchFolder("exit4")
        let file = folder.sub("not-a-folder")
        FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        for command in [["balances"], ["balances", "--journal"], ["verify"], ["reconcile", "--projection", TestPaths.sample + "/user_balances.csv"]] {
            let r = try runTool(command + ["--source", TestPaths.sample + "/events.jsonl", "--out", file + "/reports"])
            #expect(r.status == 4, "\(command): \(r.stderr)")
            #expect(r.stderr.contains(file), "\(r.stderr)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["not-a-folder"])
    }

    @Test("verify --list-checks lists every check of the registry, the store checks included")
    func listChecks() throws {
        let r = try runTool(["verify", "--list-checks"])
        #expect(r.status == 0)
        for name in ["stream", "causation", "limbo", "card-number", "append-only", "seals", "replay"] { #expect(r.stdout.contains(name)) }
    }
}
