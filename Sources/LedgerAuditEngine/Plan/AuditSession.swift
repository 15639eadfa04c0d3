import Foundation
import LedgerAuditConfig
import LedgerAuditCore
import LedgerAuditReports
import LedgerAuditSources

/// The catalog in force, and where it came from (for the report header).
public struct LoadedCatalog: Sendable {
    public var catalog: Catalog
    public var file: String
    public var text: String

    public init(catalog: Catalog, file: String, text: String) {
        self.catalog = catalog
        self.file = file
        self.text = text
    }

    /// `--config FILE`, or the built-in reference catalog.
    public static func load(_ path: String?) throws(AuditFailure) -> LoadedCatalog {
        guard let path else {
            return LoadedCatalog(catalog: CatalogLoader.reference(), file: "(built-in reference catalog)", text: ReferenceCatalog.yaml)
        }
        let text = try TextFile.text(path, "the catalog")
        do {
            return LoadedCatalog(catalog: try CatalogLoader.load(yaml: text, file: path), file: path, text: text)
        } catch {
            throw .usage("configuration error: \(error.description)")
        }
    }
}

/// How the run is produced, for every report header: passed down, never global.
public struct RunFacts: Sendable {
    public var toolVersion: String
    public var gitRevision: String
    public var runBy: String
    /// Wall clock, µs since the epoch (generated-at, limbo ages when no --as-of).
    public var clockUs: @Sendable () -> Int64

    public init(toolVersion: String, gitRevision: String, runBy: String, clockUs: @escaping @Sendable () -> Int64) {
        self.toolVersion = toolVersion
        self.gitRevision = gitRevision
        self.runBy = runBy
        self.clockUs = clockUs
    }

    /// The facts of this process: the OS user, the git revision the binary was built from
    /// (LEDGER_AUDIT_GIT_REVISION when packaged, else the checkout holding the binary), and the
    /// wall clock, or `SOURCE_DATE_EPOCH` (seconds) when set, for reproducible reports.
    public static func ofThisProcess(toolVersion: String = AuditEngine.toolVersion) -> RunFacts {
        var clock: @Sendable () -> Int64 = wallClockUs
        if let text = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"], let seconds = Int64(text),
           case let (us, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000), !overflow {
            clock = { us }
        }
        return RunFacts(toolVersion: toolVersion, gitRevision: gitRevision(), runBy: osUser(), clockUs: clock)
    }

    public static func osUser() -> String {
        if let pw = getpwuid(geteuid()), let name = pw.pointee.pw_name { return String(cString: name) }
        return ProcessInfo.processInfo.environment["USER"] ?? "uid \(geteuid())"
    }

    static func gitRevision() -> String {
        if let v = ProcessInfo.processInfo.environment["LEDGER_AUDIT_GIT_REVISION"], !v.isEmpty { return v }
        let binaryDir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
        guard let head = git(["-C", binaryDir, "rev-parse", "HEAD"]) else { return "unknown" }
        let dirty = git(["-C", binaryDir, "status", "--porcelain", "--untracked-files=no"]).map { !$0.isEmpty } ?? false
        return head + (dirty ? "-dirty" : "")
    }

