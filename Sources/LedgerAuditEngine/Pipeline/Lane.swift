import LedgerAuditChecks
import LedgerAuditCore
import LedgerAuditReports

/// One scope of a run and everything that watches it: its own fold (balances, counts, control
/// totals, the replay's findings), the report observers that need its events, and its watchers
/// (events digest, event checks). Lanes of different scopes share one pass over the source.
final class Lane {
    let scope: ReplayScope
    var observers: [any ReplayObserver] = []
    /// Observers that only write their own file (no findings, no book): on a `WriterWorker`.
    var writers: [any ReplayObserver] = []
    var checkNames: Set<String> = []
    var checkContext: CheckContext?
    var wantsDigest = false
    /// Main-thread readers of the canonical encoding (a seal being appended).
    var canonicalSinks: [any CanonicalEventSink] = []

    private(set) var fold: Fold?
    private var watch: (any LaneWatch)?
    private(set) var result: ReplayResult?
    private(set) var watchResults = WatchResults(digestHex: nil, checks: [])

    init(scope: ReplayScope) { self.scope = scope }

    /// Another lane whose events this one folds too, for as long as it rides on it (`start`).
    private(set) var host: Lane?
    /// This lane's observers, watching on the host's fold while it rides.
    private var riders: [any ReplayObserver] = []
    /// Folds for itself (another lane may ride on it).
    var canHost: Bool { host == nil && fold != nil }
    /// Its fold indexes every event's cause too, for its causation check (`DuplicateEventGuard`).
    private(set) var indexesCauses = false

    /// Made once every report has added what it needs. A lane whose scope holds `host`'s folds
    /// the same rows into the same book as that lane until the first event only it includes, so
    /// until then it rides on the host's fold: no book, fold or digest of its own (an evidence
    /// pack's reconcile, over the whole snapshot, rides on its as-of lane). At that event it parts
    /// with a copy of the host's state and digest. Only a lane whose watchers are the digest
    /// alone rides, on a host whose digest runs on the fold's thread (to be copied there).
    /// `writersInRun`: some lane of the run has writers, on a thread of their own (`WriterWorker`).
    func start(catalog: Catalog, eventIdsMayRepeat: Bool, defaultContext: CheckContext, sourceNames: [String] = [], host: Lane? = nil, writersInRun: Bool) {
        let context = checkContext ?? defaultContext
        let names = Checks.all.filter { $0.input == .events && checkNames.contains($0.name) }.map { $0.name }
        var spec = WatchSpec(digest: wantsDigest || !canonicalSinks.isEmpty, checkNames: names, context: context, sourceCount: max(1, sourceNames.count))
        // A fold that remembers every id anyway indexes the causes too, for the causation check:
        // one table of every id instead of two (`DuplicateEventGuard`).
        if names.contains(CausationCheck.name), Fold.remembersEveryId(eventIdsMayRepeat: eventIdsMayRepeat, sourceCount: sourceNames.count) {
            spec.causeIds = EventIdLog()
            indexesCauses = true
        }
        let watch: any LaneWatch
        if names.isEmpty {
            watch = InlineWatch(spec, extraSinks: canonicalSinks)
        } else if !spec.checksReadEncoding && (writersInRun || !canonicalSinks.isEmpty) {
            // The checks on the worker, the digest on the fold's thread, when writers take a
            // core's share too (an evidence pack at 2M events from PostgreSQL: 23.8 and 24.5 s
            // against 27.6 and 26.4 s with the digest on the worker, whose queue then carries
            // each encoding: 70 MB more), or a seal reads the encoding here. Without writers
            // the digest goes with the checks (below): the fold's thread, which also decodes
            // the server's rows, was the slower side (PostgreSQL verify, six pairs: median 11.8
            // against 10.9 s; reconcile 12.1 against 11.5 s; from an extract, even).
            var digestOnly = spec
            digestOnly.checkNames = []
            var checksOnly = spec
            checksOnly.digest = false
            watch = SplitWatch(inline: InlineWatch(digestOnly, extraSinks: canonicalSinks), worker: WorkerWatch(checksOnly))
        } else {
            watch = WorkerWatch(spec)
            // The digest is on the worker: a main-thread sink encodes for itself.
            observers += canonicalSinks.map(SelfEncodingSink.init)
        }
        self.watch = watch
        let writing: [any ReplayObserver] = writers.isEmpty ? [] : [WriterWorker(writers)]
        if let host, host.canHost, scope.holds(host.scope), names.isEmpty, canonicalSinks.isEmpty,
           !spec.digest || host.watch?.inlineDigest != nil {
            self.host = host
            riders = observers + writing
            host.fold!.attach(riders)
            return
        }
        fold = Fold(catalog: catalog, observers: observers + writing + [watch], eventIdsMayRepeat: eventIdsMayRepeat, sourceNames: sourceNames, causeIds: spec.causeIds)
    }

