import LedgerAuditChecks
import LedgerAuditCore
import LedgerAuditEvidence
import LedgerAuditReports

/// What one report watches during the pass, held typed so its assembly reads it afterwards.
enum ReportWatch {
    case balances(PeriodStart, JournalWriter?, ADSWriter?)
    case verify
    case reconcile([ProjectionWatch])
    case statement(StatementCollector, streams: [EventID]?)
    case traceAccounts(StatementCollector, CausationIndex, LotBook)
    case traceEvent(EventID, CausationIndex)
    case seal(SealLeafCollector)
}

/// A projection and the book at its checkpoint.
struct ProjectionWatch {
    var input: ProjectedInput
    var snapshot: CheckpointSnapshot
}

/// One report's part of the run.
final class ReportWork {
    let request: ReportRequest
    let lane: Lane
    let watch: ReportWatch
    /// Checks this report shows, and the lane that runs each (seals run over the whole snapshot).
    let checks: CheckSelection?
    let checkContext: CheckContext
    var checkLanes: [String: Lane] = [:]
    /// Filled after the pass.
    var storeCheckResults: [CheckResult] = []
    /// `seal --sign-key`.
    var signingKey: SigningKey?
    var second = SecondPassResults()
    /// The ADS files written at the end of the pass (`balances --ads`, evidence packs).
    var adsFiles: [String] = []
    /// The lane's accounts in order, made for the ADS files and taken by the report's
    /// assembly, so the book is sorted once.
    var sortedAccounts: SortedAccounts?

    init(request: ReportRequest, lane: Lane, watch: ReportWatch, checks: CheckSelection?, checkContext: CheckContext) {
        self.request = request
        self.lane = lane
        self.watch = watch
        self.checks = checks
        self.checkContext = checkContext
    }
}

/// The run laid out: lanes by scope, and each report's work.
final class RunWork {
    var lanes: [Lane] = []
    var reports: [ReportWork] = []
    var extract: PopulationExtractWriter?
    /// With `AuditPlan.digestsStreamedFiles`: the SHA-512 of each file streamed during the
    /// pass, fed as it is written (in the 64 KiB the file hands the kernel, still in cache).
    private var fileDigests: [(file: AtomicFile, digest: SHA512Stream)] = []
    private(set) var readScope = ReplayScope()

