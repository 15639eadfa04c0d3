import LedgerAuditCore
/// `CLOCK_SKEW`: `hlc_physical` and `recorded_at` further apart than the catalog's bound.
public final class ClockSkewCheck: Check {
    public static let name = "clock-skew"
    public static let summary = "hlc_physical and recorded_at differ by more than clock_skew_max_ms"
    public static let codes: [FindingCode] = [.clockSkew]

    let boundUs: Int64
    /// A store without HLC: one time column, and a sequence for the order. Then the check is
    /// that time never runs backwards against the sequence by more than the bound (a back-dated
    /// insert, or `now()` taken long before the commit).
    let timeAgainstOrder: Bool
    var latestTimeUs: Int64?
    var latestEventId: EventID?

    public init(context: CheckContext) {
        boundUs = context.catalog.clockSkewMaxMs * 1000
        timeAgainstOrder = context.catalog.store.mapping != nil
    }

    public static func note(_ context: CheckContext) -> String {
        context.catalog.store.mapping == nil ? "" : "the store records no HLC: the check is that time (\(context.catalog.store.mapping!.source(.time))) never runs backwards against the store's order by more than clock_skew_max_ms"
    }

    public func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog) {
        if timeAgainstOrder {
            defer {
                if event.recordedAtUs > (latestTimeUs ?? Int64.min) { latestTimeUs = event.recordedAtUs; latestEventId = event.eventId }
            }
            // Times are within the years 1–9999 (checked at decode): no overflow.
            guard let latest = latestTimeUs, let latestId = latestEventId, latest - event.recordedAtUs > boundUs else { return }
            let backMs = String((latest - event.recordedAtUs) / 1000)
            findings.append(.about(event, .clockSkew, message: "time runs backwards: this event is \(backMs) ms before event \(latestId), which comes earlier in the store's order (bound \(boundUs / 1000) ms): back-dated, or its transaction committed long after it began",
                                   evidence: [("time", Instant.iso8601(us: event.recordedAtUs)), ("latest earlier time", Instant.iso8601(us: latest)), ("skew_ms", backMs)]))
            return
        }
        let (skew, overflow) = event.recordedAtUs.subtractingReportingOverflow(event.hlcPhysicalMs &* 1000)
        guard overflow || skew.magnitude > UInt64(boundUs) else { return }
        let skewMs = overflow ? "beyond range" : String(skew / 1000)
        findings.append(.about(event, .clockSkew, message: "recorded_at is \(skewMs) ms from hlc_physical (bound \(boundUs / 1000) ms): a clock is off, or the event was back- or forward-dated",
                               evidence: [("hlc_physical", Instant.iso8601(ms: event.hlcPhysicalMs)), ("recorded_at", Instant.iso8601(us: event.recordedAtUs)), ("skew_ms", skewMs)]))
    }
}
