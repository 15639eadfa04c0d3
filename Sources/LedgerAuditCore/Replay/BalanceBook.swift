public struct AccountCurrency: Hashable, Sendable, Comparable {
    public var account: String
    public var currency: String

    public init(account: String, currency: String) {
        self.account = account
        self.currency = currency
    }

    /// Bytewise (C collation): by account, then currency.
    public static func < (a: AccountCurrency, b: AccountCurrency) -> Bool {
        let byAccount = bytewiseCompare(a.account, b.account)
        return byAccount != 0 ? byAccount < 0 : bytewiseCompare(a.currency, b.currency) < 0
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

/// One account's running state: its balance, and all it ever received (debits) and gave (credits).
public struct AccountTotals: Sendable, Equatable {
    public var balanceMinor: Int64 = 0
    public var debitsMinor: Int128 = 0
    public var creditsMinor: Int128 = 0
    public init() {}

    /// One leg out of the account; false, and nothing changed, when the balance would overflow.
    @inline(__always)
    mutating func payOut(_ amountMinor: Int64) -> Bool {
        let (after, overflow) = balanceMinor.subtractingReportingOverflow(amountMinor)
        if overflow { return false }
        balanceMinor = after
        creditsMinor += Int128(amountMinor)
        return true
    }

    /// One leg into the account; false, and nothing changed, when the balance would overflow.
    @inline(__always)
    mutating func receive(_ amountMinor: Int64) -> Bool {
        let (after, overflow) = balanceMinor.addingReportingOverflow(amountMinor)
        if overflow { return false }
        balanceMinor = after
        debitsMinor += Int128(amountMinor)
        return true
    }
}

/// Balances per account and currency: memory in proportion to accounts, never to events.
public struct BalanceBook: Sendable {
    public private(set) var accounts: [AccountCurrency: AccountTotals] = [:]

    public init() {}

    public var accountCount: Int { accounts.count }
    public var isEmpty: Bool { accounts.isEmpty }

    public func balance(_ account: String, _ currency: String) -> Int64 {
        accounts[AccountCurrency(account: account, currency: currency)]?.balanceMinor ?? 0
    }

    public func totals(_ key: AccountCurrency) -> AccountTotals { accounts[key] ?? AccountTotals() }

    public struct Overflow: Error, Sendable {
        public var account: String
        public var balanceMinor: Int64
    }

    /// Applies all of an event's postings, or none: every leg is checked before any is applied.
    public mutating func apply(_ postings: [Posting]) -> Result<[AppliedPosting], Overflow> {
        if postings.count == 1 { return applyOne(postings[0]) }
        var trial: [AccountCurrency: AccountTotals] = [:]
        var applied: [AppliedPosting] = []
        applied.reserveCapacity(postings.count)
        for p in postings {
            let fromKey = AccountCurrency(account: p.fromAccount, currency: p.currency)
            var from = trial[fromKey] ?? accounts[fromKey] ?? AccountTotals()
            let fromBefore = from.balanceMinor
            guard from.payOut(p.amountMinor) else { return .failure(Overflow(account: p.fromAccount, balanceMinor: fromBefore)) }
            trial[fromKey] = from
            let toKey = AccountCurrency(account: p.toAccount, currency: p.currency)
            var to = trial[toKey] ?? accounts[toKey] ?? AccountTotals()
            let toBefore = to.balanceMinor
            guard to.receive(p.amountMinor) else { return .failure(Overflow(account: p.toAccount, balanceMinor: toBefore)) }
            trial[toKey] = to
            applied.append(AppliedPosting(posting: p, fromBalanceBeforeMinor: fromBefore, toBalanceBeforeMinor: toBefore))
        }
        for (k, v) in trial { accounts[k] = v }
        return .success(applied)
    }

    /// The common case, one posting: no trial copy, checked before written, each account's key
    /// hashed once (the keys are strings: hashing is most of the fold's cost).
    mutating func applyOne(_ p: Posting) -> Result<[AppliedPosting], Overflow> {
        let fromKey = AccountCurrency(account: p.fromAccount, currency: p.currency)
        let toKey = AccountCurrency(account: p.toAccount, currency: p.currency)
        let fromIndex = accounts.index(forKey: fromKey)
        var from = fromIndex.map { accounts.values[$0] } ?? AccountTotals()
        let fromBefore = from.balanceMinor
        guard from.payOut(p.amountMinor) else { return .failure(Overflow(account: p.fromAccount, balanceMinor: fromBefore)) }
        let sameAccount = fromKey == toKey
        let toIndex = sameAccount ? fromIndex : accounts.index(forKey: toKey)
        var to = sameAccount ? from : toIndex.map { accounts.values[$0] } ?? AccountTotals()
        let toBefore = to.balanceMinor
        guard to.receive(p.amountMinor) else { return .failure(Overflow(account: p.toAccount, balanceMinor: toBefore)) }
        // Existing accounts are written in place first: an insertion may move the others.
        if sameAccount {
            if let fromIndex { accounts.values[fromIndex] = to } else { accounts[toKey] = to }
        } else {
            if let fromIndex { accounts.values[fromIndex] = from }
            if let toIndex { accounts.values[toIndex] = to }
            if fromIndex == nil { accounts[fromKey] = from }
            if toIndex == nil { accounts[toKey] = to }
        }
        return .success([AppliedPosting(posting: p, fromBalanceBeforeMinor: fromBefore, toBalanceBeforeMinor: toBefore)])
    }

    /// Per currency, the sum over all accounts (external included): zero when money is conserved.
    public func netByCurrency() -> [String: Int128] {
        var net: [String: Int128] = [:]
        for (k, v) in accounts { net[k.currency, default: 0] += Int128(v.balanceMinor) }
        return net
    }

    /// Rows in C collation (bytewise by account, then currency). Sorted on each account's first
    /// 16 bytes packed into two integers held in the array itself, so most comparisons touch no
    /// string; rows whose prefixes tie are compared in full.
    public func sortedRows() -> [(AccountCurrency, Int64)] {
        struct Row {
            var prefix: (UInt64, UInt64)
            var key: AccountCurrency
            var balanceMinor: Int64
        }
        var rows: [Row] = []
        rows.reserveCapacity(accounts.count)
        for (key, totals) in accounts {
            rows.append(Row(prefix: BalanceBook.sortPrefix(key.account), key: key, balanceMinor: totals.balanceMinor))
        }
        rows.sort { a, b in
            if a.prefix.0 != b.prefix.0 { return a.prefix.0 < b.prefix.0 }
            if a.prefix.1 != b.prefix.1 { return a.prefix.1 < b.prefix.1 }
            return a.key < b.key
        }
        return rows.map { ($0.key, $0.balanceMinor) }
    }

    /// The first 16 bytes of a name, big-endian, zero-padded: comparing two prefixes gives the
    /// bytewise order of the names, or a tie (a shorter name padded with zeros ties with one
    /// that has NUL bytes there, so ties always fall back to the full comparison).
    static func sortPrefix(_ name: String) -> (UInt64, UInt64) {
        var copy = name
        return copy.withUTF8 { bytes in
            var high: UInt64 = 0, low: UInt64 = 0
            for i in 0..<16 {
                let b = i < bytes.count ? UInt64(bytes[i]) : 0
                if i < 8 { high = high << 8 | b } else { low = low << 8 | b }
            }
            return (high, low)
        }
    }
}

/// SAF-T style control totals for one currency: entries, total debit, total credit.
public struct ControlTotal: Sendable, Equatable {
    public var postingCount: Int = 0
    /// Each posting debits the receiving account and credits the giving one by the same amount.
    public var totalDebitMinor: Int128 = 0
    public var totalCreditMinor: Int128 = 0
    public init() {}

    /// One posting: the same amount on the debit side and on the credit side.
    mutating func add(_ amountMinor: Int64) {
        postingCount += 1
        totalDebitMinor += Int128(amountMinor)
        totalCreditMinor += Int128(amountMinor)
    }
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
