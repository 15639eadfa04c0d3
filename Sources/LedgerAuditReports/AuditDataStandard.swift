import LedgerAuditCore

/// The AICPA Audit Data Standard (ADS) general-ledger files an external auditor loads by name:
/// `GL_Detail_<first>_<last>.csv`, `Trial_Balance_…`, `Chart_Of_Accounts_…`, `User_Listing_…`,
/// the dates the period's first and last day (YYYYMMDD). Fields in the standard's order, empty
/// where the ledger has nothing; our own columns after them.
///
/// Mapping: a journal entry is an event (`Journal_ID` = event id), one line per posting leg
/// (debit to the receiving account, credit to the giving one; amounts unsigned with the
/// indicator); `Effective_Date`/`Document_Date` from the time basis (hlc_physical or
/// recorded_at), `Entered_Date`/`Entered_Time` from recorded_at (UTC); `Entered_By` the actor
/// (user_id) or "system"; `Fiscal_Year` named by the calendar year the fiscal year ends in and
/// `Period` its month (1–12) from the catalog's `fiscal_year_start_month`; `Business_Unit_Code`
/// from the catalog's `business_unit`. Trial balance amounts are signed, debit positive.
public enum AuditDataStandard {
    public static let glDetailColumns = [
        "Journal_ID", "Journal_ID_Line_Number", "JE_Line_Description", "Business_Unit_Code", "Effective_Date", "Fiscal_Year",
        "GL_Account_Number", "Amount", "Amount_Credit_Debit_Indicator", "Amount_Currency", "JE_Header_Description", "Source",
        "Entered_By", "Document_Date", "Entered_Date", "Entered_Time", "Period",
    ]
    public static let glDetailExtraColumns = ["event_id", "event_type", "stream", "stream_version", "correlation_id", "causation_id", "amount_minor", "order_position"]
    public static let trialBalanceColumns = [
        "GL_Account_Number", "Business_Unit_Code", "Fiscal_Year", "Period", "Balance_As_Of_Date", "Amount_Beginning", "Amount_Ending", "Amount_Currency",
    ]
    public static let trialBalanceExtraColumns = ["amount_beginning_minor", "amount_ending_minor", "debits_minor", "credits_minor"]
    public static let chartOfAccountsColumns = ["GL_Account_Number", "GL_Account_Name", "Account_Type", "Account_Subtype", "Business_Unit_Code", "GL_Account_Description"]
    public static let userListingColumns = ["User_ID", "User_Name", "Business_Unit_Code"]
    public static let userListingExtraColumns = ["events_entered", "money_events_entered", "first_entered", "last_entered"]

    /// The fiscal year and period of a UTC date: the year the fiscal year ends in, and its month.
    public static func fiscal(year: Int, month: Int, startMonth: Int) -> (year: Int, period: Int) {
        let period = (month - startMonth + 12) % 12 + 1
        let fiscalYear = startMonth == 1 || month < startMonth ? year : year + 1
        return (fiscalYear, period)
    }

    /// An instant's UTC `YYYY-MM-DD`, `HH:MM:SS`, `YYYYMMDD` (file names), `HHMMSS`, year and month.
    typealias DateParts = (date: String, time: String, compact: String, compactTime: String, year: Int, month: Int)

    static func parts(us: Int64) -> DateParts {
        var day = UTCDayParts()
        return day.parts(us: us)
    }
}

/// Instants' UTC date and time texts for report lines, the date's made once a day: a ledger's
/// events come in time order, so nearly every event reuses its day's. Formatting the whole ISO
/// text twice an event and cutting it up was ~16% of the evidence writers' thread. The texts
/// are short enough to be Swift small strings (no allocation).
struct UTCDayParts {
    private var dayNumber: Int64?
    private var day: (date: String, compact: String, year: Int, month: Int) = ("", "", 1, 1)

    mutating func parts(us: Int64) -> AuditDataStandard.DateParts {
        let (days, inDay) = Instant.floorDivMod(us, 86_400_000_000)
        if days != dayNumber {
            let iso = Array(Instant.iso8601(us: days * 86_400_000_000).utf8)  // 2026-05-03T00:00:00.000000Z (ASCII)
            let date = String(decoding: iso[0..<10], as: UTF8.self)
            day = (date, String(decoding: iso[0..<4] + iso[5..<7] + iso[8..<10], as: UTF8.self),
                   Int(date.prefix(4)) ?? 1, Int(date.dropFirst(5).prefix(2)) ?? 1)
            dayNumber = days
        }
        let second = Int(inDay / 1_000_000)
        return (day.date, Self.time(second, separator: 0x3A), day.compact, Self.time(second, separator: nil), day.year, day.month)
    }

