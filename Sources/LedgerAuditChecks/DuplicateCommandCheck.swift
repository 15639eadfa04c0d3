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

    /// Every movement seen, in one stored property: an event is then one access to the object
    /// (a run-time exclusivity check, ~90 instructions each), not three or four.
    var movements = Movements()

    struct Movements {
        var fingerprints = EventIdTable(capacity: 1 << 16)
        /// Per fingerprint index: the event that first made the movement (without `sharedIds`).
        var firstEvent = ChunkedArray<EventID>()
        var sharedIds: (any EventIdIndex)?
        /// Per fingerprint index with `sharedIds`: the first event's index there, or `unindexed`.
        var firstEventIndex = ChunkedArray<UInt32>()
        var firstEventUnindexed: [Int: EventID] = [:]
        static let unindexed = UInt32.max
        /// Movements past what the table indexes: kept the costly way, never dropped.
        var beyondTable: [EventID: EventID] = [:]

        /// The first event of the same movement, or nil when this event is the first.
        mutating func firstOfSame(_ fingerprint: EventID, _ event: EventRecord) -> EventID? {
            if let (index, inserted) = fingerprints.insert(fingerprint) {
                guard !inserted else { rememberFirst(event, at: index); return nil }
                return firstEvent(at: index)
            }
            if let known = beyondTable[fingerprint] { return known }
            beyondTable[fingerprint] = event.eventId
            return nil
        }

        mutating func rememberFirst(_ event: EventRecord, at index: Int) {
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
    }

    /// The causation check's table of every event id, when it watches the same events and
    /// observes each one first (`LaneWatchers` sees to both): the first event is then kept as
    /// its 4-byte index there instead of its 16-byte id (16 MB less at 2M events).
    public var sharedIds: (any EventIdIndex)? {
        get { movements.sharedIds }
        set { movements.sharedIds = newValue }
    }

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

    /// Without a correlation id, one command's events cannot be told from another's.
    public static func notApplicable(_ context: CheckContext) -> String? { context.catalog.store.notRecorded([.correlation]) }

    public init(context: CheckContext) {}

    public func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog) {
        guard case .moves(let postings) = outcome, let posting = postings.first else { return }
        guard let first = movements.firstOfSame(Self.fingerprint(event, postings), event) else { return }
        findings.append(.about(event, .duplicateCommand, account: posting.toAccount, amountMinor: posting.amountMinor, currency: posting.currency,
                               message: "\(event.eventType) of \(posting.amountMinor) minor units for aggregate \(event.aggregateId) in correlation \(event.correlationId) was already recorded by event \(first); the idempotency guard failed and both moved money",
                               evidence: [("first event", first.description), ("correlation", event.correlationId.description)]))
    }
}
