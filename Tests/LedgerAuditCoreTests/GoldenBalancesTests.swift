import LedgerAuditConfig
import LedgerAuditCore
import LedgerAuditReports
import LedgerAuditSources
import LedgerAuditTestSupport
import Testing

/// Pins the sample's trial balance at three instants: account naming, sorting (bytewise by
/// account then currency), decimal rendering per currency (JPY without a point), rows for
/// accounts that net to zero. Reviewed once by eye and against an independent Python replay.
@Suite("Golden balances.csv of the shipped sample", .removesTemporaryFolders)
struct GoldenBalancesTests {
    @Test(arguments: [
        ("2026-05-03T14:23:00Z", "balances-may03-1423.csv"),
        ("2026-05-10T00:00:00+02:00", "balances-may10.csv"),
        (nil, "balances-all.csv"),
    ] as [(String?, String)])
    func golden(asOf: String?, file: String) throws {
        let catalog = CatalogLoader.reference()
        let scope = ReplayScope.asOf(asOf.flatMap(Instant.parseCommandLineUs), basis: .hlc)
        let result = try Replay(catalog: catalog).run(source: try FileExtractSource(path: TestPaths.sample + "/events.jsonl"), scope: scope, eventIdsMayRepeat: true)
        let csv = CSVRenderer.headerLine(BalancesReport.columns)
            + BalancesReport.rows(result.book, catalog: catalog, filters: []).map(CSVRenderer.line).joined()
        #expect(csv == TestPaths.read(TestPaths.packageRoot + "/Tests/Golden/" + file))
        #expect(result.conservation.holds)
    }
}
