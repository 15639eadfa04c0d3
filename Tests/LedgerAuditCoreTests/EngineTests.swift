import Foundation
import LedgerAuditChecks
import LedgerAuditConfig
import LedgerAuditCore
import LedgerAuditEngine
import LedgerAuditSources
import LedgerAuditTestSupport
import Testing

/// The engine as a library: plans over inline ledgers and the sample, one pass for everything.
@Suite("engine: one plan, one pass, the same files as each report alone", .removesTemporaryFolders)
struct EngineTests {
    static let facts = RunFacts(toolVersion: "test", gitRevision: "test", runBy: "test", clockUs: { 1_790_000_000_000_000 })

    static func session(_ source: any EventSource, catalog: LoadedCatalog = try! LoadedCatalog.load(nil)) -> AuditSession {
        AuditSession(catalog: catalog, source: source, facts: facts)
    }

    /// Each kind of report, with the options the commands give it.
    static func requests(_ folder: ScratchFolder) -> [ReportRequest] {
        let asOf = ReportScope(asOfUs: 1_778_803_200_000_000)  // 2026-05-15
        let alice = "user:38b84b8d-f473-4f16-92b1-98982eeabfa4"
        return [
            ReportRequest(.balances(filters: [], fromUs: 1_778_198_400_000_000, journal: true), scope: asOf, output: ReportOutput(folder: folder.sub("balances"))),
            ReportRequest(.verify(CheckSelection()), scope: asOf, output: ReportOutput(folder: folder.sub("verify"))),
            ReportRequest(.reconcile(ReconcileOptions(projectionFiles: [TestPaths.sample + "/user_balances.csv"])), scope: .wholeSnapshot,
                          output: ReportOutput(folder: folder.sub("reconcile"))),
            ReportRequest(.statement(accounts: [alice + ":*"], fromUs: 1_777_593_600_000_000, readOnlyStreams: false), scope: asOf,
                          output: ReportOutput(folder: folder.sub("statement"))),
            ReportRequest(.traceAccounts(accounts: [alice + ":available"], lots: .fifo), scope: asOf, output: ReportOutput(folder: folder.sub("trace"))),
        ]
    }

