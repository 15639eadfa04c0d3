import Foundation
import LedgerAuditCore
@testable import LedgerAuditEngine
import LedgerAuditSources
import LedgerAuditTestSupport
import Testing

/// A lane over the whole snapshot rides on an as-of lane until the first event only it includes
/// (`Lane.start`): what it reports must be what it reports alone, parted early, late or never.
@Suite("a lane riding on another's fold reports exactly what it reports alone", .removesTemporaryFolders)
struct LaneRidingTests {
    /// The sample with defects the fold itself handles (a repeated id, an unknown type, an
    /// overflow, malformed rows), and one event recorded long after its HLC instant, so that on
    /// the recorded basis the lanes part early and then share events again.
    static func events() throws -> (events: [EventRecord], malformed: [MalformedRow]) {
        var events = try InjectedDefectsTests.sampleEvents()
        events.append(events[40])  // DUPLICATE_EVENT
        events[60].eventType = "NOT_IN_THE_CATALOG"
        let overflow = events.indices.first { events[$0].eventType == "FUNDS_DEPOSITED" && $0 > 100 }!
        events[overflow].payload = try JSONText.validating(#"{"amount": 9223372036854775807, "currency": "USD"}"#)
        events[30].recordedAtUs += 60 * 86_400_000_000
        let malformed = [MalformedRow(location: "line 7", reason: "not valid JSON"), MalformedRow(location: "line 8", reason: "no event_id")]
        return (events, malformed)
    }

    static func requests(_ folder: ScratchFolder, asOfUs: Int64, basis: TimeBasis) -> [ReportRequest] {
        let asOf = ReportScope(asOfUs: asOfUs, basis: basis)
        let alice = "user:38b84b8d-f473-4f16-92b1-98982eeabfa4"
        return [
            ReportRequest(.balances(filters: [], fromUs: nil, journal: true), scope: asOf, output: ReportOutput(folder: folder.sub("as-of"))),
            ReportRequest(.verify(CheckSelection()), scope: asOf, output: ReportOutput(folder: folder.sub("verify"))),
            // The rider: a balance book, a journal (a writer) and a statement (an observer) over every event.
            ReportRequest(.balances(filters: [], fromUs: nil, journal: true), scope: .wholeSnapshot, output: ReportOutput(folder: folder.sub("whole"))),
            ReportRequest(.statement(accounts: [alice + ":*"], fromUs: nil, readOnlyStreams: false), scope: .wholeSnapshot,
                          output: ReportOutput(folder: folder.sub("statement"))),
        ]
    }

    @Test("before every event, in the middle and after every event, on either basis", arguments: [
        (Int64(1_700_000_000_000_000), TimeBasis.hlc, "parts at the first event"),
        (Int64(1_778_803_200_000_000), TimeBasis.hlc, "parts in the middle"),
        (Int64(1_778_803_200_000_000), TimeBasis.recorded, "parts early, then shares events again"),
        (Int64(1_900_000_000_000_000), TimeBasis.hlc, "never parts"),
    ])
    func sameAsAlone(asOfUs: Int64, basis: TimeBasis, what: String) throws {
        let (events, malformed) = try Self.events()
        let alone = ScratchFolder("riding-alone"), together = ScratchFolder("riding-together")
        for request in Self.requests(alone, asOfUs: asOfUs, basis: basis) {
            _ = try AuditEngine.run(AuditPlan(reports: [request]), in: EngineTests.session(ArraySource(events, malformed: malformed)))
        }
        let session = EngineTests.session(ArraySource(events, malformed: malformed))
        let plan = AuditPlan(reports: Self.requests(together, asOfUs: asOfUs, basis: basis))
        let work = try RunWork(plan: plan, inputs: try RunInputs.read(for: plan, in: session), session: session)
        // Two lanes: as of T, and the whole snapshot riding on it.
        #expect(work.lanes.count == 2)
        let rider = try #require(work.lanes.first { $0.host != nil })
        #expect(rider.scope == ReplayScope())
        _ = try AuditEngine.run(plan, in: session)

        for name in ["as-of", "verify", "whole", "statement"] {
            let a = reportFiles(alone.sub(name)), b = reportFiles(together.sub(name))
            #expect(!a.isEmpty)
            #expect(a.keys.sorted() == b.keys.sorted(), "\(name), \(what)")
            for (file, text) in a { #expect(text == b[file], "\(name)/\(file) differs when the rider \(what)") }
        }
        let whole = TestPaths.read(together.sub("whole") + "/run.json")
        #expect(whole.contains(#""rowsMalformed":2"#))
        #expect(whole.contains(#""eventsQuarantined":2"#))  // the repeated id and the overflow
    }

    @Test("the rider parts exactly when an event only it includes arrives; until then it holds no fold")
    func partsOnlyWhenNeeded() throws {
        let (events, malformed) = try Self.events()
        for (asOfUs, parts) in [(Int64(1_900_000_000_000_000), false), (Int64(1_778_803_200_000_000), true)] {
            let folder = ScratchFolder("riding-parts")
            let session = EngineTests.session(ArraySource(events, malformed: malformed))
            let plan = AuditPlan(reports: Self.requests(folder, asOfUs: asOfUs, basis: .hlc))
            let work = try RunWork(plan: plan, inputs: try RunInputs.read(for: plan, in: session), session: session)
            let rider = try #require(work.lanes.first { $0.host != nil })
            #expect(rider.fold == nil)
            let source = try AuditEngine.readOnce(session, into: work, progress: nil)
            #expect((rider.host == nil) == parts)
            #expect((rider.fold != nil) == parts)
            try work.finish(source: source, stores: [])
            #expect(rider.result?.population.eventsInScope == events.count)
            #expect(rider.watchResults.digestHex != nil)
        }
    }

    @Test("a lane with checks of its own, or a scope that does not hold the other's, folds for itself")
    func whoRides() throws {
        let (events, _) = try Self.events()
        let folder = ScratchFolder("riding-who")
        let session = EngineTests.session(ArraySource(events))
        let asOf = ReportScope(asOfUs: 1_778_803_200_000_000, basis: .hlc)
        let alice = LedgerBuilder.id("alice")
        let plans = [
            // verify over the whole snapshot runs checks: no riding.
            AuditPlan(reports: [
                ReportRequest(.balances(filters: [], fromUs: nil, journal: false), scope: asOf, output: ReportOutput(folder: folder.sub("a"))),
                ReportRequest(.verify(CheckSelection()), scope: .wholeSnapshot, output: ReportOutput(folder: folder.sub("b"))),
            ]),
            // One aggregate's streams as of T, and every stream up to an earlier instant: neither holds the other.
            AuditPlan(reports: [
                ReportRequest(.balances(filters: [], fromUs: nil, journal: false), scope: ReportScope(asOfUs: 1_778_803_200_000_000, aggregateIds: [alice]),
                              output: ReportOutput(folder: folder.sub("c"))),
                ReportRequest(.balances(filters: [], fromUs: nil, journal: false), scope: ReportScope(asOfUs: 1_778_000_000_000_000),
                              output: ReportOutput(folder: folder.sub("d"))),
            ]),
        ]
        for plan in plans {
            let work = try RunWork(plan: plan, inputs: try RunInputs.read(for: plan, in: session), session: session)
            #expect(work.lanes.count == 2)
            #expect(work.lanes.allSatisfy { $0.host == nil && $0.fold != nil })
        }
    }
}
