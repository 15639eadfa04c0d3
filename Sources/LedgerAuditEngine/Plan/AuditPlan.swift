import LedgerAuditChecks
import LedgerAuditCore

/// Which events a report is about: as of an instant on a time basis, as the ledger knew it at
/// another instant (bitemporal), optionally only some streams.
public struct ReportScope: Sendable, Equatable {
    public var asOfUs: Int64?
    public var basis: TimeBasis
    public var knownAtUs: Int64?
    /// Only these aggregates' streams (a statement of one user's buckets).
    public var aggregateIds: [EventID]?

    public init(asOfUs: Int64? = nil, basis: TimeBasis = .hlc, knownAtUs: Int64? = nil, aggregateIds: [EventID]? = nil) {
        self.asOfUs = asOfUs
        self.basis = basis
        self.knownAtUs = knownAtUs
        self.aggregateIds = aggregateIds
    }

    /// Every event of the source: what seals and projections are compared with.
    public static let wholeSnapshot = ReportScope()

    public var replayScope: ReplayScope {
        var s = ReplayScope.asOf(asOfUs, basis: basis, knownAtUs: knownAtUs)
        s.aggregateIds = aggregateIds
        return s
    }
}

/// Where a report goes, in which formats.
public struct ReportOutput: Sendable {
    public var folder: String
    public var formats: Set<String>
    public var templatesDirectory: String?

    public init(folder: String, formats: Set<String> = ["html", "xml", "csv"], templatesDirectory: String? = nil) {
        self.folder = folder
        self.formats = formats
        self.templatesDirectory = templatesDirectory
    }
}

/// The integrity checks a report runs.
public struct CheckSelection: Sendable {
    /// Names from `Checks.all`.
    public var names: Set<String>
    /// `--commands FILE`: known command ids, one UUID per line.
    public var commandsFile: String?
    /// `--seals FILE` and `--seals-public-key`.
    public var sealsFile: String?
    public var sealsPublicKeyFile: String?
    /// `--tsa-ca`: each seal's RFC 3161 token is verified against this CA file.
    public var sealsTSACAFile: String?

    public init(names: Set<String> = Set(Checks.names), commandsFile: String? = nil, sealsFile: String? = nil, sealsPublicKeyFile: String? = nil, sealsTSACAFile: String? = nil) {
        self.names = names
        self.commandsFile = commandsFile
        self.sealsFile = sealsFile
        self.sealsPublicKeyFile = sealsPublicKeyFile
        self.sealsTSACAFile = sealsTSACAFile
    }
}

/// What a report is.
public enum ReportKind: Sendable {
    /// Balances as of T and the trial balance from `fromUs`; `journal` adds the ADS journal,
    /// `ads` a folder for the four AICPA Audit Data Standard general-ledger files.
    case balances(filters: [String], fromUs: Int64?, journal: Bool, ads: String? = nil)
    /// The integrity checks.
    case verify(CheckSelection)
    /// Replay against the projections, with the checks it selects.
    case reconcile(ReconcileOptions)
    /// Opening balance at `fromUs`, movements, closing balance at the scope's as-of.
    case statement(accounts: [String], fromUs: Int64?, readOnlyStreams: Bool)
    /// The postings behind accounts' balances, their causation and provenance.
    case traceAccounts(accounts: [String], lots: LotBook.Order)
    /// One event's causes, effects and saga.
    case traceEvent(EventID)
    /// Appends a seal of the events in scope to a seal file, after checking the earlier seals.
    /// `tsaURL` stamps the new seal's line (RFC 3161); `tsaCAFile` checks the earlier seals' tokens.
    case seal(sealsFile: String, signKeyFile: String?, publicKeyFile: String?, tsaURL: String? = nil, tsaCAFile: String? = nil)

    public var name: String {
        switch self {
        case .balances: return "balances"
        case .verify: return "verify"
        case .reconcile: return "reconcile"
        case .statement: return "statement"
        case .traceAccounts, .traceEvent: return "trace"
        case .seal: return "seal"
        }
    }
}

/// The nightly job's comparison of the replay with the application's projections.
public struct ReconcileOptions: Sendable {
    /// With a file source: COPY-CSVs of the projection tables (`FILE` or `TABLE=FILE`).
    public var projectionFiles: [String]
    /// With a file source: the last event the projections applied.
    public var checkpointEventId: String?
    public var checks: CheckSelection
    /// Prometheus text exposition (node_exporter textfile collector) and a JSON summary.
    public var metricsFile: String?
    public var summaryJSON: String?
    /// `--allow-incomplete`: several sources not all past the as-of instant do not fail the run.
    public var allowIncomplete = false

    public init(projectionFiles: [String] = [], checkpointEventId: String? = nil, checks: CheckSelection = CheckSelection(), metricsFile: String? = nil, summaryJSON: String? = nil) {
        self.projectionFiles = projectionFiles
        self.checkpointEventId = checkpointEventId
        self.checks = checks
        self.metricsFile = metricsFile
        self.summaryJSON = summaryJSON
    }
}

public struct ReportRequest: Sendable {
    public var kind: ReportKind
    public var scope: ReportScope
    public var output: ReportOutput
    /// Lines the report header adds (why this report reads what it reads).
    public var notes: [String] = []

    public init(_ kind: ReportKind, scope: ReportScope, output: ReportOutput) {
        self.kind = kind
        self.scope = scope
        self.output = output
    }
}

/// The population extract of an evidence pack: the events in scope, in global order, one JSON
/// line each, card numbers masked.
public struct ExtractRequest: Sendable {
    public var path: String
    public var scope: ReportScope
    public init(path: String, scope: ReportScope) {
        self.path = path
        self.scope = scope
    }
}

/// What one run must produce. The engine reads the events once for all of it.
public struct AuditPlan: Sendable {
    public var reports: [ReportRequest]
    public var populationExtract: ExtractRequest?
    /// A report fails (exit 1) with a finding at or above this severity.
    public var failOn: Severity
    /// An extract with no event is exit 3 ("no events"); with this, an EMPTY_SOURCE finding.
    public var allowEmpty: Bool
    /// Hash the files streamed during the pass (SHA-512) as they are written: an evidence
    /// pack's manifest then need not read them again (3.6 GB at 2M events).
    public var digestsStreamedFiles = false

    public init(reports: [ReportRequest], populationExtract: ExtractRequest? = nil, failOn: Severity = .high, allowEmpty: Bool = false) {
        self.reports = reports
        self.populationExtract = populationExtract
        self.failOn = failOn
        self.allowEmpty = allowEmpty
    }
}
