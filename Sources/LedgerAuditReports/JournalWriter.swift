import LedgerAuditCore

/// `journal.csv` in the AICPA Audit Data Standard GL-detail layout, one line per posting leg,
/// streamed to disk during the replay (it grows with events, so it never sits in memory).
/// Mapping: Journal_ID = event_id; lines numbered per event (debit leg, then credit leg, per
/// posting); JE_Line_Description = event type and counter-account; Effective_Date from
/// hlc_physical; GL_Account_Number = account; Amount unsigned with the currency's exponent;
/// D for the receiving account, C for the giving one; Entered_* from recorded_at (UTC) and
/// user_id ("system" when null); then our own columns.
public final class JournalWriter: ReplayObserver {
    public static let columns = [
        "Journal_ID", "Journal_ID_Line_Number", "JE_Line_Description", "Effective_Date", "GL_Account_Number", "Amount",
        "Amount_Credit_Debit_Indicator", "Amount_Currency", "Source", "Entered_By", "Entered_Date", "Entered_Time",
        "event_id", "event_type", "aggregate_id", "correlation_id", "causation_id", "amount_minor", "hlc_physical", "hlc_logical",
    ]
    static let previewRowsMax = Limits.htmlTableRowsMax

    public let file: AtomicFile
    let catalog: Catalog
    let fromUs: Int64?
    let basis: TimeBasis
    public private(set) var lineCount = 0
    public private(set) var preview: [[ReportCell]] = []
    var failure: OutputError?
    /// Several sources merged: the ADS `Source` of each line is the source (cell) it came from.
    let sourceNames: [String]

    public init(path: String, catalog: Catalog, fromUs: Int64?, basis: TimeBasis, sourceNames: [String] = []) throws(OutputError) {
        self.sourceNames = sourceNames
        file = try AtomicFile(path: path)
        self.catalog = catalog
        self.fromUs = fromUs
        self.basis = basis
        try file.write(CSVRenderer.headerLine(JournalWriter.columns))
    }

    public func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog) {
        guard !applied.isEmpty, failure == nil else { return }
        guard basis.isAfter(event, fromUs) else { return }
        let effective = JournalWriter.dateTime(us: event.hlcPhysicalMs * 1000)
        let entered = JournalWriter.dateTime(us: event.recordedAtUs)
        var lineNumber = 0
        for a in applied {
            let p = a.posting
            let amount = MoneyFormat.decimal(p.amountMinor, exponent: catalog.currencies.exponent(of: p.currency) ?? 2)
            for (account, indicator, counter) in p.journalLegs {
                lineNumber += 1
                let row: [ReportCell] = [
                    .ledgerText(event.eventId.description), .integer(Int64(lineNumber)), .ledgerText("\(event.eventType) \(indicator == "D" ? "from" : "to") \(counter)"),
                    .number(effective.date), .ledgerText(account), .number(amount), .ledgerText(indicator), .ledgerText(p.currency),
                    .ledgerText(Int(event.sourceIndex) < sourceNames.count ? sourceNames[Int(event.sourceIndex)] : "event_store"), .ledgerText(event.userId?.description ?? "system"), .number(entered.date), .number(entered.time),
                    .ledgerText(event.eventId.description), .ledgerText(event.eventType), .ledgerText(event.aggregateId.description),
                    .ledgerText(event.correlationId.description), .optional(event.causationId?.description), .integer(p.amountMinor),
                    .integer(event.hlcPhysicalMs), .integer(Int64(event.hlcLogical)),
                ]
                do {
                    try file.append { CSVRenderer.appendLine(row, into: &$0) }
                } catch {
                    failure = error
                    return
                }
                lineCount += 1
                if preview.count < JournalWriter.previewRowsMax { preview.append(row) }
            }
        }
    }

    /// Renames the journal into place; call after the replay.
    public func commit() throws(OutputError) {
        if let failure { throw failure }
        try file.commit()
    }

    public func table() -> ReportTable {
        ReportTable(csvName: "journal.csv", xmlRow: nil, title: "Journal (ADS GL detail)", columns: JournalWriter.columns, rows: preview, streamedRowCount: lineCount)
    }

    /// `YYYYMMDD` and `HHMMSS`, UTC.
    static func dateTime(us: Int64) -> (date: String, time: String) {
        let c = Array(Instant.iso8601(us: us).utf8)  // 2026-05-03T14:23:00.000000Z (ASCII)
        return (String(decoding: c[0..<4] + c[5..<7] + c[8..<10], as: UTF8.self),
                String(decoding: c[11..<13] + c[14..<16] + c[17..<19], as: UTF8.self))
    }
}
