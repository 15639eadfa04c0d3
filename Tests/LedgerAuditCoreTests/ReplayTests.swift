import Foundation
import LedgerAuditConfig
@testable import LedgerAuditCore
import LedgerAuditTestSupport
import Testing

@Suite("Replay: catalog rules, order, as-of, quarantine, conservation", .removesTemporaryFolders)
struct ReplayTests {
    typealias L = LedgerBuilder

    @Test("the seed's Alice: $1,000 → −$200 → +$500 → −$300 = $1,000")
    func alice() throws {
        var l = L()
        l.add("FUNDS_DEPOSITED", aggregate: "alice", payload: #"{"amount": 100000, "currency": "USD"}"#)
        l.add("FUNDS_WITHDRAWN", aggregate: "alice", payload: #"{"amount": 20000}"#)
        l.add("FUNDS_DEPOSITED", aggregate: "alice", payload: #"{"amount": "50000", "currency": "USD"}"#)
        l.add("FUNDS_WITHDRAWN", aggregate: "alice", payload: #"{"amount": 30000, "currency": "USD"}"#)
        let r = try replayReference(l.events)
        #expect(r.book.balance(L.user("alice", "available"), "USD") == 100_000)
        #expect(r.book.balance("external:deposits", "USD") == -150_000)
        #expect(r.book.balance("external:withdrawals", "USD") == 50_000)
        #expect(r.conservation.holds)
        #expect(r.findings.total == 0)
        #expect(r.controlTotals["USD"]?.postingCount == 4)
        #expect(r.controlTotals["USD"]?.totalDebitMinor == 200_000)
    }

    @Test("every money event of the catalog moves amount from → to", arguments: [
        ("FUNDS_DEPOSITED", "external:deposits", "user:A:available"),
        ("FUNDS_WITHDRAWN", "user:A:available", "external:withdrawals"),
        ("FUNDS_RESERVED", "user:A:available", "user:A:reserved"),
        ("RESERVATION_RELEASED", "user:A:reserved", "user:A:available"),
        ("ESCROW_FUNDED", "user:A:reserved", "escrow:E1"),
        ("ESCROW_REFUNDED", "escrow:E1", "user:A:reserved"),
        ("SELLER_CREDITED_PENDING", "escrow:E1", "user:A:pending"),
        ("SELLER_PENDING_DEBITED", "user:A:pending", "escrow:E1"),
        ("PENDING_SETTLED", "user:A:pending", "user:A:available"),
        ("FEE_CHARGED", "user:A:available", "platform:fees"),
    ])
    func catalogRule(type: String, from: String, to: String) throws {
        var l = L()
        l.add(type, aggregate: "A", payload: #"{"amount": 700, "currency": "EUR", "escrow_id": "E1", "reservation_id": "R1", "auction_id": "X"}"#)
        let r = try replayReference(l.events)
        let a = L.id("A").description
        let fromAccount = from.replacingAll("user:A:", with: "user:\(a):")
        let toAccount = to.replacingAll("user:A:", with: "user:\(a):")
        #expect(r.book.balance(fromAccount, "EUR") == -700)
        #expect(r.book.balance(toAccount, "EUR") == 700)
        #expect(r.book.accountCount == 2)
    }

    @Test("BID_PLACED carries an amount but moves nothing; other non-money events too")
    func bidNotCounted() throws {
        var l = L()
        for t in ["AUCTION_OPENED", "BID_PLACED", "AUCTION_WON", "AUCTION_CLOSED", "OWNERSHIP_TRANSFERRED", "NOTIFICATION_SENT"] {
            l.add(t, aggregate: "auction-1", payload: #"{"amount": 5000, "currency": "USD"}"#, user: nil)
        }
        let r = try replayReference(l.events)
        #expect(r.book.isEmpty)
        #expect(r.findings.total == 0)
        #expect(r.population.eventsInScope == 6)
    }

    @Test("as-of is inclusive at the millisecond, on either time basis")
    func asOfBoundaries() throws {
        var l = L()
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: #"{"amount": 1}"#, at: 1000, recordedAtUs: 5_000_000)
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: #"{"amount": 10}"#, at: 2000, recordedAtUs: 3_000_000)
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: #"{"amount": 100}"#, at: 2001, recordedAtUs: 1_000_000)
        let acct = L.user("a", "available")
        func bal(_ us: Int64, _ basis: TimeBasis) throws -> Int64 {
            try replayReference(l.events, scope: .asOf(us, basis: basis)).book.balance(acct, "USD")
        }
        #expect(try bal(999_999, .hlc) == 0)
        #expect(try bal(1_000_000, .hlc) == 1)
        #expect(try bal(2_000_999, .hlc) == 11)  // floored to ms 2000
        #expect(try bal(2_001_000, .hlc) == 111)
        #expect(try bal(999_999, .recorded) == 0)
        #expect(try bal(1_000_000, .recorded) == 100)
        #expect(try bal(3_000_000, .recorded) == 110)
        #expect(try bal(5_000_000, .recorded) == 111)
    }

    @Test("global order is (hlc_physical, hlc_logical, event_id); ties broken by id")
    func globalOrder() {
        let a = GlobalOrderKey(hlcPhysicalMs: 5, hlcLogical: 1, eventId: EventID(high: 0, low: 9))
        let b = GlobalOrderKey(hlcPhysicalMs: 5, hlcLogical: 2, eventId: EventID(high: 0, low: 1))
        let c = GlobalOrderKey(hlcPhysicalMs: 6, hlcLogical: 0, eventId: EventID(high: 0, low: 0))
        let d = GlobalOrderKey(hlcPhysicalMs: 6, hlcLogical: 0, eventId: EventID(high: 0, low: 1))
        #expect([d, c, b, a].sorted() == [a, b, c, d])
    }

    @Test("bad amounts quarantine the event: it moves nothing and is reported")
    func quarantine() throws {
        var l = L()
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: #"{"amount": 100}"#)
        let bad = l.add("FUNDS_DEPOSITED", aggregate: "a", payload: #"{"amount": 12.5}"#)
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: #"{"amount": "1e3"}"#)
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: #"{"currency": "USD"}"#)
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: #"{"amount": 5, "currency": "usd"}"#)
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: #"{"amount": 5, "currency": "XQQ"}"#)
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: #"{"amount": 5, "amount": 6}"#)
        l.add("ESCROW_FUNDED", aggregate: "a", payload: #"{"amount": 5}"#)  // no escrow_id
        let r = try replayReference(l.events)
        #expect(r.book.balance(L.user("a", "available"), "USD") == 100)
        #expect(r.population.eventsQuarantined == 7)
        #expect(r.findings.countByCode[.badAmount] == 6)
        #expect(r.findings.countByCode[.malformedEvent] == 1)
        let first = r.findings.sorted().first { $0.eventId == bad.eventId }
        #expect(first?.code == .badAmount)
        #expect(first?.message.contains("fraction") == true)
        #expect(r.conservation.holds)
    }

    @Test("an unknown event type moves nothing and is reported")
    func unknownType() throws {
        var l = L()
        l.add("FUNDS_TELEPORTED", aggregate: "a", payload: #"{"amount": 100}"#)
        let r = try replayReference(l.events)
        #expect(r.book.isEmpty)
        #expect(r.findings.countByCode[.unknownEventType] == 1)
        #expect(r.population.eventsUnknownType == 1)
    }

    @Test("event types are found by their bytes: each catalog type, near misses, a type named only in another normalization, 2,000 types")
    func eventTypeLookup() throws {
        let catalog = CatalogLoader.reference()
        let rules = PostingRules(catalog: catalog)
        var b = L()
        for type in catalog.events.keys {
            let e = b.add(type, aggregate: "a", payload: #"{"amount": 1}"#)
            if case .unknownType = rules.post(e) { Issue.record("\(type) is the catalog's") }
        }
        for type in ["", "FUNDS_DEPOSITE", "FUNDS_DEPOSITEDX", "funds_deposited", "FUNDS_DEPOSITED\u{0}", String(repeating: "A", count: 300)] {
            guard case .unknownType = rules.post(b.add(type, aggregate: "a")) else { Issue.record("\(type) is not the catalog's"); continue }
        }
        // As Swift's String keys match: "é" precomposed in the catalog, decomposed in the store.
        var accented = catalog
        accented.events["D\u{E9}P\u{D4}T"] = catalog.events["FUNDS_DEPOSITED"]
        let accentedRules = PostingRules(catalog: accented)
        guard case .moves = accentedRules.post(b.add("De\u{301}PO\u{302}T", aggregate: "a", payload: #"{"amount": 1}"#)) else {
            Issue.record("a canonically equivalent type is the catalog's"); return
        }
        let table = EventTypeTable((0..<2_000).map { "TYPE_\($0)" })
        #expect((0..<2_000).allSatisfy { table.index(of: "TYPE_\($0)") != nil })
        #expect(Set((0..<2_000).compactMap { table.index(of: "TYPE_\($0)") }).count == 2_000)
        #expect(table.index(of: "TYPE_2000") == nil && table.index(of: "TYPE_") == nil)
        #expect(EventTypeTable([]).index(of: "X") == nil)
    }

    @Test("sums per currency: a scan over a few currencies, a dictionary past 16, the same sums either way")
    func perCurrencySums() {
        for currencies in [1, 3, 16, 17, 40] {
            var book = BalanceBook()
            var expected: [String: Int128] = [:]
            for n in 0..<600 {
                let currency = "C\(n % currencies)"
                let amount = Int64(n * 7 % 101) - 50
                _ = book.apply([Posting(fromAccount: "a\(n % 13)", toAccount: "b\(n % 11)", currency: currency, amountMinor: amount)])
                expected[currency, default: 0] += 0  // each posting nets to zero across its two accounts
            }
            #expect(book.netByCurrency() == expected)
            var sums = PerCurrency<Int>()
            var reference: [String: Int] = [:]
            for n in 0..<600 {
                let currency = "C\(n * 31 % currencies)"
                sums.update(currency, default: 100) { $0 += n }
                reference[currency, default: 100] += n
            }
            #expect(sums.dictionary == reference)
            #expect(sums.entries.count == currencies)
        }
    }

    @Test("overflow is never a wrap: the event is quarantined, balances untouched")
    func overflow() throws {
        var l = L()
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: #"{"amount": 9223372036854775807}"#)
        // external:deposits may reach Int64.min (-max - 1) but not beyond.
        l.add("FUNDS_DEPOSITED", aggregate: "b", payload: #"{"amount": 2}"#)
        let r = try replayReference(l.events)
        #expect(r.book.balance(L.user("a", "available"), "USD") == Int64.max)
        #expect(r.book.balance(L.user("b", "available"), "USD") == 0)
        #expect(r.book.balance("external:deposits", "USD") == -Int64.max)
        #expect(r.findings.countByCode[.badAmount] == 1)
        #expect(r.conservation.holds)
    }

    @Test("control totals sum past Int64 without overflow")
    func controlTotalsInt128() throws {
        var l = L()
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: #"{"amount": 9000000000000000000}"#)
        for _ in 0..<2 {
            l.add("FUNDS_RESERVED", aggregate: "a", payload: #"{"amount": 9000000000000000000}"#)
            l.add("RESERVATION_RELEASED", aggregate: "a", payload: #"{"amount": 9000000000000000000}"#)
        }
        l.add("FUNDS_WITHDRAWN", aggregate: "a", payload: #"{"amount": 9000000000000000000}"#)
        let r = try replayReference(l.events)
        #expect(r.controlTotals["USD"]?.totalDebitMinor == Int128(54_000_000_000_000_000_000))
        #expect(r.findings.total == 0)
    }

    @Test("a repeated event_id is replayed once and reported")
    func duplicateEvent() throws {
        var l = L()
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: #"{"amount": 100}"#, name: "same")
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: #"{"amount": 100}"#, name: "same")
        let r = try replayReference(l.events)
        #expect(r.book.balance(L.user("a", "available"), "USD") == 100)
        #expect(r.findings.countByCode[.duplicateEvent] == 1)
    }

    @Test("the default currency applies when the payload has none")
    func defaultCurrency() throws {
        var l = L()
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: #"{"amount": 100}"#)
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: #"{"amount": 100, "currency": null}"#)
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: #"{"amount": 7, "currency": "BHD"}"#)
        let r = try replayReference(l.events)
        #expect(r.book.balance(L.user("a", "available"), "USD") == 200)
        #expect(r.book.balance(L.user("a", "available"), "BHD") == 7)
    }

    @Test("a zero amount still gives its accounts a row")
    func zeroPosting() throws {
        var l = L()
        l.add("FUNDS_DEPOSITED", aggregate: "a", payload: #"{"amount": 0}"#)
        let r = try replayReference(l.events)
        #expect(r.book.accountCount == 2)
    }
}

@Suite("Account templates and patterns", .removesTemporaryFolders)
struct AccountTemplateTests {
    @Test("a pattern decided for every name a template writes agrees with matching each name, over random and chosen ids")
    func patternAgainstTemplate() throws {
        let patterns = ["user:*:available", "user:*:pending", "user:*", "*", "*:available", "user:0*", "user:*a", "user:*:a*", "escrow:*",
                        "user:", "external:deposits", "external:*", "u*e", "*-*", "user:*G", "user:Z*", "", "user:00000000-0000-0000-0000-000000000000:available"]
        let templates = ["user:{aggregate_id}:available", "external:deposits", "{aggregate_id}", "a{event_id}b{event_id}c", "user:{user_id}"]
        var b = LedgerBuilder()
        var events = (0..<200).map { _ in b.add("T", aggregate: UUID().uuidString.lowercased(), user: UUID().uuidString.lowercased()) }
        events.append(b.add("T", aggregate: "00000000-0000-0000-0000-000000000000", user: "ffffffff-ffff-ffff-ffff-ffffffffffff"))
        var decided = 0
        for text in templates {
            let template = try AccountTemplate(parsing: text)
            let number = try #require(template.compactKey(for: events[0])?.templateNumber)
            for patternText in patterns {
                let pattern = AccountPattern(patternText)
                guard let every = pattern.matchesEveryName(ofTemplate: number) else { continue }
                decided += 1
                for e in events {
                    #expect(pattern.matches(try template.render(for: e).get()) == every, "\(patternText) on \(text)")
                }
            }
        }
        #expect(decided > 40)
        #expect(AccountPattern("user:*:available").matchesEveryName(ofTemplate: UInt32.max) == nil)
    }

    @Test func patterns() {
        #expect(AccountPattern("user:*:reserved").matches("user:abc:reserved"))
        #expect(!AccountPattern("user:*:reserved").matches("user:abc:available"))
        #expect(AccountPattern("external:*").matches("external:deposits"))
        #expect(AccountPattern("platform:fees").matches("platform:fees"))
        #expect(!AccountPattern("platform:fees").matches("platform:fees2"))
        #expect(AccountPattern("*:x:*:y").matches("a:x:b:y"))
        #expect(!AccountPattern("a*a").matches("a"))
    }

    @Test func templates() throws {
        let t = try AccountTemplate(parsing: "user:{aggregate_id}:available")
        #expect(t.isKeyedByAggregateOnly)
        #expect(try !AccountTemplate(parsing: "escrow:{payload.escrow_id}").isKeyedByAggregateOnly)
        #expect(throws: AccountTemplate.ParseError.self) { try AccountTemplate(parsing: "x:{nope}") }
        #expect(throws: AccountTemplate.ParseError.self) { try AccountTemplate(parsing: "x:{aggregate_id") }
    }
}

@Suite("Balances sort in C collation", .removesTemporaryFolders)
struct CollationTests {
    @Test("bytewise by account then currency, ASCII and not")
    func bytewise() {
        var book = BalanceBook()
        for (a, c) in [("zeta", "USD"), ("été", "EUR"), ("Zed", "USD"), ("alpha", "USD"), ("alpha", "EUR"), ("a:b", "JPY")] {
            _ = book.apply([Posting(fromAccount: "external:x", toAccount: a, currency: c, amountMinor: 1)])
        }
        let names = book.sortedRows().map { "\($0.0.account)/\($0.0.currency)" }
        #expect(names == ["Zed/USD", "a:b/JPY", "alpha/EUR", "alpha/USD", "external:x/EUR", "external:x/JPY", "external:x/USD", "zeta/USD", "été/EUR"])
        var ascii = BalanceBook()
        for a in ["b", "B", "a_", "a-", "a"] {
            _ = ascii.apply([Posting(fromAccount: "x", toAccount: a, currency: "USD", amountMinor: 1)])
        }
        #expect(ascii.sortedRows().map(\.0.account) == ["B", "a", "a-", "a_", "b", "x"])
    }

    /// The sort on packed 16-byte prefixes gives the plain bytewise order, on names that share
    /// long prefixes, differ past byte 16, hold NUL bytes where a shorter name is padded, or
    /// are not ASCII.
    @Test("the prefix sort equals a full bytewise sort")
    func prefixSortIsBytewise() {
        var book = BalanceBook()
        var state: UInt64 = 9
        let pieces = ["user:", "user:0000000000000000", "a", "\u{0}", "é", "z", "-", "0", "9", "ü", ":available", ":reserved"]
        for _ in 0..<3000 {
            var name = ""
            for _ in 0...(Int(state % 5)) {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                name += pieces[Int(state >> 33) % pieces.count]
            }
            // Currencies of several lengths: a name's rows are ordered by them in full too.
            let currency = ["USD", "EUR", "JPY", "US", "USDC", "\u{0}"][Int(state >> 40) % 6]
            _ = book.apply([Posting(fromAccount: "external:x", toAccount: name, currency: currency, amountMinor: Int64(state >> 50))])
        }
        let expected = book.accounts.keys.sorted { a, b in
            let c = bytewiseCompare(a.account, b.account)
            return c != 0 ? c < 0 : bytewiseCompare(a.currency, b.currency) < 0
        }
        #expect(book.sortedRows().map(\.0) == expected)
        // Each row keeps its own balance (rows are moved into place by the order found).
        #expect(book.sortedRows().allSatisfy { $0.1 == book.balance($0.0.account, $0.0.currency) })
        var net: [String: Int128] = [:]
        for (key, totals) in book.accounts { net[key.currency, default: 0] += Int128(totals.balanceMinor) }
        #expect(book.netByCurrency() == net)
    }
}

/// The book keeps its account names as bytes (`AccountNameTable`), not a String an account.
@Suite("Account names: found by their bytes")
struct AccountNameTableTests {
    @Test("canonically equivalent spellings are two accounts, as PostgreSQL's text compares them")
    func bytesNotCanonicalEquivalence() {
        let composed = "caf\u{E9}", decomposed = "cafe\u{301}"
        #expect(composed == decomposed)  // String's ==, which the book no longer uses for names
        // One leg each way, by applyOne (both new in one posting) and by the several-leg path.
        var book = BalanceBook()
        _ = book.apply([Posting(fromAccount: composed, toAccount: decomposed, currency: "EUR", amountMinor: 7)])
        _ = book.apply([Posting(fromAccount: "external:x", toAccount: composed, currency: "EUR", amountMinor: 2),
                        Posting(fromAccount: "external:x", toAccount: decomposed, currency: "EUR", amountMinor: 3)])
        #expect(book.accountCount == 3)
        #expect(book.balance(composed, "EUR") == -5)
        #expect(book.balance(decomposed, "EUR") == 10)
        #expect(book.slot(of: AccountCurrency(account: composed, currency: "EUR")) != book.slot(of: AccountCurrency(account: decomposed, currency: "EUR")))
        #expect(book.sortedRows().map { Array($0.0.account.utf8) } == [Array(composed.utf8), Array(decomposed.utf8), Array("external:x".utf8)].sorted { $0.lexicographicallyPrecedes($1) })
    }

    /// Every key made of names compares bytes as the book does (`AccountName`): a dictionary
    /// by account holds each of the book's accounts once, never two as one.
    @Test("keys made of names are equal by their bytes: accounts, account-currency pairs, the book's dictionary view")
    func keysByBytes() {
        let composed = "caf\u{E9}", decomposed = "cafe\u{301}"
        #expect(!composed.sameBytes(as: decomposed) && composed.sameBytes(as: "caf" + "\u{E9}"))
        let a = AccountCurrency(account: composed, currency: "EUR"), b = AccountCurrency(account: decomposed, currency: "EUR")
        #expect(a != b && a == AccountCurrency(account: "caf" + "\u{E9}", currency: "EUR"))
        var byAccount: [AccountCurrency: Int64] = [a: 1]
        byAccount[b] = 2
        #expect(byAccount.count == 2 && byAccount[a] == 1 && byAccount[b] == 2)
        #expect(Set([AccountName(composed), AccountName(decomposed), AccountName("caf" + "\u{E9}")]).count == 2)
        // Field boundaries count: ("ab", "c") and ("a", "bc") are two keys.
        #expect(AccountCurrency(account: "ab", currency: "c") != AccountCurrency(account: "a", currency: "bc"))
        var book = BalanceBook()
        _ = book.apply([Posting(fromAccount: composed, toAccount: decomposed, currency: "EUR", amountMinor: 7)])
        #expect(book.accounts.count == 2)
        #expect(book.accounts[a]?.balanceMinor == -7 && book.accounts[b]?.balanceMinor == 7)
    }

    @Test("many names over several chunks, one longer than a chunk, the empty name: each found with its own totals")
    func manyNames() {
        var book = BalanceBook()
        let long = String(repeating: "L", count: 1_500_000)
        var names = (0 ..< 40_000).map { "user:\($0 * 7919 % 100_003):available" } + [long, "", "\u{0}"]
        names.append(contentsOf: ["a", "b"])
        for (i, name) in names.enumerated() {
            _ = book.apply([Posting(fromAccount: "external:deposits", toAccount: name, currency: i % 3 == 0 ? "USD" : "EUR", amountMinor: Int64(i + 1))])
        }
        // The same names, the other currency: other accounts.
        _ = book.apply([Posting(fromAccount: "external:deposits", toAccount: "a", currency: "USD", amountMinor: 1000)])
        #expect(book.accountCount == names.count + 2 + 1)
        for (i, name) in names.enumerated() {
            #expect(book.balance(name, i % 3 == 0 ? "USD" : "EUR") == Int64(i + 1))
        }
        #expect(book.balance("a", "USD") == 1000)
        #expect(book.slot(of: AccountCurrency(account: "user:1:available", currency: "GBP")) == nil)
        #expect(book.slot(of: AccountCurrency(account: String(repeating: "L", count: 1_499_999), currency: "USD")) == nil)
        #expect(Set(book.accountNames.map(\.account)).count == names.count + 1)
        #expect(book.netByCurrency() == ["USD": 0, "EUR": 0])
    }

    /// Memory an account: the record (totals, key, currency) with no padding between its sums,
    /// the name out of it. A field added or moved that grows it shows here first.
    @Test("an account's record is 80 bytes, its totals 48")
    func recordSize() {
        #expect(MemoryLayout<AccountTotals>.size == 40)
        #expect(MemoryLayout<AccountTotals>.stride == 48)
        #expect(MemoryLayout<AccountRecord>.stride == 80)
    }

    @Test("a copy of the book keeps its accounts as they were when copied")
    func copiesAreValues() {
        var book = BalanceBook()
        _ = book.apply([Posting(fromAccount: "x", toAccount: "y", currency: "USD", amountMinor: 5)])
        let beginning = book
        for n in 0 ..< 5_000 { _ = book.apply([Posting(fromAccount: "x", toAccount: "z\(n)", currency: "USD", amountMinor: 1)]) }
        #expect(beginning.accountCount == 2)
        #expect(beginning.slot(of: AccountCurrency(account: "z0", currency: "USD")) == nil)
        #expect(beginning.balance("x", "USD") == -5)
        #expect(book.balance("x", "USD") == -5_005)
        #expect(book.balance("z4999", "USD") == 1)
        #expect(beginning.accountNames.map(\.account).sorted() == ["x", "y"])
    }
}
