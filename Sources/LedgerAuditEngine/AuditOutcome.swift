import LedgerAuditCore

/// One report of a run, as written.
public struct ProducedReport: Sendable {
    public var kind: String
    /// The report's header (population, digests, snapshot). The report's rows are not kept:
    /// once written they would only hold memory while the next report is built.
    public var header: ReportHeader
    /// The report's lane: population, balances, conservation, the replay's own findings.
    public var result: ReplayResult
    /// Every finding the report lists (the replay's, its checks', its reconciliation's).
    public var findings: FindingLog
    /// The files written, in the order written.
    public var files: [String]
    /// What the command prints on stdout (the summary), before the "report:" line.
    public var summaryLines: [String]
    /// Findings at or above `--fail-on`, broken conservation, or (reconcile) a mismatch.
    public var failed: Bool
}

public struct AuditOutcome: Sendable {
    public var reports: [ProducedReport]
    public var extractPath: String?
    /// With `AuditPlan.digestsStreamedFiles`: the streamed files' SHA-512, being computed.
    public var streamedFileDigests: StreamedFileDigests?

    public var failed: Bool { reports.contains { $0.failed } }
}
