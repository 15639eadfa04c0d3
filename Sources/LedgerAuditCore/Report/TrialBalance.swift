/// Period activity per account, watched during the replay: debits (money in) and credits (money
/// out) after `fromUs`. Beginning balances follow exactly: ending − debits + credits.
public final class PeriodActivity: ReplayObserver {
    public let fromUs: Int64?
    public let basis: TimeBasis
    public private(set) var debitsMinor: [AccountCurrency: Int128] = [:]
    public private(set) var creditsMinor: [AccountCurrency: Int128] = [:]

    public init(fromUs: Int64?, basis: TimeBasis) {
        self.fromUs = fromUs
        self.basis = basis
    }

    func inPeriod(_ e: EventRecord) -> Bool {
        guard let fromUs else { return true }
        switch basis {
        case .hlc: return e.hlcPhysicalMs > Instant.floorDivMod(fromUs, 1000).0
        case .recorded: return e.recordedAtUs > fromUs
        }
    }

    public func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog) {
        guard !applied.isEmpty, inPeriod(event) else { return }
        for a in applied {
            let p = a.posting
            debitsMinor[AccountCurrency(account: p.toAccount, currency: p.currency), default: 0] += Int128(p.amountMinor)
            creditsMinor[AccountCurrency(account: p.fromAccount, currency: p.currency), default: 0] += Int128(p.amountMinor)
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

    public static func lines(book: BalanceBook, activity: PeriodActivity, catalog: Catalog, filters: [String]) -> [[ReportCell]] {
        book.sortedRows().filter { BalancesReport.matches($0.0.account, filters: filters) }.map { key, ending in
            let debits = activity.debitsMinor[key] ?? 0
            let credits = activity.creditsMinor[key] ?? 0
            // Exact: the beginning balance was itself a balance, so it fits Int64.
            let beginning = Int64(Int128(ending) - debits + credits)
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
        for (key, balance) in book.balances {
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
