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
    /// Each line is assembled here, then appended to the file's buffer.
    var line = CSVLineWriter()
    var effectiveDay = UTCDayParts(), enteredDay = UTCDayParts()
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
        let effectiveParts = effectiveDay.parts(us: event.hlcPhysicalMs * 1000), enteredParts = enteredDay.parts(us: event.recordedAtUs)
        let effective = (date: effectiveParts.compact, time: effectiveParts.compactTime)
        let entered = (date: enteredParts.compact, time: enteredParts.compactTime)
        let source = Int(event.sourceIndex) < sourceNames.count ? sourceNames[Int(event.sourceIndex)] : "event_store"
        var lineNumber = 0
        for a in applied {
            // Names are made only where a sink cannot write one from its key (rare).
            let p = a.posting
            let amount = MoneyFormat.decimal(p.amountMinor, exponent: catalog.currencies.exponent(of: p.currency) ?? 2)
            for legIndex in 0..<2 {
                let debit = legIndex == 0
                lineNumber += 1
                let leg = JournalLeg(leg: PostingLeg(event: event, posting: p, debit: debit, lineNumber: lineNumber, amount: amount),
                                     effectiveDate: effective.date, entered: entered, source: source)
                line.begin()
                leg.cells(into: &line)
                line.end()
                do {
                    try file.write(bytes: line.bytes)
                } catch {
                    failure = error
                    return
                }
                lineCount += 1
                if preview.count < JournalWriter.previewRowsMax {
                    var row = ReportCellRow()
                    leg.cells(into: &row)
                    preview.append(row.cells)
                }
            }
        }
    }

    /// One journal line: the debit (D) to the receiving account, or the credit (C) to the giving one.
    struct JournalLeg {
        let leg: PostingLeg
        let effectiveDate: String
        let entered: (date: String, time: String)
        let source: String

        func cells<Sink: ReportCellSink>(into sink: inout Sink) {
            let event = leg.event, posting = leg.posting
            sink.id(event.eventId)
            sink.integer(Int64(leg.lineNumber))
            leg.description(into: &sink)
            sink.number(effectiveDate)
            sink.account(leg.account, key: leg.accountKey)
            sink.number(leg.amount)
            sink.ledgerText(leg.indicator)
            sink.ledgerText(posting.currency)
            sink.ledgerText(source)
            leg.enteredBy(into: &sink)
            sink.number(entered.date)
            sink.number(entered.time)
            sink.id(event.eventId)
            sink.ledgerText(event.eventType)
            sink.id(event.aggregateId)
            sink.id(event.correlationId)
            sink.optionalId(event.causationId)
            sink.integer(posting.amountMinor)
            sink.integer(event.hlcPhysicalMs)
            sink.integer(Int64(event.hlcLogical))
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
}
