public enum TimeBasis: String, Sendable, CaseIterable {
    /// `hlc_physical`, the spec's default.
    case hlc
    /// `recorded_at`, when the store wrote the row.
    case recorded
}

extension TimeBasis {
    /// Whether an event falls after an instant (µs) on this basis: periods start after `--from`.
    public func isAfter(_ e: EventRecord, _ instantUs: Int64?) -> Bool {
        guard let instantUs else { return true }
        switch self {
        case .hlc: return e.hlcPhysicalMs > Instant.floorDivMod(instantUs, 1000).0
        case .recorded: return e.recordedAtUs > instantUs
        }
    }
}

/// Which events a run covers. Sources push every bound into their query where they can;
/// `includes` is the same rule for sources that must filter as they read.
public struct ReplayScope: Sendable, Equatable {
    /// Inclusive upper bound on `hlc_physical` (ms).
    public var hlcPhysicalMaxMs: Int64?
    /// Inclusive upper bound on `recorded_at` (µs).
    public var recordedAtMaxUs: Int64?
    /// Inclusive upper bound in global order (a projection checkpoint).
    public var globalOrderMax: GlobalOrderKey?
    /// Only these aggregates' streams (a statement for one user reads one stream).
    public var aggregateIds: [EventID]?

    public init(hlcPhysicalMaxMs: Int64? = nil, recordedAtMaxUs: Int64? = nil, globalOrderMax: GlobalOrderKey? = nil, aggregateIds: [EventID]? = nil) {
        self.hlcPhysicalMaxMs = hlcPhysicalMaxMs
        self.recordedAtMaxUs = recordedAtMaxUs
        self.globalOrderMax = globalOrderMax
        self.aggregateIds = aggregateIds
    }

    /// `--as-of T` on a basis. T is µs; the HLC axis is ms, so T is floored to its millisecond.
    public static func asOf(_ asOfUs: Int64?, basis: TimeBasis) -> ReplayScope {
        guard let asOfUs else { return ReplayScope() }
        switch basis {
        case .hlc: return ReplayScope(hlcPhysicalMaxMs: Instant.floorDivMod(asOfUs, 1000).0)
        case .recorded: return ReplayScope(recordedAtMaxUs: asOfUs)
        }
    }

    /// Bitemporal: effective as of T0 on the basis, as the ledger knew it at T1 (what had been
    /// recorded by then, by `recorded_at`).
    public static func asOf(_ asOfUs: Int64?, basis: TimeBasis, knownAtUs: Int64?) -> ReplayScope {
        var scope = asOf(asOfUs, basis: basis)
        if let knownAtUs { scope.recordedAtMaxUs = min(scope.recordedAtMaxUs ?? knownAtUs, knownAtUs) }
        return scope
    }

    /// Every event `other` includes, this scope includes too (whatever the events are).
    public func holds(_ other: ReplayScope) -> Bool {
        func looser<T: Comparable>(_ mine: T?, _ theirs: T?) -> Bool {
            guard let mine else { return true }
            guard let theirs else { return false }
            return theirs <= mine
        }
        guard looser(hlcPhysicalMaxMs, other.hlcPhysicalMaxMs), looser(recordedAtMaxUs, other.recordedAtMaxUs),
              looser(globalOrderMax, other.globalOrderMax) else { return false }
        guard let ids = aggregateIds else { return true }
        guard let theirs = other.aggregateIds else { return false }
        return theirs.allSatisfy { ids.contains($0) }
    }

    public func includes(_ event: EventRecord) -> Bool {
        if let m = hlcPhysicalMaxMs, event.hlcPhysicalMs > m { return false }
        if let m = recordedAtMaxUs, event.recordedAtUs > m { return false }
        if let m = globalOrderMax, m < event.globalOrderKey { return false }
        if let ids = aggregateIds, !ids.contains(event.aggregateId) { return false }
        return true
    }
}

