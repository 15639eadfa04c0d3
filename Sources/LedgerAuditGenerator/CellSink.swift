import LedgerAuditCore

/// One generated ledger split into cells, as a platform with cells keeps it: every user has a
/// home cell, and each stream lives in the cell of the user who started it (a wallet in its
/// owner's, an auction in its seller's), so money crosses cells whenever a buyer bids on another
/// cell's auction. Writes `cell-1/` … `cell-N/` (each an extract pair, its users' projection and a
/// loader) and `whole/`, the same ledger as one extract for comparison.
public struct CellSink: GeneratorSink {
    var whole: FileSink
    var cells: [FileSink]
    var cellOfStream: [EventID: Int] = [:]

    /// `mkdir` is the caller's: the folders must exist.
    public static func folders(_ directory: String, cells: Int) -> [String] {
        [directory + "/whole"] + (1...cells).map { directory + "/cell-\($0)" }
    }

    public init(directory: String, cells count: Int) throws {
        let f = CellSink.folders(directory, cells: count)
        whole = try FileSink(directory: f[0])
        cells = try f.dropFirst().map { try FileSink(directory: $0) }
    }

    /// A user's home cell: a stable function of the id, so every run splits alike.
    public static func homeCell(_ id: EventID, cells: Int) -> Int { Int(id.low % UInt64(cells)) }

    public var eventCount: Int { whole.eventCount }
    public var cellEventCounts: [Int] { cells.map(\.eventCount) }

    public mutating func event(_ e: EventRecord) throws {
        try whole.event(e)
        let cell: Int
        if let c = cellOfStream[e.aggregateId] {
            cell = c
        } else {
            cell = CellSink.homeCell(e.userId ?? e.aggregateId, cells: cells.count)
            cellOfStream[e.aggregateId] = cell
        }
        try cells[cell].event(e)
    }

    public mutating func projectionRow(userId: EventID, availableMinor: Int64, reservedMinor: Int64, pendingMinor: Int64, currency: String) throws {
        try whole.projectionRow(userId: userId, availableMinor: availableMinor, reservedMinor: reservedMinor, pendingMinor: pendingMinor, currency: currency)
        // The user's wallet stream is in its home cell, and so is its projection row.
        let cell = cellOfStream[userId] ?? CellSink.homeCell(userId, cells: cells.count)
        try cells[cell].projectionRow(userId: userId, availableMinor: availableMinor, reservedMinor: reservedMinor, pendingMinor: pendingMinor, currency: currency)
    }

    public mutating func finish() throws {
        try whole.finish()
        for i in cells.indices { try cells[i].finish() }
    }
}
