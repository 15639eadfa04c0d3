import ArgumentParser
import LedgerAuditConfig
import LedgerAuditCore
import LedgerAuditSources
#if canImport(Glibc)
import Glibc
#endif

/// Where the ledger comes from and how to read it: shared by every command.
struct SourceOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "A PostgreSQL connection (postgresql:// URI or key=value) or a file extract (.jsonl, .csv). Without it, libpq's defaults (PGHOST, PGDATABASE, ~/.pgpass, …).",
        valueName: "SOURCE"))
    var source: String?

    @Option(help: ArgumentHelp("The event catalog (YAML). Without it, the reference auction catalog.", valueName: "FILE"))
    var config: String?

    @Option(name: .customLong("time-basis"), help: "hlc (hlc_physical, default) or recorded (recorded_at).")
    var timeBasis: String = "hlc"

    func validateTimeBasis() throws -> TimeBasis {
        guard let b = TimeBasis(rawValue: timeBasis) else {
            throw ValidationError("--time-basis must be hlc or recorded, not '\(timeBasis)'")
        }
        return b
    }
}

/// Bitemporal: "the balance effective at T0 as the ledger knew it at T1".
struct KnownAtOption: ParsableArguments {
    @Option(name: .customLong("as-known-at"), help: "Only events recorded (recorded_at) by this instant: the ledger as it was known then. Combines with --as-of/--to on the HLC axis.")
    var asKnownAt: String?

    func knownAtUs() throws -> Int64? { try parseInstant(asKnownAt, option: "--as-known-at") }
}

struct OutputOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Folder for the report files.", valueName: "DIR"))
    var out: String = "ledger-audit-out"

    @Option(help: ArgumentHelp("Any of html,xml,csv (default: all three).", valueName: "LIST"))
    var format: String = "html,xml,csv"

    @Option(name: .customLong("fail-on"), help: "Exit 1 when a finding is at or above this severity: critical, high, medium, low, info.")
    var failOn: String = "high"

    @Flag(name: [.customShort("q"), .long], help: "No progress line and no summary on stdout.")
    var quiet = false

    @Option(help: ArgumentHelp("HTML templates folder (report.mustache, section.mustache, …); default: the built-in ones, as in templates/.", valueName: "DIR"))
    var templates: String?

    func formats() throws -> Set<String> {
        let parts = Set(format.split(separator: ",").map { String($0).trimmingCharacters(in: " ") })
        let allowed: Set<String> = ["html", "xml", "csv"]
        guard !parts.isEmpty, parts.isSubset(of: allowed) else {
            throw ValidationError("--format takes any of html,xml,csv, not '\(format)'")
        }
        return parts
    }

    func failOnSeverity() throws -> Severity {
        guard let s = Severity(rawValue: failOn) else {
            throw ValidationError("--fail-on must be one of critical, high, medium, low, info")
        }
        return s
    }
}


/// `--as-of` and friends: ISO 8601 with an offset, or epoch ms.
func parseInstant(_ text: String?, option: String) throws -> Int64? {
    guard let text else { return nil }
    guard let us = Instant.parseCommandLineUs(text) else {
        throw ToolFailure(status: .usage, message: "\(option) '\(text)' is not an instant: give ISO 8601 with a zone offset (2026-05-03T14:23:00+02:00) or epoch milliseconds")
    }
    return us
}

/// The catalog in force, and where it came from (for the report header).
struct LoadedCatalog {
    var catalog: Catalog
    var file: String
    var text: String
}

func loadCatalog(_ path: String?) throws -> LoadedCatalog {
    guard let path else {
        return LoadedCatalog(catalog: CatalogLoader.reference(), file: "(built-in reference catalog)", text: ReferenceCatalog.yaml)
    }
    guard let text = readTextFile(path) else {
        throw ToolFailure(status: .usage, message: "cannot read the catalog \(path)")
    }
    do {
        return LoadedCatalog(catalog: try CatalogLoader.load(yaml: text, file: path), file: path, text: text)
    } catch {
        throw ToolFailure(status: .usage, message: "configuration error: \(error.description)")
    }
}

func readTextFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 { if errno == EINTR { continue }; return nil }
        if n == 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
    }
    return String(validating: bytes, as: UTF8.self)
}

/// An opened source: the adapter, and the PostgreSQL session when there is one (for projections).
struct OpenedSource {
    var source: any EventSource
    var session: PostgresSession?
    var eventIdsMayRepeat: Bool
}

func openSource(_ text: String?, catalog: Catalog) throws -> OpenedSource {
    let value = text ?? ""
    let isConnection = value.isEmpty || value.hasPrefix("postgresql://") || value.hasPrefix("postgres://") || value.contains("=")
    if !isConnection {
        guard value.hasSuffix(".jsonl") || value.hasSuffix(".ndjson") || value.hasSuffix(".csv") else {
            throw ToolFailure(status: .usage, message: "--source '\(ConnectionString.redacted(value))' is neither a file extract (.jsonl, .csv) nor a PostgreSQL connection (postgresql://… or key=value)")
        }
        do {
            return OpenedSource(source: try FileExtractSource(path: value), session: nil, eventIdsMayRepeat: true)
        } catch {
            throw ToolFailure(status: .source, message: error.description)
        }
    }
    do {
        let session = try PostgresSession(conninfo: value)
        return OpenedSource(source: PostgresEventSource(session: session, store: catalog.store), session: session, eventIdsMayRepeat: false)
    } catch {
        throw ToolFailure(status: .source, message: error.description)
    }
}
