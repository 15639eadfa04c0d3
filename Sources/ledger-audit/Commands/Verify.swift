import ArgumentParser
import LedgerAuditChecks
import LedgerAuditEngine

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the integrity checks over one replay: findings.csv, limbo.csv, and the findings in HTML and XML."
    )

    @OptionGroup var sourceOptions: SourceOptions
    @OptionGroup var outputOptions: OutputOptions
    @OptionGroup var runOptions: RunOptions
    @OptionGroup var checkOptions: CheckOptions
    @OptionGroup var sealsOptions: SealsOptions

    @Option(name: .customLong("as-of"), help: "Check events up to this instant (inclusive); limbo ages are measured to it (default: now).")
    var asOf: String?

    func validate() throws { _ = try instant(asOf, "--as-of") }

    func run() throws {
        if checkOptions.listChecks {
            print(Checks.listing())
            return
        }
        let scope = ReportScope(asOfUs: try instant(asOf, "--as-of"), basis: sourceOptions.basis)
        let plan = AuditPlan(reports: [ReportRequest(.verify(checkOptions.selection(sealsOptions)), scope: scope, output: outputOptions.output)],
                             failOn: runOptions.severity)
        try execute(plan, in: try sourceOptions.openSession(), source: sourceOptions, quiet: runOptions.quiet)
    }
}
