import LedgerAuditChecks
import LedgerAuditConfig
import LedgerAuditCore
import LedgerAuditSources
import LedgerAuditTestSupport
import Testing

@Suite("verify on a generated ledger with one injected defect of every kind", .removesTemporaryFolders)
struct InjectedDefectsTests {
    static func sampleEvents() throws -> [EventRecord] {
        var events: [EventRecord] = []
        _ = try FileExtractSource(path: TestPaths.sample + "/events.jsonl").stream(scope: ReplayScope()) { row in
            if case .event(let e) = row { events.append(e) }
        }
        return events
    }

    func runAll(_ events: [EventRecord], malformed: [MalformedRow] = [], registry: Set<EventID>?) throws -> ReplayResult {
        let catalog = CatalogLoader.reference()
        let context = CheckContext(catalog: catalog, measuredAtUs: 1_790_000_000_000_000, commandRegistry: registry)
        return try Replay(catalog: catalog, observers: [CheckHarness(context: context)]).run(source: ArraySource(events, malformed: malformed), scope: ReplayScope(), eventIdsMayRepeat: true)
    }

    /// Every dangling causation id of a ledger: the commands that started its chains.
    func commandIds(_ events: [EventRecord]) -> Set<EventID> {
        let ids = Set(events.map(\.eventId))
        return Set(events.compactMap(\.causationId).filter { !ids.contains($0) })
    }

    func with(_ e: EventRecord, payload: (inout [(String, JSONValue)]) -> Void) -> EventRecord {
        var copy = e
        guard case .object(var members) = e.payload.parse() else { return e }
        payload(&members)
        copy.payload = JSONText(.object(members))
        return copy
    }

    @Test("the clean sample: no finding above info")
    func cleanSample() throws {
        let events = try Self.sampleEvents()
        let r = try runAll(events, registry: commandIds(events))
        #expect(r.findings.count(atLeast: .low) == 0, "\(r.findings.sorted().prefix(3).map(\.message))")
    }

