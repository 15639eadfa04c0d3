import LedgerAuditCore

/// What a check reads: the replayed events (most), or the store's own catalogs (append-only).
public enum CheckInput: Sendable {
    case events
    case storeCatalog
}

/// What every check is given when it is made: value types only, so a check can be made on the
/// thread that runs it.
public struct CheckContext: Sendable {
    public var catalog: Catalog
    /// Limbo ages and other "as of" measures are taken at this instant (µs): `--as-of`, else now.
    public var measuredAtUs: Int64
    /// Known command ids (from `--commands FILE` or the catalog's registry), when one was given.
    public var commandRegistry: Set<EventID>?
    /// The seal file to check, when the run was given one.
    public var seals: SealInput?
    /// Whether the source has database catalogs to read (PostgreSQL).
    public var sourceHasStoreCatalog: Bool

    public init(catalog: Catalog, measuredAtUs: Int64, commandRegistry: Set<EventID>? = nil, seals: SealInput? = nil, sourceHasStoreCatalog: Bool = false) {
        self.catalog = catalog
        self.measuredAtUs = measuredAtUs
        self.commandRegistry = commandRegistry
        self.seals = seals
        self.sourceHasStoreCatalog = sourceHasStoreCatalog
    }
}

/// The end of the run as a check sees it: the final book, and the store's catalogs for the
/// checks that read them (nil for the others, and for sources that have none).
public struct CheckEnd {
    public var book: BalanceBook
    public var store: (any StoreCatalog)?
    public init(book: BalanceBook, store: (any StoreCatalog)? = nil) {
        self.book = book
        self.store = store
    }
}

/// The ids a prefetch hint locates an event's entries by (`Check.prefetch`).
public struct PrefetchKeys: Sendable {
    public var eventId: EventID
    public var causationId: EventID?
    public var aggregateId: EventID
    /// The cause's index in the fold's table, when the fold indexes causes (`EventRecord.causeIdIndex`).
    public var causeIdIndex: UInt32

    public init(eventId: EventID, causationId: EventID?, aggregateId: EventID, causeIdIndex: UInt32 = EventRecord.notIndexed) {
        self.eventId = eventId
        self.causationId = causationId
        self.aggregateId = aggregateId
        self.causeIdIndex = causeIdIndex
    }
}

/// See `Check.prefetch`.
public enum PrefetchStage: Sendable {
    /// The slots the events' ids hash to.
    case slots
    /// The entries those slots name.
    case entries
}

/// What a check hands back at the end of the run: its findings, the report sections it owns,
/// a note for the checks table, and any file it wants beside the report (`seal-proof.json`).
public struct CheckResult: Sendable {
    public var name: String
    public var findings: FindingLog
    public var sections: [ReportSection]
    public var note: String
    public var files: [ReportFile]

    public init(name: String, findings: FindingLog, sections: [ReportSection] = [], note: String = "", files: [ReportFile] = []) {
        self.name = name
        self.findings = findings
        self.sections = sections
        self.note = note
        self.files = files
    }
}

/// A file a report carries besides its rendered formats.
public struct ReportFile: Sendable {
    public var name: String
    public var text: String
    public init(name: String, text: String) {
        self.name = name
        self.text = text
    }
}

/// An integrity check: made from its context, shown every event in global order (those that
/// read events), then asked once for its result. Checks never reach into each other or into
/// the engine; the engine never reads a check's fields.
public protocol Check: AnyObject {
    /// The name users pass to `--check` / `--skip`.
    static var name: String { get }
    /// What it looks for, for `--list-checks`.
    static var summary: String { get }
    static var codes: [FindingCode] { get }
    static var input: CheckInput { get }
    /// Why the check cannot run on this run's source, or nil when it can.
    static func notApplicable(_ context: CheckContext) -> String?
    /// Sections the report still shows when the check is skipped (an empty limbo table says so).
    static func sectionsWhenSkipped(_ context: CheckContext) -> [ReportSection]
    /// Whether the run asked for what the check needs (the seal check needs a seal file); a
    /// check not requested has no row in the checks table.
    static func isRequested(_ context: CheckContext) -> Bool
    /// What the checks table says of the check before it runs (its configuration).
    static func note(_ context: CheckContext) -> String
    /// Whether the check wants each event's canonical encoding (the seals' leaves), which the
    /// events digest then hands it, so an event is encoded once.
    static var readsCanonicalEncoding: Bool { get }

