/// What a report line is made of, said once for every destination: the `ReportCell`s a table
/// holds or an HTML and XML renderer reads (`ReportCellRow`), and the bytes of a CSV file
/// (`CSVLineWriter` in the reports module). A line is described once, generic over the sink,
/// so the file and the other formats cannot drift apart; `CSVLineWriter` writes exactly what
/// `CSVRenderer.appendLine` writes for `ReportCellRow`'s cells (pinned by `CSVLineTests`).
public protocol ReportCellSink {
    /// An id, as `.ledgerText(id.description)` shows it.
    mutating func id(_ id: EventID)
    /// An id or an empty cell.
    mutating func optionalId(_ id: EventID?)
    mutating func integer(_ value: Int64)
    /// Text the tool formatted (a date, an amount): `.number`.
    mutating func number(_ text: String)
    mutating func ledgerText(_ text: String)
    /// A cell with nothing in it (`.empty`).
    mutating func empty()
    /// One ledger-text cell made of three parts (`FUNDS_DEPOSITED from user:…`).
    mutating func ledgerText(_ a: String, _ b: String, _ c: String)
    /// An account's name as ledger text; `key` (the posting's, when it has one) lets a sink
    /// write it from its template without making the String.
    mutating func account(_ name: @autoclosure () -> String, key: AccountKey?)
    /// `ledgerText(a, b, name)` for a cell that ends in an account's name, with its key.
    mutating func ledgerText(_ a: String, _ b: String, account name: @autoclosure () -> String, key: AccountKey?)
}

extension ReportCellSink {
    public mutating func account(_ name: @autoclosure () -> String, key: AccountKey?) { ledgerText(name()) }
    public mutating func ledgerText(_ a: String, _ b: String, account name: @autoclosure () -> String, key: AccountKey?) { ledgerText(a, b, name()) }
}

/// The cells, for tables, previews and tests.
public struct ReportCellRow: ReportCellSink {
    public private(set) var cells: [ReportCell] = []
    public init(capacity: Int = 0) { cells.reserveCapacity(capacity) }
    public mutating func id(_ id: EventID) { cells.append(.ledgerText(id.description)) }
    public mutating func optionalId(_ id: EventID?) { cells.append(.optional(id?.description)) }
    public mutating func integer(_ value: Int64) { cells.append(.integer(value)) }
    public mutating func number(_ text: String) { cells.append(.number(text)) }
    public mutating func ledgerText(_ text: String) { cells.append(.ledgerText(text)) }
    public mutating func ledgerText(_ a: String, _ b: String, _ c: String) { cells.append(.ledgerText(a + b + c)) }
    public mutating func empty() { cells.append(.empty) }
}

/// A table's rows said line by line (`ReportRows(lines:)`): the CSV renderer writes each line's
/// bytes straight from it, with no cell array, no String per integer and no enum per cell
/// (balances.csv and trial_balance.csv have a row per account: 237,387 each at 2M events,
/// written after the server is done, so their time is all the client's).
public protocol ReportLineSource: Sendable {
    var count: Int { get }
    /// Cells a line holds: a hint for the cell array's capacity.
    var columnCount: Int { get }
    func line<Sink: ReportCellSink>(_ index: Int, into sink: inout Sink)
}
