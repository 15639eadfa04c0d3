import Foundation
import LedgerAuditConfig
@testable import LedgerAuditCore
import LedgerAuditReports
import LedgerAuditSources
import LedgerAuditTestSupport
import Testing

/// Balances, the trial balance and reconciliation.csv make their rows when a renderer reads
/// them instead of holding every cell. These tests pin that the made rows render exactly as the
/// same rows held would (CSV, HTML with its numeric columns, XML), including a table of no rows.
@Suite("report rows made on demand", .removesTemporaryFolders)
struct ReportRowsTests {
    static let catalog = CatalogLoader.reference()

    /// Every table's rows copied into held rows: what the renderers saw before.
    static func held(_ report: Report) -> Report {
        var copy = report
        copy.sections = report.sections.map { section in
            var s = section
            s.tables = section.tables.map { table in
                var t = table
                t.rows = ReportRows(Array(table.rows))
                return t
            }
            return s
        }
        return copy
    }

    static func rendered(_ report: Report) throws -> [String: String] {
        let folder = TestPaths.temporaryDirectory("rows")
        let options = RenderOptions(templatesDirectory: nil, exponentOf: { catalog.currencies.exponent(of: $0) ?? 2 })
        for renderer in try Renderers.make(Set(Renderers.formats), options: options) { _ = try renderer.write(report, to: folder) }
        return reportFiles(folder)
    }

    static func sampleBook() throws -> (ReplayResult, PeriodStart) {
        let start = PeriodStart(fromUs: 1_777_593_600_000_000, basis: .hlc)
        let result = try Replay(catalog: catalog, observers: [start]).run(source: try FileExtractSource(path: TestPaths.sample + "/events.jsonl"),
                                                                           scope: ReplayScope(), eventIdsMayRepeat: true)
        return (result, start)
    }

    static func report(_ sections: [ReportSection], _ result: ReplayResult) -> Report {
        let header = ReportHeader(reportKind: "balances", asOfUs: nil, timeBasis: .hlc, source: "test", catalogFile: "test", catalogSHA256: String(repeating: "ab", count: 32),
                                  population: result.population, controlTotals: result.controlTotals, conservation: result.conservation,
                                  eventsDigestSHA256: nil, toolVersion: "t", gitRevision: "t", generatedAtUs: 0, runBy: "t", notes: [])
        return Report(kind: "balances", title: "rows", header: header, sections: sections)
    }

    @Test("balances and the trial balance, all accounts and a filter that keeps none, render as held rows would", arguments: [[], ["nobody:*"], ["user:*"]])
    func balancesAndTrialBalance(filters: [String]) throws {
        let (result, start) = try Self.sampleBook()
        let made = Self.report([
            BalancesReport.section(result, catalog: Self.catalog, filters: filters),
            BalancesReport.trialBalanceSection(result, start: start, catalog: Self.catalog, filters: filters),
        ], result)
        let rows = made.sections[0].tables[1].rows
        #expect(rows.numericColumns != nil)
        #expect(filters == ["nobody:*"] ? rows.isEmpty : rows.count > 10)
        let files = try Self.rendered(made)
        #expect(files.count == 4)
        #expect(files == (try Self.rendered(Self.held(made))))
    }