    init(plan: AuditPlan, inputs: RunInputs, session: AuditSession) throws(AuditFailure) {
        let catalog = session.catalog.catalog
        let nowUs = session.facts.clockUs()
        func lane(_ scope: ReplayScope) -> Lane {
            if let l = lanes.first(where: { $0.scope == scope }) { return l }
            let l = Lane(scope: scope)
            lanes.append(l)
            return l
        }
        for (i, request) in plan.reports.enumerated() {
            let reportLane = lane(request.scope.replayScope)
            reportLane.wantsDigest = true
            var selection: CheckSelection?
            let watch: ReportWatch
            switch request.kind {
            case .balances(_, let fromUs, let journal, let adsFolder):
                let start = PeriodStart(fromUs: fromUs, basis: request.scope.basis)
                var writer: JournalWriter?
                var ads: ADSWriter?
                do {
                    if journal {
                        try AtomicFile.makeDirectory(request.output.folder)
                        writer = try JournalWriter(path: request.output.folder + "/journal.csv", catalog: catalog, fromUs: fromUs, basis: request.scope.basis, sourceNames: session.sourceNames)
                    }
                    if let adsFolder {
                        ads = try ADSWriter(folder: adsFolder, catalog: catalog, fromUs: fromUs, asOfUs: request.scope.asOfUs, basis: request.scope.basis, sourceNames: session.sourceNames)
                    }
                } catch { throw .output(error.description) }
                reportLane.observers.append(start)
                reportLane.writers += (writer.map { [$0] } ?? []) + (ads.map { [$0] } ?? [])
                if plan.digestsStreamedFiles {
                    try digest(writer?.file)
                    try digest(ads?.glDetail)
                }
                watch = .balances(start, writer, ads)
            case .verify(let checks):
                selection = checks
                watch = .verify
            case .reconcile(let options):
                selection = options.checks
                let projections = (inputs.projections[i] ?? []).map { ProjectionWatch(input: $0, snapshot: CheckpointSnapshot(checkpoint: $0.checkpoint)) }
                reportLane.observers += projections.map(\.snapshot)
                watch = .reconcile(projections)
            case .statement(let accounts, let fromUs, let readOnlyStreams):
                let collector = StatementCollector(accounts: accounts, fromUs: fromUs, basis: request.scope.basis)
                reportLane.observers.append(collector)
                watch = .statement(collector, streams: readOnlyStreams ? request.scope.aggregateIds : nil)
            case .traceAccounts(let accounts, let order):
                let statement = StatementCollector(accounts: accounts, fromUs: nil, basis: request.scope.basis)
                let index = CausationIndex(), lots = LotBook(order: order)
                reportLane.observers += [index, lots, statement]
                watch = .traceAccounts(statement, index, lots)
            case .traceEvent(let id):
                let index = CausationIndex()
                reportLane.observers.append(index)
                watch = .traceEvent(id, index)
            case .seal:
                let leaves = SealLeafCollector()
                reportLane.canonicalSinks.append(leaves)
                watch = .seal(leaves)
            }
            let context = CheckContext(catalog: catalog, measuredAtUs: request.scope.asOfUs ?? nowUs, commandRegistry: inputs.commandRegistry,
                                       seals: inputs.seals[i], sourceHasStoreCatalog: !session.storeCatalogs.isEmpty)
            let work = ReportWork(request: request, lane: reportLane, watch: watch, checks: selection, checkContext: context)
            work.signingKey = inputs.signingKeys[i]
            if let selection {
                for type in Checks.all where type.input == .events && selection.names.contains(type.name) && type.isRequested(context) {
                    // Seals cover the whole store, whatever the report's as-of.
                    let checkLane = type == SealCheck.self ? lane(ReportScope.wholeSnapshot.replayScope) : reportLane
                    checkLane.checkNames.insert(type.name)
                    if checkLane.checkContext == nil { checkLane.checkContext = context }
                    work.checkLanes[type.name] = checkLane
                }
            }
            reports.append(work)
        }
        if let request = plan.populationExtract {
            let writer: PopulationExtractWriter
            do { writer = try PopulationExtractWriter(path: request.path) } catch { throw .output(error.description) }
            lane(request.scope.replayScope).writers.append(writer)
            extract = writer
            if plan.digestsStreamedFiles { try digest(writer.file) }
        }
        readScope = lanes.dropFirst().reduce(lanes.first?.scope ?? ReplayScope()) { $0.union($1.scope) }
        let defaultContext = CheckContext(catalog: catalog, measuredAtUs: nowUs)
        // Narrower scopes first, so that a lane holding another's scope may ride on it (`Lane.start`).
        // The host is the widest of the started lanes it holds.
        var pending = lanes, started: [Lane] = []
        let writersInRun = lanes.contains { !$0.writers.isEmpty }
        while !pending.isEmpty {
            let i = pending.firstIndex { p in !pending.contains { $0 !== p && p.scope.holds($0.scope) } } ?? 0
            let l = pending.remove(at: i)
            let host = started.last { $0.canHost && l.scope.holds($0.scope) }
            started.append(l)
            l.start(catalog: catalog, eventIdsMayRepeat: session.eventIdsMayRepeat, defaultContext: defaultContext, sourceNames: session.sourceNames, host: host, writersInRun: writersInRun)
        }
    }

    private func digest(_ file: AtomicFile?) throws(AuditFailure) {
        guard let file else { return }
        guard let digest = SHA512Stream() else { throw .output("cannot hash \(file.finalPath): SHA-512 unavailable") }
        file.contentDigest = digest
        fileDigests.append((file, digest))
    }

