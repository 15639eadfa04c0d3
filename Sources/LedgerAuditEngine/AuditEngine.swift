import LedgerAuditChecks
import LedgerAuditCore
import LedgerAuditReports

/// The engine: one function that reads as the pipeline, for any plan.
public enum AuditEngine {
    /// The tool's version, in every report header.
    public static let toolVersion = "0.1.0"

    /// read → decode → order → post → fold → check → render.
    ///
    /// - read, decode, order: the session's source adapter (`LedgerAuditSources`) streams rows in
    ///   global order, decoded to `EventRecord`s or quarantined as malformed;
    /// - post: the catalog's rules (`PostingRules`), once an event however many reports read it;
    /// - fold: each lane (a distinct scope) folds the events it includes into its balances
    ///   (`Fold`), with the report observers that need them (journal, statements, lots…);
    /// - check: the event checks watch each lane's fold (`LaneWatchers`, on a worker thread when
    ///   CPU-bound), then every check returns its findings and sections; store checks read the
    ///   database catalogs;
    /// - render: each report is assembled from its lane (`Assembly/`) and written in its formats.
    ///
    /// The events are read once; a second, narrow pass runs only where the first decides what it
    /// looks for (the event that explains a mismatch, what traced events moved).
    public static func run(_ plan: AuditPlan, in session: AuditSession, progress: ((Int) -> Void)? = nil) throws(AuditFailure) -> AuditOutcome {
        let inputs = try RunInputs.read(for: plan, in: session)
        let work = try RunWork(plan: plan, inputs: inputs, session: session)
        let sourceReport = try readOnce(session, into: work, progress: progress)
        // An empty export is never filed as a clean night.
        if sourceReport.holdsNoRecords && !plan.allowEmpty {
            throw .source("no events: \(session.source.redactedDescription) holds no record (an empty or header-only extract); give --allow-empty to report it as an EMPTY_SOURCE finding instead")
        }
        try work.finish(source: sourceReport, stores: session.storeCatalogs)
        // Books no report reads any more go, and with the checks' tables (which died with their
        // worker) their pages go back before the second pass reads projections or folds a book.
        work.releaseBooksNoReportReads()
        Render.returnFreedMemory()
        // The ADS files (from the balances' book) and the second pass (projections and the
        // source read again) share nothing, and after the pass the cores are free: both at
        // once (~0.5 s each in an evidence pack at 2M events). The second pass on this thread:
        // what it allocates reuses the memory the pass gave back to this thread's heap (on a
        // new thread, `trace --event` peaked 30 MB higher at 2M events).
        let (second, ads) = Concurrently.both({ () -> Result<Void, AuditFailure> in
            do throws(AuditFailure) { try SecondPass.explain(work, session: session) } catch { return .failure(error) }
            return .success(())
        }, { () -> Result<Void, AuditFailure> in
            do throws(AuditFailure) { try work.finishADS() } catch { return .failure(error) }
            return .success(())
        })
        try ads.get()
        try second.get()
        var outcome = try Render.reports(work, session: session, failOn: plan.failOn)
        outcome.streamedFileDigests = work.streamedFileDigests()
        return outcome
    }

    /// The one pass: every row once, its posting verdict once, to every lane that includes it.
    static func readOnce(_ session: AuditSession, into work: RunWork, progress: ((Int) -> Void)?) throws(AuditFailure) -> SourceReport {
        let rules = PostingRules(catalog: session.catalog.catalog)
        let lanes = work.lanes
        var rows = 0
        do {
            if !lanes.isEmpty, let batched = session.source as? any BatchLendingEventSource {
                // A batch posted ahead of its fold (`PostAhead`).
                var ahead = PostAhead(rules: rules, lanes: lanes)
                return try batched.streamBatches(scope: work.readScope) { batch in
                    ahead.fold(batch)
                    let before = rows
                    rows += batch.count
                    if let progress, rows / 65_536 > before / 65_536 { progress(rows) }
                }
            }
            return try session.source.stream(scope: work.readScope) { row in
                rows += 1
                var posted: PostingOutcome?
                if case .event(let e) = row, lanes.count > 1 { posted = rules.post(e) }
                for lane in lanes { lane.accept(row, posted: posted) }
                if let progress, rows % 65_536 == 0 { progress(rows) }
            }
        } catch let failure as AuditFailure {
            throw failure
        } catch {
            throw .source("reading the source failed: \(error)")
        }
    }
}