/// Facts about how a source delivered a run's rows.
public struct SourceReport: Sendable, Equatable {
    /// Rows read from the source, readable or not, in scope or not.
    public var rowsRead: Int = 0
    /// The extract was not in global order and was sorted before replay.
    public var reorderedFromWriteOrder = false
    /// Human description of the snapshot or file (e.g. transaction isolation).
    public var notes: [String] = []
    /// A PostgreSQL read whose server sorts every row before the first (`ServerSortNote`): the
    /// note, also printed under the summary.
    public var serverSortNote: String?
    /// An extract that began with a UTF-8 byte-order mark (skipped).
    public var byteOrderMarkSkipped = false
    /// An extract with no record at all (empty, or a header only): never a clean night.
    public var holdsNoRecords = false
    /// With several sources merged (cells): what each one delivered, in the run's source order.
    public var members: [SourceMemberReport] = []
    public init() {}
}

/// One source of a merged run: what it is (redacted), its snapshot, and what it delivered.
public struct SourceMemberReport: Sendable, Equatable {
    /// `source 2`: how the cut and the summary name it.
    public var name: String
    public var description: String
    public var rowsRead: Int
    public var notes: [String]
    /// The highest global-order key this source delivered in the pass, if any event.
    public var highestKey: GlobalOrderKey?
    /// The highest hlc_physical (ms) the source holds in its snapshot, in scope or not: how far
    /// this cell has got, for the consistent cut. nil when it holds no event.
    public var highestInSourceMs: Int64?

    public init(name: String, description: String, rowsRead: Int = 0, notes: [String] = [], highestKey: GlobalOrderKey? = nil, highestInSourceMs: Int64? = nil) {
        self.name = name
        self.description = description
        self.rowsRead = rowsRead
        self.notes = notes
        self.highestKey = highestKey
        self.highestInSourceMs = highestInSourceMs
    }
}

/// A source of events in global order. Both adapters stream: memory does not grow with events
/// (an out-of-order extract needs a sort index; see FileExtractSource).
public protocol EventSource {
    /// What the report shows as the source: never with a password.
    var redactedDescription: String { get }
    /// Calls `body` for every row in scope, in global order, plus every unreadable row.
    func stream(scope: ReplayScope, _ body: (SourceRow) throws -> Void) throws -> SourceReport
}

/// A source that holds its rows in batches (a reader thread's) and lends each batch whole, so
/// the caller sees what comes next before it folds it (the engine posts a batch ahead and asks
/// for the memory its fold will touch). The rows are those `stream` gives, in the same order.
public protocol BatchLendingEventSource: EventSource {
    /// `body` reads each batch's rows in place (`forEachInPlace`) and leaves every row there.
    func streamBatches(scope: ReplayScope, _ body: (UnsafeMutableBufferPointer<SourceRow>) throws -> Void) throws -> SourceReport
}

extension BatchLendingEventSource {
    /// The batches' rows one at a time, each read in place.
    public func stream(scope: ReplayScope, _ body: (SourceRow) throws -> Void) throws -> SourceReport {
        try streamBatches(scope: scope) { rows in try rows.forEachInPlace { _, row in try body(row) } }
    }
}

extension UnsafeMutableBufferPointer where Element == SourceRow {
    /// Each row in order, moved out for `body` and moved back, never copied (see
    /// `Array.forEachInPlace`: a copy retained the row's boxes on this core).
    @inlinable public func forEachInPlace<E: Error>(_ body: (Int, SourceRow) throws(E) -> Void) throws(E) {
        guard let base = baseAddress else { return }
        for i in indices { try Array<SourceRow>.inPlace(base + i) { (row) throws(E) in try body(i, row) } }
    }
}

/// The store's own catalogs, read in the run's snapshot (PostgreSQL's `pg_class`, `pg_trigger`, …)
/// for the checks that judge the database rather than its events. Text in, rows of text out;
/// parameters bound, never spliced.
public protocol StoreCatalog: AnyObject {
    func query(_ sql: String, _ parameters: [String?]) throws -> [[String?]]
}
