import ArgumentParser
import LedgerAuditCore
import LedgerAuditEvidence
import LedgerAuditReports
import LedgerAuditSources

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the integrity checks over one replay: findings.csv, limbo.csv, and the findings in HTML and XML."
    )

    @OptionGroup var sourceOptions: SourceOptions
    @OptionGroup var outputOptions: OutputOptions
    @OptionGroup var checkOptions: CheckOptions

    @Option(name: .customLong("as-of"), help: "Check events up to this instant (inclusive); limbo ages are measured to it (default: now).")
    var asOf: String?

    func run() throws {
        if checkOptions.listChecks {
            print(CheckOptions.listing())
            return
        }
        let basis = try sourceOptions.validateTimeBasis()
        let failOn = try outputOptions.failOnSeverity()
        let asOfUs = try parseInstant(asOf, option: "--as-of")
        let loaded = try loadCatalog(sourceOptions.config)
        let selected = try checkOptions.selected()
        let run = ReportRun(loaded: loaded, opened: try openSource(sourceOptions.source, catalog: loaded.catalog))
        let outcome = try runChecks(run, selected: selected, commandsFile: checkOptions.commands, asOfUs: asOfUs, basis: basis, quiet: outputOptions.quiet, sealsFile: checkOptions.seals, sealsPublicKey: checkOptions.sealsPublicKey)

        let report = Report(
            kind: "verify", title: "Integrity checks",
            header: run.header(kind: "verify", result: outcome.result, asOfUs: asOfUs, basis: basis),
            sections: outcome.sections(catalog: loaded.catalog)
        )
        let written = try writeReport(report, outputOptions: outputOptions, catalog: loaded.catalog)
        try outcome.writeSealProof(out: outputOptions.out)
        if !outputOptions.quiet {
            print(summary(outcome.result, asOfUs: asOfUs, basis: basis))
            print("report: " + written.joined(separator: ", "))
        }
        try exitForFindings(outcome.result.findings, failOn: failOn, conservation: outcome.result.conservation)
    }
}

/// `--check`, `--skip`, `--list-checks`, `--commands`: shared by verify, reconcile and evidence.
struct CheckOptions: ParsableArguments {
    @Option(name: .customLong("check"), parsing: .upToNextOption, help: "Run only these checks (names from --list-checks).")
    var only: [String] = []

    @Option(name: .customLong("skip"), parsing: .upToNextOption, help: "Skip these checks.")
    var skip: [String] = []

    @Flag(name: .customLong("list-checks"), help: "List the checks and the codes each reports, then exit.")
    var listChecks = false

    @Option(help: ArgumentHelp("Known command ids, one UUID per line: dangling causation ids not listed are ORPHAN_CAUSATION.", valueName: "FILE"))
    var commands: String?

    @Option(help: ArgumentHelp("A seal file written by `ledger-audit seal`: every seal is checked against the store (SEAL_BROKEN when sealed history changed), and seal-proof.json is written.", valueName: "FILE"))
    var seals: String?

    @Option(name: .customLong("seals-public-key"), help: ArgumentHelp("With --seals: the sealer's public key (from keygen); every seal must carry its valid signature.", valueName: "FILE"))
    var sealsPublicKey: String?

    static var names: [String] { Checks.all.map { $0.name } + [AppendOnlyCheck.name] }

    static func listing() -> String {
        var lines = ["check               codes"]
        for c in Checks.all { lines.append(c.name.padding(20) + c.codes.map(\.rawValue).joined(separator: " ") + "\n" + String(repeating: " ", count: 20) + c.summary) }
        lines.append(AppendOnlyCheck.name.padding(20) + FindingCode.appendOnlyGap.rawValue + "\n" + String(repeating: " ", count: 20) + AppendOnlyCheck.summary)
        for r in Checks.replayChecks { lines.append(r.name.padding(20) + r.codes.map(\.rawValue).joined(separator: " ") + "\n" + String(repeating: " ", count: 20) + r.summary + " (always on)") }
        return lines.joined(separator: "\n")
    }

    func selected() throws -> Set<String> {
        let known = Set(CheckOptions.names)
        for n in only + skip where !known.contains(n) {
            throw ToolFailure(status: .usage, message: "unknown check '\(n)'; the checks are: \(CheckOptions.names.joined(separator: ", "))")
        }
        return (only.isEmpty ? known : Set(only)).subtracting(skip)
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self + " " : self + String(repeating: " ", count: width - count) }
}

/// The outcome of one checked replay.
struct CheckOutcome {
    var result: ReplayResult
    var runs: [(name: String, codes: [FindingCode], ran: Bool, note: String)]
    var limbo: LimboCheck?
    var seals: SealVerification?

    func sections(catalog: Catalog) -> [ReportSection] {
        [
            FindingsTable.section(result.findings),
            VerifyReport.limboSection(limbo?.openHolds ?? [], catalog: catalog, ran: limbo != nil),
        ] + (seals.map { [$0.section] } ?? []) + [
            VerifyReport.checksSection(runs),
        ]
    }

    /// With --seals: seal-proof.json beside the reports.
    func writeSealProof(out: String) throws {
        guard let seals else { return }
        do { try AtomicFile.writeWhole(out + "/seal-proof.json", seals.proofJSON) } catch { throw ToolFailure(status: .usage, message: "\(error)") }
    }
}

