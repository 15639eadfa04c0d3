import ArgumentParser
import LedgerAuditCore
import LedgerAuditReports

struct Balances: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Every account's balance as of T (a trial balance): balances.csv and findings.csv."
    )

    @OptionGroup var sourceOptions: SourceOptions
    @OptionGroup var outputOptions: OutputOptions
    @OptionGroup var knownAt: KnownAtOption

    @Option(name: .customLong("as-of"), help: "Include events up to this instant (inclusive): ISO 8601 with offset, or epoch ms.")
    var asOf: String?

    @Option(help: ArgumentHelp("Only this account, or a prefix* (repeatable).", valueName: "ACCOUNT"))
    var account: [String] = []

    @Option(help: "Start of the trial-balance period (exclusive): beginning balances are as of this instant.")
    var from: String?

    @Flag(help: "Also write journal.csv: every posting leg in the AICPA Audit Data Standard GL-detail layout.")
    var journal = false

    func run() throws {
        let basis = try sourceOptions.validateTimeBasis()
        let failOn = try outputOptions.failOnSeverity()
        let formats = try outputOptions.formats()
        let asOfUs = try parseInstant(asOf, option: "--as-of")
        let fromUs = try parseInstant(from, option: "--from")
        let knownAtUs = try knownAt.knownAtUs()
        if let fromUs, let asOfUs, fromUs > asOfUs { throw ToolFailure(status: .usage, message: "--from is after --as-of") }
        if journal && !formats.contains("csv") {
            throw ToolFailure(status: .usage, message: "--journal writes journal.csv: include csv in --format")
        }
        let loaded = try loadCatalog(sourceOptions.config)
        if outputOptions.templates != nil, formats.contains("html") {
            do { _ = try HTMLRenderer.load(directory: outputOptions.templates) } catch { throw ToolFailure(status: .usage, message: error.description) }
        }
        let run = ReportRun(loaded: loaded, opened: try openSource(sourceOptions.source, catalog: loaded.catalog))

        let periodStart = PeriodStart(fromUs: fromUs, basis: basis)
        // Inline on purpose: measured, a worker thread for the digest competes with the
        // PostgreSQL server for the second core and slows the stream (14.7 s against 10.9 s on 2M).
        var journalWriter: JournalWriter?
        if journal && formats.contains("csv") {
            do {
                try AtomicFile.makeDirectory(outputOptions.out)
                journalWriter = try JournalWriter(path: outputOptions.out + "/journal.csv", catalog: loaded.catalog, fromUs: fromUs, basis: basis)
            } catch { throw ToolFailure(status: .usage, message: error.description) }
        }
        let result = try replay(run, scope: .asOf(asOfUs, basis: basis, knownAtUs: knownAtUs), observers: [run.digest, periodStart] + (journalWriter.map { [$0] } ?? []), quiet: outputOptions.quiet)
        do { try journalWriter?.commit() } catch { throw ToolFailure(status: .usage, message: error.description) }

        let sorted = result.book.sortedRows()
        var trialBalance = BalancesReport.trialBalanceSection(result, start: periodStart, catalog: loaded.catalog, filters: account, sorted: sorted)
        if let journalWriter { trialBalance.tables.append(journalWriter.table()) }
        let report = Report(
            kind: "balances", title: "Balances and trial balance",
            header: run.header(kind: "balances", result: result, asOfUs: asOfUs, basis: basis, fromUs: fromUs, knownAtUs: knownAtUs),
            sections: [
                BalancesReport.section(result, catalog: loaded.catalog, filters: account, sorted: sorted),
                trialBalance,
                FindingsTable.section(result.findings),
            ]
        )
        let written = try writeReport(report, outputOptions: outputOptions, catalog: loaded.catalog,
                                      extraFiles: journalWriter.map { [$0.file.finalPath] } ?? [])
        if !outputOptions.quiet {
            print(summary(result, asOfUs: asOfUs, basis: basis))
            print("report: " + written.joined(separator: ", "))
        }
        try exitForFindings(result.findings, failOn: failOn, conservation: result.conservation)
    }
}

/// The replay every command runs, with a progress line on a terminal.
func replay(_ run: ReportRun, scope: ReplayScope, observers: [any ReplayObserver], quiet: Bool) throws -> ReplayResult {
    let progress = ProgressLine(quiet: quiet)
    var replay = Replay(catalog: run.loaded.catalog, observers: observers)
    replay.progress = progress.update
    defer { progress.finish() }
    do {
        return try replay.run(source: run.opened.source, scope: scope, eventIdsMayRepeat: run.opened.eventIdsMayRepeat)
    } catch let failure as ToolFailure {
        throw failure
    } catch {
        throw ToolFailure(status: .source, message: "reading the source failed: \(error)")
    }
}

/// Writes a report in every requested format, then run.json. Returns the files written.
func writeReport(_ report: Report, outputOptions: OutputOptions, catalog: Catalog, extraFiles: [String] = []) throws -> [String] {
    let exponentOf: (String) -> Int = { catalog.currencies.exponent(of: $0) ?? 2 }
    do {
        let formats = try outputOptions.formats()
        try AtomicFile.makeDirectory(outputOptions.out)
        var written: [String] = []
        if formats.contains("csv") { written += try CSVRenderer.write(report, to: outputOptions.out) + extraFiles }
        if formats.contains("html") {
            let html = try HTMLRenderer.load(directory: outputOptions.templates).render(report, exponentOf: exponentOf)
            let path = outputOptions.out + "/" + report.kind + ".html"
            try AtomicFile.writeWhole(path, html)
            written.append(path)
        }
        if formats.contains("xml") {
            let path = outputOptions.out + "/" + report.kind + ".xml"
            try XMLRenderer.write(report, to: path, exponentOf: exponentOf)
            written.append(path)
        }
        let runPath = outputOptions.out + "/run.json"
        try AtomicFile.writeWhole(runPath, RunJSON.render(report.header, files: written.map { String($0.split(separator: "/").last ?? "") }))
        return written + [runPath]
    } catch let e as OutputError {
        throw ToolFailure(status: .usage, message: e.description)
    }
}

func summary(_ result: ReplayResult, asOfUs: Int64?, basis: TimeBasis) -> String {
    let p = result.population
    let asOf = asOfUs.map { Instant.iso8601(us: $0) } ?? "all events"
    let net = result.conservation.netByCurrency.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    var lines = [
        "events read \(grouped(p.eventsRead)), in scope \(grouped(p.eventsInScope)), quarantined \(grouped(p.eventsQuarantined)), malformed rows \(grouped(p.rowsMalformed)), unknown types \(grouped(p.eventsUnknownType))",
        "accounts \(grouped(result.book.accountCount)), postings \(grouped(p.postings)); as of \(asOf) (time basis \(basis.rawValue))",
        "conservation " + (result.conservation.holds ? "holds" : "BROKEN") + (net.isEmpty ? "" : " (sum per currency: \(net))"),
    ]
    if result.source.reorderedFromWriteOrder { lines.append("note: the extract was not in global order; it was sorted before replay") }
    let bySeverity = Severity.allCases.compactMap { s in result.findings.countBySeverity[s].map { "\(s.rawValue) \($0)" } }
    lines.append("findings " + (bySeverity.isEmpty ? "none" : bySeverity.joined(separator: ", ")))
    return lines.joined(separator: "\n")
}

func exitForFindings(_ findings: FindingLog, failOn: Severity, conservation: Conservation) throws {
    if findings.count(atLeast: failOn) > 0 || !conservation.holds {
        throw ExitCode(ExitStatus.findings.rawValue)
    }
}