    /// Whether `prefetch` does anything: the worker asks only the checks that say so.
    static var prefetchesMemory: Bool { get }

    init(context: CheckContext)
    /// Hints for a few events about to be observed (`LaneWatchers` asks 16 and 32 events
    /// ahead): at `.slots` the check asks the CPU for the table lines their ids hash to, at
    /// `.entries` (once those lines are in) for the entries they name. The misses then overlap
    /// one another and the work on earlier events instead of stalling one event at a time.
    /// Changes no state and no result.
    func prefetch(_ events: UnsafeBufferPointer<PrefetchKeys>, stage: PrefetchStage)
    func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog)
    func canonical(_ bytes: UnsafeRawBufferPointer, event: EventRecord)
    /// End of run: add end-of-run findings, return the note and sections.
    func finish(_ end: CheckEnd, findings: inout FindingLog) throws -> CheckReport
}

/// A check's own part of its result (the runner adds the findings it collected).
public struct CheckReport: Sendable {
    public var note: String
    public var sections: [ReportSection]
    public var files: [ReportFile]
    public init(note: String = "", sections: [ReportSection] = [], files: [ReportFile] = []) {
        self.note = note
        self.sections = sections
        self.files = files
    }
}

extension Check {
    public static var input: CheckInput { .events }
    public static func notApplicable(_ context: CheckContext) -> String? { nil }
    public static func sectionsWhenSkipped(_ context: CheckContext) -> [ReportSection] { [] }
    public static func isRequested(_ context: CheckContext) -> Bool { true }
    public static func note(_ context: CheckContext) -> String { "" }
    public static var readsCanonicalEncoding: Bool { false }
    public static var prefetchesMemory: Bool { false }
    public func prefetch(_ events: UnsafeBufferPointer<PrefetchKeys>, stage: PrefetchStage) {}
    public func canonical(_ bytes: UnsafeRawBufferPointer, event: EventRecord) {}
    public func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog) {}
    public func finish(_ end: CheckEnd, findings: inout FindingLog) throws -> CheckReport { CheckReport() }

    /// Runs the end-of-run step and wraps it with the check's findings.
    public func result(_ end: CheckEnd, findings: FindingLog) throws -> CheckResult {
        var log = findings
        let report = try finish(end, findings: &log)
        return CheckResult(name: Self.name, findings: log, sections: report.sections, note: report.note, files: report.files)
    }
}

/// The closed registry: every check, by name, in report order. A new check is one file and one
/// line here.
public enum Checks {
    public static let all: [any Check.Type] = [
        StreamCheck.self, DuplicateCommandCheck.self, CausationCheck.self, ClockSkewCheck.self,
        NegativeBalanceCheck.self, LimboCheck.self, MissingActorCheck.self, CardNumberCheck.self,
        AppendOnlyCheck.self, SealCheck.self,
    ]

    /// Checks the replay itself performs (always on): listed so users can see every code.
    public static let replayChecks: [(name: String, summary: String, codes: [FindingCode])] = [
        ("replay", "amounts, rows and event types the replay quarantines or cannot post; repeated event ids", [.badAmount, .malformedEvent, .unknownEventType, .duplicateEvent]),
    ]

    public static var names: [String] { all.map { $0.name } }

    public static func named(_ name: String) -> (any Check.Type)? { all.first { $0.name == name } }

    /// `verify --list-checks`.
    public static func listing() -> String {
        func pad(_ s: String) -> String { s.count >= 20 ? s + " " : s + String(repeating: " ", count: 20 - s.count) }
        let indent = String(repeating: " ", count: 20)
        var lines = ["check               codes"]
        for c in all { lines.append(pad(c.name) + c.codes.map(\.rawValue).joined(separator: " ") + "\n" + indent + c.summary) }
        for r in replayChecks { lines.append(pad(r.name) + r.codes.map(\.rawValue).joined(separator: " ") + "\n" + indent + r.summary + " (always on)") }
        return lines.joined(separator: "\n")
    }
}

/// One row of the report's checks table.
public struct CheckRun: Sendable {
    public var name: String
    public var codes: [FindingCode]
    public var ran: Bool
    public var note: String
    public init(name: String, codes: [FindingCode], ran: Bool, note: String) {
        self.name = name
        self.codes = codes
        self.ran = ran
        self.note = note
    }
}
