import LedgerAuditCore
/// `CLOCK_SKEW`: `hlc_physical` and `recorded_at` further apart than the catalog's bound.
public final class ClockSkewCheck: Check {
    public static let name = "clock-skew"
    public static let summary = "hlc_physical and recorded_at differ by more than clock_skew_max_ms"
    public static let codes: [FindingCode] = [.clockSkew]

    let boundUs: Int64

    public init(context: CheckContext) { boundUs = context.catalog.clockSkewMaxMs * 1000 }

    public func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog) {
        let (skew, overflow) = event.recordedAtUs.subtractingReportingOverflow(event.hlcPhysicalMs &* 1000)
        guard overflow || skew.magnitude > UInt64(boundUs) else { return }
        let skewMs = overflow ? "beyond range" : String(skew / 1000)
        findings.append(.about(event, .clockSkew, message: "recorded_at is \(skewMs) ms from hlc_physical (bound \(boundUs / 1000) ms): a clock is off, or the event was back- or forward-dated",
                               evidence: [("hlc_physical", Instant.iso8601(ms: event.hlcPhysicalMs)), ("recorded_at", Instant.iso8601(us: event.recordedAtUs)), ("skew_ms", skewMs)]))
    }
}
