import Dispatch
import Foundation
import LedgerAuditChecks
import LedgerAuditCore
import LedgerAuditEvidence
import LedgerAuditReports
import LedgerAuditSources
import Synchronization

/// One projection to reconcile: what the read model says, and where its checkpoint is. Its
/// rows are read after the pass (from PostgreSQL in the run's snapshot, which the session
/// keeps), or during it on a second connection in the same snapshot (`EarlyProjectionReads`);
/// compared, and let go before the reports render. `RunInputs` checks before the pass that they
/// can be read (the table and its columns, or the file and its header).
final class ProjectedInput {
    typealias Parts = [([ProjectedBalance], [ProjectionReader.Problem])]
    let mapping: ProjectionMapping
    let checkpoint: CheckpointPosition?
    private let readParts: () throws -> Parts
    /// The rows read during the pass, when that read could run; else `readParts` reads them.
    private let readEarly: (() -> Result<Parts, any Error>?)?
    private(set) var balances: [ProjectedBalance] = []
    private(set) var problems: [ProjectionReader.Problem] = []

    /// One projection read in parts (one per cell, or one per file of the same table).
    init(mapping: ProjectionMapping, checkpoint: CheckpointPosition?, readEarly: (() -> Result<Parts, any Error>?)? = nil, readParts: @escaping () throws -> Parts) {
        self.mapping = mapping
        self.checkpoint = checkpoint
        self.readEarly = readEarly
        self.readParts = readParts
    }

    func read() throws(AuditFailure) {
        do {
            // A read during the pass that failed (say, no connection left on the server) is
            // done again here on the run's own session, which says why if it fails too.
            let parts: Parts
            if case .success(let early)? = readEarly?() { parts = early } else { parts = try readParts() }
            // One part (one database, one file) is taken whole: flattened, each row was copied.
            balances = parts.count == 1 ? parts[0].0 : parts.flatMap(\.0)
            problems = parts.flatMap(\.1)
        } catch {
            throw .source("reading the projection \(ProjectionReader.name(mapping)) failed: \(error)")
        }
    }

    /// After the comparison: the rows go, the problems stay for the report.
    func releaseBalances() { balances = [] }
}

/// A run's projections on one PostgreSQL session, read during the pass on a second connection
/// that imports the session's snapshot, so it sees exactly the rows a read after the pass would.
/// After the pass the read was serial, the client's core busy and the other idle (~0.1 s of a
/// reconcile's tail at 2M events, 200,000 projected balances); during it the client waits on
/// the server part of the time, and without the order index the server sorts first.
/// The rows are then held through the pass (~30 MB at 2M events).
final class EarlyProjectionReads: @unchecked Sendable {
    private let finished = DispatchSemaphore(value: 0)
    /// Set once the second session is open: a read under way is worth waiting for.
    private let opened = Atomic<Bool>(false)
    /// Each mapping's result, or none when the second session could not open. Written by the
    /// thread before it signals; read only after `wait`.
    private var results: [Result<ProjectedInput.Parts, any Error>] = []
    private enum Taken { case no, waited, notWaited }
    private var taken = Taken.no

    init(open: @escaping @Sendable () throws(SourceError) -> PostgresSession, mappings: [ProjectionMapping], defaultCurrency: String) {
        let thread = Thread { [self] in
            do throws(SourceError) {
                let session = try open()
                opened.store(true, ordering: .releasing)
                results = mappings.map { m in Result { [try ProjectionReader.read(session: session, mapping: m, defaultCurrency: defaultCurrency)] } }
            } catch {
                results = []
            }
            finished.signal()
        }
        thread.name = "ledger-audit projection read"
        thread.start()
    }

    /// Mapping `index`'s rows, waiting for a read under way; nil when the second session never
    /// opened, or had not opened by the end of the pass: a pooler that queues it behind the
    /// run's own connection (which stays open until the run ends) would make the run wait
    /// forever, so the run's own session reads instead. From one thread only (the run's).
    func result(_ index: Int) -> Result<ProjectedInput.Parts, any Error>? {
        if taken == .no {
            if finished.wait(timeout: .now()) == .success {
                taken = .waited  // done, whether it opened or not
            } else if opened.load(ordering: .acquiring) {
                finished.wait()  // a read under way
                taken = .waited
            } else {
                taken = .notWaited  // never read: the thread ends on its own
            }
        }
        return taken == .waited && index < results.count ? results[index] : nil
    }
}

