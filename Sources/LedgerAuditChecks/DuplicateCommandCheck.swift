import LedgerAuditCore
/// `DUPLICATE_COMMAND`: the same money movement (type, aggregate, correlation, amount by value)
/// recorded twice — the idempotency guard failed. Both events are recorded movements and both
/// move money; the finding sits on the later one. Each movement is remembered as a 128-bit
/// fingerprint (two SipHash values, keyed per process) in an `EventIdTable` beside the first
/// event's id: ~40–48 bytes a money event. Two different movements share a fingerprint with a
/// chance near n²/2¹²⁹ (10⁻²¹ at a billion), and input cannot be crafted to collide: the key is
/// not known ahead.
public final class DuplicateCommandCheck: Check {
    public static let name = "duplicate-command"
    public static let summary = "the same money movement (type, aggregate, correlation, amount) recorded twice"
    public static let codes: [FindingCode] = [.duplicateCommand]

    var fingerprints = EventIdTable(capacity: 1 << 16)
    /// Per fingerprint index: the event that first made the movement (without `sharedIds`).
    var firstEvent = ChunkedArray<EventID>()
    /// The causation check's table of every event id, when it watches the same events and
    /// observes each one first (`LaneWatchers` sees to both): the first event is then kept as
    /// its 4-byte index there instead of its 16-byte id (16 MB less at 2M events).
    public var sharedIds: (any EventIdIndex)?
    /// Per fingerprint index with `sharedIds`: the first event's index there, or `unindexed`.
    var firstEventIndex = ChunkedArray<UInt32>()
    var firstEventUnindexed: [Int: EventID] = [:]
    static let unindexed = UInt32.max
    /// Movements past what the table indexes: kept the costly way, never dropped.
    var beyondTable: [EventID: EventID] = [:]

    /// The movement's fingerprint: the same fields hashed under two salts.
    static func fingerprint(_ event: EventRecord, _ postings: [Posting]) -> EventID {
        func hash(salt: UInt8) -> UInt64 {
            var h = Hasher()
            h.combine(salt)
            h.combine(event.eventType)
            h.combine(event.aggregateId)
            h.combine(event.correlationId)
            h.combine(postings.count)
            for p in postings {
                h.combine(p.amountMinor)
                h.combine(p.currency)
            }
            return UInt64(truncatingIfNeeded: h.finalize())
        }
        return EventID(high: hash(salt: 1), low: hash(salt: 2))
    }

    func rememberFirst(_ event: EventRecord, at index: Int) {
        guard let sharedIds else { return firstEvent.append(event.eventId) }
        if let i = sharedIds.eventIndex(of: event), i < Int(Self.unindexed) {
            firstEventIndex.append(UInt32(i))
        } else {
            firstEventIndex.append(Self.unindexed)
            firstEventUnindexed[index] = event.eventId
        }
    }

    func firstEvent(at index: Int) -> EventID {
        guard let sharedIds else { return firstEvent[index] }
        let i = firstEventIndex[index]
        return i == Self.unindexed ? firstEventUnindexed[index]! : sharedIds.eventId(at: Int(i))
    }

    /// Without a correlation id, one command's events cannot be told from another's.
    public static func notApplicable(_ context: CheckContext) -> String? { context.catalog.store.notRecorded([.correlation]) }

    public init(context: CheckContext) {}

    /// A money event whose fingerprint's slot was asked for, waiting its turn.
    struct Pending {
        var fingerprint: EventID
        var event: EventRecord
        var posting: Posting
    }
    /// The last few money events, oldest first: each is looked up in the table
    /// `Limits.duplicateCommandLookAheadEvents` money events after its slot was asked for, so
    /// the table's cache misses (a random slot in tens of MB) overlap instead of stalling the
    /// checks' thread one an event (the table's probe was ~5% of that thread). Still in order:
    /// first events and findings are those of looking each up at once.
    var pending: [Pending] = []
    var pendingHead = 0

    public func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog) {
        guard case .moves(let postings) = outcome, let posting = postings.first else { return }
        let fingerprint = Self.fingerprint(event, postings)
        fingerprints.prefetchSlot(fingerprint)
        pending.append(Pending(fingerprint: fingerprint, event: event, posting: posting))
        if pending.count - pendingHead > Limits.duplicateCommandLookAheadEvents { lookUpOldest(&findings) }
    }

    public func finish(_ end: CheckEnd, findings: inout FindingLog) -> CheckReport {
        while pendingHead < pending.count { lookUpOldest(&findings) }
        pending = []
        pendingHead = 0
        return CheckReport()
    }

    private func lookUpOldest(_ findings: inout FindingLog) {
        let next = pending[pendingHead]
        pendingHead += 1
        // The spent front is dropped now and then, not moved down one at a time.
        if pendingHead >= 64 {
            pending.removeFirst(pendingHead)
            pendingHead = 0
        }
        lookUp(next.fingerprint, next.event, next.posting, &findings)
    }

    private func lookUp(_ fingerprint: EventID, _ event: EventRecord, _ posting: Posting, _ findings: inout FindingLog) {
        let first: EventID
        if let (index, inserted) = fingerprints.insert(fingerprint) {
            guard !inserted else { rememberFirst(event, at: index); return }
            first = firstEvent(at: index)
        } else if let known = beyondTable[fingerprint] {
            first = known
        } else {
            beyondTable[fingerprint] = event.eventId
            return
        }
        findings.append(.about(event, .duplicateCommand, account: posting.toAccount, amountMinor: posting.amountMinor, currency: posting.currency,
                               message: "\(event.eventType) of \(posting.amountMinor) minor units for aggregate \(event.aggregateId) in correlation \(event.correlationId) was already recorded by event \(first); the idempotency guard failed and both moved money",
                               evidence: [("first event", first.description), ("correlation", event.correlationId.description)]))
    }
}
