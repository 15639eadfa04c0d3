import Foundation
import LedgerAuditChecks
import LedgerAuditConfig
import LedgerAuditCore
import LedgerAuditTestSupport
import Testing

/// Runs one check over an inline ledger; returns its findings' codes and the findings.
func check(_ type: any Check.Type, _ events: [EventRecord], measuredAtMs: Int64 = 1_777_593_600_000, registry: Set<EventID>? = nil, catalog: Catalog = CatalogLoader.reference()) throws -> [Finding] {
    let c = CheckHarness([type], context: CheckContext(catalog: catalog, measuredAtUs: measuredAtMs * 1000, commandRegistry: registry))
    let r = try Replay(catalog: catalog, observers: [c]).run(source: ArraySource(events), scope: ReplayScope(), eventIdsMayRepeat: true)
    return r.findings.sorted().filter { type.codes.contains($0.code) }
}

typealias L = LedgerBuilder
let deposit = #"{"amount": 100}"#

@Suite("stream: STREAM_GAP and STREAM_ORDER", .removesTemporaryFolders)
struct StreamCheckTests {
    @Test func passes() throws {
        var l = L()
        for _ in 0..<3 { l.add("FUNDS_DEPOSITED", aggregate: "a", payload: deposit) }
        #expect(try check(StreamCheck.self, l.events).isEmpty)
    }

    @Test("many streams: past one chunk of states (70,000 aggregates) and several growths of the id table, each gap and each reused version is reported at its own event, and no other")
    func manyStreams() throws {
        let check = StreamCheck(context: CheckContext(catalog: CatalogLoader.reference(), measuredAtUs: 0))
        var log = FindingLog()
        var expectedGaps: Set<EventID> = [], expectedOrder: Set<EventID> = []
        var aggregateOf: [EventID: EventID] = [:]
        var serial: UInt64 = 0
        func observe(_ aggregate: Int, version: Int64) -> EventID {
            serial += 1
            let id = EventID(high: 0xE0, low: serial)
            let e = EventRecord(eventId: id, eventType: "FUNDS_DEPOSITED", aggregateId: EventID(high: 0xA0, low: UInt64(aggregate)), streamVersion: version,
                                causationId: nil, correlationId: id, hlcPhysicalMs: 1_700_000_000_000 + Int64(serial), hlcLogical: 0,
                                vectorClock: .emptyObject, payload: .emptyObject, metadata: .emptyObject, userId: nil, recordedAtUs: 0)
            check.observe(e, outcome: .movesNothing, applied: [], findings: &log)
            aggregateOf[id] = e.aggregateId
            return id
        }
        // Round-robin over the streams, so each stream's state is revisited after the table grew.
        for version in 1...3 as ClosedRange<Int64> {
            for aggregate in 0..<70_000 {
                if aggregate % 500 == 0 && version == 2 { continue }  // a gap: version 3 follows 1
                let id = observe(aggregate, version: version)
                if aggregate % 500 == 0 && version == 3 { expectedGaps.insert(id) }
            }
        }
        for aggregate in stride(from: 1, to: 70_000, by: 777) { expectedOrder.insert(observe(aggregate, version: 2)) }
        _ = check.finish(CheckEnd(book: BalanceBook()), findings: &log)
        let found = log.sorted()
        #expect(Set(found.filter { $0.code == .streamGap }.compactMap(\.eventId)) == expectedGaps)
        #expect(Set(found.filter { $0.code == .streamOrder }.compactMap(\.eventId)) == expectedOrder)
        #expect(found.count == expectedGaps.count + expectedOrder.count)
        // Each finding names its own stream (the end-of-run gaps come from the table's ids).
        #expect(found.allSatisfy { $0.eventId.flatMap { aggregateOf[$0] } == $0.aggregateId })
    }

