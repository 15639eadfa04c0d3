import LedgerAuditCore
import LedgerAuditSources

/// What a report learned from the second pass.
struct SecondPassResults {
    var reconciliation: [ReconciliationComparison] = []
    var suspects: SuspectFinder?
    var trace: EventTrace?
    var traceDetails: [EventID: EventDetailCollector.Detail] = [:]
}

/// The only passes after the first, each reading only what the first pass said to look for.
enum SecondPass {
    static func explain(_ work: RunWork, session: AuditSession) throws(AuditFailure) {
        for report in work.reports {
            switch report.watch {
            case .reconcile(let projections):
                try explainMismatches(report, projections, session: session)
            case .traceEvent(let id, let index):
                try refuseFull(index)
                try traceDetails(report, id, index, session: session)
            case .traceAccounts(_, let index, _):
                try refuseFull(index)
            default:
                continue
            }
        }
    }

    /// The event that moved exactly each mismatch's difference: read only the mismatched
    /// accounts' streams when the catalog says their postings come from those streams alone.
    static func explainMismatches(_ report: ReportWork, _ projections: [ProjectionWatch], session: AuditSession) throws(AuditFailure) {
        let catalog = session.catalog.catalog
        var comparisons: [ReconciliationComparison] = []
        for p in projections {
            if p.snapshot.isUnresolved, case .event(let id)? = p.input.checkpoint {
                throw .usage("--checkpoint \(id) is not an event of the source")
            }
            try p.input.read()
            comparisons.append(Reconciliation.compare(projected: p.input.balances, book: p.snapshot.book, mapping: p.input.mapping, projectionName: ProjectionReader.name(p.input.mapping)))
            p.input.releaseBalances()
        }
        let targets = Dictionary(Reconciliation.notMatching(comparisons).filter { $0.differenceMinor != 0 && $0.differenceMinor.magnitude <= UInt128(Int64.max) }
            .map { (AccountCurrency(account: $0.account, currency: $0.currency), Int64($0.differenceMinor.magnitude)) }, uniquingKeysWith: { a, _ in a })
        if !targets.isEmpty {
            let finder = SuspectFinder(targets: targets, limit: projections.compactMap(\.snapshot.position).max())
            var scope = report.request.scope.replayScope
            scope.aggregateIds = StreamSelection.aggregates(for: targets.keys.map(\.account).sorted(), catalog: catalog)
            do {
                _ = try Replay(catalog: catalog, observers: [finder]).run(source: session.source, scope: scope, eventIdsMayRepeat: session.eventIdsMayRepeat)
            } catch {
                throw .source("reading the source failed: \(error)")
            }
            for i in comparisons.indices { comparisons[i].setSuspects(finder.suspects) }
            report.second.suspects = finder
        }
        report.second.reconciliation = comparisons
    }

    /// A causation index that could take no more ids would trace an incomplete graph.
    static func refuseFull(_ index: CausationIndex) throws(AuditFailure) {
        guard index.isFull else { return }
        throw .source("trace indexes at most \(Limits.eventIdTableMax) events, correlations and aggregates; this source has more")
    }

    /// What each event of the trace moved, from the same snapshot.
    static func traceDetails(_ report: ReportWork, _ id: EventID, _ index: CausationIndex, session: AuditSession) throws(AuditFailure) {
        let scope = report.request.scope
        guard let trace = EventTrace.build(id, index: index) else {
            throw .usage("event \(id) is not in the source" + (scope.asOfUs != nil || scope.knownAtUs != nil ? " within the scope (--as-of/--as-known-at)" : ""))
        }
        let details = EventDetailCollector(wanted: trace.eventIds)
        do {
            _ = try Replay(catalog: session.catalog.catalog, observers: [details]).run(source: session.source, scope: scope.replayScope, eventIdsMayRepeat: session.eventIdsMayRepeat)
        } catch {
            throw .source("reading the source failed: \(error)")
        }
        report.second.trace = trace
        report.second.traceDetails = details.details
    }
}
