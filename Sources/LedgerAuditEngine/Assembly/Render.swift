import LedgerAuditChecks
import LedgerAuditCore
import LedgerAuditReports

/// A report assembled from its lane, before it is written.
struct Assembled {
    var report: Report
    var findings: FindingLog
    var summaryLines: [String]
    var failed: Bool
    /// Files already written during the pass that the report lists (the journal).
    var streamedFiles: [String] = []
    /// Files the report carries beside its formats (`seal-proof.json`).
    var extraFiles: [ReportFile] = []
    /// After the report is written (metrics, summary JSON, a new seal): may fail with exit 4.
    var afterWrite: ((_ written: [String]) throws(AuditFailure) -> [String])?
    /// A summary that names the written report (reconcile's one line).
    var summaryAfterWrite: ((_ written: [String]) -> [String])?
}

/// The last stage: every report assembled from its lane and written in its formats.
enum Render {
    static func reports(_ work: RunWork, session: AuditSession, failOn: Severity) throws(AuditFailure) -> AuditOutcome {
        var produced: [ProducedReport] = []
        var lastAssembled: Assembled?
        for (n, report) in work.reports.enumerated() {
            returnFreedMemory()
            let assembled = try assemble(report, session: session, failOn: failOn)
            // Only the last report's rows outlive their report: each earlier one goes before
            // the next is built, so the peak is the largest report, not their sum.
            if n == work.reports.count - 1 { lastAssembled = assembled }
            var files = try write(assembled, output: report.request.output, catalog: session.catalog.catalog)
            if let after = assembled.afterWrite { files += try after(files) }
            produced.append(ProducedReport(kind: report.request.kind.name, header: assembled.report.header, result: report.lane.result!,
                                           findings: assembled.findings, files: files, summaryLines: assembled.summaryAfterWrite?(files) ?? assembled.summaryLines,
                                           failed: assembled.failed))
        }
        return AuditOutcome(reports: produced, extractPath: work.extract?.file.finalPath, memory: RunMemory([work, lastAssembled as Any]))
    }

    /// The pass's tables (ids, checks' state, batches) and each written report's rows are freed
    /// by then, but glibc keeps freed pages, most of them in the worker threads' arenas: handed
    /// back before the next report is built, so the peak is the largest report, not their sum.
    static func returnFreedMemory() {
        #if os(Linux)
        _ = glibcMallocTrim(0)
        #endif
    }

    static func assemble(_ work: ReportWork, session: AuditSession, failOn: Severity) throws(AuditFailure) -> Assembled {
        let facts = ReportFacts(work: work, session: session, failOn: failOn)
        switch (work.request.kind, work.watch) {
        case (.balances(let filters, let fromUs, _, _), .balances(let start, let journal, _)):
            return BalancesAssembly.assemble(facts, filters: filters, fromUs: fromUs, start: start, journal: journal, adsFiles: work.adsFiles)
        case (.verify, .verify):
            return VerifyAssembly.assemble(facts)
        case (.reconcile(let options), .reconcile(let projections)):
            return ReconcileAssembly.assemble(facts, options: options, projections: projections, second: work.second, startedMs: session.startedMs)
        case (.statement(let accounts, let fromUs, _), .statement(let collector, let streams)):
            return StatementAssembly.assemble(facts, accounts: accounts, fromUs: fromUs, collector: collector, streams: streams)
        case (.traceAccounts(let accounts, _), .traceAccounts(let statement, let index, let lots)):
            return TraceAssembly.accounts(facts, accounts: accounts, statement: statement, index: index, lots: lots)
        case (.traceEvent(let id), .traceEvent(_, let index)):
            return TraceAssembly.event(facts, id: id, index: index, second: work.second)
        case (.seal(let sealsFile, _, _, let tsaURL, _), .seal(let leaves)):
            return try SealAssembly.assemble(facts, sealsFile: sealsFile, leaves: leaves, tsaURL: tsaURL)
        default:
            preconditionFailure("a report's watch does not match its kind")
        }
    }

