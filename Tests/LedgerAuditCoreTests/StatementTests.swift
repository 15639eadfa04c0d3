import LedgerAuditConfig
import LedgerAuditCore
import LedgerAuditSources
import LedgerAuditTestSupport
import Testing

@Suite("statement: opening, movements with running balances, closing", .removesTemporaryFolders)
struct StatementTests {
    typealias L = LedgerBuilder

    func collect(_ events: [EventRecord], accounts: [String], fromMs: Int64?, toMs: Int64? = nil) throws -> StatementCollector {
        let c = StatementCollector(accounts: accounts, fromUs: fromMs.map { $0 * 1000 }, basis: .hlc)
        _ = try Replay(catalog: CatalogLoader.reference(), observers: [c]).run(source: ArraySource(events), scope: .asOf(toMs.map { $0 * 1000 }, basis: .hlc), eventIdsMayRepeat: true)
        return c
    }

    @Test("the seed's Alice: $1,000 → −$200 → +$500 → −$300 = $1,000")
    func alice() throws {
        var l = L()
        l.add("FUNDS_DEPOSITED", aggregate: "alice", payload: #"{"amount": 100000}"#, at: 1000)
        l.add("FUNDS_WITHDRAWN", aggregate: "alice", payload: #"{"amount": 20000}"#, at: 2000)
        l.add("FUNDS_DEPOSITED", aggregate: "alice", payload: #"{"amount": 50000}"#, at: 3000)
        l.add("FUNDS_WITHDRAWN", aggregate: "alice", payload: #"{"amount": 30000}"#, at: 4000)
        let all = try collect(l.events, accounts: [L.user("alice", "available")], fromMs: nil)
        #expect(all.sortedMovements().map(\.runningBalanceMinor) == [100_000, 80_000, 130_000, 100_000])
        #expect(all.sortedMovements().map(\.amountMinor) == [100_000, -20_000, 50_000, -30_000])
        #expect(all.summaries().first.map { "\($0.openingMinor) \($0.closingMinor) \($0.movements)" } == "0 100000 4")
        // From 1.5 s to 3.5 s: opening 1,000.00, two movements, closing 1,300.00.
        let period = try collect(l.events, accounts: ["user:\(L.id("alice")):*"], fromMs: 1500, toMs: 3500)
        #expect(period.summaries().first.map { "\($0.openingMinor) \($0.closingMinor) \($0.movements)" } == "100000 130000 2")
        // The first row's running balance minus its amount is the opening balance.
        let first = period.sortedMovements()[0]
        #expect(first.runningBalanceMinor - first.amountMinor == 100_000)
    }

    @Test("running balances agree with balances at both ends, on the sample")
    func agreesWithBalances() throws {
        let catalog = CatalogLoader.reference()
        let source = try FileExtractSource(path: TestPaths.sample + "/events.jsonl")
        let fromUs: Int64 = 1_777_680_000_000_000, toUs: Int64 = 1_778_371_200_000_000
        let c = StatementCollector(accounts: ["user:*"], fromUs: fromUs, basis: .hlc)
        _ = try Replay(catalog: catalog, observers: [c]).run(source: source, scope: .asOf(toUs, basis: .hlc), eventIdsMayRepeat: true)
        let atFrom = try Replay(catalog: catalog).run(source: source, scope: .asOf(fromUs, basis: .hlc), eventIdsMayRepeat: true).book
        let atTo = try Replay(catalog: catalog).run(source: source, scope: .asOf(toUs, basis: .hlc), eventIdsMayRepeat: true).book
        #expect(c.summaries().count > 50)
        for s in c.summaries() {
            #expect(s.openingMinor == atFrom.balance(s.account, s.currency), "\(s.account)")
            #expect(s.closingMinor == atTo.balance(s.account, s.currency), "\(s.account)")
        }
        // Each account's movements chain: previous running balance + amount = running balance.
        var last: [String: Int64] = [:]
        for m in c.sortedMovements() {
            let key = m.account + m.currency
            let previous = last[key] ?? c.summaries().first { $0.account == m.account && $0.currency == m.currency }!.openingMinor
            #expect(previous + m.amountMinor == m.runningBalanceMinor)
            last[key] = m.runningBalanceMinor
        }
    }
}
