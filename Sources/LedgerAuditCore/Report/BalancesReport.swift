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
        Array(madeRows(sorted: SortedAccounts(book: book, catalog: catalog), catalog: catalog, filters: filters))
    }

    /// balances.csv's rows, each made when a renderer reads it.
    public static func madeRows(sorted: SortedAccounts, catalog: Catalog, filters: [String]) -> ReportRows {
        ReportRows(lines: Lines(sorted: sorted, kept: sorted.kept(filters), currencies: catalog.currencies), numericColumns: [false, false, true, true])
    }

    struct Lines: ReportLineSource {
        let sorted: SortedAccounts
        let kept: [Int]?
        let currencies: CurrencyTable

        var count: Int { kept?.count ?? sorted.count }
        var columnCount: Int { 4 }

        func line<Sink: ReportCellSink>(_ index: Int, into sink: inout Sink) {
            let (key, balance) = sorted.rows[kept?[index] ?? index]
            sink.ledgerText(key.account)
            sink.ledgerText(key.currency)
            sink.integer(balance)
            sink.number(MoneyFormat.decimal(balance, exponent: currencies.exponent(of: key.currency) ?? 2))
        }
    }

    /// The trial balance grouped by account kind with totals per currency (the conservation
    /// line) first, then every account's balance (balances.csv).
    public static func section(_ result: ReplayResult, catalog: Catalog, filters: [String], sorted: SortedAccounts? = nil) -> ReportSection {
        let sorted = sorted ?? SortedAccounts(book: result.book, catalog: catalog)
        let byKind = TrialBalance.byKind(sorted: sorted, catalog: catalog)
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
    public static func trialBalanceSection(_ result: ReplayResult, start: PeriodStart, catalog: Catalog, filters: [String], sorted: SortedAccounts? = nil) -> ReportSection {
        let sorted = sorted ?? SortedAccounts(book: result.book, catalog: catalog)
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