    @Test("a missing version is reported at the event after the gap")
    func gap() throws {
        var l = L()
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: deposit, version: 1)
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: deposit, version: 2)
        let after = l.add("FUNDS_DEPOSITED", aggregate: "a", payload: deposit, version: 5)
        let f = try check(StreamCheck.self, l.events)
        #expect(f.map(\.code) == [.streamGap])
        #expect(f.first?.eventId == after.eventId)
        #expect(f.first?.message.contains("versions 3–4 are missing") == true)
    }

    @Test("a stream that does not start at version 1")
    func notFromOne() throws {
        var l = L()
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: deposit, version: 2)
        let f = try check(StreamCheck.self, l.events)
        #expect(f.map(\.code) == [.streamGap])
        #expect(f.first?.message.contains("does not start at version 1") == true)
    }

    @Test("versions out of HLC order: STREAM_ORDER, and no false gap once filled")
    func order() throws {
        var l = L()
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: deposit, at: 1000, version: 1)
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: deposit, at: 2000, version: 3)
        let late = l.add("FUNDS_DEPOSITED", aggregate: "a", payload: deposit, at: 3000, version: 2)
        let f = try check(StreamCheck.self, l.events)
        #expect(f.map(\.code) == [.streamOrder])
        #expect(f.first?.eventId == late.eventId)
    }

    @Test("boundary: equal HLC values are not an order violation")
    func equalHLC() throws {
        var l = L()
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: deposit, at: 1000, version: 1)
        // Same instant; event ids decide the global order, which may put version 3 first.
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: deposit, at: 2000, name: "aaa", version: 3)
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: deposit, at: 2000, name: "zzz", version: 2)
        #expect(try check(StreamCheck.self, l.events).isEmpty)
    }

    @Test("a version below the store's first (0, -1, Int64.min where streams count from 1) is STREAM_ORDER that says so, not a version used twice, and leaves the stream as it was: no gap, no order finding after it")
    func belowFirstVersion() throws {
        var l = L()
        var low: [EventID] = []
        low.append(l.add("FUNDS_DEPOSITED", aggregate: "a", payload: deposit, version: 0).eventId)
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: deposit, version: 1)
        low.append(l.add("FUNDS_DEPOSITED", aggregate: "a", payload: deposit, version: -1).eventId)
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: deposit, version: 2)
        low.append(l.add("FUNDS_DEPOSITED", aggregate: "a", payload: deposit, version: .min).eventId)
        let f = try check(StreamCheck.self, l.events)
        #expect(f.map(\.code) == [.streamOrder, .streamOrder, .streamOrder])
        #expect(f.compactMap(\.eventId) == low)
        #expect(f.allSatisfy { $0.message.contains("is below the store's first version, 1") }, "\(f.map(\.message))")
    }

    @Test("a version used twice")
    func twice() throws {
        var l = L()
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: deposit, version: 1)
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: deposit, version: 1)
        #expect(try check(StreamCheck.self, l.events).map(\.code) == [.streamOrder])
    }
}