    /// Every requested format, then run.json. Returns the files written.
    static func write(_ assembled: Assembled, output: ReportOutput, catalog: Catalog) throws(AuditFailure) -> [String] {
        let options = RenderOptions(templatesDirectory: output.templatesDirectory, exponentOf: { catalog.currencies.exponent(of: $0) ?? 2 })
        let renderers: [any ReportRenderer]
        do { renderers = try Renderers.make(output.formats, options: options) } catch { throw .usage(error.description) }
        // The one output path for ledger text: every string of the model, before any format.
        let report = assembled.report.forOutput()
        do {
            try AtomicFile.makeDirectory(output.folder)
            // Each format on its own core; files listed in registry order, as written one by one.
            let folder = output.folder
            let results = Concurrently.map(renderers.count) { i -> Result<[String], OutputError> in
                do throws(OutputError) { return .success(try renderers[i].write(report, to: folder)) } catch { return .failure(error) }
            }
            var written: [String] = []
            for (renderer, result) in zip(renderers, results) {
                written += try result.get()
                if type(of: renderer).format == CSVFormat.format { written += assembled.streamedFiles }
            }
            let runPath = output.folder + "/run.json"
            try AtomicFile.writeWhole(runPath, RunJSON.render(report.header, files: written.map { String($0.split(separator: "/").last ?? "") }))
            for file in assembled.extraFiles { try AtomicFile.writeWhole(output.folder + "/" + file.name, file.text) }
            return written + [runPath]
        } catch {
            throw .output(error.description)
        }
    }
}

/// What every assembly reads: the lane's result, the report's findings and checks, the header.
struct ReportFacts {
    let work: ReportWork
    let session: AuditSession
    let failOn: Severity
    var catalog: Catalog { session.catalog.catalog }
    var result: ReplayResult { work.lane.result! }
    var scope: ReportScope { work.request.scope }

    /// Check results in registry order: event checks from the lane that ran each, store checks.
    var checkResults: [CheckResult] {
        Checks.all.compactMap { type in
            if let lane = work.checkLanes[type.name] { return lane.checkResult(type.name) }
            return work.storeCheckResults.first { $0.name == type.name }
        }
    }

    /// The replay's findings and every check's.
    func findings(adding extra: [Finding] = []) -> FindingLog {
        var log = result.findings
        if result.source.holdsNoRecords {
            log.append(Finding(code: .emptySource, message: "\(session.source.redactedDescription) holds no event (an empty or header-only extract): an empty export is not a clean ledger", location: "source"))
        }
        for r in checkResults { log.merge(r.findings) }
        for f in extra { log.append(f) }
        return namingSources(log)
    }

    /// Several sources: every finding about an event names the source that delivered it.
    func namingSources(_ log: FindingLog) -> FindingLog {
        let names = session.sourceNames
        guard names.count > 1, let fold = work.lane.folding else { return log }
        return log.mapping { f in
            guard let id = f.eventId, !f.evidence.contains(where: { $0.0 == "source" || $0.0 == "first source" }),
                  let i = fold.sourceIndex(of: id), Int(i) < names.count else { return f }
            var named = f
            named.evidence.append(("source", names[Int(i)]))
            return named
        }
    }

    func header(_ kind: String, findings: FindingLog, fromUs: Int64? = nil, notes extra: [String] = []) -> ReportHeader {
        var notes = result.source.notes
        // Several sources: each one's own line (what it is, its snapshot, rows read, how far it
        // reached in global order, its own events digest); the merged digest is the header's.
        notes += cut?.lines ?? []
        let digests = work.lane.watchResults.sourceDigestsHex
        for (i, m) in result.source.members.enumerated() {
            var line = "\(m.name): \(m.description): \(m.rowsRead) rows read"
            if let k = m.highestKey { line += ", last event in global order (\(k.hlcPhysicalMs), \(k.hlcLogical), \(k.eventId)) at \(Instant.iso8601(ms: k.hlcPhysicalMs))" }
            if i < digests.count { line += "; events digest of its events in scope \(digests[i])" }
            if !m.notes.isEmpty { line += "; " + m.notes.joined(separator: "; ") }
            notes.append(line)
        }
        if findings.droppedCount > 0 {
            notes.append("\(findings.droppedCount) findings past the limit of \(Limits.findingsKeptMax) are counted but not listed")
        }
        let facts = session.facts
        return ReportHeader(
            reportKind: kind, asOfUs: scope.asOfUs, timeBasis: scope.basis, source: session.source.redactedDescription,
            catalogFile: session.catalog.file, catalogSHA256: SHA256Hex.of(session.catalog.text), population: result.population,
            controlTotals: result.controlTotals, conservation: result.conservation,
            eventsDigestSHA256: work.lane.watchResults.digestHex, toolVersion: facts.toolVersion, gitRevision: facts.gitRevision,
            generatedAtUs: facts.clockUs(), runBy: facts.runBy, notes: notes + work.request.notes + extra, fromUs: fromUs, knownAtUs: scope.knownAtUs
        )
    }