    /// After `finish`: each hashed file's SHA-512 by the path it was committed to.
    func streamedFileDigests() -> [String: String] {
        var digests: [String: String] = [:]
        for (file, digest) in fileDigests {
            if let path = file.committedPath, let hex = digest.finalHex() { digests[path] = hex }
        }
        fileDigests = []
        return digests
    }

    /// After `finish`: a lane whose reports read no balance after the pass (`verify` and
    /// `trace --event` have their results by then) lets its book go, so that a second pass,
    /// which folds a book of its own, does not hold two (`trace --event` at 2M events).
    func releaseBooksNoReportReads() {
        for l in lanes {
            let readers = reports.filter { $0.lane === l }
            let readsBook = readers.contains { r in
                switch r.request.kind {
                case .verify, .traceEvent: return false
                default: return true
                }
            }
            if !readsBook { l.releaseBook() }
        }
    }

    /// End of the pass: lanes finish (observers, watchers); store checks read the catalogs.
    /// `stores`: one database, or each PostgreSQL cell of a merged run (named in its findings).
    func finish(source: SourceReport, stores: [(name: String?, store: any StoreCatalog)]) throws(AuditFailure) {
        // A lane still riding reads its host's result.
        for l in lanes where l.host == nil { try l.finish(source: source) }
        for l in lanes where l.host != nil { try l.finish(source: source) }
        try extract?.commit()
        for work in reports {
            guard let selection = work.checks else { continue }
            for type in Checks.all where type.input == .storeCatalog && selection.names.contains(type.name) && type.notApplicable(work.checkContext) == nil {
                var merged: CheckResult?
                for (name, store) in stores {
                    let check = type.init(context: work.checkContext)
                    var result: CheckResult
                    do {
                        result = try check.result(CheckEnd(book: work.lane.result!.book, store: store), findings: FindingLog())
                    } catch {
                        throw .source("reading the database catalogs\(name.map { " of \($0)" } ?? "") failed: \(error)")
                    }
                    guard let name else { merged = result; break }
                    var named = FindingLog()
                    for var f in result.findings.kept { f.message = "\(name): " + f.message; f.evidence.append(("source", name)); named.append(f) }
                    result.findings = named
                    result.note = "\(name): \(result.note)"
                    if var m = merged {
                        m.findings.merge(result.findings)
                        m.sections += result.sections
                        m.note += "; " + result.note
                        m.files += result.files
                        merged = m
                    } else {
                        merged = result
                    }
                }
                if let merged { work.storeCheckResults.append(merged) }
            }
        }
        for work in reports {
            if case .balances(_, let writer, _) = work.watch {
                do { try writer?.commit() } catch { throw .output(error.description) }
            }
        }
    }

    /// After `finish`: the ADS files of each balances report that asks for them (GL_Detail,
    /// streamed during the pass, renamed; the trial balance, chart of accounts and user listing
    /// written from the book). Reads only the report's own book and writers.
    func finishADS() throws(AuditFailure) {
        for work in reports {
            if case .balances(let start, _, let ads?) = work.watch {
                do {
                    (work.adsFiles, work.sortedAccounts) = try ads.finish(book: work.lane.result!.book, beginning: start.snapshot)
                } catch { throw .output(error.description) }
            }
        }
    }
}

/// `events.jsonl` of an evidence pack: the events in scope, in global order, card numbers masked.
final class PopulationExtractWriter: ReplayObserver {
    let file: AtomicFile
    var failure: OutputError?

    init(path: String) throws(OutputError) { file = try AtomicFile(path: path) }

    func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog) {
        guard failure == nil else { return }
        do { try file.append { EventJSONLine.encode(event, into: &$0) } } catch { failure = error }
    }

    func commit() throws(AuditFailure) {
        if let failure { throw .output(failure.description) }
        do { try file.commit() } catch { throw .output(error.description) }
    }
}
