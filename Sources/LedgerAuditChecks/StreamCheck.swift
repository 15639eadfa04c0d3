import LedgerAuditCore
/// `STREAM_GAP` and `STREAM_ORDER`: each aggregate's stream starts at version 1, skips none, and
/// its versions follow HLC order. Memory: one small record per aggregate (~100 bytes), plus the
/// versions seen ahead of a gap until it fills.
public final class StreamCheck: Check {
    public static let name = "stream"
    public static let summary = "streams start at version 1, skip none, and follow HLC order"
    public static let codes: [FindingCode] = [.streamGap, .streamOrder]

    struct StreamState {
        var nextVersion: Int64 = 1
        var maxVersion: Int64 = 0
        var maxPhysicalMs: Int64 = 0
        var maxLogical: Int32 = 0
        var maxEventId = EventID(high: 0, low: 0)
        /// Versions seen beyond a gap, by version: the event that holds it.
        var ahead: [Int64: EventID] = [:]
    }

    /// Every stream's state, in one stored property: an event is then one access to the object
    /// (a run-time exclusivity check, ~90 instructions each), not two or three.
    var known = Streams()

    struct Streams {
        /// Aggregate ids → their states, by the table's dense index: a `[EventID: StreamState]`
        /// hashed every event with SipHash and probed its buckets (~12% of the checks' worker in a
        /// PostgreSQL `verify` at 2M events); the table hashes with one multiply.
        var indexes = EventIdTable(capacity: 1 << 14)
        var states = ChunkedArray<StreamState>()
        /// Streams past what the table indexes (`Limits.eventIdTableMax` aggregates).
        var overflow: [EventID: StreamState] = [:]

        /// The event checked against its aggregate's stream state, changed in place. A method,
        /// not a closure: a closure took a copy of the event (a retain and a release of each of
        /// its boxes, ~14 % of the check's time).
        mutating func observe(_ event: EventRecord, firstVersion: Int64, findings: inout FindingLog) {
            let fresh = StreamState(nextVersion: firstVersion, maxVersion: firstVersion - 1)
            guard let (index, inserted) = indexes.insert(event.aggregateId) else {
                return StreamCheck.observe(event, stream: &overflow[event.aggregateId, default: fresh], firstVersion: firstVersion, findings: &findings)
            }
            if inserted { states.append(fresh) }
            StreamCheck.observe(event, stream: &states[index], firstVersion: firstVersion, findings: &findings)
        }

        // `mutating` only so the check's call reaches the tables in place (see `CausationCheck.Graph`).
        mutating func prefetch(_ events: UnsafeBufferPointer<PrefetchKeys>, stage: PrefetchStage) {
            switch stage {
            case .slots:
                for keys in events { indexes.prefetchSlot(keys.aggregateId) }
            case .entries:
                for keys in events {
                    guard let n = indexes.likelyIndex(keys.aggregateId) else { continue }
                    indexes.prefetchId(at: n)
                    states.prefetch(at: n)
                }
            }
        }
    }
    /// The first version of a stream: 1, or 0 for stores that count from 0 (Message DB).
    let firstVersion: Int64

    public init(context: CheckContext) { firstVersion = context.catalog.store.mapping?.streamVersionBase ?? 1 }

    public static func note(_ context: CheckContext) -> String {
        let base = context.catalog.store.mapping?.streamVersionBase ?? 1
        return base == 1 ? "" : "the store's streams start at version \(base)"
    }

    public static var prefetchesMemory: Bool { true }

    public func prefetch(_ events: UnsafeBufferPointer<PrefetchKeys>, stage: PrefetchStage) { known.prefetch(events, stage: stage) }

    public func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog) {
        if case .quarantined(let f) = outcome, f.code == .duplicateEvent { return }
        // Changed where it sits, in place.
        known.observe(event, firstVersion: firstVersion, findings: &findings)
    }

    /// `firstVersion`: the store's first version.
    fileprivate static func observe(_ event: EventRecord, stream s: inout StreamState, firstVersion: Int64, findings: inout FindingLog) {
        let v = event.streamVersion
        // Global order: the HLC pair for the reference store, the sequence for others.
        let order = event.globalOrderKey
        if v < firstVersion {
            // Not a second use of a version: no stream holds it (it changes no stream's state).
            findings.append(.about(event, .streamOrder, message: "stream version \(v) of aggregate \(event.aggregateId) is below the store's first version, \(firstVersion); versions count from \(firstVersion)",
                                   evidence: [("version", String(v)), ("first version", String(firstVersion))]))
        } else if v < s.nextVersion || s.ahead[v] != nil {
            findings.append(.about(event, .streamOrder, message: "stream version \(v) of aggregate \(event.aggregateId) is used by two events; versions must be unique",
                                   evidence: [("version", String(v)), ("highest version seen", String(s.maxVersion))]))
        } else if v < s.maxVersion && !(order.hlcPhysicalMs == s.maxPhysicalMs && order.hlcLogical == s.maxLogical) {
            // Equal HLC values are not an order violation.
            findings.append(.about(event, .streamOrder, message: "stream version \(v) comes after version \(s.maxVersion) (event \(s.maxEventId)) in HLC order; HLC order and stream_version order disagree",
                                   evidence: [("version", String(v)), ("later version seen first", String(s.maxVersion)),
                                              ("its hlc", "\(s.maxPhysicalMs).\(s.maxLogical)"), ("this hlc", "\(order.hlcPhysicalMs).\(order.hlcLogical)")]))
        }
        if v > s.maxVersion {
            s.maxVersion = v
            s.maxPhysicalMs = order.hlcPhysicalMs
            s.maxLogical = order.hlcLogical
            s.maxEventId = event.eventId
        }
        if v == s.nextVersion, v < Int64.max {
            s.nextVersion += 1
            while s.nextVersion < Int64.max, s.ahead.removeValue(forKey: s.nextVersion) != nil { s.nextVersion += 1 }
        } else if v > s.nextVersion {
            s.ahead[v] = event.eventId
        }
    }

    public func finish(_ end: CheckEnd, findings: inout FindingLog) -> CheckReport {
        var withGaps: [(EventID, StreamState)] = []
        for i in 0..<known.states.count where !known.states[i].ahead.isEmpty { withGaps.append((known.indexes.id(at: i), known.states[i])) }
        for (aggregate, s) in known.overflow where !s.ahead.isEmpty { withGaps.append((aggregate, s)) }
        for (aggregate, s) in withGaps {
            // Each run of missing versions is reported at the event right after it.
            var next = s.nextVersion
            for v in s.ahead.keys.sorted() {
                if v > next {
                    let missing = next == v - 1 ? "version \(next) is missing" : "versions \(next)–\(v - 1) are missing"
                    let start = next == firstVersion ? "the stream does not start at version \(firstVersion): " : ""
                    findings.append(Finding(code: .streamGap, eventId: s.ahead[v], aggregateId: aggregate, streamVersion: v,
                                            message: "\(start)\(missing) before version \(v) of aggregate \(aggregate): an event was deleted or never written",
                                            evidence: [("first missing", String(next)), ("last missing", String(v - 1)), ("next present", String(v))]))
                }
                next = v == Int64.max ? v : v + 1
            }
        }
        return CheckReport()
    }
}
