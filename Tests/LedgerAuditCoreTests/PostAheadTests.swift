import Foundation
import LedgerAuditConfig
import LedgerAuditCore
import LedgerAuditEngine
import LedgerAuditSources
import LedgerAuditTestSupport
import Testing

/// Rows lent in batches of the sizes given, in turn: the engine posts each batch ahead of its
/// fold and asks for the memory it will touch (`PostAhead`). Counts the batches lent.
final class BatchLender: BatchLendingEventSource {
    let inner: any EventSource
    let sizes: [Int]
    private(set) var batchesLent = 0
    init(_ inner: any EventSource, sizes: [Int]) {
        self.inner = inner
        self.sizes = sizes
    }
    var redactedDescription: String { inner.redactedDescription }
    func streamBatches(scope: ReplayScope, _ body: (UnsafeMutableBufferPointer<SourceRow>) throws -> Void) throws -> SourceReport {
        var rows: [SourceRow] = []
        let report = try inner.stream(scope: scope) { rows.append($0) }
        var start = 0, turn = 0
        while start < rows.count {
            let end = min(rows.count, start + sizes[turn % sizes.count])
            try rows[start..<end].withUnsafeMutableBufferPointer { try body($0) }
            batchesLent += 1
            start = end
            turn += 1
        }
        return report
    }
}

/// A batch posted ahead of its fold, with prefetch hints for the book and the ids table, must
/// give exactly what the fold gives posting one event at a time: every report byte for byte.
@Suite("post ahead: a lent batch posted before its fold", .removesTemporaryFolders)
struct PostAheadTests {
    /// Each report alone (a run of one lane), into `folder`.
    static func runEachAlone(_ source: () throws -> any EventSource, catalog: LoadedCatalog, folder: ScratchFolder, names: [String] = ["balances", "verify", "reconcile", "statement", "trace"]) throws {
        for request in EngineTests.requests(folder) where names.contains(request.kind.name) {
            _ = try AuditEngine.run(AuditPlan(reports: [request]), in: EngineTests.session(try source(), catalog: catalog))
        }
    }

    @Test("every report of the sample read ahead (batches of 256) equals the file read one row at a time", arguments: ["events.jsonl", "events.csv"])
    func sampleReadAhead(extract: String) throws {
        let path = TestPaths.sample + "/" + extract
        let catalog = try LoadedCatalog.load(nil)
        let oneByOne = ScratchFolder("post-ahead-rows"), ahead = ScratchFolder("post-ahead-batches")
        try Self.runEachAlone({ try FileExtractSource(path: path) }, catalog: catalog, folder: oneByOne)
        try Self.runEachAlone({ ReadAheadSource(try FileExtractSource(path: path)) }, catalog: catalog, folder: ahead)
        Self.expectSameReports(oneByOne, ahead, names: ["balances", "verify", "reconcile", "statement", "trace"], label: extract)
    }