    /// Several sources: how far the merged ledger is complete. A cell can still receive events
    /// with an HLC below what another cell has shown, so the ledger is complete through T only
    /// when every source has read past T plus the catalog's clock-skew bound.
    var cut: (completeThroughMs: Int64?, incomplete: [String], lines: [String])? {
        let members = result.source.members
        guard !members.isEmpty else { return nil }
        let skew = catalog.clockSkewMaxMs
        let reach = members.map { $0.highestInSourceMs.map { $0 - skew } }
        let through: Int64? = reach.contains { $0 == nil } ? nil : reach.compactMap { $0 }.min()
        var lines = ["consistent cut: complete through " + (through.map { Instant.iso8601(ms: $0) } ?? "no instant (a source holds no event)")
                     + " (each source's last hlc_physical minus the clock-skew bound of \(skew) ms)"]
        var incomplete: [String] = []
        if let asOfUs = scope.asOfUs {
            let tMs = Instant.floorDivMod(asOfUs, 1000).0
            for m in members where (m.highestInSourceMs ?? Int64.min) <= tMs + skew {
                incomplete.append(m.name)
                lines.append("INCOMPLETE for \(Instant.iso8601(us: asOfUs)): \(m.name) has read only up to "
                             + (m.highestInSourceMs.map { Instant.iso8601(ms: $0) } ?? "no event")
                             + ", not past the as-of instant plus \(skew) ms: it may still receive events with an HLC at or before the as-of instant")
            }
            if incomplete.isEmpty { lines.append("complete for \(Instant.iso8601(us: asOfUs)): every source has read past it plus \(skew) ms") }
        }
        return (through, incomplete, lines)
    }

    func failed(_ findings: FindingLog) -> Bool { findings.count(atLeast: failOn) > 0 || !result.conservation.holds }

    /// The summary `balances` and `verify` print.
    func summaryLines(_ findings: FindingLog) -> [String] {
        let p = result.population
        let asOf = scope.asOfUs.map { Instant.iso8601(us: $0) } ?? "all events"
        let net = result.conservation.netByCurrency.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        var lines = [
            "events read \(grouped(p.eventsRead)), in scope \(grouped(p.eventsInScope)), quarantined \(grouped(p.eventsQuarantined)), malformed rows \(grouped(p.rowsMalformed)), unknown types \(grouped(p.eventsUnknownType))",
            "accounts \(grouped(result.accountCount)), postings \(grouped(p.postings)); as of \(asOf) (time basis \(scope.basis.rawValue))",
            "conservation " + (result.conservation.holds ? "holds" : "BROKEN") + (net.isEmpty ? "" : " (sum per currency: \(net))"),
        ]
        if result.source.reorderedFromWriteOrder { lines.append("note: the extract was not in global order; it was sorted before replay") }
        if let note = result.source.serverSortNote { lines.append("note: " + note) }
        if result.source.byteOrderMarkSkipped { lines.append("note: the extract began with a UTF-8 byte-order mark, which was skipped") }
        let bySeverity = Severity.allCases.compactMap { s in findings.countBySeverity[s].map { "\(s.rawValue) \($0)" } }
        lines.append("findings " + (bySeverity.isEmpty ? "none" : bySeverity.joined(separator: ", ")))
        if let line = cutSummaryLine { lines.append(line) }
        return lines
    }

    /// The summary's line on the cut across sources, when several were merged.
    var cutSummaryLine: String? {
        guard let cut else { return nil }
        if !cut.incomplete.isEmpty { return "INCOMPLETE for the as-of instant: \(cut.incomplete.joined(separator: ", ")) not yet past it plus the clock-skew bound" }
        return "sources \(result.source.members.count), consistent cut complete through " + (cut.completeThroughMs.map { Instant.iso8601(ms: $0) } ?? "no instant")
    }

    /// The checks table and the sections the checks own, in registry order (verify, reconcile).
    func checkSections() -> (sections: [ReportSection], files: [ReportFile]) {
        guard let selection = work.checks else { return ([], []) }
        let context = work.checkContext
        let results = checkResults
        var sections: [ReportSection] = []
        var runs: [CheckRun] = []
        var files: [ReportFile] = []
        for type in Checks.all where type.isRequested(context) {
            let selected = selection.names.contains(type.name)
            let notApplicable = type.notApplicable(context)
            let result = results.first { $0.name == type.name }
            let ran = selected && notApplicable == nil && result != nil
            if ran, let result {
                sections += result.sections
                files += result.files
            } else {
                sections += type.sectionsWhenSkipped(context)
            }
            let note: String
            if ran, let r = result, !r.note.isEmpty { note = r.note }
            else if selected, let why = notApplicable { note = why }
            else { note = type.note(context) }
            runs.append(CheckRun(name: type.name, codes: type.codes, ran: ran, note: note))
        }
        return (sections + [VerifyReport.checksSection(runs)], files)
    }
}

#if os(Linux)
/// glibc's `int malloc_trim(size_t pad)` (malloc.h, which the Glibc module does not export).
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32
#endif
