import LedgerAuditCore
/// Sections of the verify report: the checks that ran, money in limbo with its aging. Pure.
public enum VerifyReport {
    public static let limboColumns = ["account", "currency", "hold_key", "amount_minor", "since_hlc_physical", "age_hours", "correlation_id", "last_event_id"]
    public static let agingColumns = ["currency", "age", "holds", "amount_minor", "amount"]
    public static let checkColumns = ["check", "codes", "status", "note"]

    /// limbo.csv (holds past limbo_after) and the aging of every open hold per currency.
    public static func limboSection(_ holds: [LimboCheck.OpenHold], catalog: Catalog, ran: Bool) -> ReportSection {
        let inLimbo = holds.filter(\.inLimbo)
        let rows: [[ReportCell]] = inLimbo.map { h in
            [.ledgerText(h.account), .ledgerText(h.currency), .ledgerText(h.holdKey), .number(String(h.amountMinor)),
             .integer(h.sinceHlcPhysicalMs), .number(LimboCheck.hours(h.ageMs)), .ledgerText(h.correlationId.description), .ledgerText(h.lastEventId.description)]
        }
        let buckets: [(String, ClosedRange<Int64>)] = [
            ("0–1 d", Int64.min...86_400_000), ("1–3 d", 86_400_001...3 * 86_400_000),
            ("3–7 d", 3 * 86_400_000 + 1...7 * 86_400_000), ("> 7 d", 7 * 86_400_000 + 1...Int64.max),
        ]
        var aging: [[ReportCell]] = []
        for currency in Set(holds.map(\.currency)).sorted() {
            let e = catalog.currencies.exponent(of: currency) ?? 2
            for (label, range) in buckets {
                let inBucket = holds.filter { $0.currency == currency && range.contains($0.ageMs) }
                let total = inBucket.reduce(Int128(0)) { $0 + $1.amountMinor }
                aging.append([.ledgerText(currency), .ledgerText(label), .number(String(inBucket.count)), .number(String(total)),
                              .number(MoneyFormat.decimal(total, exponent: e))])
            }
        }
        return ReportSection(
            id: "limbo", title: "Money in limbo",
            figures: [
                ("Open holds", String(holds.count)),
                ("In limbo (older than \(catalog.limboAfterMs / 3_600_000) h)", String(inLimbo.count)),
            ] + (ran ? [] : [("Limbo check", "skipped")]),
            tables: [
                ReportTable(csvName: nil, xmlRow: "agingBucket", title: "Aging of money held in transit accounts", columns: agingColumns, rows: aging),
                ReportTable(csvName: "limbo.csv", xmlRow: "limboHold", title: "Holds in limbo", columns: limboColumns, rows: rows),
            ]
        )
    }

    public static func checksSection(_ runs: [CheckRun]) -> ReportSection {
        ReportSection(id: "checks", title: "Checks", tables: [
            ReportTable(csvName: nil, xmlRow: "checkRun", title: "Checks run", columns: checkColumns, rows: runs.map {
                [.ledgerText($0.name), .ledgerText($0.codes.map(\.rawValue).joined(separator: " ")), .ledgerText($0.ran ? "ran" : "skipped"), .ledgerText($0.note)]
            }),
        ])
    }
}