    @Test("reconciliation rows, every status: mismatched first, made rows render as held rows; a projection repeating an account keeps its last value")
    func reconciliation() throws {
        let (result, _) = try Self.sampleBook()
        let mapping = ProjectionMapping(table: "user_balances", keyColumn: "user_id", currencyColumn: "currency",
                                        columns: [("available_balance", "user:{key}:available")])
        var touched: [(AccountCurrency, Int64)] = []
        result.book.forEachAccount { key, totals in
            if key.account.hasPrefix("user:") && key.account.hasSuffix(":available") { touched.append((key, totals.balanceMinor)) }
        }
        touched.sort { $0.0.account < $1.0.account }
        #expect(touched.count > 4)
        var projected = touched.dropFirst(2).map { ProjectedBalance(account: $0.0.account, currency: $0.0.currency, amountMinor: $0.1, origin: "t") }
        projected[0].amountMinor += 7  // mismatch
        projected.append(ProjectedBalance(account: touched[3].0.account, currency: touched[3].0.currency, amountMinor: touched[3].1 + 1, origin: "t"))
        projected.append(ProjectedBalance(account: touched[3].0.account, currency: touched[3].0.currency, amountMinor: touched[3].1, origin: "t"))  // last wins: match
        projected.append(ProjectedBalance(account: "user:never:available", currency: "USD", amountMinor: 500, origin: "t"))  // missing in events
        projected.append(ProjectedBalance(account: "user:zero:available", currency: "USD", amountMinor: 0, origin: "t"))  // a bucket at 0: match
        // Accounts the replay never touched are merged into the book's in C collation: before
        // every account, after every one, and beside a touched account in another currency.
        projected.append(ProjectedBalance(account: "a:first", currency: "USD", amountMinor: 0, origin: "t"))
        projected.append(ProjectedBalance(account: "~last", currency: "USD", amountMinor: 3, origin: "t"))
        projected.append(ProjectedBalance(account: touched[4].0.account, currency: "AAA", amountMinor: 0, origin: "t"))
        var comparison = Reconciliation.compare(projected: projected, book: result.book, mapping: mapping, projectionName: "public.user_balances")
        let rows = comparison.rows
        func status(_ account: String) -> ReconciliationStatus? { rows.first { $0.account == account }?.status }
        #expect(status(touched[0].0.account) == .missingInProjection)
        #expect(status(touched[2].0.account) == .mismatch)
        #expect(status(touched[3].0.account) == .match)
        #expect(status("user:never:available") == .missingInEvents)
        #expect(status("user:zero:available") == .match)
        #expect(status("~last") == .missingInEvents && status("a:first") == .match)
        #expect(rows.first?.account == "a:first" && rows.last?.account == "~last")
        #expect(rows.contains { $0.account == touched[4].0.account && $0.currency == "AAA" && $0.status == .match })
        #expect(rows.count == touched.count + 5)
        #expect(rows.map { $0.account + "\u{0}" + $0.currency } == rows.map { $0.account + "\u{0}" + $0.currency }.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })

        var made = Reconciliation.madeRows([comparison])
        #expect(made.prefix(4).map { $0[5].displayText }.allSatisfy { $0 != "match" })
        // A matched row is said from where its names lie: the same cells as the row made whole,
        // the rows that do not match first, each group in C collation.
        func cells(_ rows: [ReconciliationRow]) -> [[ReportCell]] {
            rows.map { row in
                var sink = ReportCellRow()
                withUnsafePointer(to: row) { Reconciliation.Lines.line(at: $0, into: &sink) }
                return sink.cells
            }
        }
        #expect(Array(made) == cells(rows.filter { $0.status != .match } + rows.filter { $0.status == .match }))
        #expect(comparison.count == rows.count && Reconciliation.notMatching([comparison]).count == 5)
        // Suspects are looked up for every row, matched ones too (an account another
        // projection disagrees on), and two projections' rows keep their order: all that do
        // not match, then all matched.
        let matchedKey = AccountCurrency(account: touched[3].0.account, currency: touched[3].0.currency)
        let suspect = EventID("00000000-0000-4000-8000-00000000abcd")!
        comparison.setSuspects([matchedKey: suspect])
        made = Reconciliation.madeRows([comparison, comparison])
        let withSuspect = comparison.rows
        #expect(withSuspect.first { $0.account == matchedKey.account }?.suspectEventId == suspect)
        let once = cells(withSuspect.filter { $0.status != .match }), matchedOnce = cells(withSuspect.filter { $0.status == .match })
        #expect(Array(made) == once + once + matchedOnce + matchedOnce)
        let table = ReportTable(csvName: "reconciliation.csv", xmlRow: "reconciliationLine", title: "Replay against projections", columns: Reconciliation.columns, rows: made)
        let report = Self.report([ReportSection(id: "reconciliation", title: "Reconciliation", tables: [table])], result)
        #expect(try Self.rendered(report) == (try Self.rendered(Self.held(report))))
        // No row at all: no column is numeric, as held cells would say.
        #expect(Reconciliation.madeRows([]).numericColumns == Array(repeating: false, count: Reconciliation.columns.count))
    }
    @Test("two account rules of one kind: the kind has one line a currency, and the conservation total counts each account once")
    func sharedKind() throws {
        let (result, _) = try Self.sampleBook()
        var catalog = Self.catalog
        // `user available` and `user reserved` both become `user`.
        catalog.accounts = catalog.accounts.map { rule in
            var r = rule
            if r.kind.hasPrefix("user ") && r.kind != "user pending" { r.kind = "user" }
            return r
        }
        #expect(catalog.accounts.filter { $0.kind == "user" }.count == 2)
        let rows = BalancesReport.section(result, catalog: catalog, filters: []).tables[0].rows
        var accountsByCurrency: [String: Int] = [:]
        result.book.forEachAccount { key, _ in accountsByCurrency[key.currency, default: 0] += 1 }
        for (currency, accounts) in accountsByCurrency {
            let lines = rows.filter { $0[1].displayText == currency }
            #expect(lines.filter { $0[0].displayText == "user" }.count == 1)
            let total = try #require(lines.first { $0[0].displayText.hasPrefix("Total") })
            #expect(total[2].displayText == String(accounts))
            #expect(total[5].displayText == "0")
            let kindSum = lines.filter { !$0[0].displayText.hasPrefix("Total") }.reduce(0) { $0 + Int($1[2].displayText)! }
            #expect(kindSum == accounts)
        }
    }
}