    /// `git ARGUMENTS`' standard output, or nil when git is missing or fails. Spawned and
    /// waited for directly: Foundation's `Process.waitUntilExit` polls its run loop every 50 ms,
    /// which made the two calls cost ~110 ms of every run's wall time (git itself takes ~2 ms).
    static func git(_ arguments: [String]) -> String? {
        var pipe: [Int32] = [0, 0]
        guard Glibc.pipe(&pipe) == 0 else { return nil }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipe[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addclose(&actions, pipe[0])
        posix_spawn_file_actions_addclose(&actions, pipe[1])
        let argv = (["git"] + arguments).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/usr/bin/git", &actions, nil, argv, environ)
        close(pipe[1])
        defer { close(pipe[0]) }
        guard spawned == 0 else { return nil }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(pipe[0], $0.baseAddress, $0.count) }
            if n > 0 { output.append(contentsOf: buffer[0..<n]); continue }
            if n < 0, errno == EINTR { continue }
            break
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 { guard errno == EINTR else { return nil } }
        // Exited normally (low 7 bits 0) with status 0.
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else { return nil }
        return String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

public func wallClockUs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
}

public func monotonicMs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

/// One audit run's world: the catalog, the opened source and the one snapshot every read of the
/// run shares (for PostgreSQL, the session's `REPEATABLE READ READ ONLY` transaction: events,
/// projections, checkpoints, the command registry and the database catalogs all come from it),
/// and the run facts.
public final class AuditSession {
    public let catalog: LoadedCatalog
    public let source: any EventSource
    /// The PostgreSQL session holding the snapshot, when the source is a database.
    public let database: PostgresSession?
    public let facts: RunFacts
    /// Extracts may hold an event twice; a database's primary key rules out all but adjacent copies.
    public let eventIdsMayRepeat: Bool
    /// When the session was opened (monotonic ms), for the nightly job's duration metric.
    public let startedMs = monotonicMs()
    /// With several sources merged: how findings and the header name each (empty for one source).
    public let sourceNames: [String]
    /// The sessions whose exported snapshots the merged source's readers import: kept open for
    /// the run, and read for each cell's projections and database catalogs.
    let snapshotHolders: [PostgresSession]
    let snapshotHolderNames: [String]

    /// The databases whose catalogs the store checks read, each with the name findings give it.
    var storeCatalogs: [(name: String?, store: any StoreCatalog)] {
        if let database { return [(nil, database)] }
        return zip(snapshotHolderNames, snapshotHolders).map { ($0.0, $0.1 as any StoreCatalog) }
    }

    public init(catalog: LoadedCatalog, source: any EventSource, database: PostgresSession? = nil, facts: RunFacts, eventIdsMayRepeat: Bool = true,
                sourceNames: [String] = [], snapshotHolders: [PostgresSession] = [], snapshotHolderNames: [String] = []) {
        self.catalog = catalog
        self.source = source
        self.database = database
        self.facts = facts
        self.eventIdsMayRepeat = eventIdsMayRepeat
        self.sourceNames = sourceNames
        self.snapshotHolders = snapshotHolders
        self.snapshotHolderNames = snapshotHolderNames
    }

    /// One source of the run, resolved: where it is, the table it keeps (the catalog's `store:`
    /// unless its `sources:` entry names another) and its catalog name, if it has one.
    struct RunSource {
        var location: LocatedSource
        var store: StoreLocation
        var label: String?
    }

    /// `--source` texts, each the name of a catalog source or located as `SourceLocator` says;
    /// none: the catalog's `sources:`, else libpq's defaults.
    static func resolve(_ texts: [String], catalog: Catalog) throws(AuditFailure) -> [RunSource] {
        if texts.isEmpty && catalog.sources.isEmpty { return [RunSource(location: .postgres(""), store: catalog.store, label: nil)] }
        if texts.isEmpty { return try catalog.sources.map { (s) throws(AuditFailure) in try resolve(s, catalog: catalog) } }
        var out: [RunSource] = []
        for text in texts {
            if let named = catalog.sources.first(where: { $0.name == text }) {
                out.append(try resolve(named, catalog: catalog))
                continue
            }
            do { out.append(RunSource(location: try SourceLocator.locate(text), store: catalog.store, label: nil)) } catch { throw .usage(error.description) }
        }
        return out
    }

    static func resolve(_ source: CatalogSource, catalog: Catalog) throws(AuditFailure) -> RunSource {
        var store = catalog.store
        if let schema = source.schema { store.schema = schema }
        if let table = source.table { store.table = table }
        let location: LocatedSource
        switch source.location {
        case .file(let path): location = .file(path)
        case .connection(let conninfo):
            // The catalog is copied into every evidence pack (catalog.yml): no secret may live in it.
            guard !SourceLocator.carriesPassword(conninfo) else {
                throw .usage("configuration error: sources: \(source.name): the connection holds a password, and the catalog is copied into every evidence pack; keep the password in ~/.pgpass (or PGPASSFILE), or give the whole connection in an environment variable with connection_env")
            }
            location = .postgres(conninfo)
        case .connectionFromEnvironment(let variable):
            guard let raw = getenv(variable), case let conninfo = String(cString: raw), !conninfo.isEmpty else {
                throw .usage("configuration error: sources: \(source.name): connection_env names \(variable), which is not set (or empty) in this environment")
            }
            location = .postgres(conninfo)
        }
        return RunSource(location: location, store: store, label: source.name)
    }

