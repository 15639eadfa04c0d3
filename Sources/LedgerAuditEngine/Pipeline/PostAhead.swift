import LedgerAuditCore

/// The post stage a batch ahead of the fold, for a source that lends its batches (a read-ahead
/// extract or a PostgreSQL source, `BatchLendingEventSource`), whatever the run's lanes. Posted just
/// before its fold, an event's lookups missed the cache one after another (the book and the
/// ids table were 26% of the fold's thread on a 2M `.pgcopy`). Here every event of a batch is
/// posted first; the batch is then folded in runs of 4 events, and while run r is folded the
/// fold is asked for the table lines run r + 2 will find its ids and accounts by, and for the
/// account records of run r + 1 (the checks' worker does the same for its tables in runs of 16,
/// `LaneWatchers`). Runs of 16 asked for ~110 lines at once, more than a core fetches together;
/// runs of 4 ask for ~30 and are still ~6 µs of fold, far longer than a miss (`.pgcopy` at 2M,
/// eight interleaved pairs: 7 faster, the pairs' median difference -0.25 s of ~5.5 s user CPU).
/// The verdicts are the catalog's, as the fold would have made them; hints change only timing.
/// With several lanes (an evidence pack: its instant's lane, and reconcile's over the whole
/// snapshot riding on it) each event is posted once and its verdict handed to every lane, as
/// a row at a time; each lane's own fold gets the hints (a lane riding on another has none).
struct PostAhead {
    let rules: PostingRules
    let lanes: [Lane]
    /// The first lane, and whether there are others: a run of one lane (most runs) reaches it
    /// directly (an optional lane unwrapped an event cost a retain and a release each time).
    let first: Lane
    let several: Bool
    /// The verdict on each row of the batch being folded; nil for a row no lane folds
    /// (unreadable, or outside every lane's scope). Each money event's postings array is handed to the
    /// same row's next verdict (no allocation a money event, as in the fold).
    private var outcomes: [PostingOutcome?] = []
    /// Each row's event id (for the ids table's hint); unused where the verdict is nil.
    private var eventIds: [EventID] = []
    /// Each row's cause (zero when none), where some lane's fold indexes causes (`DuplicateEventGuard`).
    private var causeIds: [EventID] = []
    /// Whether some lane's fold indexes causes (the lanes are started before the pass).
    let wantsCauses: Bool
    static let runEvents = 4

    init(rules: PostingRules, lanes: [Lane]) {
        self.rules = rules
        self.lanes = lanes
        first = lanes[0]
        several = lanes.count > 1
        wantsCauses = lanes.contains { $0.indexesCauses }
    }

    mutating func fold(_ rows: UnsafeMutableBufferPointer<SourceRow>) {
        if outcomes.count < rows.count {
            outcomes += Array(repeating: nil, count: rows.count - outcomes.count)
            eventIds += Array(repeating: EventID(high: 0, low: 0), count: rows.count - eventIds.count)
        }
        if wantsCauses && causeIds.count < rows.count {
            causeIds += Array(repeating: EventID(high: 0, low: 0), count: rows.count - causeIds.count)
        }
        let lanes = lanes, first = first, several = several, rules = rules, wantsCauses = wantsCauses
        /// Whether some lane's scope includes the event (a lane riding on another folds it when
        /// its host's scope ends).
        func wanted(_ e: EventRecord) -> Bool {
            guard several else { return first.includes(e) }
            for lane in lanes where lane.includes(e) { return true }
            return false
        }
        outcomes.withUnsafeMutableBufferPointer { outcomes in
            eventIds.withUnsafeMutableBufferPointer { eventIds in
            causeIds.withUnsafeMutableBufferPointer { causeIds in
                rows.forEachInPlace { i, row in
                    var buffer = Self.postings(taking: &outcomes[i])
                    // A switch, not `guard case`: that copied the event (retaining its boxes,
                    // made on the reader's core) where a switch reads it in place.
                    switch row {
                    case .event(let e):
                        guard wanted(e) else { return }
                        outcomes[i] = rules.post(e, reusing: &buffer)
                        eventIds[i] = e.eventId
                        if wantsCauses { causeIds[i] = e.causationId ?? EventID(high: 0, low: 0) }
                    case .malformed:
                        return
                    }
                }
                let run = Self.runEvents
                func hint(_ r: Int, _ stage: FoldPrefetchStage) {
                    let start = r * run
                    guard start < rows.count else { return }
                    let end = min(start + run, rows.count)
                    let ids = UnsafeBufferPointer(rebasing: eventIds[start..<end]), verdicts = UnsafeBufferPointer(rebasing: outcomes[start..<end])
                    let causes = wantsCauses ? UnsafeBufferPointer(rebasing: causeIds[start..<end]) : UnsafeBufferPointer(start: nil, count: 0)
                    guard several else { return first.prefetch(eventIds: ids, causeIds: causes, outcomes: verdicts, stage: stage) }
                    for lane in lanes { lane.prefetch(eventIds: ids, causeIds: causes, outcomes: verdicts, stage: stage) }
                }
                hint(0, .slots)
                hint(1, .slots)
                hint(0, .records)
                rows.forEachInPlace { i, row in
                    if i % run == 0 {
                        hint(i / run + 2, .slots)
                        hint(i / run + 1, .records)
                    }
                    if several {
                        for lane in lanes { lane.accept(row, posted: outcomes[i]) }
                    } else {
                        first.accept(row, posted: outcomes[i])
                    }
                }
            }
            }
        }
    }

    /// The postings array of a row's verdict from the batch before, the verdict let go (so the
    /// array is uniquely held unless an observer kept it); empty when there is none.
    private static func postings(taking outcome: inout PostingOutcome?) -> [Posting] {
        guard case .moves(let postings)? = outcome else {
            outcome = nil
            return []
        }
        outcome = nil
        return postings
    }
}