@Suite("duplicate-command: DUPLICATE_COMMAND", .removesTemporaryFolders)
struct DuplicateCommandTests {
    @Test func passes() throws {
        var l = L()
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: deposit, correlation: "c1")
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: deposit, correlation: "c2")
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: #"{"amount": 101}"#, correlation: "c1")
        #expect(try check(DuplicateCommandCheck.self, l.events).isEmpty)
    }

    @Test("the same movement twice, amounts compared by value (4200 and \"4200\")")
    func fails() throws {
        var l = L()
        let first = l.add("FUNDS_DEPOSITED", aggregate: "a", payload: #"{"amount": 4200}"#, correlation: "c1")
        let second = l.add("FUNDS_DEPOSITED", aggregate: "a", payload: #"{"amount": "4200"}"#, correlation: "c1")
        let f = try check(DuplicateCommandCheck.self, l.events)
        #expect(f.map(\.code) == [.duplicateCommand])
        #expect(f.first?.eventId == second.eventId)
        #expect(f.first?.evidence.contains { $0.1 == first.eventId.description } == true)
        // Both moved money.
        let r = try replayReference(l.events)
        #expect(r.book.balance(L.user("a", "available"), "USD") == 8400)
    }

    @Test("first events kept as indexes into the causation check's table name the same events as ids kept whole, the first of three copies each time")
    func sharedIndex() throws {
        var l = L()
        var firsts: [EventID] = []
        // 100 movements, each recorded three times: events 100–299 repeat events 0–99.
        for i in 0..<300 {
            let e = l.add("FUNDS_DEPOSITED", aggregate: "a\(i % 100)", payload: #"{"amount": \#(100 + i % 100)}"#, correlation: "c\(i % 100)")
            if i < 100 { firsts.append(e.eventId) }
        }
        let catalog = CatalogLoader.reference()
        let context = CheckContext(catalog: catalog, measuredAtUs: 1_777_593_600_000_000, commandRegistry: nil)
        let alone = try check(DuplicateCommandCheck.self, l.events)
        let causation = CausationCheck(context: context), duplicate = DuplicateCommandCheck(context: context)
        duplicate.sharedIds = causation
        // As LaneWatchers does: the causation check sees each event first.
        let harness = CheckHarness(checks: [causation, duplicate])
        let r = try Replay(catalog: catalog, observers: [harness]).run(source: ArraySource(l.events), scope: ReplayScope(), eventIdsMayRepeat: true)
        let shared = r.findings.sorted().filter { $0.code == .duplicateCommand }
        #expect(alone.count == 200 && shared.count == alone.count)
        #expect(shared.map(\.eventId) == alone.map(\.eventId))
        #expect(shared.map { $0.evidence.first { $0.0 == "first event" }?.1 } == alone.map { $0.evidence.first { $0.0 == "first event" }?.1 })
        let named = shared.compactMap { f in f.evidence.first { $0.0 == "first event" }?.1 }
        #expect(Set(named) == Set(firsts.map(\.description)))
    }

    @Test("boundary: same amount in another currency is another movement")
    func otherCurrency() throws {
        var l = L()
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: #"{"amount": 4200, "currency": "USD"}"#, correlation: "c1")
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: #"{"amount": 4200, "currency": "EUR"}"#, correlation: "c1")
        #expect(try check(DuplicateCommandCheck.self, l.events).isEmpty)
    }
}

@Suite("causation: ORPHAN_CAUSATION, CAUSATION_CYCLE, CAUSE_AFTER_EFFECT", .removesTemporaryFolders)
struct CausationCheckTests {
    @Test func passes() throws {
        var l = L()
        l.add("BID_PLACED", aggregate: "auction", name: "bid", user: nil)
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: deposit, name: "dep", causation: "bid")
        #expect(try check(CausationCheck.self, l.events).isEmpty)
    }

    @Test("dangling causation: a command id without a registry, a defect against one")
    func orphan() throws {
        var l = L()
        let e = l.add("FUNDS_DEPOSITED", aggregate: "a", payload: deposit, causation: "some-command")
        #expect(try check(CausationCheck.self, l.events).isEmpty)
        let f = try check(CausationCheck.self, l.events, registry: [L.id("other-command")])
        #expect(f.map(\.code) == [.orphanCausation])
        #expect(f.first?.eventId == e.eventId)
        #expect(try check(CausationCheck.self, l.events, registry: [L.id("some-command")]).isEmpty)
        let defects = try CatalogLoader.load(yaml: ReferenceCatalog.yaml.replacingAll("dangling: command", with: "dangling: defect"), file: "c.yml")
        #expect(try check(CausationCheck.self, l.events, catalog: defects).map(\.code) == [.orphanCausation])
    }

    @Test("a cause later than its effect in HLC order")
    func causeAfterEffect() throws {
        var l = L()
        let effect = l.add("FUNDS_DEPOSITED", aggregate: "a", payload: deposit, at: 1000, name: "effect", causation: "cause")
        l.add("BID_PLACED", aggregate: "auction", at: 2000, name: "cause", user: nil)
        let f = try check(CausationCheck.self, l.events)
        #expect(f.map(\.code) == [.causeAfterEffect])
        #expect(f.first?.eventId == effect.eventId)
    }

    @Test("boundary: cause and effect at the same HLC instant, cause after by id, is not a finding")
    func sameInstant() throws {
        var l = L()
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: deposit, at: 1000, name: "aaa-effect", causation: "zzz-cause")
        l.add("BID_PLACED", aggregate: "auction", at: 1000, name: "zzz-cause", user: nil)
        let ordered = l.events.sorted { $0.globalOrderKey < $1.globalOrderKey }
        if ordered.first?.eventId == L.id("aaa-effect") {
            #expect(try check(CausationCheck.self, l.events).isEmpty)
        }
    }

    @Test("cycles: a loop of three, and an event that causes itself")
    func cycles() throws {
        var l = L()
        l.add("BID_PLACED", aggregate: "x", at: 1000, name: "a", causation: "c", user: nil)
        l.add("BID_PLACED", aggregate: "x", at: 2000, name: "b", causation: "a", user: nil)
        l.add("BID_PLACED", aggregate: "x", at: 3000, name: "c", causation: "b", user: nil)
        l.add("BID_PLACED", aggregate: "y", at: 4000, name: "self", causation: "self", user: nil)
        let f = try check(CausationCheck.self, l.events)
        #expect(f.filter { $0.code == .causationCycle }.count == 2)
        #expect(f.contains { $0.code == .causationCycle && $0.evidence.first?.1.split(separator: "→").count == 4 })
    }

    /// From an extract the fold remembers every id anyway; it then indexes the causes too and
    /// the causation check reads those indexes instead of keeping its own table. Pins that the
    /// findings are those of the check's own table, on what makes the indexes differ from the
    /// fold's plain ones: causes named before their events, a repeated id once named as a cause,
    /// cycles, orphans, the duplicate-command check's first events, through the table's growths.
    @Test("with the fold's table of ids and causes, the causation and duplicate-command checks find exactly what their own tables find")
    func foldIndexes() throws {
        var l = L()
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: deposit, at: 1000, name: "effect", causation: "cause")
        l.add("BID_PLACED", aggregate: "auction", at: 2000, name: "cause", user: nil)
        l.add("BID_PLACED", aggregate: "auction", at: 2500, name: "cause", user: nil)
        l.add("BID_PLACED", aggregate: "x", at: 3000, name: "a", causation: "c", user: nil)
        l.add("BID_PLACED", aggregate: "x", at: 4000, name: "b", causation: "a", user: nil)
        l.add("BID_PLACED", aggregate: "x", at: 5000, name: "c", causation: "b", user: nil)
        l.add("BID_PLACED", aggregate: "y", at: 6000, name: "self", causation: "self", user: nil)
        l.add("FUNDS_DEPOSITED", aggregate: "d", payload: deposit, at: 7000, name: "d1", causation: "cmd", correlation: "k")
        l.add("FUNDS_DEPOSITED", aggregate: "d", payload: deposit, at: 8000, name: "d2", causation: "cmd", correlation: "k")
        l.add("FUNDS_DEPOSITED", aggregate: "e", payload: deposit, at: 9000, name: "orphan", causation: "nowhere")
        // Through several growths of the table: each event names the next as its cause, every
        // 1,000th a repeat of the one before.
        for i in 0..<5_000 {
            l.add("BID_PLACED", aggregate: "z\(i % 7)", at: 10_000 + Int64(i), name: "n\(i - (i % 1000 == 999 ? 1 : 0))", causation: "n\(i + 1)", user: nil)
        }
        let catalog = CatalogLoader.reference()
        let context = CheckContext(catalog: catalog, measuredAtUs: 1_777_593_600_000_000, commandRegistry: [L.id("cmd")])
        func run(_ log: EventIdLog?) throws -> [String] {
            let causation = CausationCheck(context: context), duplicate = DuplicateCommandCheck(context: context)
            duplicate.sharedIds = causation
            if let log { causation.readFoldIndexes(log) }
            let harness = CheckHarness(checks: [causation, duplicate])
            let r = try Replay(catalog: catalog, observers: [harness]).run(source: ArraySource(l.events), scope: ReplayScope(), eventIdsMayRepeat: true, causeIds: log)
            return r.findings.sorted().map { "\($0.code.rawValue) \($0.eventId) \($0.message) \($0.evidence.map { "\($0.0)=\($0.1)" })" }
        }
        let own = try run(nil)
        let log = EventIdLog()
        let shared = try run(log)
        #expect(shared == own)
        for code in ["DUPLICATE_EVENT", "CAUSE_AFTER_EFFECT", "CAUSATION_CYCLE", "ORPHAN_CAUSATION", "DUPLICATE_COMMAND"] {
            #expect(own.contains { $0.hasPrefix(code + " ") }, "\(code)")
        }
        #expect(own.filter { $0.hasPrefix("DUPLICATE_EVENT ") }.count == 1 + 5)
        // Every distinct id, events' and causes' alike, once: nine events, two command ids and
        // n0…n4999 (5 of them named as causes only; a repeat's cause is not indexed, so n5000 is not).
        #expect(log.count == 11 + 5_000)
    }

    @Test("a long chain is followed without recursion")
    func longChain() throws {
        var l = L()
        l.add("BID_PLACED", aggregate: "x", name: "e0", causation: "e20000", user: nil)
        for i in 1...20_000 { l.add("BID_PLACED", aggregate: "x", name: "e\(i)", causation: "e\(i - 1)", user: nil) }
        let f = try check(CausationCheck.self, l.events)
        #expect(f.contains { $0.code == .causationCycle })
    }
}

