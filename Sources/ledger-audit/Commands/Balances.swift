import ArgumentParser
import LedgerAuditCore
import LedgerAuditReports

struct Balances: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Every account's balance as of T (a trial balance): balances.csv and findings.csv."
    )

    @OptionGroup var sourceOptions: SourceOptions
    @OptionGroup var outputOptions: OutputOptions

    @Option(name: .customLong("as-of"), help: "Include events up to this instant (inclusive): ISO 8601 with offset, or epoch ms.")
    var asOf: String?

    @Option(help: ArgumentHelp("Only this account, or a prefix* (repeatable).", valueName: "ACCOUNT"))
    var account: [String] = []

    func run() throws {
        let basis = try sourceOptions.validateTimeBasis()
        let failOn = try outputOptions.failOnSeverity()
        _ = try outputOptions.formats()
        let asOfUs = try parseInstant(asOf, option: "--as-of")
        let loaded = try loadCatalog(sourceOptions.config)
        let opened = try openSource(sourceOptions.source, catalog: loaded.catalog)

        let progress = ProgressLine(quiet: outputOptions.quiet)
        var replay = Replay(catalog: loaded.catalog)
        replay.progress = progress.update
        let result: ReplayResult
        do {
            result = try replay.run(source: opened.source, scope: .asOf(asOfUs, basis: basis), eventIdsMayRepeat: opened.eventIdsMayRepeat)
        } catch {
            progress.finish()
            throw ToolFailure(status: .source, message: "reading the source failed: \(error)")
        }
        progress.finish()

        let report = Report(
            kind: "balances", title: "Balances",
            header: header(result, loaded: loaded, source: opened.source.redactedDescription, asOfUs: asOfUs, basis: basis),
            sections: [
                BalancesReport.section(result, catalog: loaded.catalog, filters: account),
                FindingsTable.section(result.findings),
            ]
        )
        let written = try writeReport(report, outputOptions: outputOptions)
        if !outputOptions.quiet {
            print(summary(result, asOfUs: asOfUs, basis: basis))
            print("report: " + written.joined(separator: ", "))
        }
        try exitForFindings(result.findings, failOn: failOn, conservation: result.conservation)
    }
}

func header(_ result: ReplayResult, loaded: LoadedCatalog, source: String, asOfUs: Int64?, basis: TimeBasis) -> ReportHeader {
    ReportHeader(
        reportKind: "balances", asOfUs: asOfUs, timeBasis: basis, source: source, catalogFile: loaded.file,
        catalogSHA256: "", population: result.population, controlTotals: result.controlTotals,
        conservation: result.conservation, eventsDigestSHA256: nil, toolVersion: LedgerAudit.version,
        gitRevision: "", generatedAtUs: wallClockUs(), runBy: "", notes: result.source.notes
    )
}

func writeReport(_ report: Report, outputOptions: OutputOptions) throws -> [String] {
    do {
        try AtomicFile.makeDirectory(outputOptions.out)
        let formats = try outputOptions.formats()
        var written: [String] = []
        if formats.contains("csv") { written += try CSVRenderer.write(report, to: outputOptions.out) }
        return written
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
        "accounts \(grouped(result.book.balances.count)), postings \(grouped(p.postings)); as of \(asOf) (time basis \(basis.rawValue))",
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