    func accept(_ row: SourceRow, posted: PostingOutcome?) {
        if case .event(let e) = row, !scope.includes(e) { return }
        if let host {
            // Rows the host folds are folded there for both.
            guard case .event(let e) = row, !host.scope.includes(e) else { return }
            part(from: host)
        }
        fold!.accept(row, posted: posted)
    }

    /// Whether `event` is in this lane's scope (read in place: a copy of the scope retained its arrays).
    func includes(_ event: EventRecord) -> Bool { scope.includes(event) }

    /// Hints for a run of events about to be folded here (`Fold.prefetch`).
    func prefetch(eventIds: UnsafeBufferPointer<EventID>, causeIds: UnsafeBufferPointer<EventID>, outcomes: UnsafeBufferPointer<PostingOutcome?>, stage: FoldPrefetchStage) {
        fold?.prefetch(eventIds: eventIds, causeIds: causeIds, outcomes: outcomes, stage: stage)
    }

    /// The first event this lane includes and its host does not: from here each folds its own.
    private func part(from host: Lane) {
        self.host = nil
        if let digest = watch?.inlineDigest, let hostDigest = host.watch?.inlineDigest { digest.resume(from: hostDigest) }
        fold = host.fold!.part(riders, observers: riders + [watch!])
        riders = []
    }

    /// The fold whose state is this lane's: its own, or its host's while it never parted.
    var folding: Fold? { host?.fold ?? fold }

    /// After the host's `finish` when this lane rides on it.
    func finish(source: SourceReport) throws(AuditFailure) {
        if let host {
            // It never parted: the host's fold was this lane's too (its observers finished there).
            result = host.result
            let digests = watch?.inlineDigest != nil
            watchResults = WatchResults(digestHex: digests ? host.watchResults.digestHex : nil, checks: [],
                                        sourceDigestsHex: digests ? host.watchResults.sourceDigestsHex : [])
            return
        }
        result = fold!.finish(source: source)
        do { watchResults = try watch!.results() } catch { throw .source("a check failed: \(error)") }
    }

    /// After the pass, when no report of this lane reads a balance any more (`RunWork`): the
    /// book (~110 MB at 237k accounts) goes before a second pass builds one of its own.
    func releaseBook() {
        result?.releaseBook()
        fold?.releaseBook()
    }

    func checkResult(_ name: String) -> CheckResult? { watchResults.checks.first { $0.name == name } }
}

/// A canonical-encoding reader on a lane whose digest runs elsewhere: it encodes each event itself.
final class SelfEncodingSink: ReplayObserver {
    let sink: any CanonicalEventSink
    var line: [UInt8] = []
    init(_ sink: any CanonicalEventSink) { self.sink = sink }
    func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog) {
        line.removeAll(keepingCapacity: true)
        CanonicalEvent.encode(event, into: &line)
        line.withUnsafeBytes { sink.canonical($0, event: event) }
    }
}

extension ReplayScope {
    /// The narrowest scope that holds both (what one pass must read for several lanes).
    func union(_ other: ReplayScope) -> ReplayScope {
        func loosest<T: Comparable>(_ a: T?, _ b: T?) -> T? {
            guard let a, let b else { return nil }
            return max(a, b)
        }
        var ids: [EventID]?
        if let a = aggregateIds, let b = other.aggregateIds { ids = a + b.filter { !a.contains($0) } }
        return ReplayScope(hlcPhysicalMaxMs: loosest(hlcPhysicalMaxMs, other.hlcPhysicalMaxMs),
                           recordedAtMaxUs: loosest(recordedAtMaxUs, other.recordedAtMaxUs),
                           globalOrderMax: loosest(globalOrderMax, other.globalOrderMax),
                           aggregateIds: ids)
    }
}
