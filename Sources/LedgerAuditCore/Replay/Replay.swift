/// Something that watches the replay, event by event, and may add findings (the checks).
public protocol ReplayObserver: AnyObject {
    /// Before the event is folded, with the book as it stands (for snapshots at an instant).
    func willFold(_ event: EventRecord, book: BalanceBook)
    func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog)
    func finish(book: BalanceBook, findings: inout FindingLog)
}

extension ReplayObserver {
    public func willFold(_ event: EventRecord, book: BalanceBook) {}
    public func finish(book: BalanceBook, findings: inout FindingLog) {}
}

public struct Population: Sendable, Equatable {
    /// Rows the source read, readable or not.
    public var eventsRead = 0
    /// Readable events within the scope (as-of, basis), quarantined ones included.
    public var eventsInScope = 0
    /// Events in scope that moved nothing because they were bad (BAD_AMOUNT, MALFORMED, duplicate).
    public var eventsQuarantined = 0
    /// Rows that could not be read as events at all.
    public var rowsMalformed = 0
    public var eventsUnknownType = 0
    public var moneyEvents = 0
    public var postings = 0
    public init() {}
}

public struct ReplayResult: Sendable {
    public var book: BalanceBook
    public var population: Population
    public var findings: FindingLog
    public var controlTotals: [String: ControlTotal]
    public var conservation: Conservation
    public var source: SourceReport
    /// The last event in scope, in global order (for checkpoints and seals).
    public var lastEvent: GlobalOrderKey?
    /// Accounts the book held at the end: still known once a report that reads no balance has
    /// let the book go (`releaseBook`).
    public let accountCount: Int

    /// For reports that read no balance after the pass: the book goes, its count stays.
    public mutating func releaseBook() { book = BalanceBook() }
}

/// The pipeline: source → decode → order (done by the source) → post → fold → check.
public struct Replay {
    public let catalog: Catalog
    public var observers: [any ReplayObserver] = []
    /// Called every `progressEvery` events with the count so far.
    public var progress: ((Int) -> Void)?
    public var progressEvery = 65_536

    public init(catalog: Catalog, observers: [any ReplayObserver] = []) {
        self.catalog = catalog
        self.observers = observers
    }

    /// `causeIds`: see `Fold.init`.
    public func run(source: any EventSource, scope: ReplayScope, eventIdsMayRepeat: Bool, causeIds: EventIdLog? = nil) throws -> ReplayResult {
        var fold = Fold(catalog: catalog, observers: observers, eventIdsMayRepeat: eventIdsMayRepeat, causeIds: causeIds)
        let sourceReport = try source.stream(scope: scope) { row in
            fold.accept(row)
            if let progress, fold.population.eventsRead % progressEvery == 0 { progress(fold.population.eventsRead) }
        }
        return fold.finish(source: sourceReport)
    }
}

/// Detects an event_id seen before. Remembering all ids costs 21–24 bytes an event (an
/// `EventIdTable`, plus 2 bytes naming the first source when there are several), so it is used
/// only where ids may repeat (extracts, merged sources); a database's primary key rules out all
/// but adjacent copies.
///
/// With `indexesCauses` (the causation check watches the same events) the table also indexes
/// each event's cause, in the order that check would (the event's id, then its cause), and is
/// that check's table: the event carries both indexes (`EventRecord.idIndex`), and the check
/// reads ids from the table's log. One table of every id instead of two: ~21 bytes an event
/// less (`verify` from a 50M-event JSONL extract peaked at 4,857 MiB with two, 3,827 with one).
/// A bit an index then tells an event's id from one only named as a cause so far.
struct DuplicateEventGuard {
    let remembersAll: Bool
    let indexesCauses: Bool
    var seen: EventIdTable?
    var previous: EventID?
    /// With several sources: which source delivered each id first (by the id's index), to name both in the finding.
    var firstSource: ChunkedArray<UInt16>?
    var previousSource: UInt16 = 0
    /// Ids past what the table can index (`Limits.eventIdTableMax`): kept the costly way, never dropped.
    var beyondTable: [EventID: UInt16] = [:]
    /// With `indexesCauses`: a bit an index, set once the id was an event's (not only a cause's).
    var isEvent: ChunkedArray<UInt64>?

