import ArgumentParser
import LedgerAuditChecks
import LedgerAuditEngine

struct Reconcile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The nightly job: replay against the projections in one snapshot, plus every integrity check."
    )

    @OptionGroup var sourceOptions: SourceOptions
    @OptionGroup var outputOptions: OutputOptions
    @OptionGroup var runOptions: RunOptions
    @OptionGroup var checkOptions: CheckOptions
    @OptionGroup var sealsOptions: SealsOptions
    @OptionGroup var projectionOptions: ProjectionOptions

    @Option(name: .customLong("as-of"), help: "Replay events up to this instant (inclusive).")
    var asOf: String?

    @Option(help: ArgumentHelp("With a file source: the last event the projections applied; the comparison stops there.", valueName: "EVENT_ID"))
    var checkpoint: String?

    @Option(name: .customLong("metrics-file"), help: ArgumentHelp("Write Prometheus text exposition here (node_exporter textfile collector).", valueName: "PATH"))
    var metricsFile: String?

    @Option(name: .customLong("summary-json"), help: ArgumentHelp("Write the run's summary as JSON here.", valueName: "PATH"))
    var summaryJSON: String?

    @Flag(name: .customLong("allow-incomplete"), help: "With several sources: a source not yet past --as-of plus the clock-skew bound is reported, but does not by itself exit 1.")
    var allowIncomplete = false

    func validate() throws {
        _ = try instant(asOf, "--as-of")
        if allowIncomplete && sourceOptions.sources.count == 1 { throw ValidationError(Self.oneSourceIsComplete) }
    }

    func run() throws {
        if checkOptions.listChecks {
            print(Checks.listing())
            return
        }
        var options = ReconcileOptions(projectionFiles: projectionOptions.files, checkpointEventId: checkpoint, checks: checkOptions.selection(sealsOptions),
                                       metricsFile: metricsFile, summaryJSON: summaryJSON)
        options.allowIncomplete = allowIncomplete
        let scope = ReportScope(asOfUs: try instant(asOf, "--as-of"), basis: sourceOptions.basis)
        let plan = AuditPlan(reports: [ReportRequest(.reconcile(options), scope: scope, output: outputOptions.output)], failOn: runOptions.severity)
        let session = try sourceOptions.openSession()
        // Without --source the catalog's sources: decide how many there are.
        if allowIncomplete && session.sourceNames.count < 2 { throw AuditFailure.usage(Self.oneSourceIsComplete) }
        try execute(plan, in: session, source: sourceOptions, quiet: runOptions.quiet)
    }

    static let oneSourceIsComplete = "--allow-incomplete is for several sources (cells): one source is always complete for its own snapshot"
}