/// What the reports compare the events with, read before the pass (from PostgreSQL in the same
/// snapshot as the events): checkpoints, the command registry, seal files, keys, and each
/// projection's reader (its rows come during or after the pass, `ProjectedInput`).
struct RunInputs {
    var projections: [Int: [ProjectedInput]] = [:]
    var commandRegistry: Set<EventID>?
    var seals: [Int: SealInput] = [:]
    var signingKeys: [Int: SigningKey] = [:]

    static func read(for plan: AuditPlan, in session: AuditSession) throws(AuditFailure) -> RunInputs {
        var inputs = RunInputs()
        let catalog = session.catalog.catalog
        var commandsFile: String?
        var wantsRegistry = false
        for (i, request) in plan.reports.enumerated() {
            switch request.kind {
            case .verify(let checks):
                wantsRegistry = true
                commandsFile = commandsFile ?? checks.commandsFile
                if let s = try sealInput(checks.sealsFile, checks.sealsPublicKeyFile, checks.sealsTSACAFile) { inputs.seals[i] = s }
            case .reconcile(let options):
                if options.checks.names.contains(CausationCheck.name) { wantsRegistry = true }
                commandsFile = commandsFile ?? options.checks.commandsFile
                if let s = try sealInput(options.checks.sealsFile, options.checks.sealsPublicKeyFile, options.checks.sealsTSACAFile) { inputs.seals[i] = s }
                inputs.projections[i] = try projections(options, session: session)
            case .seal(let sealsFile, let signKeyFile, let publicKeyFile, _, let tsaCAFile):
                guard let s = try sealInput(sealsFile, publicKeyFile, tsaCAFile) else { break }
                inputs.seals[i] = s
                if let signKeyFile { inputs.signingKeys[i] = try KeyFiles.signingKey(signKeyFile) }
            default:
                break
            }
        }
        if wantsRegistry { inputs.commandRegistry = try commandRegistry(commandsFile, catalog: catalog, session: session.database) }
        return inputs
    }

    static func sealInput(_ file: String?, _ publicKeyFile: String?, _ tsaCAFile: String?) throws(AuditFailure) -> SealInput? {
        guard let file else { return nil }
        // A CA file that cannot be read is a usage error before the pass, not a finding per seal.
        if let tsaCAFile, !FileManager.default.isReadableFile(atPath: tsaCAFile) { throw .usage("--tsa-ca \(tsaCAFile): no such readable file") }
        let read: (records: [SealRecord], chainProblems: [String])
        do { read = try SealFile.read(file) } catch { throw .usage(error.description) }
        return SealInput(path: file, records: read.records, chainProblems: read.chainProblems, publicKey: try publicKeyFile.map(KeyFiles.publicKey), tsaCAFile: tsaCAFile)
    }

    static func projections(_ options: ReconcileOptions, session: AuditSession) throws(AuditFailure) -> [ProjectedInput] {
        let catalog = session.catalog.catalog
        guard !catalog.projections.isEmpty else {
            throw .usage("the catalog maps no projection: add projections: to it (see the README)")
        }
        var out: [ProjectedInput] = []
        do {
            if session.database == nil, !session.snapshotHolders.isEmpty, options.projectionFiles.isEmpty {
                // Several PostgreSQL cells: each cell's read model of its own users, from that
                // cell's snapshot, is one part of the projection. A checkpoint is per cell and
                // names no one place in the merged order, so the merge reconciles without one.
                let holders = session.snapshotHolders
                for m in catalog.projections {
                    for holder in holders { try ProjectionReader.probe(session: holder, mapping: m) }
                    out.append(ProjectedInput(mapping: m, checkpoint: nil) {
                        try holders.map { try ProjectionReader.read(session: $0, mapping: m, defaultCurrency: catalog.defaultCurrency) }
                    })
                }
            } else if let database = session.database {
                guard options.projectionFiles.isEmpty else { throw AuditFailure.usage("--projection is for file sources; with PostgreSQL the projections are read from the catalog's tables") }
                var checkpoints: [CheckpointPosition?] = []
                for m in catalog.projections {
                    try ProjectionReader.probe(session: database, mapping: m)
                    checkpoints.append(try ProjectionReader.checkpoint(session: database, mapping: m, store: catalog.store).map { .key($0) })
                }
                // No snapshot to export (a server that refuses it): read after the pass.
                let early = (try? database.siblingOpener()).map {
                    EarlyProjectionReads(open: $0, mappings: catalog.projections, defaultCurrency: catalog.defaultCurrency)
                }
                for (i, m) in catalog.projections.enumerated() {
                    out.append(ProjectedInput(mapping: m, checkpoint: checkpoints[i], readEarly: early.map { early in { early.result(i) } }) {
                        [try ProjectionReader.read(session: database, mapping: m, defaultCurrency: catalog.defaultCurrency)]
                    })
                }
            } else {
                let files = try projectionFileMap(options.projectionFiles, catalog: catalog)
                var checkpoint: CheckpointPosition?
                if let text = options.checkpointEventId {
                    guard let id = EventID(text) else { throw AuditFailure.usage("--checkpoint '\(text)' is not an event id") }
                    checkpoint = .event(id)
                }
                for m in catalog.projections {
                    guard let paths = files[m.table] else { continue }
                    // Several files of one table (each cell's read model of its own users) are one
                    // projection. Read once now to refuse a bad file before the pass, again after it
                    // (the rows are not held through the pass), but kept when one file is a pipe
                    // (`<(psql …)`), which can be read only once.
                    let read = { try paths.map { try ProjectionReader.read(csvPath: $0, mapping: m, defaultCurrency: catalog.defaultCurrency) } }
                    let first = try read()
                    let kept = paths.contains(where: ProjectionReader.isPipe)
                    out.append(ProjectedInput(mapping: m, checkpoint: checkpoint, readParts: kept ? { first } : read))
                }
                guard !out.isEmpty else {
                    throw AuditFailure.usage("with a file source, give each projection as --projection FILE.csv (a COPY-CSV of \(catalog.projections.map(\.table).joined(separator: ", ")))")
                }
            }
        } catch let failure as AuditFailure {
            throw failure
        } catch {
            throw .source("reading the projections failed: \(error)")
        }
        return out
    }

