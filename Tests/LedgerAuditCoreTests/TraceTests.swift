import LedgerAuditConfig
import LedgerAuditCore
import LedgerAuditGenerator
import LedgerAuditSources
import LedgerAuditTestSupport
import Testing

@Suite("trace: causation chains and the provenance of every cent", .removesTemporaryFolders)
struct TraceTests {
    typealias L = LedgerBuilder

    struct Traced {
        var result: ReplayResult
        var index: CausationIndex
        var lots: LotBook
        var statement: StatementCollector
    }

    func trace(_ events: [EventRecord], accounts: [String] = [], order: LotBook.Order = .fifo, scope: ReplayScope = ReplayScope()) throws -> Traced {
        let index = CausationIndex(), lots = LotBook(order: order)
        let statement = StatementCollector(accounts: accounts, fromUs: nil, basis: .hlc)
        let result = try Replay(catalog: CatalogLoader.reference(), observers: [index, lots, statement]).run(source: ArraySource(events), scope: scope, eventIdsMayRepeat: true)
        return Traced(result: result, index: index, lots: lots, statement: statement)
    }

    func lots(_ t: Traced, _ account: String, _ currency: String = "USD") -> [String] {
        t.lots.lots(AccountCurrency(account: account, currency: currency)).map { "\($0.amountMinor) from \($0.originEventId == L.id("dep1") ? "dep1" : $0.originEventId == L.id("dep2") ? "dep2" : "?") via \(t.lots.path($0).count) accounts" }
    }

