import Foundation
import LedgerAuditChecks
import LedgerAuditConfig
import LedgerAuditCore
@testable import LedgerAuditEngine
import LedgerAuditSources
import LedgerAuditTestSupport
import Testing

@Suite("Checks on the worker thread give exactly the inline results", .removesTemporaryFolders)
struct ObserverWorkerTests {
    @Test("digest and every check, inline and on the worker (value-typed batches), on a ledger with defects")
    func sameResults() throws {
        var events = try InjectedDefectsTests.sampleEvents()
        // A few defects so the checks have something to say.
        events.append(events[40])  // DUPLICATE_EVENT
        let money = events.indices.filter { events[$0].eventType == "FUNDS_DEPOSITED" }
        events[money[3]].userId = nil  // MISSING_ACTOR
        events[200].recordedAtUs += 3_600_000_000  // CLOCK_SKEW
        let catalog = CatalogLoader.reference()
        let spec = WatchSpec(digest: true, checkNames: Checks.all.filter { $0.input == .events }.map { $0.name },
                             context: CheckContext(catalog: catalog, measuredAtUs: 1_790_000_000_000_000))
        func run(onWorker: Bool) throws -> (String, [String]) {
            let watch: any LaneWatch = onWorker ? WorkerWatch(spec) : InlineWatch(spec)
            let r = try Replay(catalog: catalog, observers: [watch]).run(source: ArraySource(events), scope: ReplayScope(), eventIdsMayRepeat: true)
            let results = try watch.results()
            var log = r.findings
            for c in results.checks { log.merge(c.findings) }
            return (results.digestHex ?? "", log.sorted().map { "\($0.code.rawValue) \($0.eventId?.description ?? "") \($0.message)" })
        }
        let inline = try run(onWorker: false)
        let worker = try run(onWorker: true)
        #expect(inline.0 == worker.0)
        #expect(inline.1 == worker.1)
        #expect(inline.1.count >= 3)
    }
}

/// The projection read during the pass is waited for only once its second connection is open:
/// a connection a pooler queues behind the run's own (open until the run ends) would make the
/// run wait forever. Not open by the end of the pass, or failed: the run's own session reads.
@Suite("the projection read during the pass: EarlyProjectionReads")
struct EarlyProjectionReadsTests {
    static let mapping = ProjectionMapping(table: "user_balances", keyColumn: "user_id", currencyColumn: "currency",
                                           columns: [(column: "available_balance", account: "user:{key}:available")])

    @Test("a second connection still opening is not waited for; one that failed gives no rows")
    func notOpenOrFailed() {
        let release = DispatchSemaphore(value: 0)
        let opening = EarlyProjectionReads(open: { () throws(SourceError) -> PostgresSession in
            release.wait()
            throw SourceError("queued behind the run's own connection")
        }, mappings: [Self.mapping], defaultCurrency: "USD")
        let started = DispatchTime.now()
        #expect(opening.result(0) == nil)
        #expect(opening.result(0) == nil)  // asked again: the same answer, no wait
        #expect(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds < 1_000_000_000)
        release.signal()

        let failed = EarlyProjectionReads(open: { () throws(SourceError) -> PostgresSession in throw SourceError("too many connections for role") },
                                          mappings: [Self.mapping], defaultCurrency: "USD")
        usleep(200_000)  // the thread has failed by now; if not, it is still opening: nil either way
        #expect(failed.result(0) == nil)
    }
}
