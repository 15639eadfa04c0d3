public struct AccountCurrency: Hashable, Sendable, Comparable {
    public var account: String
    public var currency: String

    public init(account: String, currency: String) {
        self.account = account
        self.currency = currency
    }

    /// Bytewise (C collation): by account, then currency.
    public static func < (a: AccountCurrency, b: AccountCurrency) -> Bool {
        if a.account != b.account { return a.account.utf8.lexicographicallyPrecedes(b.account.utf8) }
        return a.currency.utf8.lexicographicallyPrecedes(b.currency.utf8)
    }
}

/// A posting as applied, with both balances before it (after = before ∓ amount).
public struct AppliedPosting: Sendable {
    public var posting: Posting
    public var fromBalanceBeforeMinor: Int64
    public var toBalanceBeforeMinor: Int64

    public var fromBalanceAfterMinor: Int64 { fromBalanceBeforeMinor - posting.amountMinor }
    public var toBalanceAfterMinor: Int64 { toBalanceBeforeMinor + posting.amountMinor }
}

/// Balances per account and currency: memory in proportion to accounts, never to events.
public struct BalanceBook: Sendable {
    public private(set) var balances: [AccountCurrency: Int64] = [:]

    public init() {}

    public func balance(_ account: String, _ currency: String) -> Int64 {
        balances[AccountCurrency(account: account, currency: currency)] ?? 0
    }

    public struct Overflow: Error, Sendable {
        public var account: String
        public var balanceMinor: Int64
    }

    /// Applies all of an event's postings, or none: every leg is checked before any is applied.
    public mutating func apply(_ postings: [Posting]) -> Result<[AppliedPosting], Overflow> {
        var trial: [AccountCurrency: Int64] = [:]
        var applied: [AppliedPosting] = []
        applied.reserveCapacity(postings.count)
        for p in postings {
            let fromKey = AccountCurrency(account: p.fromAccount, currency: p.currency)
            let toKey = AccountCurrency(account: p.toAccount, currency: p.currency)
            let fromBefore = trial[fromKey] ?? balances[fromKey] ?? 0
            let (fromAfter, o1) = fromBefore.subtractingReportingOverflow(p.amountMinor)
            if o1 { return .failure(Overflow(account: p.fromAccount, balanceMinor: fromBefore)) }
            trial[fromKey] = fromAfter
            let toBefore = trial[toKey] ?? balances[toKey] ?? 0
            let (toAfter, o2) = toBefore.addingReportingOverflow(p.amountMinor)
            if o2 { return .failure(Overflow(account: p.toAccount, balanceMinor: toBefore)) }
            trial[toKey] = toAfter
            applied.append(AppliedPosting(posting: p, fromBalanceBeforeMinor: fromBefore, toBalanceBeforeMinor: toBefore))
        }
        for (k, v) in trial { balances[k] = v }
        return .success(applied)
    }

    /// Per currency, the sum over all accounts (external included): zero when money is conserved.
    public func netByCurrency() -> [String: Int128] {
        var net: [String: Int128] = [:]
        for (k, v) in balances { net[k.currency, default: 0] += Int128(v) }
        return net
    }

    public func sortedRows() -> [(AccountCurrency, Int64)] {
        balances.sorted { $0.key < $1.key }
    }
}

/// SAF-T style control totals for one currency: entries, total debit, total credit.
public struct ControlTotal: Sendable, Equatable {
    public var postingCount: Int = 0
    /// Each posting debits the receiving account and credits the giving one by the same amount.
    public var totalDebitMinor: Int128 = 0
    public var totalCreditMinor: Int128 = 0
    public init() {}
}

/// Conservation, computed on two paths: the book's net per currency, and debits vs credits.
public struct Conservation: Sendable, Equatable {
    public var netByCurrency: [String: Int128]
    public var holds: Bool

    public init(book: BalanceBook, controlTotals: [String: ControlTotal]) {
        netByCurrency = book.netByCurrency()
        holds = netByCurrency.values.allSatisfy { $0 == 0 }
            && controlTotals.values.allSatisfy { $0.totalDebitMinor == $0.totalCreditMinor }
    }
}
