/// The book as it stood at the start of a period (`--from`): one copy-on-write snapshot, taken
/// before the first event after `fromUs`. Period debits and credits are the differences.
public final class PeriodStart: ReplayObserver {
    public let fromUs: Int64?
    public let basis: TimeBasis
    public private(set) var snapshot = BalanceBook()
    var taken: Bool

    public init(fromUs: Int64?, basis: TimeBasis) {
        self.fromUs = fromUs
        self.basis = basis
        taken = fromUs == nil  // no period start: everything is activity, the beginning is empty
    }

    func after(_ e: EventRecord) -> Bool { basis.isAfter(e, fromUs) }

    public func willFold(_ event: EventRecord, book: BalanceBook) {
        guard !taken, after(event) else { return }
        snapshot = book
        taken = true
    }

    public func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog) {}

    public func finish(book: BalanceBook, findings: inout FindingLog) {
        if !taken {
            snapshot = book
            taken = true
        }
    }
}

/// The trial balance: per account, and grouped by the catalog's account kinds. Pure.
public enum TrialBalance {
    public static let columns = ["account", "currency", "kind", "beginning_balance_minor", "debits_minor", "credits_minor",
                                 "ending_balance_minor", "beginning_balance", "ending_balance"]
    public static let kindColumns = ["kind", "currency", "accounts", "debit_balances_minor", "credit_balances_minor", "net_minor", "net"]

    /// The kind of an account no account rule names.
    public static let unclassified = "unclassified"

    public static func kind(_ account: String, catalog: Catalog) -> String {
        catalog.accountRule(for: account)?.kind ?? unclassified
    }

    /// trial_balance.csv's rows, each made when a renderer reads it.
    public static func lines(book: BalanceBook, sorted: SortedAccounts, start: PeriodStart, catalog: Catalog, filters: [String]) -> ReportRows {
        ReportRows(lines: Lines(book: book, sorted: sorted, kept: sorted.kept(filters), startBook: start.snapshot, currencies: catalog.currencies),
                   numericColumns: [false, false, false, true, true, true, true, true, true])
    }

    struct Lines: ReportLineSource {
        let book: BalanceBook
        let sorted: SortedAccounts
        let kept: [Int]?
        let startBook: BalanceBook
        let currencies: CurrencyTable

        var count: Int { kept?.count ?? sorted.count }
        var columnCount: Int { 9 }

        func line<Sink: ReportCellSink>(_ index: Int, into sink: inout Sink) {
            let i = kept?[index] ?? index
            let key = sorted.rows[i].0, ending = sorted.rows[i].1
            let end = book.totals(slot: sorted.slot(i))
            // The period's start is a snapshot of the book taken during the pass: the account
            // is found there by name, not assumed to sit at the same slot.
            let begin = startBook.isEmpty ? AccountTotals() : startBook.totals(key)
            let e = currencies.exponent(of: key.currency) ?? 2
            sink.ledgerText(key.account)
            sink.ledgerText(key.currency)
            sink.ledgerText(sorted.kind(i))
            sink.integer(begin.balanceMinor)
            sink.number(String(end.debitsMinor - begin.debitsMinor))
            sink.number(String(end.creditsMinor - begin.creditsMinor))
            sink.integer(ending)
            sink.number(MoneyFormat.decimal(begin.balanceMinor, exponent: e))
            sink.number(MoneyFormat.decimal(ending, exponent: e))
        }
    }

    /// Per kind and currency, then a total line per currency whose net is the conservation check.
    /// Each kind once, in the catalog's order, then `unclassified` (several account rules may
    /// share a kind: its accounts are counted once, under one line).
    public static func byKind(sorted: SortedAccounts, catalog: Catalog) -> (rows: [[ReportCell]], totalRows: Int) {
        struct Sum { var accounts = 0; var debit: Int128 = 0; var credit: Int128 = 0 }
        let kindOrder = sorted.kindNames
        var perCurrency = PerCurrency<[Sum?]>()
        let none = [Sum?](repeating: nil, count: kindOrder.count)
        // Each row's currency and balance read in place: copying the row retained its account's
        // name, a cache miss an account.
        sorted.rows.withUnsafeBufferPointer { rows in
            for i in rows.indices {
                let balance = rows[i].1
                perCurrency.update(rows[i].0.currency, default: none) { byKind in
                    var s = byKind[sorted.kindIndex(i)] ?? Sum()
                    s.accounts += 1
                    if balance >= 0 { s.debit += Int128(balance) } else { s.credit += Int128(-Int128(balance)) }
                    byKind[sorted.kindIndex(i)] = s
                }
            }
        }
        let sums = perCurrency.dictionary
        var rows: [[ReportCell]] = []
        var totals: [[ReportCell]] = []
        for currency in sums.keys.sorted() {
            let e = catalog.currencies.exponent(of: currency) ?? 2
            var total = Sum()
            for (index, k) in kindOrder.enumerated() {
                guard let s = sums[currency]?[index] else { continue }
                total.accounts += s.accounts
                total.debit += s.debit
                total.credit += s.credit
                rows.append([.ledgerText(k), .ledgerText(currency), .number(String(s.accounts)), .number(String(s.debit)),
                             .number(String(s.credit)), .number(String(s.debit - s.credit)), .number(MoneyFormat.decimal(s.debit - s.credit, exponent: e))])
            }
            totals.append([.ledgerText("Total (conservation: must be 0)"), .ledgerText(currency), .number(String(total.accounts)),
                           .number(String(total.debit)), .number(String(total.credit)), .number(String(total.debit - total.credit)),
                           .number(MoneyFormat.decimal(total.debit - total.credit, exponent: e))])
        }
        return (rows + totals, totals.count)
    }
}