    @Test("every report of one plan equals the same report run alone, byte for byte; the events are read once", arguments: ["events.jsonl", "events.csv"])
    func combinedEqualsAlone(extract: String) throws {
        let alone = ScratchFolder("engine-alone"), together = ScratchFolder("engine-together")
        for request in Self.requests(alone) {
            _ = try AuditEngine.run(AuditPlan(reports: [request]), in: Self.session(try FileExtractSource(path: TestPaths.sample + "/" + extract)))
        }
        let counting = CountingSource(try FileExtractSource(path: TestPaths.sample + "/" + extract))
        let outcome = try AuditEngine.run(AuditPlan(reports: Self.requests(together)), in: Self.session(counting))
        for name in ["balances", "verify", "reconcile", "statement", "trace"] {
            let a = reportFiles(alone.sub(name)), b = reportFiles(together.sub(name))
            #expect(!a.isEmpty)
            #expect(a.keys.sorted() == b.keys.sorted(), "\(name)")
            for (file, text) in a { #expect(text == b[file], "\(name)/\(file) differs") }
        }
        // One pass for all five reports, and the narrow pass that explains the sample's one mismatch.
        #expect(counting.passes == 2)
        #expect(counting.rowsPerPass.first == 3039)
        #expect(counting.rowsPerPass.last! < 100)
        #expect(outcome.reports.map(\.kind) == ["balances", "verify", "reconcile", "statement", "trace"])
        #expect(outcome.failed)  // the sample's deliberate drift
    }

    @Test("an evidence pack reads the events once (plus the narrow pass behind a mismatch)")
    func evidenceOnePass() throws {
        let folder = ScratchFolder("engine-evidence")
        for (projections, passes) in [([String](), 1), ([TestPaths.sample + "/user_balances.csv"], 2)] {
            let counting = CountingSource(try FileExtractSource(path: TestPaths.sample + "/events.jsonl"))
            let pack = folder.sub("pack-\(passes)")
            let request = EvidenceRequest(asOfUs: 1_778_803_200_000_000, basis: .hlc, out: pack, accounts: ["user:38b84b8d-f473-4f16-92b1-98982eeabfa4:*"],
                                          projectionFiles: projections)
            let outcome = try EvidencePack.write(request, session: Self.session(counting))
            #expect(counting.passes == passes, "with projections \(projections)")
            // As of T alone, the source reads T's events; reconciling reads the whole snapshot.
            #expect(counting.rowsPerPass.first == (projections.isEmpty ? 2214 : 3039))
            #expect(outcome.run.reports.count == (projections.isEmpty ? 3 : 4))
            for f in ["data/balances/balances.csv", "data/balances/journal.csv", "data/verify/findings.csv", "data/statements/statement.csv", "data/events.jsonl", "bag-info.txt"] {
                #expect(FileManager.default.fileExists(atPath: pack + "/" + f), "\(f)")
            }
        }
    }

    @Test("an inline ledger: balances, verify and a statement in one plan; checks are findings, not tool failures")
    func inlineLedger() throws {
        var l = LedgerBuilder()
        l.add("FUNDS_DEPOSITED", aggregate: "alice", payload: #"{"amount": 100000}"#)
        l.add("FUNDS_WITHDRAWN", aggregate: "alice", payload: #"{"amount": 20000}"#)
        l.add("FUNDS_DEPOSITED", aggregate: "alice", payload: #"{"amount": 50000}"#, version: 5)  // STREAM_GAP
        let folder = ScratchFolder("engine-inline")
        let all = ReportScope()
        let alice = LedgerBuilder.user("alice", "available")
        let plan = AuditPlan(reports: [
            ReportRequest(.balances(filters: [], fromUs: nil, journal: false), scope: all, output: ReportOutput(folder: folder.sub("b"), formats: ["csv"])),
            ReportRequest(.verify(CheckSelection()), scope: all, output: ReportOutput(folder: folder.sub("v"), formats: ["csv"])),
            ReportRequest(.statement(accounts: [alice], fromUs: nil, readOnlyStreams: false), scope: all, output: ReportOutput(folder: folder.sub("s"), formats: ["csv"])),
        ])
        let counting = CountingSource(ArraySource(l.events))
        let outcome = try AuditEngine.run(plan, in: Self.session(counting))
        #expect(counting.passes == 1)
        #expect(outcome.reports[0].result.book.balance(alice, "USD") == 130000)
        #expect(outcome.reports[0].findings.countByCode[.streamGap] == nil)  // balances runs no checks
        #expect(outcome.reports[1].findings.countByCode[.streamGap] == 1)
        #expect(outcome.reports[1].failed == (FindingCode.streamGap.defaultSeverity >= .high))
        #expect(TestPaths.read(folder.sub("s") + "/statement.csv").split(separator: "\n").count == 4)
    }

    @Test("the registry lists every check, the store checks included; each name is unique")
    func registry() {
        let names = Checks.names
        #expect(Set(names).count == names.count)
        for n in ["stream", "duplicate-command", "causation", "clock-skew", "negative-balance", "limbo", "missing-actor", "card-number", "append-only", "seals"] {
            #expect(names.contains(n))
            #expect(Checks.listing().contains(n))
        }
        #expect(Checks.named("append-only")?.input == .storeCatalog)
    }

    @Test("a report that cannot be written is exit 4 naming the path; nothing is left under a final name")
    func unwritable() throws {
        let folder = ScratchFolder("engine-unwritable")
        let file = folder.sub("a-file")
        FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        var l = LedgerBuilder()
        l.add("FUNDS_DEPOSITED", aggregate: "alice", payload: #"{"amount": 100}"#)
        for out in [file, file + "/sub"] {
            for journal in [false, true] {
                let plan = AuditPlan(reports: [ReportRequest(.balances(filters: [], fromUs: nil, journal: journal), scope: ReportScope(), output: ReportOutput(folder: out))])
                #expect(throws: AuditFailure.self) { try AuditEngine.run(plan, in: Self.session(ArraySource(l.events))) }
                do {
                    _ = try AuditEngine.run(plan, in: Self.session(ArraySource(l.events)))
                } catch {
                    #expect(error.status == .output)
                    #expect(error.message.contains(file))
                }
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["a-file"])
    }
}