    /// `HH:MM:SS`, or `HHMMSS` without a separator.
    private static func time(_ secondOfDay: Int, separator: UInt8?) -> String {
        String(unsafeUninitializedCapacity: separator == nil ? 6 : 8) { out in
            var at = 0
            func digits(_ v: Int) {
                out[at] = UInt8(v / 10) + 0x30
                out[at + 1] = UInt8(v % 10) + 0x30
                at += 2
            }
            digits(secondOfDay / 3600)
            if let separator { out[at] = separator; at += 1 }
            digits(secondOfDay / 60 % 60)
            if let separator { out[at] = separator; at += 1 }
            digits(secondOfDay % 60)
            return at
        }
    }
}

/// Streams GL_Detail during the replay (it grows with events) and remembers, per actor, how
/// many events they entered (the user listing); the other files are written at the end.
public final class ADSWriter: ReplayObserver {
    public let folder: String
    let catalog: Catalog
    let fromUs: Int64?
    let asOfUs: Int64?
    let basis: TimeBasis
    /// GL_Detail, streamed during the pass (its final name is given at `finish`).
    public let glDetail: AtomicFile
    /// Each GL_Detail line is assembled here, then appended to the file's buffer.
    var line = CSVLineWriter()
    var effectiveDay = UTCDayParts(), enteredDay = UTCDayParts()
    let startMonth: Int
    let businessUnit: String
    var failure: OutputError?
    public private(set) var lineCount = 0
    var firstEffectiveUs: Int64?
    var lastEffectiveUs: Int64?
    struct Actor { var events = 0; var moneyEvents = 0; var firstUs: Int64; var lastUs: Int64 }
    /// Keyed by user id (nil: "system"): no String an event.
    var actors: [EventID?: Actor] = [:]
    /// Several sources merged: each GL_Detail line's `Source` is its source (cell), not the table.
    let sourceNames: [String]

    public init(folder: String, catalog: Catalog, fromUs: Int64?, asOfUs: Int64?, basis: TimeBasis, sourceNames: [String] = []) throws(OutputError) {
        self.sourceNames = sourceNames
        self.folder = folder
        self.catalog = catalog
        self.fromUs = fromUs
        self.asOfUs = asOfUs
        self.basis = basis
        startMonth = catalog.fiscalYearStartMonth
        businessUnit = catalog.businessUnit ?? ""
        try AtomicFile.makeDirectory(folder)
        // The final name needs the period's last day, known at the end (commit(renamingTo:)).
        glDetail = try AtomicFile(path: folder + "/GL_Detail.csv")
        try glDetail.write(CSVRenderer.headerLine(AuditDataStandard.glDetailColumns + AuditDataStandard.glDetailExtraColumns))
    }

    func effectiveUs(_ e: EventRecord) -> Int64 { basis == .hlc ? e.hlcPhysicalMs * 1000 : e.recordedAtUs }

