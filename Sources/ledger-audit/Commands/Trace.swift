import ArgumentParser
import LedgerAuditCore
import LedgerAuditEngine

struct Trace: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Where money came from: the postings behind a balance with their causation chains and the deposits its cents came from (--account), or one event's causes, effects and saga (--event)."
    )

    @OptionGroup var sourceOptions: SourceOptions
    @OptionGroup var outputOptions: OutputOptions
    @OptionGroup var runOptions: RunOptions
    @OptionGroup var knownAt: KnownAtOption

    @Option(help: ArgumentHelp("An account, or prefix* (user:<id>:* for all of a user's buckets); repeatable.", valueName: "ACCOUNT"))
    var account: [String] = []

    @Option(help: ArgumentHelp("An event id: trace its causes up to the root, its effects, and its saga.", valueName: "ID"))
    var event: String?

    @Option(name: .customLong("as-of"), help: "Include events up to this instant (inclusive): ISO 8601 with offset, or epoch ms.")
    var asOf: String?

    @Option(help: "How money leaves an account's lots for provenance: fifo (oldest first, default) or lifo.")
    var lots: String = "fifo"

    func validate() throws {
        guard (event == nil) != account.isEmpty else { throw ValidationError("trace needs either --event ID or --account A (not both)") }
        guard LotBook.Order(rawValue: lots) != nil else { throw ValidationError("--lots must be fifo or lifo, not '\(lots)'") }
        if let event, EventID(event) == nil { throw ValidationError("--event '\(event)' is not an event id (a UUID)") }
        _ = try instant(asOf, "--as-of")
    }

    func run() throws {
        let scope = ReportScope(asOfUs: try instant(asOf, "--as-of"), basis: sourceOptions.basis, knownAtUs: knownAt.knownAtUs)
        let kind: ReportKind = event.flatMap(EventID.init).map { .traceEvent($0) } ?? .traceAccounts(accounts: account, lots: LotBook.Order(rawValue: lots) ?? .fifo)
        let plan = AuditPlan(reports: [ReportRequest(kind, scope: scope, output: outputOptions.output)], failOn: runOptions.severity)
        try execute(plan, in: try sourceOptions.openSession(), source: sourceOptions, quiet: runOptions.quiet)
    }
}