    init(remembersAll: Bool, namesSources: Bool = false, causesInto log: EventIdLog? = nil) {
        indexesCauses = log != nil
        self.remembersAll = remembersAll || namesSources || indexesCauses
        if let log {
            seen = EventIdTable(capacity: 1 << 16, log: log)
            isEvent = ChunkedArray()
        } else if self.remembersAll {
            seen = EventIdTable(capacity: 1 << 16)
        }
        if namesSources { firstSource = ChunkedArray() }
    }

    /// nil when the id is new; else the index of the source that delivered it first.
    mutating func repeatOf(_ id: EventID, source: UInt16) -> UInt16? {
        defer { previous = id; previousSource = source }
        guard remembersAll else { return previous == id ? previousSource : nil }
        guard let (index, inserted) = seen!.insert(id) else { return repeatBeyondTable(id, source: source) }
        if inserted {
            firstSource?.append(source)
            return nil
        }
        return firstSource?[index] ?? 0
    }

    private mutating func repeatBeyondTable(_ id: EventID, source: UInt16) -> UInt16? {
        if let first = beyondTable[id] { return first }
        beyondTable[id] = source
        return nil
    }

    /// `repeatOf` with `indexesCauses`: a new event's id and then its cause go in the table, and
    /// `event` carries their indexes (`EventRecord.notIndexed` where the table is full).
    mutating func repeatOf(_ event: inout EventRecord) -> UInt16? {
        let id = event.eventId, source = event.sourceIndex
        guard let (index, inserted) = seen!.insert(id) else { return repeatBeyondTable(id, source: source) }
        if inserted {
            firstSource?.append(source)
            addBit(index)
        } else if isEvent(index) {
            return firstSource?[index] ?? 0
        } else {
            // Named as a cause before: its first delivery is this one.
            firstSource?[index] = source
        }
        isEvent![index >> 6] |= 1 << UInt64(index & 63)
        event.idIndex = UInt32(index)
        if let cause = event.causationId, cause != id {
            if let (causeIndex, causeInserted) = seen!.insert(cause) {
                if causeInserted {
                    firstSource?.append(0)
                    addBit(causeIndex)
                }
                event.causeIdIndex = UInt32(causeIndex)
            }
        }
        return nil
    }

    /// Room for a new index's bit (clear: not an event's id yet).
    private mutating func addBit(_ index: Int) {
        if index & 63 == 0 { isEvent!.append(0) }
    }

    /// With `indexesCauses`: whether the id at `index` was an event's; always, otherwise.
    private func isEvent(_ index: Int) -> Bool {
        guard let isEvent else { return true }
        return isEvent[index >> 6] & 1 << UInt64(index & 63) != 0
    }

    /// The source that first delivered an event's id, when several are merged.
    func sourceIndex(of id: EventID) -> UInt16? {
        guard let firstSource else { return nil }
        if let i = seen?.index(of: id) { return isEvent(i) ? firstSource[i] : nil }
        return beyondTable[id]
    }

    /// A guard of its own for a fold copied from this one's (`Fold.part`): the table's ids, a
    /// reference, are copied, so the other fold's causation check keeps reading only its own.
    mutating func separate() { seen = seen?.copied() }
}

/// See `Fold.prefetch`.
public enum FoldPrefetchStage: Sendable {
    /// The table slots an event's id and its postings' account keys hash to.
    case slots
    /// The account records those slots name.
    case records
}

/// The fold: running balances, counts and control totals, one event at a time, with the
/// observers that watch it. Several folds may share one pass over a source (one per scope).
public struct Fold {
    let rules: PostingRules
    private(set) var observers: [any ReplayObserver]
    var duplicateGuard: DuplicateEventGuard
    public private(set) var book = BalanceBook()
    public private(set) var population = Population()
    var findings = FindingLog()
    /// By a scan of a run's few currencies: hashing the currency a posting cost ~4% of the fold's thread.
    var controlTotals = PerCurrency<ControlTotal>()
    var lastEvent: GlobalOrderKey?
    /// The arrays of the event before, handed to the next event's posting and book: unless an
    /// observer kept them (the checks' worker does), no allocation a money event for either.
    private var postingBuffer: [Posting] = []
    private var appliedBuffer: [AppliedPosting] = []