    public func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog) {
        guard failure == nil, basis.isAfter(event, fromUs) else { return }
        if case .quarantined(let f) = outcome, f.code == .duplicateEvent { return }
        // Changed in place: one hash of the user id an event, not a lookup and a store.
        let recordedAtUs = event.recordedAtUs, isMoney = !applied.isEmpty
        func count(_ a: inout Actor) {
            a.events += 1
            if isMoney { a.moneyEvents += 1 }
            a.firstUs = min(a.firstUs, recordedAtUs)
            a.lastUs = max(a.lastUs, recordedAtUs)
        }
        count(&actors[event.userId, default: Actor(firstUs: recordedAtUs, lastUs: recordedAtUs)])
        guard !applied.isEmpty else { return }
        let effectiveUs = effectiveUs(event)
        firstEffectiveUs = min(firstEffectiveUs ?? effectiveUs, effectiveUs)
        lastEffectiveUs = max(lastEffectiveUs ?? effectiveUs, effectiveUs)
        let effective = effectiveDay.parts(us: effectiveUs)
        let entered = enteredDay.parts(us: event.recordedAtUs)
        let fiscal = AuditDataStandard.fiscal(year: effective.year, month: effective.month, startMonth: startMonth)
        let source = Int(event.sourceIndex) < sourceNames.count ? sourceNames[Int(event.sourceIndex)] : catalog.store.table
        var number = 0
        for a in applied {
            // Names are made only where a sink cannot write one from its key (rare).
            let p = a.posting
            let amount = MoneyFormat.decimal(p.amountMinor, exponent: catalog.currencies.exponent(of: p.currency) ?? 2)
            for legIndex in 0..<2 {
                number += 1
                let leg = GLDetailLeg(leg: PostingLeg(event: event, posting: p, debit: legIndex == 0, lineNumber: number, amount: amount), businessUnit: businessUnit,
                                      effective: effective, entered: entered, fiscal: fiscal, source: source)
                line.begin()
                leg.cells(into: &line)
                line.end()
                do { try glDetail.write(bytes: line.bytes) } catch { failure = error; return }
                lineCount += 1
            }
        }
    }

    /// One GL_Detail line: the debit (D) to the receiving account, or the credit (C) to the giving one.
    struct GLDetailLeg {
        let leg: PostingLeg
        let businessUnit: String
        let effective: AuditDataStandard.DateParts
        let entered: AuditDataStandard.DateParts
        let fiscal: (year: Int, period: Int)
        let source: String

        func cells<Sink: ReportCellSink>(into sink: inout Sink) {
            let event = leg.event, posting = leg.posting
            sink.id(event.eventId)
            sink.integer(Int64(leg.lineNumber))
            leg.description(into: &sink)
            sink.ledgerText(businessUnit)
            sink.number(effective.date)
            sink.integer(Int64(fiscal.year))
            sink.account(leg.account, key: leg.accountKey)
            sink.number(leg.amount)
            sink.ledgerText(leg.indicator)
            sink.ledgerText(posting.currency)
            sink.ledgerText(event.eventType)
            sink.ledgerText(source)
            leg.enteredBy(into: &sink)
            sink.number(effective.date)
            sink.number(entered.date)
            sink.number(entered.time)
            sink.integer(Int64(fiscal.period))
            sink.id(event.eventId)
            sink.ledgerText(event.eventType)
            sink.ledgerText(event.streamKey)
            sink.integer(event.streamVersion)
            sink.id(event.correlationId)
            sink.optionalId(event.causationId)
            sink.integer(posting.amountMinor)
            sink.integer(event.globalOrderKey.hlcPhysicalMs)
        }
    }

    /// The period's first and last day: `--from` (else the first entry), `--as-of` (else the last).
    var period: (first: AuditDataStandard.DateParts, last: AuditDataStandard.DateParts) {
        let lastUs = asOfUs ?? lastEffectiveUs ?? fromUs ?? 0
        let firstUs = fromUs ?? firstEffectiveUs ?? lastUs
        return (AuditDataStandard.parts(us: firstUs), AuditDataStandard.parts(us: lastUs))
    }

    /// Renames GL_Detail into place and writes the trial balance, chart of accounts and user
    /// listing for the book at the end and at the period start. Returns the files written, and
    /// the end book's accounts in order, which the balances report of the same book takes
    /// instead of sorting them again.
    public func finish(book: BalanceBook, beginning: BalanceBook) throws(OutputError) -> (files: [String], sorted: SortedAccounts) {
        if let failure { throw failure }
        let (first, last) = period
        let suffix = "_\(first.compact)_\(last.compact).csv"
        var written: [String] = []
        let fiscal = AuditDataStandard.fiscal(year: last.year, month: last.month, startMonth: startMonth)
        // Trial balance: every account of the end or the beginning, signed, debit positive. The
        // beginning is an earlier state of the same book, which never drops an account, so its
        // accounts are the end's; any that were not would still be listed, in order.
        let sorted = SortedAccounts(book: book, catalog: catalog)
        var onlyAtBeginning: [AccountCurrency] = []
        if !beginning.isEmpty {
            for key in beginning.accountNames where book.slot(of: key) == nil { onlyAtBeginning.append(key) }
            onlyAtBeginning.sort()
        }
        // Each file is streamed to its temporary name (a String of every line was ~100 MB at
        // 237k accounts), then all are renamed into place together with GL_Detail. Lines are
        // assembled by `CSVLineWriter` (the bytes `CSVRenderer.appendLine` writes), with no
        // array of cells a line: this all runs after the pass, on one core.
        var line = CSVLineWriter()
        let tb = try AtomicFile(path: folder + "/Trial_Balance" + suffix)
        try tb.write(CSVRenderer.headerLine(AuditDataStandard.trialBalanceColumns + AuditDataStandard.trialBalanceExtraColumns))
        func trialBalanceLine(_ key: AccountCurrency, end: AccountTotals) throws(OutputError) {
            let start = beginning.isEmpty ? AccountTotals() : beginning.totals(key)
            let begin = start.balanceMinor
            let exponent = catalog.currencies.exponent(of: key.currency) ?? 2
            line.begin()
            line.ledgerText(key.account)
            line.ledgerText(businessUnit)
            line.integer(Int64(fiscal.year))
            line.integer(Int64(fiscal.period))
            line.number(last.date)
            line.number(MoneyFormat.decimal(begin, exponent: exponent))
            line.number(MoneyFormat.decimal(end.balanceMinor, exponent: exponent))
            line.ledgerText(key.currency)
            line.integer(begin)
            line.integer(end.balanceMinor)
            line.number(String(end.debitsMinor - start.debitsMinor))
            line.number(String(end.creditsMinor - start.creditsMinor))
            line.end()
            try tb.write(bytes: line.bytes)
        }
        var extra = onlyAtBeginning.makeIterator(), nextExtra = extra.next()
        for i in 0..<sorted.count {
            let key = sorted.rows[i].0
            while let e = nextExtra, e < key {
                try trialBalanceLine(e, end: AccountTotals())
                nextExtra = extra.next()
            }
            try trialBalanceLine(key, end: sorted.totals(i, in: book))
        }
        while let e = nextExtra {
            try trialBalanceLine(e, end: AccountTotals())
            nextExtra = extra.next()
        }
        // Chart of accounts: each account name once, in C collation, with the catalog rule that
        // names it. Names are told apart by their bytes, as the book tells accounts apart, so the
        // trial balance's order without repeats is this order, and each row already knows its
        // rule; a name only the beginning held (never, for an earlier state of the same book)
        // is placed by a sort of all the names.
        let coa = try AtomicFile(path: folder + "/Chart_Of_Accounts" + suffix)
        try coa.write(CSVRenderer.headerLine(AuditDataStandard.chartOfAccountsColumns))
        let rules = catalog.accounts.map { rule in
            (kind: rule.kind, subtype: [rule.transit ? "transit" : nil, rule.mayGoNegative ? "may go negative" : nil].compactMap { $0 }.joined(separator: "; "),
             source: "catalog pattern \(rule.pattern.text)")
        }
        let unruled = (kind: "unclassified", subtype: "no catalog rule: may not go negative", source: "")
        func chartLine(_ account: String, rule: Int?) throws(OutputError) {
            let r = rule.map { rules[$0] } ?? unruled
            line.begin()
            line.ledgerText(account)
            line.ledgerText(account)
            line.ledgerText(r.kind)
            line.ledgerText(r.subtype)
            line.ledgerText(businessUnit)
            line.ledgerText(r.source)
            line.end()
            try coa.write(bytes: line.bytes)
        }
        if onlyAtBeginning.isEmpty {
            var previous: String?
            for i in 0..<sorted.count {
                let account = sorted.rows[i].0.account
                if let previous, previous.utf8.elementsEqual(account.utf8) { continue }
                previous = account
                try chartLine(account, rule: sorted.ruleIndex(i))
            }
        } else {
            var seen = Set<[UInt8]>()
            let names = (sorted.rows.map(\.0.account) + onlyAtBeginning.map(\.account)).filter { seen.insert(Array($0.utf8)).inserted }
            for account in names.sorted(by: { bytewiseCompare($0, $1) < 0 }) {
                try chartLine(account, rule: catalog.accountRuleIndex(for: account))
            }
        }
        let users = try AtomicFile(path: folder + "/User_Listing" + suffix)
        try users.write(CSVRenderer.headerLine(AuditDataStandard.userListingColumns + AuditDataStandard.userListingExtraColumns))
        for (id, a) in actors.map({ ($0.key?.description ?? "system", $0.value) }).sorted(by: { $0.0 < $1.0 }) {
            try users.append { CSVRenderer.appendLine([
                .ledgerText(id), .ledgerText(id), .ledgerText(businessUnit), .integer(Int64(a.events)), .integer(Int64(a.moneyEvents)),
                .number(Instant.iso8601(us: a.firstUs)), .number(Instant.iso8601(us: a.lastUs)),
            ], into: &$0) }
        }
        let detailPath = folder + "/GL_Detail" + suffix
        try glDetail.commit(renamingTo: detailPath)
        written.append(detailPath)
        for file in [tb, coa, users] {
            try file.commit()
            written.append(file.finalPath)
        }
        return (written, sorted)
    }
}