    @Test("every defect is found with its code, at its event")
    func everyDefect() throws {
        var events = try Self.sampleEvents()
        let registry = commandIds(events)
        let ordered = events.sorted { $0.globalOrderKey < $1.globalOrderKey }
        var expected: [(FindingCode, EventID?)] = []
        func index(_ id: EventID) -> Int { events.firstIndex { $0.eventId == id }! }
        let byType = { (t: String) in ordered.filter { $0.eventType == t } }
        let lastMs = ordered.last!.hlcPhysicalMs

        // STREAM_GAP: delete a bid in the middle of an auction's stream.
        let bids = byType("BID_PLACED")
        let bid = bids[bids.count / 2]
        let nextInStream = ordered.first { $0.aggregateId == bid.aggregateId && $0.streamVersion == bid.streamVersion + 1 }!
        events.remove(at: index(bid.eventId))
        expected.append((.streamGap, nextInStream.eventId))

        // STREAM_ORDER: swap the versions of two events of one auction stream at different instants.
        let opened = byType("AUCTION_OPENED")[3]
        let stream = ordered.filter { $0.aggregateId == opened.aggregateId }
        let (a, b) = (stream[0], stream[1])
        events[index(a.eventId)].streamVersion = b.streamVersion
        events[index(b.eventId)].streamVersion = a.streamVersion
        expected.append((.streamOrder, b.eventId))

        // DUPLICATE_EVENT: a notification written twice.
        let note = byType("NOTIFICATION_SENT")[5]
        events.append(note)
        expected.append((.duplicateEvent, note.eventId))

        // DUPLICATE_COMMAND: a deposit recorded again under a new id, at the end of its stream.
        let dep = byType("FUNDS_DEPOSITED")[10]
        var again = dep
        again.eventId = LedgerBuilder.id("dup-command")
        again.streamVersion = ordered.filter { $0.aggregateId == dep.aggregateId }.map(\.streamVersion).max()! + 1
        again.hlcPhysicalMs = lastMs + 1000
        again.recordedAtUs = again.hlcPhysicalMs * 1000
        events.append(again)
        expected.append((.duplicateCommand, again.eventId))

        // ORPHAN_CAUSATION: a cause that is neither an event nor a known command.
        let orphan = byType("FUNDS_WITHDRAWN")[2]
        events[index(orphan.eventId)].causationId = LedgerBuilder.id("no-such-event")
        expected.append((.orphanCausation, orphan.eventId))

        // CAUSATION_CYCLE: a bid made to be caused by the reservation it caused.
        let bid2 = bids[bids.count / 3]
        let reserved = ordered.first { $0.causationId == bid2.eventId && $0.eventType == "FUNDS_RESERVED" }!
        events[index(bid2.eventId)].causationId = reserved.eventId
        expected.append((.causationCycle, nil))

        // CAUSE_AFTER_EFFECT: an early auction opening named as caused by a much later event.
        let early = byType("AUCTION_OPENED")[1]
        let late = byType("AUCTION_CLOSED").last!
        events[index(early.eventId)].causationId = late.eventId
        expected.append((.causeAfterEffect, early.eventId))

        // CLOCK_SKEW: recorded ten minutes after its HLC time.
        let skewed = byType("AUCTION_CLOSED")[4]
        events[index(skewed.eventId)].recordedAtUs += 600_000_000
        expected.append((.clockSkew, skewed.eventId))

        // NEGATIVE_BALANCE and MISSING_ACTOR: an anonymous withdrawal of more than the user has.
        let user = dep.aggregateId
        var over = dep
        over.eventId = LedgerBuilder.id("overdraw")
        over.eventType = "FUNDS_WITHDRAWN"
        over.correlationId = LedgerBuilder.id("overdraw-command")
        over.causationId = nil
        over.userId = nil
        over.streamVersion = again.streamVersion + 1
        over.hlcPhysicalMs = lastMs + 2000
        over.recordedAtUs = over.hlcPhysicalMs * 1000
        over.payload = JSONText(.object([("amount", .number("999999999999"))]))
        events.append(over)
        expected.append((.negativeBalance, over.eventId))
        expected.append((.missingActor, over.eventId))

        // MONEY_IN_LIMBO: a reservation that nothing ever releases.
        let holder = byType("FUNDS_DEPOSITED")[20]
        var hold = holder
        hold.eventId = LedgerBuilder.id("stuck-reservation")
        hold.eventType = "FUNDS_RESERVED"
        hold.correlationId = LedgerBuilder.id("stuck-saga")
        hold.causationId = nil
        hold.streamVersion = ordered.filter { $0.aggregateId == holder.aggregateId }.map(\.streamVersion).max()! + 1
        hold.hlcPhysicalMs = lastMs + 3000
        hold.recordedAtUs = hold.hlcPhysicalMs * 1000
        hold.payload = JSONText(.object([("amount", .number("1")), ("currency", holder.payload.member("currency") ?? .string("USD")), ("reservation_id", .string("R-stuck"))]))
        events.append(hold)
        expected.append((.moneyInLimbo, hold.eventId))

        // CARD_NUMBER_EXPOSED: a PAN in metadata.
        let carded = byType("FUNDS_DEPOSITED")[30]
        events[index(carded.eventId)].metadata = JSONText(.object([("card", .string("4111 1111 1111 1111"))]))
        expected.append((.cardNumberExposed, carded.eventId))

        // BAD_AMOUNT: a fee with a fractional amount.
        let fee = byType("FEE_CHARGED")[3]
        events[index(fee.eventId)] = with(events[index(fee.eventId)]) { $0 = $0.map { $0.0 == "amount" ? ($0.0, .number("12.5")) : $0 } }
        expected.append((.badAmount, fee.eventId))

        // UNKNOWN_EVENT_TYPE: a type the catalog does not name.
        var alien = note
        alien.eventId = LedgerBuilder.id("alien")
        alien.eventType = "FUNDS_TELEPORTED"
        alien.aggregateId = LedgerBuilder.id("alien-aggregate")
        alien.streamVersion = 1
        alien.causationId = nil
        events.append(alien)
        expected.append((.unknownEventType, alien.eventId))

        // MALFORMED_EVENT: an unreadable row.
        let malformed = MalformedRow(location: "line 9999", reason: "not valid JSON")
        expected.append((.malformedEvent, nil))

        let r = try runAll(events, malformed: [malformed], registry: registry)
        let found = r.findings.sorted()
        for (code, eventId) in expected {
            let hits = found.filter { $0.code == code && (eventId == nil || $0.eventId == eventId) }
            #expect(!hits.isEmpty, "\(code.rawValue) at \(eventId?.description ?? "any event") not found; found \(found.filter { $0.code == code }.map { $0.eventId?.description ?? "-" })")
        }
        // Nothing else of note: every finding above info is one we injected (a cycle also puts a cause after its effect).
        let injectedCodes = Set(expected.map(\.0))
        #expect(found.filter { $0.severity > .info && !injectedCodes.contains($0.code) }.isEmpty, "\(found.filter { !injectedCodes.contains($0.code) }.map(\.message))")
        // Every code of outputs.md that a replay can raise was exercised.
        #expect(injectedCodes.count == 15)
    }
}
