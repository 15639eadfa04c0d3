import ArgumentParser
import LedgerAuditChecks
import LedgerAuditCore
import LedgerAuditEngine
import LedgerAuditReports

/// Where the ledger comes from and how to read it: shared by every command that reads one.
struct SourceOptions: ParsableArguments {
    @Option(name: .customLong("source"), help: ArgumentHelp(
        "An existing file extract (.jsonl, .csv, .pgcopy) or a PostgreSQL connection (postgresql:// URI or key=value pairs); file:PATH or pg:CONNINFO forces either. Repeat it to merge several sources (cells) into one ledger in global order; the name of a source under the catalog's sources: picks it. Without it, the catalog's sources: (all of them), else libpq's defaults (PGHOST, PGDATABASE, ~/.pgpass, …).",
        valueName: "SOURCE"))
    var sources: [String] = []


    @Option(help: ArgumentHelp("The event catalog (YAML). Without it, the reference auction catalog.", valueName: "FILE"))
    var config: String?

    @Option(name: .customLong("time-basis"), help: "hlc (hlc_physical, default) or recorded (recorded_at).")
    var timeBasis: String = "hlc"

    @Flag(name: .customLong("allow-empty"), help: "An extract with no event is an EMPTY_SOURCE finding (exit 1) instead of exit 3.")
    var allowEmpty = false

    @Option(help: ArgumentHelp("PostgreSQL readers of one store, each its own connection importing the run's snapshot and reading its ranges of hlc_physical; reports are byte-identical to one reader's. auto (default): one per core when the server is on another machine, one when it shares this machine's cores (a Unix socket, loopback or a local address) or the source is not one reference-layout PostgreSQL store.", valueName: "N|auto"))
    var jobs: String = "auto"

    /// `--jobs` as the engine takes it (validated in `validate()`).
    var readers: ReaderCount { jobs == "auto" ? .auto : .exactly(Int(jobs) ?? 1) }

    var basis: TimeBasis { TimeBasis(rawValue: timeBasis) ?? .hlc }

    func validate() throws {
        if jobs != "auto" {
            guard let n = Int(jobs), (1...Limits.parallelReadersMax).contains(n) else { throw ValidationError("--jobs takes auto or 1 to \(Limits.parallelReadersMax), not '\(jobs)'") }
        }
        guard TimeBasis(rawValue: timeBasis) != nil else { throw ValidationError("--time-basis must be hlc or recorded, not '\(timeBasis)'") }
    }

    /// The catalog, the opened source and its snapshot, the run facts.
    func openSession() throws -> AuditSession {
        let catalog = try LoadedCatalog.load(config)
        return try AuditSession.open(sources: sources, catalog: catalog, facts: .ofThisProcess(toolVersion: LedgerAudit.version), readers: readers)
    }
}

/// Bitemporal: "the balance effective at T0 as the ledger knew it at T1".
struct KnownAtOption: ParsableArguments {
    @Option(name: .customLong("as-known-at"), help: "Only events recorded (recorded_at) by this instant: the ledger as it was known then. Combines with --as-of/--to on the HLC axis.")
    var asKnownAt: String?

    func validate() throws { _ = try instant(asKnownAt, "--as-known-at") }
    var knownAtUs: Int64? { try? instant(asKnownAt, "--as-known-at") }
}

/// `--fail-on` and `-q`: how a run ends.
struct RunOptions: ParsableArguments {
    @Option(name: .customLong("fail-on"), help: "Exit 1 when a finding is at or above this severity: critical, high, medium, low, info.")
    var failOn: String = "high"

    @Flag(name: [.customShort("q"), .long], help: "No progress line and no summary on stdout.")
    var quiet = false

    var severity: Severity { Severity(rawValue: failOn) ?? .high }

    func validate() throws {
        guard Severity(rawValue: failOn) != nil else { throw ValidationError("--fail-on must be one of critical, high, medium, low, info") }
    }
}

/// Where the report files go, in which formats.
struct OutputOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Folder for the report files.", valueName: "DIR"))
    var out: String = "ledger-audit-out"

    @Option(help: ArgumentHelp("Any of \(Renderers.formats.joined(separator: ",")) (default: all).", valueName: "LIST"))
    var format: String = Renderers.formats.joined(separator: ",")

    @Option(help: ArgumentHelp("HTML templates folder (report.mustache, section.mustache, …); default: the built-in ones, as in templates/.", valueName: "DIR"))
    var templates: String?

    var formats: Set<String> { Set(format.split(separator: ",").map { String($0).trimmingCharacters(in: " ") }) }

    var output: ReportOutput { ReportOutput(folder: out, formats: formats, templatesDirectory: templates) }

    func validate() throws {
        guard !formats.isEmpty, formats.isSubset(of: Set(Renderers.formats)) else {
            throw ValidationError("--format takes any of \(Renderers.formats.joined(separator: ",")), not '\(format)'")
        }
    }
}