/// Replays once with the selected checks, then the database checks. Memory grows with events
/// here (the causation graph, duplicate ids): see the README's figures.
func runChecks(_ run: ReportRun, selected: Set<String>, commandsFile: String?, asOfUs: Int64?, basis: TimeBasis, quiet: Bool, scope: ReplayScope? = nil, extraObservers: [any ReplayObserver] = [], sealsFile: String? = nil, sealsPublicKey: String? = nil) throws -> CheckOutcome {
    let catalog = run.loaded.catalog
    // Seals cover the whole store: the leaves come with the digest when the run reads it all.
    var sealRecords: (records: [SealRecord], chainProblems: [String])?
    var sealLeaves: SealLeafCollector?
    if let sealsFile {
        do { sealRecords = try SealFile.read(sealsFile) } catch { throw ToolFailure(status: .usage, message: error.description) }
        if scope == nil && asOfUs == nil {
            let collector = SealLeafCollector()
            run.digest.sinks.append(collector)
            sealLeaves = collector
        }
    }
    let registry = try loadCommandRegistry(commandsFile, catalog: catalog, session: run.opened.session)
    let context = CheckContext(measuredAtUs: asOfUs ?? wallClockUs(), commandRegistry: registry)
    var checks: [any Check] = []
    var runs: [(name: String, codes: [FindingCode], ran: Bool, note: String)] = []
    for type in Checks.all {
        let on = selected.contains(type.name)
        if on { checks.append(Checks.make(type, catalog: catalog, context: context)) }
        var note = ""
        if type == CausationCheck.self {
            note = registry.map { "command registry of \($0.count) ids" } ?? (catalog.danglingCausation == .defect
                ? "no command registry; dangling causation ids are defects (catalog)"
                : "ran without a command registry: dangling causation ids are taken as command ids and not reported")
        }
        if type == LimboCheck.self { note = "ages measured to " + Instant.iso8601(us: context.measuredAtUs) }
        runs.append((type.name, type.codes, on, note))
    }
    // verify pays for complete duplicate detection: every event id is remembered.
    // Snapshots need the book at an instant and stay inline; the digest and the checks run on a second core.
    var replay = Replay(catalog: catalog, observers: extraObservers + [ObserverWorker([run.digest] + checks)])
    let progress = ProgressLine(quiet: quiet)
    replay.progress = progress.update
    var result: ReplayResult
    do {
        result = try replay.run(source: run.opened.source, scope: scope ?? .asOf(asOfUs, basis: basis), eventIdsMayRepeat: true)
    } catch let failure as ToolFailure {
        progress.finish()
        throw failure
    } catch {
        progress.finish()
        throw ToolFailure(status: .source, message: "reading the source failed: \(error)")
    }
    progress.finish()
    let appendOnlyOn = selected.contains(AppendOnlyCheck.name)
    if appendOnlyOn, let session = run.opened.session {
        do {
            for f in try AppendOnlyCheck.run(session: session, store: catalog.store, applicationRole: catalog.store.applicationRole) {
                result.findings.append(f)
            }
        } catch {
            throw ToolFailure(status: .source, message: "reading the database catalogs failed: \(error)")
        }
        runs.append((AppendOnlyCheck.name, [.appendOnlyGap], true, "from the PostgreSQL catalogs"))
    } else {
        runs.append((AppendOnlyCheck.name, [.appendOnlyGap], false, appendOnlyOn ? "needs a PostgreSQL source" : ""))
    }
    var sealVerification: SealVerification?
    if let sealsFile, let sealRecords {
        let leaves: SealLeafCollector
        if let sealLeaves {
            leaves = sealLeaves
        } else {
            // The run is bounded (--as-of): one more pass over the whole store for the seals.
            leaves = SealLeafCollector()
            do {
                _ = try Replay(catalog: catalog, observers: [leaves]).run(source: run.opened.source, scope: ReplayScope(), eventIdsMayRepeat: run.opened.eventIdsMayRepeat)
            } catch {
                throw ToolFailure(status: .source, message: "reading the source for the seals failed: \(error)")
            }
        }
        let v = SealVerification.check(records: sealRecords.records, chainProblems: sealRecords.chainProblems, sealsPath: sealsFile, current: leaves,
                                       sealKey: try sealsPublicKey.map(loadPublicKey))
        for f in v.findings { result.findings.append(f) }
        runs.append(("seals", [.sealBroken], true, "\(v.outcomes.count) seals from \(sealsFile) against \(v.currentSize) events; "
            + (sealsPublicKey == nil ? "signatures not checked (no --seals-public-key)" : "each signed by the given key")))
        sealVerification = v
    }
    return CheckOutcome(result: result, runs: runs, limbo: checks.compactMap { $0 as? LimboCheck }.first, seals: sealVerification)
}

/// `--commands FILE` (one UUID per line, # comments), else the catalog's command table or query.
func loadCommandRegistry(_ path: String?, catalog: Catalog, session: PostgresSession?) throws -> Set<EventID>? {
    if let path {
        guard let text = readTextFile(path) else { throw ToolFailure(status: .usage, message: "cannot read the command registry \(path)") }
        var ids = Set<EventID>()
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw).trimmingCharacters(in: " \t\r")
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let id = EventID(line) else { throw ToolFailure(status: .usage, message: "\(path):\(n + 1): not a UUID: '\(line.prefix(40))'") }
            ids.insert(id)
        }
        return ids
    }
    guard let source = catalog.commandRegistry, let session else { return nil }
    let sql: String
    switch source {
    case .table(let schema, let table, let column):
        sql = "SELECT DISTINCT \(ConnectionString.quoteIdentifier(column))::text FROM \(ConnectionString.quoteIdentifier(schema)).\(ConnectionString.quoteIdentifier(table))"
    case .query(let q):
        sql = q
    }
    do {
        return Set(try session.query(sql).compactMap { $0.first.flatMap { $0 }.flatMap(EventID.init) })
    } catch {
        throw ToolFailure(status: .source, message: "reading the command registry failed: \(error)")
    }
}