    /// Opens every source of the run: one as `open(source:)` does; several (cells) as one
    /// merged source, each PostgreSQL member in its own snapshot, the snapshots taken one right
    /// after another once every connection is up.
    public static func open(sources texts: [String], catalog: LoadedCatalog, facts: RunFacts, readers: ReaderCount = .exactly(1)) throws(AuditFailure) -> AuditSession {
        let resolved = try resolve(texts, catalog: catalog.catalog)
        guard resolved.count <= Limits.mergedSourcesMax else { throw .usage("\(resolved.count) sources in one run, more than \(Limits.mergedSourcesMax)") }
        if case .exactly(let jobs) = readers, jobs > 1 {
            guard resolved.count == 1 else { throw .usage("--jobs is for one PostgreSQL source; several sources are each read by a reader of their own") }
            return try openParallel(resolved[0], jobs: jobs, catalog: catalog, facts: facts)
        }
        guard resolved.count > 1 else { return try open(resolved[0], catalog: catalog, facts: facts, automaticReaders: readers == .auto) }
        guard catalog.catalog.store.mapping == nil else {
            throw .usage("several sources: merging needs the reference layout's global order (hlc_physical, hlc_logical, event_id); the catalog lays out another store (store.fields), whose order is its own")
        }
        var seen = Set<LocatedSource>()
        for r in resolved where !seen.insert(r.location).inserted {
            // Never the connection text itself: it may hold a password.
            let what: String
            if case .file(let path) = r.location { what = path } else { what = "one PostgreSQL connection string" }
            throw .usage("the run names the same source twice (\(what)): its events would be counted twice")
        }
        var sessions: [Int: (PostgresSession, String)] = [:]
        for (i, r) in resolved.enumerated() {
            switch r.location {
            case .file(let path):
                guard FileExtractSource.kind(of: path) != nil else {
                    throw .usage("--source \(path): cannot tell the format of the extract; name it \(FileExtractSource.formatsNamed)")
                }
            case .postgres(let conninfo):
                do { sessions[i] = (try PostgresSession(conninfo: conninfo), conninfo) } catch { throw .source(error.description) }
            }
        }
        // Every connection is up: the snapshots now, back to back, as close together as they can be.
        var snapshots: [Int: String] = [:]
        for i in sessions.keys.sorted() {
            do { snapshots[i] = try sessions[i]!.0.exportSnapshot() } catch { throw .source(error.description) }
        }
        // How far each PostgreSQL cell has got, in its own snapshot: for the consistent cut.
        var highest: [Int: Int64] = [:]
        for i in sessions.keys.sorted() {
            let sql = "SELECT max(hlc_physical)::int8 FROM " + resolved[i].store.quotedTableName
            do {
                if let text = try sessions[i]!.0.query(sql, []).first?.first ?? nil, let ms = Int64(text) { highest[i] = ms }
            } catch { throw .source(error.description) }
        }
        var members: [MergedEventSource.Member] = []
        for (i, r) in resolved.enumerated() {
            let label = r.label ?? "source \(i + 1)"
            switch r.location {
            case .file(let path):
                let kind = FileExtractSource.kind(of: path)!
                members.append(.init(name: "\(label) (file:\(path))", description: "file:\(path) (\(kind.rawValue) extract)", spec: .file(path: path), label: r.label))
            case .postgres:
                let (session, conninfo) = sessions[i]!
                members.append(.init(name: "\(label) (postgresql: \(session.redactedConnection))",
                                     description: "postgresql: \(session.redactedConnection), table \(r.store.quotedTableName), snapshot \(snapshots[i]!)",
                                     spec: .postgres(conninfo: conninfo, snapshot: snapshots[i]!, store: r.store), highestInSnapshotMs: highest[i], label: r.label))
            }
        }
        return AuditSession(catalog: catalog, source: MergedEventSource(members: members), database: nil, facts: facts,
                            eventIdsMayRepeat: true, sourceNames: members.map(\.name), snapshotHolders: sessions.keys.sorted().map { sessions[$0]!.0 },
                            snapshotHolderNames: sessions.keys.sorted().map { members[$0].name })
    }