/// `--check`, `--skip`, `--list-checks`, `--commands`: verify and reconcile.
struct CheckOptions: ParsableArguments {
    @Option(name: .customLong("check"), parsing: .upToNextOption, help: "Run only these checks (names from --list-checks).")
    var only: [String] = []

    @Option(name: .customLong("skip"), parsing: .upToNextOption, help: "Skip these checks.")
    var skip: [String] = []

    @Flag(name: .customLong("list-checks"), help: "List the checks and the codes each reports, then exit.")
    var listChecks = false

    @Option(help: ArgumentHelp("Known command ids, one UUID per line: dangling causation ids not listed are ORPHAN_CAUSATION.", valueName: "FILE"))
    var commands: String?

    func validate() throws {
        let known = Set(Checks.names)
        for n in only + skip where !known.contains(n) {
            throw ValidationError("unknown check '\(n)'; the checks are: \(Checks.names.joined(separator: ", "))")
        }
    }

    func selection(_ seals: SealsOptions) -> CheckSelection {
        let known = Set(Checks.names)
        return CheckSelection(names: (only.isEmpty ? known : Set(only)).subtracting(skip), commandsFile: commands,
                              sealsFile: seals.seals, sealsPublicKeyFile: seals.sealsPublicKey, sealsTSACAFile: seals.tsaCA)
    }
}

/// `--seals` and `--seals-public-key`: verify, reconcile, evidence and seal.
struct SealsOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A seal file written by `ledger-audit seal`: every seal is checked against the store (SEAL_BROKEN when sealed history changed), and seal-proof.json is written.", valueName: "FILE"))
    var seals: String?

    @Option(name: .customLong("seals-public-key"), help: ArgumentHelp("With --seals: the sealer's public key (from keygen); every seal must carry its valid signature.", valueName: "FILE"))
    var sealsPublicKey: String?

    @Option(name: .customLong("tsa-ca"), help: ArgumentHelp("With --seals: the time-stamping authority's CA certificates (PEM); every seal must carry an RFC 3161 token (FILE.seal-N.tsr) that verifies against them, and the seal section states each TSA time.", valueName: "FILE"))
    var tsaCA: String?

    func validate() throws {
        if sealsPublicKey != nil && seals == nil { throw ValidationError("--seals-public-key goes with --seals") }
        if tsaCA != nil && seals == nil { throw ValidationError("--tsa-ca goes with --seals: it checks the seals' RFC 3161 tokens") }
    }
}

/// `--projection`: reconcile and evidence, with a file source.
struct ProjectionOptions: ParsableArguments {
    @Option(name: .customLong("projection"), help: ArgumentHelp("With a file source: a COPY-CSV of a projection table, as FILE or TABLE=FILE (repeatable).", valueName: "[TABLE=]FILE"))
    var files: [String] = []
}

/// `--as-of` and friends: ISO 8601 with an offset, or epoch ms.
func instant(_ text: String?, _ option: String) throws -> Int64? {
    guard let text else { return nil }
    guard let us = Instant.parseCommandLineUs(text) else {
        throw ValidationError("\(option) '\(text)' is not an instant: give ISO 8601 with a zone offset (2026-05-03T14:23:00+02:00) or epoch milliseconds")
    }
    return us
}

/// Runs a plan on the opened session, prints what each report says, and ends the process with
/// the run's exit status.
func execute(_ plan: AuditPlan, in session: AuditSession, source: SourceOptions, quiet: Bool) throws {
    var plan = plan
    plan.allowEmpty = source.allowEmpty
    let progress = ProgressLine(quiet: quiet)
    let outcome: AuditOutcome
    do {
        defer { progress.finish() }
        outcome = try AuditEngine.run(plan, in: session, progress: progress.update)
    }
    // The process exits after this command: its memory goes back whole then (`RunMemory`).
    ExitKeeps.outcome = outcome
    if !quiet {
        for report in outcome.reports {
            for line in report.summaryLines { print(TerminalText.safe(line)) }
            if report.kind != "reconcile" { print("report: " + report.files.joined(separator: ", ")) }
        }
    }
    if outcome.failed { throw ExitCode(ExitStatus.findings.rawValue) }
}

/// What the process keeps until it exits, never freed piece by piece (`RunMemory`).
enum ExitKeeps {
    // Set once, on the main thread, just before the command returns to `main`, which exits.
    nonisolated(unsafe) static var outcome: AuditOutcome?
}