@Suite("clock-skew: CLOCK_SKEW", .removesTemporaryFolders)
struct ClockSkewTests {
    @Test("within, at and beyond the 5-minute bound")
    func bound() throws {
        var l = L()
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: deposit, at: 1_000_000, recordedAtUs: 1_000_000_000)
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: deposit, at: 2_000_000, recordedAtUs: (2_000_000 + 300_000) * 1000)
        let late = l.add("FUNDS_DEPOSITED", aggregate: "a", payload: deposit, at: 3_000_000, recordedAtUs: (3_000_000 + 300_000) * 1000 + 1)
        let early = l.add("FUNDS_DEPOSITED", aggregate: "a", payload: deposit, at: 4_000_000, recordedAtUs: (4_000_000 - 400_000) * 1000)
        let f = try check(ClockSkewCheck.self, l.events)
        #expect(f.map(\.eventId) == [late.eventId, early.eventId])
    }
}

@Suite("negative-balance: NEGATIVE_BALANCE", .removesTemporaryFolders)
struct NegativeBalanceTests {
    @Test("at the event that takes an account below zero, not after; external may")
    func transition() throws {
        var l = L()
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: #"{"amount": 100}"#)
        l.add("FUNDS_WITHDRAWN", aggregate: "a", payload: #"{"amount": 100}"#)  // boundary: exactly zero
        let below = l.add("FUNDS_WITHDRAWN", aggregate: "a", payload: #"{"amount": 1}"#)
        l.add("FUNDS_WITHDRAWN", aggregate: "a", payload: #"{"amount": 5}"#)  // stays negative: no new finding
        let f = try check(NegativeBalanceCheck.self, l.events)
        #expect(f.count == 1)
        #expect(f.first?.eventId == below.eventId)
        #expect(f.first?.account == L.user("a", "available"))
        #expect(f.first?.evidence.map(\.1) == ["0", "-1"])
    }

    /// The check caches each account's rule by name: a name that differs from a cached one
    /// only by Unicode normalization is another account (its bytes match another rule), not a
    /// hit (Swift's `String ==` would take it for one, and miss the finding).
    @Test("accounts told apart by their bytes: \"café\" precomposed may go negative, with a combining accent it may not")
    func namesByBytes() throws {
        let yaml = ReferenceCatalog.yaml
            .replacingAll("  - pattern: \"external:*\"", with: "  - pattern: \"caf\u{E9}:*\"\n    kind: external\n    may_go_negative: true\n  - pattern: \"external:*\"")
            .replacingAll("\nevents:\n", with: "\nevents:\n  MOVED:\n    from: \"{payload.from}\"\n    to: \"external:in\"\n")
        let catalog = try CatalogLoader.load(yaml: yaml, file: "c.yml")
        var l = L()
        l.add("MOVED", aggregate: "a", payload: #"{"amount": 5, "from": "caf\#u{E9}:1"}"#)
        let decomposed = l.add("MOVED", aggregate: "a", payload: #"{"amount": 5, "from": "cafe\#u{301}:1"}"#)
        let f = try check(NegativeBalanceCheck.self, l.events, catalog: catalog)
        #expect(f.map(\.eventId) == [decomposed.eventId])
        #expect(f.first.map { Array(($0.account ?? "").utf8) } == Array("cafe\u{301}:1".utf8))
    }
}

@Suite("limbo: MONEY_IN_LIMBO", .removesTemporaryFolders)
struct LimboTests {
    let hour: Int64 = 3_600_000
    let t0: Int64 = 1_777_593_600_000

    func saga(stuckAfterEscrow: Bool) -> [EventRecord] {
        var l = L()
        l.add("FUNDS_DEPOSITED", aggregate: "buyer", payload: #"{"amount": 1000}"#, at: t0)
        l.add("FUNDS_RESERVED", aggregate: "buyer", payload: #"{"amount": 700, "reservation_id": "R1"}"#, at: t0 + 1000)
        l.add("ESCROW_FUNDED", aggregate: "buyer", payload: #"{"amount": 700, "escrow_id": "E1", "reservation_id": "R1"}"#, at: t0 + 2000, correlation: "saga")
        if !stuckAfterEscrow {
            l.add("SELLER_CREDITED_PENDING", aggregate: "seller", payload: #"{"amount": 700, "escrow_id": "E1"}"#, at: t0 + 3000, correlation: "saga")
            l.add("PENDING_SETTLED", aggregate: "seller", payload: #"{"amount": 700}"#, at: t0 + 4000)
        }
        return l.events
    }

    @Test func completedSagaIsNotInLimbo() throws {
        #expect(try check(LimboCheck.self, saga(stuckAfterEscrow: false), measuredAtMs: t0 + 1000 * hour).isEmpty)
    }

    @Test("a saga stuck after escrow: in limbo past 72 h, not at exactly 72 h")
    func stuck() throws {
        let events = saga(stuckAfterEscrow: true)
        #expect(try check(LimboCheck.self, events, measuredAtMs: t0 + 2000 + 72 * hour).isEmpty)
        let f = try check(LimboCheck.self, events, measuredAtMs: t0 + 2000 + 72 * hour + 1)
        #expect(f.count == 1)
        #expect(f.first?.account == "escrow:E1")
        #expect(f.first?.amountMinor == 700)
        #expect(f.first?.evidence.first { $0.0 == "correlation_id" }?.1 == L.id("saga").description)
    }

    @Test("reservations are held by reservation_id; pending leaves first-in first-out")
    func holdsAndFIFO() throws {
        var l = L()
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: #"{"amount": 1000}"#, at: t0)
        l.add("FUNDS_RESERVED", aggregate: "a", payload: #"{"amount": 100, "reservation_id": "R1"}"#, at: t0 + 1)
        l.add("FUNDS_RESERVED", aggregate: "a", payload: #"{"amount": 200, "reservation_id": "R2"}"#, at: t0 + 2)
        l.add("RESERVATION_RELEASED", aggregate: "a", payload: #"{"amount": 100, "reservation_id": "R1"}"#, at: t0 + 3)
        l.add("SELLER_CREDITED_PENDING", aggregate: "s", payload: #"{"amount": 50, "escrow_id": "E1"}"#, at: t0 + 4)
        l.add("SELLER_CREDITED_PENDING", aggregate: "s", payload: #"{"amount": 60, "escrow_id": "E2"}"#, at: t0 + 5)
        l.add("PENDING_SETTLED", aggregate: "s", payload: #"{"amount": 70}"#, at: t0 + 6)
        let catalog = CatalogLoader.reference()
        let limbo = LimboCheck(context: CheckContext(catalog: catalog, measuredAtUs: (t0 + 100 * hour) * 1000))
        _ = try Replay(catalog: catalog, observers: [CheckHarness(checks: [limbo])]).run(source: ArraySource(l.events), scope: ReplayScope(), eventIdsMayRepeat: true)
        let open = limbo.openHolds.map { "\($0.account.split(separator: ":").last!) \($0.holdKey) \($0.amountMinor)" }
        // R2 still reserved; E1 (oldest) fully settled, E2 has 40 of its 60 left.
        #expect(open.sorted() == ["pending E2 40", "reserved R2 200"].sorted())
        let allInLimbo = limbo.openHolds.allSatisfy { $0.inLimbo }
        #expect(allInLimbo)
    }

    /// A hold can hold more than any one account: money leaves the account by a departure that
    /// names another hold, the hold keeps its lots, and the same money arrives again. Summed in
    /// Int64 the hold's total trapped at the end of the pass (a crash on hostile input).
    @Test("a hold's total beyond Int64 is reported exactly, not a crash")
    func holdBeyondInt64() throws {
        let big: Int64 = 1 << 62
        var l = L()
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: #"{"amount": \#(big)}"#, at: t0)
        l.add("FUNDS_RESERVED", aggregate: "a", payload: #"{"amount": \#(big), "reservation_id": "R1"}"#, at: t0 + 1)
        l.add("RESERVATION_RELEASED", aggregate: "a", payload: #"{"amount": \#(big), "reservation_id": "R2"}"#, at: t0 + 2)
        l.add("FUNDS_RESERVED", aggregate: "a", payload: #"{"amount": \#(big), "reservation_id": "R1"}"#, at: t0 + 3)
        let catalog = CatalogLoader.reference()
        let limbo = LimboCheck(context: CheckContext(catalog: catalog, measuredAtUs: (t0 + 100 * hour) * 1000))
        let r = try Replay(catalog: catalog, observers: [CheckHarness(checks: [limbo])]).run(source: ArraySource(l.events), scope: ReplayScope(), eventIdsMayRepeat: true)
        let total = Int128(big) * 2
        #expect(limbo.openHolds.map(\.amountMinor) == [total])
        let f = r.findings.sorted().filter { $0.code == .moneyInLimbo }
        #expect(f.count == 1)
        #expect(f.first?.amountMinor == nil, "no Int64 holds it: the message and evidence say it")
        #expect(f.first?.message.contains(String(total)) == true)
        #expect(f.first?.evidence.first { $0.0 == "amount_minor" }?.1 == String(total))
        let section = VerifyReport.limboSection(limbo.openHolds, catalog: catalog, ran: true)
        #expect(section.tables[1].rows.first?[3] == .number(String(total)))
    }

    /// Holds are kept by the book's slot of their account (and currency), not by a name written
    /// each leg: one account reached by a key template (`{aggregate_id}`), by another template
    /// text writing the same name (`{user_id}`), by a payload field (no key) and by an event of
    /// several postings that opens it is one account, its holds one set; another currency of
    /// the same name is another account.
    @Test("one account however its legs name it: its holds are one set, by the book's slot")
    func holdsBySlot() throws {
        let yaml = ReferenceCatalog.yaml.replacingAll("\nevents:\n", with: """

            events:
              RESERVED_BY_USER:
                from: "user:{user_id}:available"
                to: "user:{user_id}:reserved"
              RELEASED_BY_NAME:
                from: "user:{payload.user}:reserved"
                to: "user:{payload.user}:available"
              SPLIT_RESERVE:
                postings:
                  - {from: "external:deposits", to: "user:{aggregate_id}:reserved", amount_field: first}
                  - {from: "external:deposits", to: "user:{aggregate_id}:reserved", amount_field: second}

            """)
        let catalog = try CatalogLoader.load(yaml: yaml, file: "c.yml")
        let user = LedgerBuilder.id("a")
        var l = L()
        // Opened by a multi-posting event: two lots of R0 in one event.
        l.add("SPLIT_RESERVE", aggregate: "a", payload: #"{"first": 10, "second": 20, "reservation_id": "R0"}"#, at: t0)
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: #"{"amount": 1000}"#, at: t0 + 1)
        l.add("FUNDS_RESERVED", aggregate: "a", payload: #"{"amount": 100, "reservation_id": "R1"}"#, at: t0 + 2)
        l.add("RESERVED_BY_USER", aggregate: "other", payload: #"{"amount": 200, "reservation_id": "R2"}"#, at: t0 + 3, user: "a")
        l.add("FUNDS_RESERVED", aggregate: "a", payload: #"{"amount": 5, "currency": "EUR", "reservation_id": "R1"}"#, at: t0 + 4)
        // Released through the payload-named account: R1 (key template) and R2 (the other template) close.
        l.add("RELEASED_BY_NAME", aggregate: "b", payload: #"{"amount": 100, "user": "\#(user)", "reservation_id": "R1"}"#, at: t0 + 5)
        l.add("RELEASED_BY_NAME", aggregate: "b", payload: #"{"amount": 200, "user": "\#(user)", "reservation_id": "R2"}"#, at: t0 + 6)
        l.add("RELEASED_BY_NAME", aggregate: "b", payload: #"{"amount": 25, "user": "\#(user)", "reservation_id": "R0"}"#, at: t0 + 7)
        let limbo = LimboCheck(context: CheckContext(catalog: catalog, measuredAtUs: (t0 + 100 * hour) * 1000))
        _ = try Replay(catalog: catalog, observers: [CheckHarness(checks: [limbo])]).run(source: ArraySource(l.events), scope: ReplayScope(), eventIdsMayRepeat: true)
        let open = limbo.openHolds.map { "\($0.account) \($0.currency) \($0.holdKey) \($0.amountMinor)" }.sorted()
        #expect(open == ["user:\(user):reserved EUR R1 5", "user:\(user):reserved USD R0 5"].sorted())
    }

    /// Hold keys that are canonical UUIDs are kept as 16 bytes, any other text as itself: the
    /// keys must still be equal exactly when their texts are (an upper-case spelling is another
    /// hold; an escaped spelling of the same text is the same hold; a number is its text).
    @Test("hold keys are told apart by their text, however they are stored")
    func holdKeysByText() throws {
        let lower = "e4334d42-45cd-4635-8907-8de221479743"
        let escaped = "\\u0065" + lower.dropFirst()  // \u0065 is "e"
        var l = L()
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: #"{"amount": 1000}"#, at: t0)
        l.add("FUNDS_RESERVED", aggregate: "a", payload: #"{"amount": 100, "reservation_id": "\#(lower.uppercased())"}"#, at: t0 + 1)
        l.add("FUNDS_RESERVED", aggregate: "a", payload: #"{"amount": 200, "reservation_id": "\#(escaped)"}"#, at: t0 + 2)
        l.add("FUNDS_RESERVED", aggregate: "a", payload: #"{"amount": 300, "reservation_id": 42}"#, at: t0 + 3)
        l.add("RESERVATION_RELEASED", aggregate: "a", payload: #"{"amount": 200, "reservation_id": "\#(lower)"}"#, at: t0 + 4)
        l.add("RESERVATION_RELEASED", aggregate: "a", payload: #"{"amount": 300, "reservation_id": "42"}"#, at: t0 + 5)
        let catalog = CatalogLoader.reference()
        let limbo = LimboCheck(context: CheckContext(catalog: catalog, measuredAtUs: (t0 + 100 * hour) * 1000))
        _ = try Replay(catalog: catalog, observers: [CheckHarness(checks: [limbo])]).run(source: ArraySource(l.events), scope: ReplayScope(), eventIdsMayRepeat: true)
        #expect(limbo.openHolds.map { "\($0.holdKey) \($0.amountMinor)" } == ["\(lower.uppercased()) 100"])
    }

    @Test func hoursAreExact() {
        #expect(LimboCheck.hours(3_600_000) == "1.00")
        #expect(LimboCheck.hours(259_200_001) == "72.00")
        #expect(LimboCheck.hours(18_000) == "0.01")
        #expect(LimboCheck.hours(17_999) == "0.00")
    }
}

@Suite("missing-actor: MISSING_ACTOR", .removesTemporaryFolders)
struct MissingActorTests {
    @Test func actor() throws {
        var l = L()
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: deposit)
        let anonymous = l.add("FUNDS_DEPOSITED", aggregate: "a", payload: deposit, user: nil)
        l.add("BID_PLACED", aggregate: "auction", user: nil)  // moves no money: fine
        let f = try check(MissingActorCheck.self, l.events)
        #expect(f.map(\.eventId) == [anonymous.eventId])
    }
}

@Suite("card-number: CARD_NUMBER_EXPOSED", .removesTemporaryFolders)
struct CardNumberTests {
    @Test("strings and integers in payload and metadata, with path and masked value only")
    func found() throws {
        var l = L()
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: #"{"amount": 100, "card": {"pan": "4111-1111-1111-1111"}}"#)
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: deposit, metadata: #"{"items": [{"n": 5500005555555559}]}"#)
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: #"{"amount": 100, "note": "order 4111111111111112 id 11111111-1111-4111-8111-111111111111"}"#)
        let f = try check(CardNumberCheck.self, l.events)
        #expect(f.count == 2)
        #expect(f.map { $0.evidence.first!.1 } == ["$.payload.card.pan", "$.metadata.items[0].n"])
        #expect(f.map { $0.evidence.last!.1 } == ["************1111", "************5559"])
        for finding in f { #expect(!finding.message.contains("4111111111111111") && !finding.message.contains("5500005555555559")) }
    }

    @Test("a card number written with JSON escapes (\\u0034…), in a value, split by an escaped separator, or a key, is found: the text's digits are not the value's")
    func escaped() throws {
        var l = L()
        let escapedDigits = "4111111111111111".unicodeScalars.map { String(format: "\\u%04x", $0.value) }.joined()
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: #"{"amount": 100, "pan": ""# + escapedDigits + #""}"#)
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: deposit, metadata: #"{"pan": "4111\u002d1111\u002d1111\u002d1111"}"#)
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: #"{"amount": 100, "note": "\u0041 plain"}"#)
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: #"{"amount": 100, "4111111111111111": {"pan": "4111111111111111"}}"#)
        let f = try check(CardNumberCheck.self, l.events)
        #expect(f.map { $0.evidence.first!.1 }.sorted() == ["$.metadata.pan", "$.payload.************1111", "$.payload.************1111.pan", "$.payload.pan"])
        #expect(f.allSatisfy { $0.evidence.last!.1 == "************1111" })
    }
}
