/// Builds the balances report (trial balance as of T) from a replay. Pure.
public enum BalancesReport {
    public static let columns = ["account", "currency", "balance_minor", "balance"]

    /// `--account` filters: an exact account, or a `prefix*`.
    public static func matches(_ account: String, filters: [String]) -> Bool {
        guard !filters.isEmpty else { return true }
        return filters.contains { f in
            f.hasSuffix("*") ? account.hasPrefix(String(f.dropLast())) : account == f
        }
    }

    public static func rows(_ book: BalanceBook, catalog: Catalog, filters: [String]) -> [[ReportCell]] {
        rows(sorted: book.sortedRows(), catalog: catalog, filters: filters)
    }

    public static func rows(sorted: [(AccountCurrency, Int64)], catalog: Catalog, filters: [String]) -> [[ReportCell]] {
        Array(madeRows(sorted: sorted, catalog: catalog, filters: filters))
    }

    /// balances.csv's rows, each made when a renderer reads it.
    public static func madeRows(sorted: [(AccountCurrency, Int64)], catalog: Catalog, filters: [String]) -> ReportRows {
        let kept = filters.isEmpty ? sorted : sorted.filter { matches($0.0.account, filters: filters) }
        let currencies = catalog.currencies
        return ReportRows(count: kept.count, numericColumns: [false, false, true, true]) { i in
            let (key, balance) = kept[i]
            let exponent = currencies.exponent(of: key.currency) ?? 2
            return [.ledgerText(key.account), .ledgerText(key.currency), .integer(balance), .number(MoneyFormat.decimal(balance, exponent: exponent))]
        }
    }

    /// The trial balance grouped by account kind with totals per currency (the conservation
    /// line) first, then every account's balance (balances.csv).
    public static func section(_ result: ReplayResult, catalog: Catalog, filters: [String], sorted: [(AccountCurrency, Int64)]? = nil) -> ReportSection {
        let sorted = sorted ?? result.book.sortedRows()
        let byKind = TrialBalance.byKind(book: result.book, catalog: catalog)
        return ReportSection(
            id: "balances", title: "Balances",
            figures: [
                ("Accounts", String(result.book.accountCount)),
                ("Conservation", result.conservation.holds ? "holds: every currency sums to zero" : "BROKEN"),
            ],
            tables: [
                ReportTable(csvName: nil, xmlRow: "kindTotal", title: "Trial balance by account kind", columns: TrialBalance.kindColumns, rows: byKind.rows, totalRows: byKind.totalRows),
                ReportTable(csvName: "balances.csv", xmlRow: "balance", title: "Balances", columns: columns, rows: madeRows(sorted: sorted, catalog: catalog, filters: filters)),
            ]
        )
    }

    /// Per account, beginning and ending balances for the period (trial_balance.csv).
    public static func trialBalanceSection(_ result: ReplayResult, start: PeriodStart, catalog: Catalog, filters: [String], sorted: [(AccountCurrency, Int64)]? = nil) -> ReportSection {
        let sorted = sorted ?? result.book.sortedRows()
        return ReportSection(
            id: "trial-balance", title: "Trial balance by account",
            tables: [
                ReportTable(csvName: "trial_balance.csv", xmlRow: "trialBalanceLine", title: "Beginning and ending balances", columns: TrialBalance.columns,
                            rows: TrialBalance.lines(book: result.book, sorted: sorted, start: start, catalog: catalog, filters: filters)),
            ]
        )
    }
}

/// The findings table every report carries (findings.csv).
public enum FindingsTable {
    public static let columns = ["code", "severity", "event_id", "aggregate_id", "account", "amount_minor", "message", "controls",
                                 "stream_version", "currency", "location", "evidence"]

    public static func row(_ f: Finding) -> [ReportCell] {
        [
            .ledgerText(f.code.rawValue), .ledgerText(f.severity.rawValue),
            .optional(f.eventId?.description), .optional(f.aggregateId?.description), .optional(f.account),
            f.amountMinor.map { .integer($0) } ?? .empty, .ledgerText(f.message), .ledgerText(f.controls.joined(separator: ";")),
            f.streamVersion.map { .integer($0) } ?? .empty, .optional(f.currency), .optional(f.location),
            f.evidence.isEmpty ? .empty : .ledgerText(f.evidence.map { "\($0.0)=\($0.1)" }.joined(separator: "; ")),
        ]
    }

    public static func section(_ log: FindingLog) -> ReportSection {
        var figures: [(label: String, value: String)] = Severity.allCases.map { ($0.rawValue, String(log.countBySeverity[$0] ?? 0)) }
        if log.droppedCount > 0 {
            figures.append(("Not listed (past the limit of \(Limits.findingsKeptMax))", String(log.droppedCount)))
        }
        return ReportSection(
            id: "findings", title: "Findings", figures: figures,
            tables: [ReportTable(csvName: "findings.csv", xmlRow: "finding", title: "Findings", columns: columns, rows: log.sorted().map(row))]
        )
    }
}
