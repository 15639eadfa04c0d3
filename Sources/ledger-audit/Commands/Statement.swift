import ArgumentParser
import LedgerAuditCore
import LedgerAuditEngine

struct Statement: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "An account statement: opening balance at --from, every movement with its running balance, closing balance at --to."
    )

    @OptionGroup var sourceOptions: SourceOptions
    @OptionGroup var outputOptions: OutputOptions
    @OptionGroup var runOptions: RunOptions
    @OptionGroup var knownAt: KnownAtOption

    @Option(help: ArgumentHelp("An account, or prefix* (user:<id>:* for all of a user's buckets); repeatable.", valueName: "ACCOUNT"))
    var account: [String] = []

    @Option(help: "Start of the period (exclusive): the opening balance is as of this instant.")
    var from: String?

    @Option(help: "End of the period (inclusive): the closing balance is as of this instant (default: all events).")
    var to: String?

    @Flag(name: .customLong("full-scan"), help: "Read the whole store even when the catalog shows the accounts' postings come from their own streams only (for comparison).")
    var fullScan = false

    func validate() throws {
        guard !account.isEmpty else { throw ValidationError("statement needs at least one --account") }
        let fromUs = try instant(from, "--from"), toUs = try instant(to, "--to")
        if let fromUs, let toUs, fromUs > toUs { throw ValidationError("--from is after --to") }
    }

    func run() throws {
        let session = try sourceOptions.openSession()
        // One user's buckets come from that user's stream alone: read it through the
        // (aggregate_id, stream_version) index instead of the whole store.
        let streams = fullScan ? nil : StreamSelection.aggregates(for: account, catalog: session.catalog.catalog)
        let scope = ReportScope(asOfUs: try instant(to, "--to"), basis: sourceOptions.basis, knownAtUs: knownAt.knownAtUs, aggregateIds: streams)
        let plan = AuditPlan(reports: [ReportRequest(.statement(accounts: account, fromUs: try instant(from, "--from"), readOnlyStreams: streams != nil),
                                                     scope: scope, output: outputOptions.output)], failOn: runOptions.severity)
        try execute(plan, in: session, source: sourceOptions, quiet: runOptions.quiet)
    }
}
