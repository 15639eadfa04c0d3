import ArgumentParser
import LedgerAuditCore
import LedgerAuditReports

struct Statement: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "An account statement: opening balance at --from, every movement with its running balance, closing balance at --to."
    )

    @OptionGroup var sourceOptions: SourceOptions
    @OptionGroup var outputOptions: OutputOptions
    @OptionGroup var knownAt: KnownAtOption

    @Option(help: ArgumentHelp("An account, or prefix* (user:<id>:* for all of a user's buckets); repeatable.", valueName: "ACCOUNT"))
    var account: [String] = []

    @Option(help: "Start of the period (exclusive): the opening balance is as of this instant.")
    var from: String?

    @Option(help: "End of the period (inclusive): the closing balance is as of this instant (default: all events).")
    var to: String?

    @Flag(name: .customLong("full-scan"), help: "Read the whole store even when the catalog shows the accounts' postings come from their own streams only (for comparison).")
    var fullScan = false

    func run() throws {
        guard !account.isEmpty else { throw ToolFailure(status: .usage, message: "statement needs at least one --account") }
        let basis = try sourceOptions.validateTimeBasis()
        let failOn = try outputOptions.failOnSeverity()
        _ = try outputOptions.formats()
        let fromUs = try parseInstant(from, option: "--from")
        let toUs = try parseInstant(to, option: "--to")
        let knownAtUs = try knownAt.knownAtUs()
        if let fromUs, let toUs, fromUs > toUs { throw ToolFailure(status: .usage, message: "--from is after --to") }
        let loaded = try loadCatalog(sourceOptions.config)
        let run = ReportRun(loaded: loaded, opened: try openSource(sourceOptions.source, catalog: loaded.catalog))
        let collector = StatementCollector(accounts: account, fromUs: fromUs, basis: basis)
        var scope = ReplayScope.asOf(toUs, basis: basis, knownAtUs: knownAtUs)
        // One user's buckets come from that user's stream alone: read it through the
        // (aggregate_id, stream_version) index instead of the whole store.
        let streams = fullScan ? nil : StreamSelection.aggregates(for: account, catalog: loaded.catalog)
        scope.aggregateIds = streams
        let result = try replay(run, scope: scope, observers: [run.digest, collector], quiet: outputOptions.quiet)
        var header = run.header(kind: "statement", result: result, asOfUs: toUs, basis: basis, fromUs: fromUs, knownAtUs: knownAtUs)
        if let streams {
            header.notes.append("Read only the stream\(streams.count == 1 ? "" : "s") of aggregate \(streams.map(\.description).joined(separator: ", ")): the catalog names these accounts by aggregate_id alone, so no other event can post to them. Population, control totals and digest cover those streams.")
        }
        let report = Report(
            kind: "statement", title: "Statement of " + account.joined(separator: ", "),
            header: header,
            sections: [StatementReport.section(collector, catalog: loaded.catalog, toUs: toUs), FindingsTable.section(result.findings)]
        )
        let written = try writeReport(report, outputOptions: outputOptions, catalog: loaded.catalog)
        if !outputOptions.quiet {
            for s in collector.summaries() {
                let e = loaded.catalog.currencies.exponent(of: s.currency) ?? 2
                print("\(s.account) \(s.currency): opening \(MoneyFormat.decimal(s.openingMinor, exponent: e)), \(s.movements) movements, closing \(MoneyFormat.decimal(s.closingMinor, exponent: e))")
            }
            if collector.summaries().isEmpty { print("no posting touched \(account.joined(separator: ", ")) up to the end of the period") }
            print("report: " + written.joined(separator: ", "))
        }
        try exitForFindings(result.findings, failOn: failOn, conservation: result.conservation)
    }
}
