import ArgumentParser
import LedgerAuditCore
import LedgerAuditReports

struct Trace: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Where money came from: the postings behind a balance with their causation chains and the deposits its cents came from (--account), or one event's causes, effects and saga (--event)."
    )

    @OptionGroup var sourceOptions: SourceOptions
    @OptionGroup var outputOptions: OutputOptions
    @OptionGroup var knownAt: KnownAtOption

    @Option(help: ArgumentHelp("An account, or prefix* (user:<id>:* for all of a user's buckets); repeatable.", valueName: "ACCOUNT"))
    var account: [String] = []

    @Option(help: ArgumentHelp("An event id: trace its causes up to the root, its effects, and its saga.", valueName: "ID"))
    var event: String?

    @Option(name: .customLong("as-of"), help: "Include events up to this instant (inclusive): ISO 8601 with offset, or epoch ms.")
    var asOf: String?

    @Option(help: "How money leaves an account's lots for provenance: fifo (oldest first, default) or lifo.")
    var lots: String = "fifo"

    func run() throws {
        guard (event == nil) != account.isEmpty else {
            throw ToolFailure(status: .usage, message: "trace needs either --event ID or --account A (not both)")
        }
        guard let order = LotBook.Order(rawValue: lots) else { throw ToolFailure(status: .usage, message: "--lots must be fifo or lifo, not '\(lots)'") }
        let basis = try sourceOptions.validateTimeBasis()
        let failOn = try outputOptions.failOnSeverity()
        _ = try outputOptions.formats()
        let asOfUs = try parseInstant(asOf, option: "--as-of")
        let knownAtUs = try knownAt.knownAtUs()
        var target: EventID?
        if let event {
            guard let id = EventID(event) else { throw ToolFailure(status: .usage, message: "--event '\(event)' is not an event id (a UUID)") }
            target = id
        }
        let loaded = try loadCatalog(sourceOptions.config)
        let run = ReportRun(loaded: loaded, opened: try openSource(sourceOptions.source, catalog: loaded.catalog))
        let scope = ReplayScope.asOf(asOfUs, basis: basis, knownAtUs: knownAtUs)
        let index = CausationIndex()

        let sections: [ReportSection]
        let result: ReplayResult
        let title: String
        if let target {
            result = try replay(run, scope: scope, observers: [run.digest, index], quiet: outputOptions.quiet)
            guard let trace = EventTrace.build(target, index: index) else {
                throw ToolFailure(status: .usage, message: "event \(target) is not in the source" + (asOfUs != nil || knownAtUs != nil ? " within the scope (--as-of/--as-known-at)" : ""))
            }
            // Second pass, same snapshot: what the traced events moved.
            let details = EventDetailCollector(wanted: trace.eventIds)
            do {
                _ = try Replay(catalog: loaded.catalog, observers: [details]).run(source: run.opened.source, scope: scope, eventIdsMayRepeat: run.opened.eventIdsMayRepeat)
            } catch {
                throw ToolFailure(status: .source, message: "reading the source failed: \(error)")
            }
            sections = TraceReport.eventSections(trace, index: index, details: details.details, catalog: loaded.catalog)
            title = "Trace of event \(target)"
        } else {
            let statement = StatementCollector(accounts: account, fromUs: nil, basis: basis)
            let lotBook = LotBook(order: order)
            result = try replay(run, scope: scope, observers: [run.digest, index, lotBook, statement], quiet: outputOptions.quiet)
            sections = TraceReport.accountSections(statement: statement, index: index, lots: lotBook, book: result.book, catalog: loaded.catalog)
            title = "Trace of " + account.joined(separator: ", ")
        }
        let report = Report(kind: "trace", title: title,
                            header: run.header(kind: "trace", result: result, asOfUs: asOfUs, basis: basis, knownAtUs: knownAtUs),
                            sections: sections + [FindingsTable.section(result.findings)])
        let written = try writeReport(report, outputOptions: outputOptions, catalog: loaded.catalog)
        if !outputOptions.quiet {
            for figure in sections.flatMap(\.figures) { print("\(figure.label): \(CardMask.masked(figure.value))") }
            print("report: " + written.joined(separator: ", "))
        }
        try exitForFindings(result.findings, failOn: failOn, conservation: result.conservation)
    }
}