    @Test("the seed's Alice: postings sum to the balance; FIFO keeps the newest cents, LIFO the oldest")
    func alice() throws {
        var l = L()
        l.add("FUNDS_DEPOSITED", aggregate: "alice", payload: #"{"amount": 100000}"#, name: "dep1")
        l.add("FUNDS_WITHDRAWN", aggregate: "alice", payload: #"{"amount": 20000}"#)
        l.add("FUNDS_DEPOSITED", aggregate: "alice", payload: #"{"amount": 50000}"#, name: "dep2")
        l.add("FUNDS_WITHDRAWN", aggregate: "alice", payload: #"{"amount": 30000}"#)
        let available = L.user("alice", "available")
        let fifo = try trace(l.events, accounts: [available])
        #expect(fifo.statement.sortedMovements().reduce(0) { $0 + $1.amountMinor } == 100_000)
        #expect(lots(fifo, available) == ["50000 from dep1 via 2 accounts", "50000 from dep2 via 2 accounts"])
        let lifo = try trace(l.events, accounts: [available], order: .lifo)
        #expect(lots(lifo, available) == ["20000 from dep2 via 2 accounts", "80000 from dep1 via 2 accounts"])
        // The withdrawals account received 20,000 of dep1 then 30,000 of dep1 (FIFO).
        #expect(lots(fifo, "external:withdrawals") == ["50000 from dep1 via 3 accounts"])
        #expect(fifo.lots.conservationBreaks.isEmpty && lifo.lots.conservationBreaks.isEmpty)
        #expect(fifo.lots.deficit(AccountCurrency(account: "external:deposits", currency: "USD")) == 150_000)
        let sections = TraceReport.accountSections(statement: fifo.statement, index: fifo.index, lots: fifo.lots, book: fifo.result.book, catalog: CatalogLoader.reference())
        #expect(sections[0].figures.contains { $0.value.contains("4 postings sum to 1000.00; balance 1000.00 ✓") })
    }

    /// Buyer deposits twice, bids, wins; escrow pays the seller, who settles.
    func wonAuction(compensated: Bool = false) -> L {
        var l = L()
        l.add("FUNDS_DEPOSITED", aggregate: "buyer", payload: #"{"amount": 30000}"#, name: "dep1", causation: "cmd-dep1", correlation: "cmd-dep1")
        l.add("FUNDS_DEPOSITED", aggregate: "buyer", payload: #"{"amount": 20000}"#, name: "dep2", causation: "cmd-dep2", correlation: "cmd-dep2")
        l.add("BID_PLACED", aggregate: "auction", payload: #"{"amount": 40000}"#, name: "bid", causation: "cmd-bid", correlation: "bid-saga")
        l.add("FUNDS_RESERVED", aggregate: "buyer", payload: #"{"amount": 40000, "reservation_id": "r1"}"#, name: "reserve", causation: "bid", correlation: "bid-saga")
        l.add("AUCTION_WON", aggregate: "auction", name: "won", causation: "bid", correlation: "win-saga")
        l.add("ESCROW_FUNDED", aggregate: "buyer", payload: #"{"amount": 40000, "escrow_id": "e1", "reservation_id": "r1"}"#, name: "escrow", causation: "won", correlation: "win-saga")
        if compensated {
            l.add("ESCROW_REFUNDED", aggregate: "buyer", payload: #"{"amount": 40000, "escrow_id": "e1", "reservation_id": "r1"}"#, name: "refund", causation: "escrow", correlation: "win-saga")
            l.add("RESERVATION_RELEASED", aggregate: "buyer", payload: #"{"amount": 40000, "reservation_id": "r1"}"#, name: "release", causation: "refund", correlation: "win-saga")
        } else {
            l.add("SELLER_CREDITED_PENDING", aggregate: "seller", payload: #"{"amount": 40000, "escrow_id": "e1"}"#, name: "credit", causation: "escrow", correlation: "win-saga")
            l.add("OWNERSHIP_TRANSFERRED", aggregate: "asset", name: "owner", causation: "credit", correlation: "win-saga")
            l.add("PENDING_SETTLED", aggregate: "seller", payload: #"{"amount": 40000}"#, name: "settle", causation: "credit", correlation: "settle-saga")
        }
        return l
    }

    @Test("a won auction: the seller's available balance traced back through escrow to the buyer's deposits")
    func sellerToBuyerDeposits() throws {
        let l = wonAuction()
        let available = L.user("seller", "available")
        let t = try trace(l.events, accounts: [available])
        let held = t.lots.lots(AccountCurrency(account: available, currency: "USD"))
        #expect(held.map(\.amountMinor) == [30000, 10000])
        #expect(held.map(\.originEventId) == [L.id("dep1"), L.id("dep2")])
        #expect(t.lots.path(held[0]) == ["external:deposits", L.user("buyer", "available"), L.user("buyer", "reserved"), "escrow:e1",
                                        L.user("seller", "pending"), available])
        // The buyer keeps the 10,000 of dep2 that was never reserved.
        #expect(lots(t, L.user("buyer", "available")) == ["10000 from dep2 via 2 accounts"])
        // The settlement's causation chain reaches the bid, whose cause is a command.
        let chain = t.index.chain(of: L.id("settle"))
        #expect(chain.causes.map(\.eventId) == [L.id("credit"), L.id("escrow"), L.id("won"), L.id("bid")])
        #expect(chain.rootCommandId == L.id("cmd-bid"))
        #expect(t.index.describe(chain).hasPrefix("SELLER_CREDITED_PENDING "))

        // trace --event on the seller's credit: causes root first, effects below, the saga in order.
        let trace = try #require(EventTrace.build(L.id("credit"), index: t.index))
        #expect(trace.lines.filter { $0.relation == .cause }.map(\.node.eventId) == [L.id("bid"), L.id("won"), L.id("escrow")])
        #expect(trace.lines.filter { $0.relation == .effect }.map(\.node.eventId) == [L.id("owner"), L.id("settle")])
        #expect(trace.lines.filter { $0.relation == .saga }.map(\.node.eventId) == [L.id("won"), L.id("escrow"), L.id("credit"), L.id("owner")])
        #expect(trace.lines.first { $0.relation == .target }?.depth == 3)
        #expect(EventTrace.build(L.id("nowhere"), index: t.index) == nil)
    }

    @Test("a compensated saga: the refunded money returns to the buyer's lots, and the compensations are marked")
    func compensatedSaga() throws {
        let l = wonAuction(compensated: true)
        let available = L.user("buyer", "available")
        let t = try trace(l.events, accounts: [available])
        let held = t.lots.lots(AccountCurrency(account: available, currency: "USD"))
        #expect(held.reduce(0) { $0 + $1.amountMinor } == 50_000)
        #expect(held.map(\.amountMinor) == [10000, 30000, 10000])
        #expect(held.map(\.originEventId) == [L.id("dep2"), L.id("dep1"), L.id("dep2")])
        #expect(t.lots.path(held[1]) == ["external:deposits", available, L.user("buyer", "reserved"), "escrow:e1", L.user("buyer", "reserved"), available])
        #expect(t.lots.lots(AccountCurrency(account: "escrow:e1", currency: "USD")).isEmpty)

        let trace = try #require(EventTrace.build(L.id("escrow"), index: t.index))
        let details = EventDetailCollector(wanted: trace.eventIds)
        _ = try Replay(catalog: CatalogLoader.reference(), observers: [details]).run(source: ArraySource(l.events), scope: ReplayScope(), eventIdsMayRepeat: true)
        let section = TraceReport.eventSections(trace, index: t.index, details: details.details, catalog: CatalogLoader.reference())[0]
        let rows = section.tables[0].rows.map { $0.map(\.displayText) }
        let refund = try #require(rows.first { $0[0] == "saga" && $0[4] == "ESCROW_REFUNDED" })
        #expect(refund[12] == "ESCROW_FUNDED")
        #expect(refund[13] == "escrow:e1 → \(L.user("buyer", "reserved")) 400.00 USD")
        #expect(section.figures.contains { $0.label == "Saga" && $0.value == "4 events, 2 compensations" })
        // The escrow funding and its two compensating effects moved money; each is listed once.
        #expect(section.tables[1].rows.map { $0[1].displayText } == ["ESCROW_FUNDED", "ESCROW_REFUNDED", "RESERVATION_RELEASED"])
    }

    @Test("a causation cycle: the chain stops, no root is claimed, and the trace still ends")
    func cycle() throws {
        var l = L()
        l.add("FUNDS_DEPOSITED", aggregate: "alice", payload: #"{"amount": 100}"#, name: "a", causation: "c")
        l.add("FEE_CHARGED", aggregate: "alice", payload: #"{"amount": 1}"#, name: "b", causation: "a")
        l.add("FEE_CHARGED", aggregate: "alice", payload: #"{"amount": 1}"#, name: "c", causation: "b")
        let t = try trace(l.events, accounts: [L.user("alice", "available")])
        let chain = t.index.chain(of: L.id("c"))
        #expect(chain.cycle && chain.causes.map(\.eventId) == [L.id("b"), L.id("a")])
        let sections = TraceReport.accountSections(statement: t.statement, index: t.index, lots: t.lots, book: t.result.book, catalog: CatalogLoader.reference())
        #expect(sections[0].tables[1].rows.allSatisfy { $0[8] == .empty && $0[10].displayText.hasSuffix("(cycle)") })
        let trace = try #require(EventTrace.build(L.id("c"), index: t.index))
        #expect(trace.lines.filter { $0.relation == .effect }.map(\.node.eventId) == [L.id("a"), L.id("b")])
        let section = TraceReport.eventSections(trace, index: t.index, details: [:], catalog: CatalogLoader.reference())[0]
        #expect(section.figures.contains { $0.label == "Root" && $0.value.hasPrefix("none") })
    }

    @Test("multi-currency: lots and sums are kept per currency")
    func multiCurrency() throws {
        var l = L()
        l.add("FUNDS_DEPOSITED", aggregate: "alice", payload: #"{"amount": 1000, "currency": "EUR"}"#, name: "dep1")
        l.add("FUNDS_DEPOSITED", aggregate: "alice", payload: #"{"amount": 700, "currency": "JPY"}"#, name: "dep2")
        l.add("FUNDS_WITHDRAWN", aggregate: "alice", payload: #"{"amount": 300, "currency": "EUR"}"#)
        let available = L.user("alice", "available")
        let t = try trace(l.events, accounts: [available])
        #expect(lots(t, available, "EUR") == ["700 from dep1 via 2 accounts"])
        #expect(lots(t, available, "JPY") == ["700 from dep2 via 2 accounts"])
        #expect(t.lots.lots(AccountCurrency(account: available, currency: "USD")).isEmpty)
        let sections = TraceReport.accountSections(statement: t.statement, index: t.index, lots: t.lots, book: t.result.book, catalog: CatalogLoader.reference())
        #expect(sections[0].tables[0].rows.map { $0.map(\.displayText).joined(separator: ",") } == [
            "\(available),EUR,2,700,700,700,0,yes", "\(available),JPY,1,700,700,700,0,yes",
        ])
        #expect(sections[1].tables[0].rows.map { $0[7].displayText } == ["7.00", "700"])
    }

    @Test("on generated ledgers the lots of every account sum to its balance, FIFO and LIFO, at any as-of")
    func conservationOnGenerated() throws {
        struct Memory: GeneratorSink {
            var events: [EventRecord] = []
            mutating func event(_ e: EventRecord) throws { events.append(e) }
            mutating func projectionRow(userId: EventID, availableMinor: Int64, reservedMinor: Int64, pendingMinor: Int64, currency: String) throws {}
        }
        var options = GeneratorOptions()
        options.events = 6000
        options.seed = 7
        options.stuckSagas = 3
        var generator = AuctionLedgerGenerator(options: options)
        var sink = Memory()
        try generator.run(into: &sink)
        let middleMs = sink.events.map(\.hlcPhysicalMs).sorted()[sink.events.count / 2]
        for order in LotBook.Order.allCases {
            for scope in [ReplayScope(), ReplayScope(hlcPhysicalMaxMs: middleMs)] {
                let t = try trace(sink.events, accounts: ["user:*"], order: order, scope: scope)
                #expect(t.lots.checkedAccounts > 100)
                #expect(t.lots.conservationBreaks.isEmpty, "\(order) \(t.lots.conservationBreaks.prefix(3))")
                for s in t.statement.summaries() {
                    let key = AccountCurrency(account: s.account, currency: s.currency)
                    let held = t.lots.lots(key).reduce(Int64(0)) { $0 + $1.amountMinor }
                    #expect(held == t.result.book.balance(s.account, s.currency), "\(s.account)")
                    // Every user's cents came from a deposit.
                    #expect(t.lots.lots(key).allSatisfy { t.lots.path($0).first == "external:deposits" })
                }
            }
        }
    }

    @Test("the stream shortcut: only when the catalog keys the accounts by aggregate_id alone")
    func streamSelection() throws {
        let catalog = CatalogLoader.reference()
        let a = L.id("alice"), b = L.id("bob")
        #expect(StreamSelection.aggregates(for: ["user:\(a):*"], catalog: catalog) == [a])
        #expect(StreamSelection.aggregates(for: ["user:\(a):available", "user:\(b):*"], catalog: catalog) == [a, b])
        #expect(StreamSelection.aggregates(for: ["user:*"], catalog: catalog) == nil)
        #expect(StreamSelection.aggregates(for: ["escrow:e1"], catalog: catalog) == nil)
        #expect(StreamSelection.aggregates(for: ["platform:fees"], catalog: catalog) == nil)
        #expect(StreamSelection.aggregates(for: ["user:not-a-uuid:available"], catalog: catalog) == nil)
        // A catalog that names the buyer's bucket by user_id: any stream may post to it.
        var byUser = catalog
        byUser.events["FEE_CHARGED"]?.postings[0].from = try AccountTemplate(parsing: "user:{user_id}:available")
        #expect(StreamSelection.aggregates(for: ["user:\(a):*"], catalog: byUser) == nil)
    }

    @Test("bitemporal: effective at T0 as known at T1")
    func asKnownAt() throws {
        var l = L()
        l.add("FUNDS_DEPOSITED", aggregate: "alice", payload: #"{"amount": 100}"#, at: 1000, recordedAtUs: 1_000_000)
        // Effective at 2 s but recorded only at 10 s (a late write).
        l.add("FUNDS_DEPOSITED", aggregate: "alice", payload: #"{"amount": 50}"#, at: 2000, recordedAtUs: 10_000_000)
        let account = L.user("alice", "available")
        let knownEarly = try replayReference(l.events, scope: .asOf(3_000_000, basis: .hlc, knownAtUs: 5_000_000))
        #expect(knownEarly.book.balance(account, "USD") == 100)
        let knownLate = try replayReference(l.events, scope: .asOf(3_000_000, basis: .hlc, knownAtUs: 10_000_000))
        #expect(knownLate.book.balance(account, "USD") == 150)
        #expect(ReplayScope.asOf(nil, basis: .recorded, knownAtUs: 7).recordedAtMaxUs == 7)
        #expect(ReplayScope.asOf(5, basis: .recorded, knownAtUs: 7).recordedAtMaxUs == 5)
    }

    @Test("the balance chart is plain SVG: no script, black strokes, one step per movement, escaped labels")
    func chart() {
        let svg = BalanceChart.svg(title: "user:<x>&", points: [.init(hlcPhysicalMs: 0, balanceMinor: 0), .init(hlcPhysicalMs: 500, balanceMinor: 100_000), .init(hlcPhysicalMs: 800, balanceMinor: -5)],
                                   endMs: 1000, exponent: 2)
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(!svg.contains("<script") && !svg.contains("href"))
        #expect(svg.contains("user:&lt;x&gt;&amp;"))
        #expect(svg.contains(">1000.00<") && svg.contains(">-0.05<"))
        #expect(svg.components(separatedBy: " V").count == 3)
    }

    /// The index keeps type and logical counter in 16 bits with the rest aside, and causes that
    /// are no earlier event in a sorted side column: every node reads back as it was observed.
    @Test("causation index: wide logical counters, 70,000 event types and command causes read back exactly")
    func causationIndexNarrowColumns() {
        var l = L()
        let logicals: [Int32] = [0, 1, 65_534, 65_535, 65_536, Int32.max, -1, Int32.min]
        for (i, logical) in logicals.enumerated() {
            l.add("FUNDS_DEPOSITED", aggregate: "a\(i)", payload: #"{"amount": 1}"#, at: 1_000, logical: logical, name: "log\(i)", causation: "command-\(i)")
        }
        for i in 0..<70_000 {
            l.add("TYPE_\(i)", aggregate: "t", at: 2_000 + Int64(i), logical: Int32(i % 3), name: "type\(i)", causation: i == 0 ? "log0" : "type\(i - 1)")
        }
        let index = CausationIndex()
        var findings = FindingLog()
        for e in l.events { index.observe(e, outcome: .unknownType, applied: [], findings: &findings) }
        #expect(index.count == l.events.count)
        for e in l.events {
            guard let node = index.node(e.eventId) else { Issue.record("no node for \(e.eventType)"); continue }
            #expect(node.hlcLogical == e.hlcLogical && node.hlcPhysicalMs == e.hlcPhysicalMs && index.eventType(node) == e.eventType)
            #expect(node.causationId == e.causationId && node.correlationId == e.correlationId && node.aggregateId == e.aggregateId)
        }
        let chain = index.chain(of: L.id("type69999"), limit: 100_000)
        #expect(chain.causes.count == 70_000 && chain.rootCommandId == L.id("command-0"))
        #expect(index.effectsByCause().of(index.position(of: L.id("log0"))!).map { Int($0) } == [index.position(of: L.id("type0"))!])
    }
}