    /// With several sources merged: their names, for findings that involve two of them.
    let sourceNames: [String]

    /// `causeIds`: an empty log the fold's table of ids puts every event id and cause in, for
    /// the causation check among `observers` (`DuplicateEventGuard`); only where the fold
    /// remembers every id anyway (`remembersEveryId`).
    public init(catalog: Catalog, observers: [any ReplayObserver], eventIdsMayRepeat: Bool, sourceNames: [String] = [], causeIds: EventIdLog? = nil) {
        rules = PostingRules(catalog: catalog)
        self.observers = observers
        self.sourceNames = sourceNames
        // Across sources an id may repeat anywhere (each cell's key is its own), so all are remembered.
        duplicateGuard = DuplicateEventGuard(remembersAll: Self.remembersEveryId(eventIdsMayRepeat: eventIdsMayRepeat, sourceCount: sourceNames.count),
                                             namesSources: sourceNames.count > 1, causesInto: causeIds)
    }

    /// Whether a fold remembers every event id (to find repeats anywhere), where sharing its
    /// table with the causation check saves that check a table of its own.
    public static func remembersEveryId(eventIdsMayRepeat: Bool, sourceCount: Int) -> Bool { eventIdsMayRepeat || sourceCount > 1 }

    /// With several sources: the source that first delivered an event (nil for one source).
    public func sourceIndex(of id: EventID) -> UInt16? { duplicateGuard.sourceIndex(of: id) }

    /// Observers finish, and the result is read off. `source` is what the pass reported.
    public mutating func finish(source: SourceReport) -> ReplayResult {
        for observer in observers { observer.finish(book: book, findings: &findings) }
        // The ids are needed after the pass only to name the source of a merged run's findings;
        // with one source the table (24–32 bytes an event) is let go before the reports are built.
        if sourceNames.count <= 1 { duplicateGuard = DuplicateEventGuard(remembersAll: false) }
        population.eventsRead = max(source.rowsRead, population.eventsRead)
        let totals = controlTotals.dictionary
        return ReplayResult(
            book: book, population: population, findings: findings, controlTotals: totals,
            conservation: Conservation(book: book, controlTotals: totals),
            source: source, lastEvent: lastEvent, accountCount: book.accountCount
        )
    }

    /// A lane that folds the same events as this one so far rides on it: its observers watch
    /// here, and it keeps no book of its own (`Lane`).
    public mutating func attach(_ riders: [any ReplayObserver]) { observers += riders }

    /// The rider parts at the first event only it includes: a fold of its own, this fold's state
    /// so far (book, counts, findings, ids seen) with `observers`; this fold lets `riders` go.
    public mutating func part(_ riders: [any ReplayObserver], observers: [any ReplayObserver]) -> Fold {
        self.observers.removeAll { o in riders.contains { $0 === o } }
        var own = self
        own.observers = observers
        own.duplicateGuard.separate()
        return own
    }

    /// After `finish`, for reports that read no balance: the fold's copy of the book goes too.
    public mutating func releaseBook() { book = BalanceBook() }

    /// Hints for a run of events about to be folded, their verdicts known (`PostAhead`; an
    /// event whose verdict is nil is not folded here): at `.slots` the table lines the ids table
    /// and the book find them by, at `.records` (once those are in) the accounts' records.
    /// Changes no state and no result (mutating only so that a lane reaches its fold in place:
    /// through a class's optional property a non-mutating call copied the fold).
    /// `causeIds`: each event's cause (zero for none), where the fold indexes causes; else empty.
    public mutating func prefetch(eventIds: UnsafeBufferPointer<EventID>, causeIds: UnsafeBufferPointer<EventID> = .init(start: nil, count: 0),
                                  outcomes: UnsafeBufferPointer<PostingOutcome?>, stage: FoldPrefetchStage) {
        if duplicateGuard.indexesCauses, causeIds.count == outcomes.count, let seen = duplicateGuard.seen {
            // The cause is most often an earlier event: its slot, then the id its slot names (the compare).
            for i in outcomes.indices where outcomes[i] != nil && causeIds[i] != EventID(high: 0, low: 0) {
                if stage == .slots {
                    seen.prefetchSlot(causeIds[i])
                } else if let n = seen.likelyIndex(causeIds[i]) {
                    seen.prefetchId(at: n)
                }
            }
        }
        for i in outcomes.indices {
            switch outcomes[i] {
            case .moves(let postings)?:
                if stage == .slots {
                    duplicateGuard.seen?.prefetchSlot(eventIds[i])
                    book.prefetchSlots(of: postings)
                } else {
                    book.prefetchRecords(of: postings)
                }
            case nil:
                break
            case _?:
                if stage == .slots { duplicateGuard.seen?.prefetchSlot(eventIds[i]) }
            }
        }
    }

