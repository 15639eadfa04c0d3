import Foundation
import LedgerAuditConfig
import LedgerAuditCore
import LedgerAuditReports
import LedgerAuditTestSupport
import Testing

/// The ADS files written after the pass take the accounts' order from the book's sort and each
/// account's rule from the same match the balances report makes; these tests pin that the
/// files list what the plain definitions give: every account of the end or the beginning once,
/// by bytes, and each account name once as Strings order (and equate) them, with its rule.
@Suite("ADS trial balance and chart of accounts", .removesTemporaryFolders)
struct ADSFinishTests {
    /// A book of random names from `pieces`, and the same book part way (the period's start).
    static func books(_ pieces: [String]) -> (end: BalanceBook, beginning: BalanceBook) {
        var book = BalanceBook(), beginning = BalanceBook()
        var state: UInt64 = 11
        for n in 0..<2000 {
            var name = ""
            for _ in 0...(Int(state % 4)) {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                name += pieces[Int(state >> 33) % pieces.count]
            }
            let currency = ["USD", "EUR", "JPY"][Int(state >> 40) % 3]
            _ = book.apply([Posting(fromAccount: "external:deposits", toAccount: name, currency: currency, amountMinor: Int64(state >> 52) + 1)])
            if n == 900 { beginning = book }
        }
        return (book, beginning)
    }

    /// Each line's fields (the names here need no quoting).
    static func rows(_ path: String) -> [[String]] {
        TestPaths.read(path).split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    @Test("every account once, in order, with its beginning and ending balance and its rule's kind: names all ASCII, and names that are not (told apart and ordered by their bytes: é precomposed and é with a combining accent are two accounts)",
          arguments: [["user:", "a", "Z", "0", ":available", ":reserved", "external:", "b_", "platform:fees"], ["user:", "é", "e\u{301}", "ü", "Ω", "z", ":available", "A"]])
    func accountsInOrder(pieces: [String]) throws {
        let catalog = CatalogLoader.reference()
        let (book, beginning) = Self.books(pieces)
        let folder = TestPaths.temporaryDirectory("adsorder")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let ads = try ADSWriter(folder: folder + "/ads", catalog: catalog, fromUs: 1_777_593_600_000_000, asOfUs: 1_780_000_000_000_000, basis: .hlc)
        let files = try ads.finish(book: book, beginning: beginning).files
        let tb = try #require(files.first { $0.contains("/Trial_Balance_") }), coa = try #require(files.first { $0.contains("/Chart_Of_Accounts_") })

        // Unique by bytes, as the book tells names apart (a Set of Strings would merge the two é).
        func uniqueByBytes<T>(_ items: [T], _ bytes: (T) -> [UInt8]) -> [T] {
            var seen = Set<[UInt8]>()
            return items.filter { seen.insert(bytes($0)).inserted }
        }
        let keys = uniqueByBytes(book.accountNames + beginning.accountNames) { Array($0.account.utf8) + [0xFF] + Array($0.currency.utf8) }.sorted()
        let tbRows = Self.rows(tb)
        #expect(tbRows.map { AccountCurrency(account: $0[0], currency: $0[7]) } == keys)
        #expect(tbRows.map { $0[8] } == keys.map { String(beginning.totals($0).balanceMinor) })
        #expect(tbRows.map { $0[9] } == keys.map { String(book.totals($0).balanceMinor) })

        let accounts = uniqueByBytes(keys.map(\.account)) { Array($0.utf8) }.sorted { bytewiseCompare($0, $1) < 0 }
        let coaRows = Self.rows(coa)
        #expect(coaRows.map { $0[0] } == accounts)
        #expect(coaRows.map { $0[2] } == accounts.map { catalog.accountRule(for: $0)?.kind ?? "unclassified" })
        #expect(coaRows.map { $0[5] } == accounts.map { catalog.accountRule(for: $0).map { "catalog pattern \($0.pattern.text)" } ?? "" })
        if pieces.contains("é") {
            #expect(accounts.contains { !$0.utf8.allSatisfy { $0 < 0x80 } })
            // Names String's == equates (grouped by it), each its own row: the two spellings of é.
            #expect(Dictionary(grouping: accounts, by: { $0 }).values.contains { $0.count > 1 })
        }
    }
}