    /// The catalog as one source of the run sees it: its own table where its entry names one.
    static func catalog(_ catalog: LoadedCatalog, for source: RunSource) -> LoadedCatalog {
        var c = catalog
        c.catalog.store = source.store
        return c
    }

    /// `--jobs N` on one PostgreSQL store, as `pg_dump -j` reads one: the run's session exports
    /// its snapshot, N connections import it and read disjoint ranges of hlc_physical (many small
    /// ones, dealt round-robin, so every reader has the next range ready while the one before is
    /// folded), decoding on N threads; the rows merge back into the one global order.
    static func openParallel(_ source: RunSource, jobs: Int, catalog all: LoadedCatalog, facts: RunFacts) throws(AuditFailure) -> AuditSession {
        let catalog = Self.catalog(all, for: source)
        guard case .postgres(let conninfo) = source.location else { throw .usage("--jobs reads a PostgreSQL store with several connections; a file extract is read by one reader") }
        guard catalog.catalog.store.mapping == nil else { throw .usage("--jobs needs the reference layout's hlc_physical to split the store; this catalog lays out another store (store.fields)") }
        do {
            return try parallel(session: try PostgresSession(conninfo: conninfo), conninfo: conninfo, jobs: jobs, catalog: catalog, facts: facts)
        } catch {
            throw .source(error.description)
        }
    }

    static func parallel(session: PostgresSession, conninfo: String, jobs: Int, catalog: LoadedCatalog, facts: RunFacts) throws(SourceError) -> AuditSession {
        let store = catalog.catalog.store
        do {
            let snapshot = try session.exportSnapshot()
            let one = PostgresEventSource(session: session, store: store)
            let row = try session.query("SELECT min(hlc_physical)::int8, max(hlc_physical)::int8, count(*)::int8 FROM " + store.quotedTableName, []).first ?? []
            let idsMayRepeat = try !eventIdIsUnique(in: store, session: session)
            guard row.count == 3, let lo = row[0].flatMap({ Int64($0) }), let hi = row[1].flatMap({ Int64($0) }), let count = row[2].flatMap({ Int64($0) }) else {
                return AuditSession(catalog: catalog, source: one, database: session, facts: facts, eventIdsMayRepeat: idsMayRepeat)
            }
            // Small ranges need an index led by hlc_physical (each range is then an index range
            // scan); without one every range is a scan of the whole table, so each reader gets
            // one contiguous range (measured: 122 small ranges over 1M events without the index
            // took 7x one reader).
            let indexed = try session.query("""
                SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                               WHERE i.indrelid = $1::regclass AND a.attname = 'hlc_physical')
                """, [store.quotedTableName]).first?.first ?? nil
            let small = Int((count + Int64(Limits.parallelRangeRows) - 1) / Int64(Limits.parallelRangeRows))
            let chunks = Int64(indexed == "t" ? max(jobs, min(Limits.parallelRangesMax, small)) : jobs)
            let span = hi - lo + 1
            let width = max(1, (span + chunks - 1) / chunks)
            var shares = Array(repeating: [Range<Int64>](), count: jobs)
            var start = lo, k = 0
            while start <= hi {
                let end = start > hi - width ? hi + 1 : start + width
                shares[k % jobs].append(start..<end)
                start = end
                k += 1
            }
            let members = shares.enumerated().map { i, ranges in
                MergedEventSource.Member(name: "reader \(i + 1)", description: one.redactedDescription,
                                         spec: .postgresRanges(conninfo: conninfo, snapshot: snapshot, store: store, ranges: ranges))
            }
            return AuditSession(catalog: catalog, source: MergedEventSource(parallelReadersOf: one.redactedDescription, members: members),
                                database: session, facts: facts, eventIdsMayRepeat: idsMayRepeat)
        }
    }

