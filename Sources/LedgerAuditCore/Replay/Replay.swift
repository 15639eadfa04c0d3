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

    public func run(source: any EventSource, scope: ReplayScope, eventIdsMayRepeat: Bool) throws -> ReplayResult {
        var state = FoldState(rules: PostingRules(catalog: catalog), observers: observers, duplicateGuard: DuplicateEventGuard(remembersAll: eventIdsMayRepeat))
        let sourceReport = try source.stream(scope: scope) { row in
            state.accept(row)
            if let progress, state.population.eventsRead % progressEvery == 0 { progress(state.population.eventsRead) }
        }
        for observer in observers { observer.finish(book: state.book, findings: &state.findings) }
        state.population.eventsRead = max(sourceReport.rowsRead, state.population.eventsRead)
        return ReplayResult(
            book: state.book, population: state.population, findings: state.findings,
            controlTotals: state.controlTotals,
            conservation: Conservation(book: state.book, controlTotals: state.controlTotals),
            source: sourceReport, lastEvent: state.lastEvent
        )
    }
}

/// Detects an event_id seen before. Remembering all ids costs ~40 bytes an event, so it is used
/// only where ids may repeat (extracts); a database's primary key rules out all but adjacent copies.
struct DuplicateEventGuard {
    let remembersAll: Bool
    var seen = Set<EventID>()
    var previous: EventID?

    init(remembersAll: Bool) { self.remembersAll = remembersAll }

    mutating func isRepeat(_ id: EventID) -> Bool {
        defer { previous = id }
        if remembersAll { return !seen.insert(id).inserted }
        return previous == id
    }
}

/// The fold: running balances, counts and control totals, one event at a time.
struct FoldState {
    let rules: PostingRules
    let observers: [any ReplayObserver]
    var duplicateGuard: DuplicateEventGuard
    var book = BalanceBook()
    var population = Population()
    var findings = FindingLog()
    var controlTotals: [String: ControlTotal] = [:]
    var lastEvent: GlobalOrderKey?

    init(rules: PostingRules, observers: [any ReplayObserver], duplicateGuard: DuplicateEventGuard) {
        self.rules = rules
        self.observers = observers
        self.duplicateGuard = duplicateGuard
    }

    mutating func accept(_ row: SourceRow) {
        population.eventsRead += 1
        switch row {
        case .malformed(let m):
            population.rowsMalformed += 1
            findings.append(Finding(code: .malformedEvent, eventId: m.eventId, aggregateId: m.aggregateId,
                                    message: "\(m.location): \(m.reason); the row is quarantined and moves nothing", location: m.location))
        case .event(let event):
            population.eventsInScope += 1
            lastEvent = event.globalOrderKey
            if duplicateGuard.isRepeat(event.eventId) {
                population.eventsQuarantined += 1
                let finding = Finding.about(event, .duplicateEvent, message: "event_id \(event.eventId) appears again (\(event.eventType), stream version \(event.streamVersion)); only its first occurrence in global order is replayed")
                findings.append(finding)
                for observer in observers { observer.observe(event, outcome: .quarantined(finding), applied: [], findings: &findings) }
                return
            }
            fold(event)
        }
    }

    mutating func fold(_ event: EventRecord) {
        for observer in observers { observer.willFold(event, book: book) }
        var outcome = rules.post(event)
        var applied: [AppliedPosting] = []
        switch outcome {
        case .moves(let postings):
            switch book.apply(postings) {
            case .success(let a):
                applied = a
                population.moneyEvents += 1
                population.postings += postings.count
                for p in postings {
                    var total = controlTotals[p.currency] ?? ControlTotal()
                    total.postingCount += 1
                    total.totalDebitMinor += Int128(p.amountMinor)
                    total.totalCreditMinor += Int128(p.amountMinor)
                    controlTotals[p.currency] = total
                }
            case .failure(let overflow):
                let finding = Finding.about(event, .badAmount, account: overflow.account,
                    amountMinor: postings.first?.amountMinor, currency: postings.first?.currency,
                    message: "\(event.eventType): applying it would take \(overflow.account) past a signed 64-bit balance (now \(overflow.balanceMinor)); the event is quarantined and moves nothing")
                outcome = .quarantined(finding)
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
