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
    /// With `AuditPlan.digestsStreamedFiles`: the SHA-512 (lower-case hex) of each file
    /// streamed during the pass, by the path it was committed to.
    public var streamedFileDigests: [String: String] = [:]
    /// The run's books and tables and the last report's rows, still held: a process about to
    /// exit leaves them to the kernel instead of freeing them object by object (see
    /// `RunMemory`). Nothing reads it.
    public var memory: RunMemory?

    public var failed: Bool { reports.contains { $0.failed } }
}

/// What a run built, held past the run. Freeing it is the last work of a run: at 2M events and
/// 237k accounts, letting go of the books, the tables and the report's rows took ~70 ms after
/// the last report was written (every name and record a cache miss, on one core). The command
/// line keeps the outcome until the process exits, which returns the pages whole; a caller
/// that lives on drops the outcome and the memory goes then.
public final class RunMemory: @unchecked Sendable {
    // Only held, never read or changed: sharing it between threads is safe.
    private let held: [Any]
    init(_ held: [Any]) { self.held = held }
}
