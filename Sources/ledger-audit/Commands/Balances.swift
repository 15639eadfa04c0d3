import ArgumentParser
import LedgerAuditEngine

struct Balances: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Every account's balance as of T (a trial balance): balances.csv and findings.csv."
    )

    @OptionGroup var sourceOptions: SourceOptions
    @OptionGroup var outputOptions: OutputOptions
    @OptionGroup var runOptions: RunOptions
    @OptionGroup var knownAt: KnownAtOption

    @Option(name: .customLong("as-of"), help: "Include events up to this instant (inclusive): ISO 8601 with offset, or epoch ms.")
    var asOf: String?

    @Option(help: ArgumentHelp("Only this account, or a prefix* (repeatable).", valueName: "ACCOUNT"))
    var account: [String] = []

    @Option(help: "Start of the trial-balance period (exclusive): beginning balances are as of this instant.")
    var from: String?

    @Flag(help: "Also write journal.csv: every posting leg in the AICPA Audit Data Standard GL-detail layout.")
    var journal = false

    @Option(help: ArgumentHelp("Also write the AICPA Audit Data Standard general-ledger files (GL_Detail, Trial_Balance, Chart_Of_Accounts, User_Listing) into this folder.", valueName: "DIR"))
    var ads: String?

    func validate() throws {
        let asOfUs = try instant(asOf, "--as-of"), fromUs = try instant(from, "--from")
        if let fromUs, let asOfUs, fromUs > asOfUs { throw ValidationError("--from is after --as-of") }
        if journal && !outputOptions.formats.contains("csv") { throw ValidationError("--journal writes journal.csv: include csv in --format") }
    }

    func run() throws {
        let scope = ReportScope(asOfUs: try instant(asOf, "--as-of"), basis: sourceOptions.basis, knownAtUs: knownAt.knownAtUs)
        let plan = AuditPlan(reports: [ReportRequest(.balances(filters: account, fromUs: try instant(from, "--from"), journal: journal, ads: ads), scope: scope, output: outputOptions.output)],
                             failOn: runOptions.severity)
        try execute(plan, in: try sourceOptions.openSession(), source: sourceOptions, quiet: runOptions.quiet)
    }
}