    /// Whether the server itself keeps the reference table's event ids unique: a valid unique
    /// index (or primary key) on event_id alone, without a predicate. Only then may the fold
    /// skip remembering every id; a table created without the key could hold a repeated id
    /// with another hlc, which would otherwise be posted twice.
    public static func eventIdIsUnique(in store: StoreLocation, session: PostgresSession) throws(SourceError) -> Bool {
        let answer = try session.query("""
            SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                           WHERE i.indrelid = $1::regclass AND i.indisunique AND i.indisvalid AND i.indnkeyatts = 1
                             AND i.indpred IS NULL AND a.attname = 'event_id')
            """, [store.quotedTableName]).first?.first ?? nil
        return answer == "t"
    }

    /// Opens `--source` as `SourceLocator` names it. `automaticReaders`: a reference-layout
    /// PostgreSQL store is read by `ReaderCount.automatic` readers (one per core when the server
    /// is on another machine).
    public static func open(source text: String?, catalog: LoadedCatalog, facts: RunFacts, automaticReaders: Bool = false) throws(AuditFailure) -> AuditSession {
        let location: LocatedSource
        do { location = try SourceLocator.locate(text) } catch { throw .usage(error.description) }
        return try open(RunSource(location: location, store: catalog.catalog.store, label: nil), catalog: catalog, facts: facts, automaticReaders: automaticReaders)
    }

    static func open(_ source: RunSource, catalog all: LoadedCatalog, facts: RunFacts, automaticReaders: Bool) throws(AuditFailure) -> AuditSession {
        let catalog = Self.catalog(all, for: source)
        switch source.location {
        case .file(let path):
            if catalog.catalog.store.mapping != nil {
                throw .usage("--source \(path): the catalog lays out a store other than the reference table (store.fields), which is read from PostgreSQL; extracts carry the reference columns (auction-ledger.md)")
            }
            guard FileExtractSource.kind(of: path) != nil else {
                throw .usage("--source \(path): cannot tell the format of the extract; name it \(FileExtractSource.formatsNamed)")
            }
            do {
                let file = try FileExtractSource(path: path)
                let source: any EventSource = ReadAheadSource.pays(cores: ReaderCount.coresOnline) ? ReadAheadSource(file) : file
                return AuditSession(catalog: catalog, source: source, facts: facts, eventIdsMayRepeat: true)
            } catch {
                throw .source(error.description)
            }
        case .postgres(let conninfo):
            do {
                let session = try PostgresSession(conninfo: conninfo)
                let store = catalog.catalog.store
                if automaticReaders, store.mapping == nil {
                    let jobs = ReaderCount.automatic(cores: ReaderCount.coresOnline, serverSharesThisMachine: session.serverSharesThisMachine)
                    if jobs > 1 { return try parallel(session: session, conninfo: conninfo, jobs: jobs, catalog: catalog, facts: facts) }
                }
                let source: any EventSource = store.mapping.map { MappedStoreSource(session: session, store: store, mapping: $0) }
                    ?? PostgresEventSource(session: session, store: store)
                // A mapped store's ids may repeat (no primary key is assumed); the reference
                // table's may only when the server does not keep them unique.
                let idsMayRepeat = store.mapping == nil ? try !eventIdIsUnique(in: store, session: session) : true
                return AuditSession(catalog: catalog, source: source, database: session, facts: facts, eventIdsMayRepeat: idsMayRepeat)
            } catch {
                throw .source(error.description)
            }
        }
    }
}

/// How many connections read one PostgreSQL store (`--jobs`).
public enum ReaderCount: Equatable, Sendable {
    /// `--jobs` not given: `automatic(cores:serverSharesThisMachine:)` readers for one
    /// reference-layout PostgreSQL store, one reader for anything else.
    case auto
    case exactly(Int)

    /// One reader per core, when the server runs elsewhere. On the same machine its backends
    /// share the client's cores, and measured here (2 cores) more readers only competed for them.
    public static func automatic(cores: Int, serverSharesThisMachine: Bool) -> Int {
        serverSharesThisMachine ? 1 : max(1, min(cores, Limits.parallelReadersMax))
    }

    public static var coresOnline: Int { ReadAheadSource.coresOnline }
}
