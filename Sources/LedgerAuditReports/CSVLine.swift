import LedgerAuditCore

/// The line's bytes, appended to a file's buffer with no String per id or integer: the journal
/// and GL detail write a line per posting leg (over 2 GB for 2M events). Ids skip the masking
/// scan: a UUID's text is never masked (`CardMask` leaves digits inside a UUID alone), never
/// quoted (hex and hyphens) and never neutralised (it starts with a hex digit).
public struct CSVLineWriter: ReportCellSink {
    /// The line so far (kept between lines, so its storage is reused).
    public private(set) var bytes: [UInt8] = []
    private var cellCount = 0
    /// A three-part cell is assembled here first.
    private var scratch: [UInt8] = []
    /// Account names written from their templates' bytes where they are plain by construction.
    private var accountNames = AccountNameBytes()

    public init() {}

    /// Starts a new line (the previous one's bytes are dropped).
    public mutating func begin() {
        bytes.removeAll(keepingCapacity: true)
        cellCount = 0
    }

    /// Ends the line: `bytes` holds it, line end included.
    public mutating func end() { bytes.append(0x0A) }

    @inline(__always)
    private mutating func separate() {
        if cellCount > 0 { bytes.append(0x2C) }
        cellCount += 1
    }

    public mutating func id(_ id: EventID) {
        separate()
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 36) { text in
            id.writeHex(into: text)
            bytes.appendBytes(UnsafeBufferPointer(text))
        }
    }

    public mutating func optionalId(_ id: EventID?) {
        if let id { self.id(id) } else { separate() }
    }

    public mutating func empty() { separate() }

    public mutating func integer(_ value: Int64) {
        separate()
        bytes.appendDecimal(value)
    }

    public mutating func number(_ text: String) {
        separate()
        bytes.appendBytes(of: text)
    }

    /// Plain text (the usual case) is written from its bytes; anything to mask or escape takes
    /// the one path all ledger text takes, which writes plain text the same way.
    public mutating func ledgerText(_ text: String) {
        separate()
        var copy = text
        let written = copy.withUTF8 { text -> Bool in
            guard LedgerText.isPlain(bytes: text) else { return false }
            CSVRenderer.appendField(text, neutralising: true, into: &bytes)
            return true
        }
        if !written { CSVRenderer.appendCell(.ledgerText(text), into: &bytes) }
    }

    public mutating func ledgerText(_ a: String, _ b: String, _ c: String) {
        beginThreeParts(a, b)
        finishThreeParts(a, b, c)
    }

    /// A name plain by construction is the same bytes the general path writes: nothing in it
    /// is masked, escaped, quoted or neutralised.
    public mutating func account(_ name: @autoclosure () -> String, key: AccountKey?) {
        separate()
        if let key, accountNames.appendPlain(key, literalFirst: false, into: &bytes) { return }
        CSVRenderer.appendCell(.ledgerText(name()), into: &bytes)
    }

    /// When the name is plain by construction and begins with a literal byte (no digit, space
    /// or hyphen, so no run of digits crosses into it), the cell is plain exactly when its first
    /// two parts are: only they are scanned.
    public mutating func ledgerText(_ a: String, _ b: String, account name: @autoclosure () -> String, key: AccountKey?) {
        beginThreeParts(a, b)
        if let key, scratch.withUnsafeBufferPointer({ LedgerText.isPlain(bytes: $0) }),
           accountNames.appendPlain(key, literalFirst: true, into: &scratch) {
            scratch.withUnsafeBufferPointer { CSVRenderer.appendField($0, neutralising: true, into: &bytes) }
            return
        }
        finishThreeParts(a, b, name())
    }

    /// A new cell, its first two parts assembled in `scratch`.
    private mutating func beginThreeParts(_ a: String, _ b: String) {
        separate()
        scratch.removeAll(keepingCapacity: true)
        add(a)
        add(b)
    }

    private mutating func add(_ part: String) {
        scratch.appendBytes(of: part)
    }

    /// The third part added to the first two in `scratch`, and the cell written. Plain text
    /// (the usual case) goes out as assembled; anything to mask or escape takes the one path
    /// all ledger text takes.
    private mutating func finishThreeParts(_ a: String, _ b: String, _ c: String) {
        add(c)
        if scratch.withUnsafeBufferPointer({ LedgerText.isPlain(bytes: $0) }) {
            scratch.withUnsafeBufferPointer { CSVRenderer.appendField($0, neutralising: true, into: &bytes) }
        } else {
            CSVRenderer.appendCell(.ledgerText(a + b + c), into: &bytes)
        }
    }
}

/// One leg of a posting as the ADS GL-detail layouts show it (`journal.csv`, `GL_Detail`): the
/// debit (D) to the receiving account, or the credit (C) to the giving one.
struct PostingLeg {
    let event: EventRecord
    let posting: Posting
    let debit: Bool
    /// Lines numbered per event: debit, then credit, per posting.
    let lineNumber: Int
    /// Unsigned, with the currency's decimals.
    let amount: String

    var account: String { debit ? posting.toAccount : posting.fromAccount }
    var accountKey: AccountKey? { debit ? posting.toKey : posting.fromKey }
    var counterAccount: String { debit ? posting.fromAccount : posting.toAccount }
    var counterAccountKey: AccountKey? { debit ? posting.fromKey : posting.toKey }
    var indicator: String { debit ? "D" : "C" }

    /// `FUNDS_DEPOSITED from external:deposits`.
    func description<Sink: ReportCellSink>(into sink: inout Sink) {
        sink.ledgerText(event.eventType, debit ? " from " : " to ", account: counterAccount, key: counterAccountKey)
    }

    /// The user id, or `system` when the event has none.
    func enteredBy<Sink: ReportCellSink>(into sink: inout Sink) {
        if let user = event.userId { sink.id(user) } else { sink.ledgerText("system") }
    }
}
