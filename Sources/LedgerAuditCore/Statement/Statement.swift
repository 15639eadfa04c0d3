/// Collects an account statement during the replay: for each selected account and currency,
/// the balance at the start of the period (opening) and every movement after it, each with the
/// running balance. Accounts are named exactly, or `prefix*` (`user:<id>:*` for all of a
/// user's buckets). Memory: the selected accounts' movements in the period.
public final class StatementCollector: ReplayObserver {
    public struct Movement: Sendable {
        public var account: String
        public var currency: String
        public var eventId: EventID
        public var eventType: String
        public var hlcPhysicalMs: Int64
        public var recordedAtUs: Int64
        public var correlationId: EventID
        public var userId: EventID?
        /// + into the account, − out of it.
        public var amountMinor: Int64
        public var runningBalanceMinor: Int64
    }

    public struct Summary: Sendable {
        public var account: String
        public var currency: String
        public var openingMinor: Int64
        public var closingMinor: Int64
        public var movements: Int
    }

    let filters: [String]
    let fromUs: Int64?
    let basis: TimeBasis
    public private(set) var movements: [Movement] = []
    /// Balance before the period, per selected account seen before it.
    var openingByAccount: [AccountCurrency: Int64] = [:]
    var closingByAccount: [AccountCurrency: Int64] = [:]
    var movementCount: [AccountCurrency: Int] = [:]

    public init(accounts filters: [String], fromUs: Int64?, basis: TimeBasis) {
        self.filters = filters
        self.fromUs = fromUs
        self.basis = basis
    }

    func selected(_ account: String) -> Bool { BalancesReport.matches(account, filters: filters) }

    func inPeriod(_ e: EventRecord) -> Bool { basis.isAfter(e, fromUs) }

    public func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog) {
        guard !applied.isEmpty else { return }
        let period = inPeriod(event)
        for a in applied {
            let p = a.posting
            let legs: [(String, Int64, Int64, Int64)] = [
                (p.fromAccount, -p.amountMinor, a.fromBalanceBeforeMinor, a.fromBalanceAfterMinor),
                (p.toAccount, p.amountMinor, a.toBalanceBeforeMinor, a.toBalanceAfterMinor),
            ]
            for (account, signed, before, after) in legs where selected(account) {
                let key = AccountCurrency(account: account, currency: p.currency)
                if !period {
                    openingByAccount[key] = after
                    closingByAccount[key] = after
                    continue
                }
                if openingByAccount[key] == nil { openingByAccount[key] = before }
                closingByAccount[key] = after
                movementCount[key, default: 0] += 1
                movements.append(Movement(account: account, currency: p.currency, eventId: event.eventId, eventType: event.eventType,
                                          hlcPhysicalMs: event.hlcPhysicalMs, recordedAtUs: event.recordedAtUs, correlationId: event.correlationId,
                                          userId: event.userId, amountMinor: signed, runningBalanceMinor: after))
            }
        }
    }

    /// Per account and currency, sorted: opening, closing and how many movements.
    public func summaries() -> [Summary] {
        closingByAccount.keys.sorted().map { key in
            Summary(account: key.account, currency: key.currency, openingMinor: openingByAccount[key] ?? 0,
                    closingMinor: closingByAccount[key] ?? 0, movements: movementCount[key] ?? 0)
        }
    }

    /// statement.csv rows: by account, currency, then global order (the replay's order).
    public func sortedMovements() -> [Movement] {
        return movements.enumerated().sorted { l, r in
            let a = AccountCurrency(account: l.element.account, currency: l.element.currency)
            let b = AccountCurrency(account: r.element.account, currency: r.element.currency)
            return a != b ? a < b : l.offset < r.offset
        }.map(\.element)
    }
}

/// The statement report: summary per account, then every movement (statement.csv). Pure.
public enum StatementReport {
    public static let columns = ["account", "currency", "event_id", "event_type", "hlc_physical", "recorded_at", "correlation_id", "user_id", "amount_minor", "running_balance_minor"]
    public static let summaryColumns = ["account", "currency", "opening_minor", "movements", "closing_minor", "opening", "closing"]

    /// Charts drawn at most; the rest are in the tables and statement.csv.
    public static let chartsMax = 24

    public static func section(_ c: StatementCollector, catalog: Catalog, toUs: Int64? = nil) -> ReportSection {
        let summaries = c.summaries()
        let sorted = c.sortedMovements()
        let summaryRows: [[ReportCell]] = summaries.map { s in
            let e = catalog.currencies.exponent(of: s.currency) ?? 2
            return [.ledgerText(s.account), .ledgerText(s.currency), .integer(s.openingMinor), .number(String(s.movements)), .integer(s.closingMinor),
                    .number(MoneyFormat.decimal(s.openingMinor, exponent: e)), .number(MoneyFormat.decimal(s.closingMinor, exponent: e))]
        }
        let rows: [[ReportCell]] = sorted.map { m in
            [.ledgerText(m.account), .ledgerText(m.currency), .ledgerText(m.eventId.description), .ledgerText(m.eventType), .integer(m.hlcPhysicalMs),
             .ledgerText(Instant.iso8601(us: m.recordedAtUs)), .ledgerText(m.correlationId.description), .optional(m.userId?.description),
             .integer(m.amountMinor), .integer(m.runningBalanceMinor)]
        }
        return ReportSection(id: "statement", title: "Statement", figures: [("Accounts", String(summaries.count)), ("Movements", String(rows.count))], tables: [
            ReportTable(csvName: nil, xmlRow: "statementSummary", title: "Opening and closing balances", columns: summaryColumns, rows: summaryRows),
            ReportTable(csvName: "statement.csv", xmlRow: "statementLine", title: "Movements", columns: columns, rows: rows),
        ], charts: charts(c, summaries: summaries, sorted: sorted, catalog: catalog, toUs: toUs))
    }

    /// One balance-over-time chart per account and currency: the opening balance at the start
    /// of the period, then a step at each movement, flat to the end of the period.
    static func charts(_ c: StatementCollector, summaries: [StatementCollector.Summary], sorted: [StatementCollector.Movement], catalog: Catalog, toUs: Int64?) -> [ReportChart] {
        var byKey: [AccountCurrency: [BalanceChart.Point]] = [:]
        for m in sorted {
            byKey[AccountCurrency(account: m.account, currency: m.currency), default: []].append(BalanceChart.Point(hlcPhysicalMs: m.hlcPhysicalMs, balanceMinor: m.runningBalanceMinor))
        }
        let fromMs = c.fromUs.map { Instant.floorDivMod($0, 1000).0 }
        let toMs = toUs.map { Instant.floorDivMod($0, 1000).0 }
        var charts: [ReportChart] = []
        for s in summaries.prefix(chartsMax) {
            let steps = byKey[AccountCurrency(account: s.account, currency: s.currency)] ?? []
            guard let startMs = fromMs ?? steps.first?.hlcPhysicalMs else { continue }
            let endMs = toMs ?? steps.last?.hlcPhysicalMs ?? startMs
            let points = [BalanceChart.Point(hlcPhysicalMs: startMs, balanceMinor: s.openingMinor)] + steps
            let exponent = catalog.currencies.exponent(of: s.currency) ?? 2
            let title = CardMask.masked(s.account) + " " + s.currency
            let caption = title + ": opening " + MoneyFormat.decimal(s.openingMinor, exponent: exponent) + ", closing " + MoneyFormat.decimal(s.closingMinor, exponent: exponent)
            charts.append(ReportChart(caption: caption, svg: BalanceChart.svg(title: title, points: points, endMs: endMs, exponent: exponent)))
        }
        return charts
    }
}