    /// `--projection FILE` or `TABLE=FILE`; a bare file is matched by name, or is the only
    /// projection. A table given several files (one per cell) reads them all, never only the last.
    static func projectionFileMap(_ arguments: [String], catalog: Catalog) throws(AuditFailure) -> [String: [String]] {
        var map: [String: [String]] = [:]
        for arg in arguments {
            if let eq = arg.firstIndex(of: "="), !arg[..<eq].contains("/") {
                map[String(arg[..<eq]), default: []].append(String(arg[arg.index(after: eq)...]))
                continue
            }
            let base = String(arg.split(separator: "/").last ?? "").replacingAll(".csv", with: "")
            if catalog.projections.contains(where: { $0.table == base }) {
                map[base, default: []].append(arg)
            } else if catalog.projections.count == 1 {
                map[catalog.projections[0].table, default: []].append(arg)
            } else {
                throw .usage("--projection \(arg): name its table, as TABLE=FILE (tables: \(catalog.projections.map(\.table).joined(separator: ", ")))")
            }
        }
        return map
    }

    /// `--commands FILE` (one UUID per line, # comments), else the catalog's command table or query.
    static func commandRegistry(_ path: String?, catalog: Catalog, session: PostgresSession?) throws(AuditFailure) -> Set<EventID>? {
        if let path {
            let text = try TextFile.text(path, "the command registry")
            var ids = Set<EventID>()
            for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = String(raw).trimmingCharacters(in: " \t\r")
                if line.isEmpty || line.hasPrefix("#") { continue }
                guard let id = EventID(line) else { throw .usage("\(path):\(n + 1): not a UUID: '\(line.prefix(40))'") }
                ids.insert(id)
            }
            return ids
        }
        guard let source = catalog.commandRegistry, let session else { return nil }
        let sql: String
        switch source {
        case .table(let schema, let table, let column):
            sql = "SELECT DISTINCT \(ConnectionString.quoteIdentifier(column))::text FROM \(ConnectionString.quoteIdentifier(schema)).\(ConnectionString.quoteIdentifier(table))"
        case .query(let q):
            sql = q
        }
        do {
            return Set(try session.query(sql).compactMap { $0.first.flatMap { $0 }.flatMap(EventID.init) })
        } catch {
            throw .source("reading the command registry failed: \(error)")
        }
    }
}

/// Key files from `keygen`.
public enum KeyFiles {
    public static func signingKey(_ path: String) throws(AuditFailure) -> SigningKey {
        let text = try TextFile.text(path, "the signing key")
        do { return try SigningKey(fileText: text) } catch { throw .usage("\(path): \(error)") }
    }

    public static func publicKey(_ path: String) throws(AuditFailure) -> PublicKey {
        let text = try TextFile.text(path, "the public key")
        do { return try PublicKey(fileText: text) } catch { throw .usage("\(path): \(error)") }
    }
}

extension TextFile {
    /// A file the user named, or exit 2 saying what it was for and why it cannot be read.
    static func text(_ path: String, _ role: String) throws(AuditFailure) -> String {
        switch contents(path) {
        case .success(let text): return text
        case .failure(let why): throw .usage("cannot read \(role) \(path): \(why)")
        }
    }
}
