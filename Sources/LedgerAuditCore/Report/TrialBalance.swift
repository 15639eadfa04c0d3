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

    public static func kind(_ account: String, catalog: Catalog) -> String {
        catalog.accountRule(for: account)?.kind ?? "unclassified"
    }

    /// trial_balance.csv's rows, each made when a renderer reads it.
    public static func lines(book: BalanceBook, sorted: [(AccountCurrency, Int64)], start: PeriodStart, catalog: Catalog, filters: [String]) -> ReportRows {
        let kept = filters.isEmpty ? sorted : sorted.filter { BalancesReport.matches($0.0.account, filters: filters) }
        let startBook = start.snapshot
        return ReportRows(count: kept.count, numericColumns: [false, false, false, true, true, true, true, true, true]) { i in
            let (key, ending) = kept[i]
            let end = book.totals(key), begin = startBook.totals(key)
            let debits = end.debitsMinor - begin.debitsMinor
            let credits = end.creditsMinor - begin.creditsMinor
            let beginning = begin.balanceMinor
            let e = catalog.currencies.exponent(of: key.currency) ?? 2
            return [
                .ledgerText(key.account), .ledgerText(key.currency), .ledgerText(kind(key.account, catalog: catalog)),
                .integer(beginning), .number(String(debits)), .number(String(credits)), .integer(ending),
                .number(MoneyFormat.decimal(beginning, exponent: e)), .number(MoneyFormat.decimal(ending, exponent: e)),
            ]
        }
    }

    /// Per kind and currency, then a total line per currency whose net is the conservation check.
    public static func byKind(book: BalanceBook, catalog: Catalog) -> (rows: [[ReportCell]], totalRows: Int) {
        struct Sum { var accounts = 0; var debit: Int128 = 0; var credit: Int128 = 0 }
        var sums: [String: [String: Sum]] = [:]
        var kindOrder: [String] = catalog.accounts.map(\.kind)
        book.forEachAccount { key, totals in
            let balance = totals.balanceMinor
            let k = kind(key.account, catalog: catalog)
            if !kindOrder.contains(k) { kindOrder.append(k) }
            var s = sums[key.currency, default: [:]][k, default: Sum()]
            s.accounts += 1
            if balance >= 0 { s.debit += Int128(balance) } else { s.credit += Int128(-Int128(balance)) }
            sums[key.currency, default: [:]][k] = s
        }
        var rows: [[ReportCell]] = []
        var totals: [[ReportCell]] = []
        for currency in sums.keys.sorted() {
            let e = catalog.currencies.exponent(of: currency) ?? 2
            var total = Sum()
            for k in kindOrder {
                guard let s = sums[currency]?[k] else { continue }
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
