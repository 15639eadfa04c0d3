/// The book's accounts in C collation, made once after the pass for every table with a row per
/// account (balances.csv, trial_balance.csv, the totals by kind): each with its balance, its
/// slot in the book (its totals without a lookup by name) and its catalog kind (matched against
/// the catalog's patterns once, not once a table).
public struct SortedAccounts: Sendable {
    /// Account and currency, and the balance: what `BalanceBook.sortedRows()` returns.
    public let rows: [(AccountCurrency, Int64)]
    private let slots: [Int32]
    /// Each row's account rule: its index in `catalog.accounts`, or `noRule`.
    private let ruleIndexes: [UInt32]
    /// Each rule's kind, as an index into `kindNames`.
    private let ruleKinds: [UInt32]
    private let unclassified: UInt32
    static let noRule = UInt32.max
    /// Each kind once: the catalog's kinds in the order its account rules name them, then
    /// `unclassified` for accounts no rule names.
    public let kindNames: [String]

    public init(book: BalanceBook, catalog: Catalog) {
        var names: [String] = []
        var indexByName: [String: UInt32] = [:]
        func index(_ name: String) -> UInt32 {
            if let i = indexByName[name] { return i }
            let i = UInt32(names.count)
            names.append(name)
            indexByName[name] = i
            return i
        }
        // A rule's position gives its kind's index (first rule that names the kind wins).
        ruleKinds = catalog.accounts.map { index($0.kind) }
        unclassified = index(TrialBalance.unclassified)
        // The order and each account's rule on two cores at once: each reads every name (a
        // cache miss each, ~0.1 s at 237k accounts), and after the pass the server is done and
        // the second core idle.
        let (order, ruleBySlot) = Concurrently.both({ book.sortedRowsAndSlots() }, {
            book.mapNamesBySlot { catalog.accountRuleIndex(for: $0).map(UInt32.init) ?? SortedAccounts.noRule }
        })
        (rows, slots) = order
        ruleIndexes = slots.map { ruleBySlot[Int($0)] }
        kindNames = names
    }

    public var count: Int { rows.count }
    func slot(_ i: Int) -> Int { Int(slots[i]) }
    func kindIndex(_ i: Int) -> Int {
        let rule = ruleIndexes[i]
        return Int(rule == SortedAccounts.noRule ? unclassified : ruleKinds[Int(rule)])
    }
    func kind(_ i: Int) -> String { kindNames[kindIndex(i)] }
    /// The row's account rule, by its index in `catalog.accounts` (`Catalog.accountRuleIndex`).
    public func ruleIndex(_ i: Int) -> Int? {
        let rule = ruleIndexes[i]
        return rule == SortedAccounts.noRule ? nil : Int(rule)
    }
    /// The row's totals in `book`, the book the rows were sorted from.
    public func totals(_ i: Int, in book: BalanceBook) -> AccountTotals { book.totals(slot: slot(i)) }

    /// The rows `--account` filters keep, by index; nil when there are no filters (all rows).
    func kept(_ filters: [String]) -> [Int]? {
        guard !filters.isEmpty else { return nil }
        return rows.indices.filter { BalancesReport.matches(rows[$0].0.account, filters: filters) }
    }
}
