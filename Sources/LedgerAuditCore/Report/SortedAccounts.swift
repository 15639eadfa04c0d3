/// The book's accounts in C collation, made once after the pass for every table with a row per
/// account (balances.csv, trial_balance.csv, the totals by kind): each with its balance, its
/// slot in the book (its totals without a lookup by name) and its catalog kind (matched against
/// the catalog's patterns once, not once a table).
public struct SortedAccounts: Sendable {
    /// Account and currency, and the balance: what `BalanceBook.sortedRows()` returns.
    public let rows: [(AccountCurrency, Int64)]
    private let slots: [Int32]
    private let kindIndexes: [UInt32]
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
        let ruleKinds = catalog.accounts.map { index($0.kind) }
        let unclassified = index(TrialBalance.unclassified)
        // The order and each account's kind on two cores at once: each reads every name (a
        // cache miss each, ~0.1 s at 237k accounts), and after the pass the server is done and
        // the second core idle.
        let accounts = catalog.accounts
        let (order, kindBySlot) = Concurrently.both({ book.sortedRowsAndSlots() }, {
            book.mapNamesBySlot { account in
                guard let r = accounts.firstIndex(where: { $0.pattern.matches(account) }) else { return unclassified }
                return ruleKinds[r]
            }
        })
        (rows, slots) = order
        kindIndexes = slots.map { kindBySlot[Int($0)] }
        kindNames = names
    }

    public var count: Int { rows.count }
    func slot(_ i: Int) -> Int { Int(slots[i]) }
    func kindIndex(_ i: Int) -> Int { Int(kindIndexes[i]) }
    func kind(_ i: Int) -> String { kindNames[Int(kindIndexes[i])] }

    /// The rows `--account` filters keep, by index; nil when there are no filters (all rows).
    func kept(_ filters: [String]) -> [Int]? {
        guard !filters.isEmpty else { return nil }
        return rows.indices.filter { BalancesReport.matches(rows[$0].0.account, filters: filters) }
    }
}