    /// One row as the source delivered it. `posted` is the catalog's verdict on the event when
    /// the caller has it already (one verdict an event, however many folds share the pass).
    public mutating func accept(_ row: SourceRow, posted: PostingOutcome? = nil) {
        population.eventsRead += 1
        switch row {
        case .malformed(let m):
            population.rowsMalformed += 1
            findings.append(Finding(code: .malformedEvent, eventId: m.eventId, aggregateId: m.aggregateId,
                                    message: "\(m.location): \(m.reason); the row is quarantined and moves nothing", location: m.location))
        case .event(var event):
            population.eventsInScope += 1
            lastEvent = event.globalOrderKey
            let repeated = duplicateGuard.indexesCauses
                ? duplicateGuard.repeatOf(&event)
                : duplicateGuard.repeatOf(event.eventId, source: event.sourceIndex)
            if let first = repeated {
                population.eventsQuarantined += 1
                var finding = Finding.about(event, .duplicateEvent, message: "event_id \(event.eventId) appears again (\(event.eventType), stream version \(event.streamVersion)); only its first occurrence in global order is replayed")
                if sourceNames.count > 1 {
                    let names = sourceNames
                    let name = { (i: UInt16) in Int(i) < names.count ? names[Int(i)] : "source \(i + 1)" }
                    finding.message += first == event.sourceIndex
                        ? " (both in \(name(first)))"
                        : " (first in \(name(first)), again in \(name(event.sourceIndex)))"
                    finding.evidence += [("first source", name(first)), ("repeated in", name(event.sourceIndex))]
                }
                findings.append(finding)
                for observer in observers { observer.observe(event, outcome: .quarantined(finding), applied: [], findings: &findings) }
                return
            }
            fold(event, posted: posted)
        }
    }

    mutating func fold(_ event: EventRecord, posted: PostingOutcome?) {
        for observer in observers { observer.willFold(event, book: book) }
        var outcome = posted ?? rules.post(event, reusing: &postingBuffer)
        var applied: [AppliedPosting] = []
        defer {
            if applied.capacity > 0 { appliedBuffer = applied }
            if posted == nil, case .moves(let postings) = outcome { postingBuffer = postings }
        }
        switch outcome {
        case .moves(let postings):
            // Taken out of the buffer: this is then its only reference, unless an observer of
            // the event before kept it (an event that moves nothing takes the empty array, free).
            applied = appliedBuffer
            appliedBuffer = []
            applied.removeAll(keepingCapacity: true)
            if let overflow = book.apply(postings, into: &applied) {
                let finding = Finding.about(event, .badAmount, account: overflow.account,
                    amountMinor: postings.first?.amountMinor, currency: postings.first?.currency,
                    message: "\(event.eventType): applying it would take \(overflow.account) past a signed 64-bit balance (now \(overflow.balanceMinor)); the event is quarantined and moves nothing")
                outcome = .quarantined(finding)
            } else {
                population.moneyEvents += 1
                population.postings += postings.count
                for p in postings {
                    controlTotals.update(p.currency, default: ControlTotal()) { $0.add(p.amountMinor) }
                }
            }
        case .unknownType:
            population.eventsUnknownType += 1
            findings.append(.about(event, .unknownEventType, message: "event type \(String(event.eventType.prefix(64))) is not in the catalog; it moves nothing. Add it to the catalog if it should move money"))
        case .movesNothing:
            break
        case .quarantined:
            break
        }
        if case .quarantined(let finding) = outcome {
            population.eventsQuarantined += 1
            findings.append(finding)
        }
        for observer in observers { observer.observe(event, outcome: outcome, applied: applied, findings: &findings) }
    }
}