    /// Each named report's files in `b` are those in `a`, byte for byte.
    static func expectSameReports(_ a: ScratchFolder, _ b: ScratchFolder, names: [String], label: String) {
        for name in names {
            let one = reportFiles(a.sub(name)), other = reportFiles(b.sub(name))
            #expect(!one.isEmpty, "\(label) \(name)")
            #expect(one.keys.sorted() == other.keys.sorted(), "\(label) \(name)")
            for (file, text) in one { #expect(text == other[file], "\(label) \(name)/\(file) differs") }
        }
    }

    /// A catalog with a two-posting type, and ~800 rows: deposits of 37 users, sales, repeated
    /// ids, unknown types, an Int64 overflow, and an unreadable row every 131 rows.
    static func hostileLedger() throws -> (catalog: LoadedCatalog, rows: [SourceRow], repeated: Int) {
        let yaml = """
            default_currency: USD
            events:
              FUNDS_DEPOSITED: {from: "external:deposits", to: "user:{aggregate_id}:available"}
              FEE_CHARGED: {from: "user:{aggregate_id}:available", to: "platform:fees"}
              SALE:
                postings:
                  - {from: "user:{aggregate_id}:available", to: "platform:fees", amount_field: net}
                  - {from: "user:{aggregate_id}:available", to: "tax:{payload.region}", amount_field: tax}
            """
        let catalog = LoadedCatalog(catalog: try CatalogLoader.load(yaml: yaml, file: "c.yml"), file: "c.yml", text: yaml)
        var l = LedgerBuilder()
        var repeated: [EventRecord] = []
        for i in 0..<600 {
            let user = "user-\(i % 37)"
            l.add("FUNDS_DEPOSITED", aggregate: user, payload: #"{"amount": \#(1000 + i)}"#, at: 1_778_000_000_000 + Int64(i) * 600_000)
            if i % 5 == 0 { l.add("SALE", aggregate: user, payload: #"{"net": 30, "tax": 7, "region": "EU\#(i % 3)"}"#) }
            if i % 11 == 0 { repeated.append(l.add("FEE_CHARGED", aggregate: user, payload: #"{"amount": 5}"#)) }
            if i % 97 == 0 { l.add("NOT_IN_THE_CATALOG", aggregate: user, payload: #"{"amount": 5}"#) }
            if i == 300 {
                // The second deposit would take the balance past Int64: quarantined, never wrapped.
                l.add("FUNDS_DEPOSITED", aggregate: "whale", payload: #"{"amount": 9000000000000000000}"#)
                l.add("FUNDS_DEPOSITED", aggregate: "whale", payload: #"{"amount": 9000000000000000000}"#)
            }
        }
        // The unreadable rows spread through the events (one every 131 rows), not all first.
        var rows: [SourceRow] = []
        for (i, row) in ArraySource(l.events + repeated).rows.enumerated() {
            if i % 131 == 0 { rows.append(.malformed(MalformedRow(location: "line \(i + 1)", reason: "not JSON"))) }
            rows.append(row)
        }
        return (catalog, rows, repeated.count)
    }

    @Test("hostile rows in odd batches (repeated ids, unreadable rows, an overflow, unknown types, several postings an event, events out of scope): the same reports and figures")
    func hostileBatches() throws {
        let (catalog, rows, repeatedCount) = try Self.hostileLedger()
        let malformedCount = rows.filter { if case .malformed = $0 { return true }; return false }.count
        var plain = ArraySource([])
        plain.rows = rows
        let asOf = ReportScope(asOfUs: 1_778_200_000_000_000)
        for scope in [ReportScope(), asOf] {
            let oneByOne = ScratchFolder("post-ahead-hostile-rows"), ahead = ScratchFolder("post-ahead-hostile-batches")
            var lenders: [BatchLender] = []
            for (folder, lend) in [(oneByOne, false), (ahead, true)] {
                for (name, kind) in [("balances", ReportKind.balances(filters: [], fromUs: nil, journal: true)), ("verify", .verify(CheckSelection()))] {
                    let from: any EventSource
                    if lend {
                        let lender = BatchLender(plain, sizes: [1, 7, 256, 3, 64])
                        lenders.append(lender)
                        from = lender
                    } else {
                        from = plain
                    }
                    let request = ReportRequest(kind, scope: scope, output: ReportOutput(folder: folder.sub(name)))
                    let outcome = try AuditEngine.run(AuditPlan(reports: [request]), in: EngineTests.session(from, catalog: catalog))
                    let findings = outcome.reports[0].findings.countByCode
                    if scope == ReportScope() {
                        #expect(findings[.duplicateEvent] == repeatedCount, "\(name)")
                        #expect(findings[.badAmount] == 1, "\(name)")
                        #expect(findings[.unknownEventType] == 7, "\(name)")
                        #expect(findings[.malformedEvent] == malformedCount, "\(name)")
                    }
                }
            }
            #expect(lenders.allSatisfy { $0.batchesLent >= 5 })
            Self.expectSameReports(oneByOne, ahead, names: ["balances", "verify"], label: "\(scope)")
        }
    }

    @Test("several lanes posted ahead (balances as of an instant, the same over everything riding on it and parting mid-batch, verify over everything): the same reports as a row at a time")
    func severalLanes() throws {
        let (catalog, rows, _) = try Self.hostileLedger()
        var plain = ArraySource([])
        plain.rows = rows
        let asOf = ReportScope(asOfUs: 1_778_200_000_000_000)
        let oneByOne = ScratchFolder("post-ahead-lanes-rows"), ahead = ScratchFolder("post-ahead-lanes-batches")
        for (folder, lend) in [(oneByOne, false), (ahead, true)] {
            let requests = [
                ReportRequest(.balances(filters: [], fromUs: nil, journal: true), scope: asOf, output: ReportOutput(folder: folder.sub("balances-as-of"))),
                ReportRequest(.balances(filters: [], fromUs: nil, journal: true), scope: ReportScope(), output: ReportOutput(folder: folder.sub("balances"))),
                ReportRequest(.verify(CheckSelection()), scope: ReportScope(), output: ReportOutput(folder: folder.sub("verify"))),
            ]
            let lender = BatchLender(plain, sizes: [1, 7, 256, 3, 64])
            let outcome = try AuditEngine.run(AuditPlan(reports: requests), in: EngineTests.session(lend ? lender : plain, catalog: catalog))
            #expect(outcome.reports.count == 3)
            if lend { #expect(lender.batchesLent >= 5) }
        }
        Self.expectSameReports(oneByOne, ahead, names: ["balances-as-of", "balances", "verify"], label: "several lanes")
    }

    @Test("hints leave a book as it was: an empty book, keyed and named accounts, before and after its tables grow")
    func hintsChangeNothing() throws {
        var book = BalanceBook()
        let rules = PostingRules(catalog: CatalogLoader.reference())
        var l = LedgerBuilder()
        for i in 0..<2_000 { l.add("FUNDS_DEPOSITED", aggregate: "u\(i % 500)", payload: #"{"amount": \#(i + 1)}"#) }
        l.add("FUNDS_WITHDRAWN", aggregate: "never-seen", payload: #"{"amount": 1}"#)
        var expected = BalanceBook()
        for e in l.events {
            guard case .moves(let postings) = rules.post(e) else { Issue.record("not a money event"); continue }
            book.prefetchSlots(of: postings)
            book.prefetchRecords(of: postings)
            _ = book.apply(postings)
            book.prefetchSlots(of: postings)
            book.prefetchRecords(of: postings)
            _ = expected.apply(postings)
        }
        #expect(book.accountCount == expected.accountCount)
        #expect(book.accounts == expected.accounts)
        #expect(book.sortedRows().map(\.1) == expected.sortedRows().map(\.1))
    }
}
