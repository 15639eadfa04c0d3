import LedgerAuditConfig
import LedgerAuditCore
import LedgerAuditReports
import LedgerAuditSources
import LedgerAuditTestSupport
import Testing

@Suite("Observers on a worker thread give exactly the inline results")
struct ObserverWorkerTests {
    @Test("digest and every check, inline and on the worker, on a ledger with defects")
    func sameResults() throws {
        var events = try InjectedDefectsTests.sampleEvents()
        // A few defects so the checks have something to say.
        events.append(events[40])  // DUPLICATE_EVENT
        let money = events.indices.filter { events[$0].eventType == "FUNDS_DEPOSITED" }
        events[money[3]].userId = nil  // MISSING_ACTOR
        events[200].recordedAtUs += 3_600_000_000  // CLOCK_SKEW
        let catalog = CatalogLoader.reference()
        let context = CheckContext(measuredAtUs: 1_790_000_000_000_000)
        func run(onWorker: Bool) throws -> (String, [String]) {
            let digest = EventsDigest()
            let checks = Checks.all.map { Checks.make($0, catalog: catalog, context: context) }
            let observers: [any ReplayObserver] = onWorker ? [ObserverWorker([digest] + checks)] : [digest] + checks
            let r = try Replay(catalog: catalog, observers: observers).run(source: ArraySource(events), scope: ReplayScope(), eventIdsMayRepeat: true)
            return (digest.hexDigest(), r.findings.sorted().map { "\($0.code.rawValue) \($0.eventId?.description ?? "") \($0.message)" })
        }
        let inline = try run(onWorker: false)
        let worker = try run(onWorker: true)
        #expect(inline.0 == worker.0)
        #expect(inline.1 == worker.1)
        #expect(inline.1.count >= 3)
    }
}
