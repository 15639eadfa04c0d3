import Dispatch
import Foundation
import LedgerAuditCore
import Synchronization

/// How a reader thread opens one member of a merged run: values only, so each thread makes its
/// own source (a PostgreSQL connection is used by the thread that opened it, nothing else).
public enum MemberSpec: Sendable {
    case file(path: String)
    /// A PostgreSQL source: a new connection that imports the snapshot the run's session for
    /// that source exported, so every pass over it reads the same snapshot.
    case postgres(conninfo: String, snapshot: String, store: StoreLocation)
    /// One of `--jobs` readers of one store: its ranges of hlc_physical, in order, each one COPY
    /// over one connection that imports the run's snapshot.
    case postgresRanges(conninfo: String, snapshot: String, store: StoreLocation, ranges: [Range<Int64>])

    func open() throws -> any EventSource {
        switch self {
        case .file(let path):
            return try FileExtractSource(path: path)
        case .postgres(let conninfo, let snapshot, let store):
            return PostgresEventSource(session: try PostgresSession(conninfo: conninfo, importingSnapshot: snapshot), store: store)
        case .postgresRanges(let conninfo, let snapshot, let store, let ranges):
            return RangeReader(session: try PostgresSession(conninfo: conninfo, importingSnapshot: snapshot), store: store, ranges: ranges)
        }
    }
}

/// A parallel reader's ranges, one after another on its one connection.
struct RangeReader: EventSource {
    let session: PostgresSession
    let store: StoreLocation
    let ranges: [Range<Int64>]

    var redactedDescription: String { "postgresql: \(session.redactedConnection)" }

    func stream(scope: ReplayScope, _ body: (SourceRow) throws -> Void) throws -> SourceReport {
        var total = SourceReport()
        // The table's column types, looked up once for all the ranges.
        let forms = try PostgresEventSource(session: session, store: store).resolvedColumnForms()
        for r in ranges {
            let report = try PostgresEventSource(session: session, store: store, hlcPhysicalRange: r, columnForms: forms).stream(scope: scope, body)
            total.rowsRead += report.rowsRead
            if total.notes.isEmpty { total.notes = report.notes }
        }
        return total
    }
}

/// Several sources (cells) read as one ledger: each member is read on its own thread, in its own
/// global order, and the rows are merged into one global order (hlc_physical, hlc_logical,
/// event_id) on the calling thread. Equal keys keep the run's source order. Each event carries
/// the index of the source that delivered it; unreadable rows name their source.
public struct MergedEventSource: EventSource {
    public struct Member: Sendable {
        /// How findings and header lines name it: `source 2 (file:cell-b.jsonl)`.
        public var name: String
        /// What the header shows (never a password).
        public var description: String
        public var spec: MemberSpec
        /// A PostgreSQL cell's highest hlc_physical in its snapshot (read when it was taken).
        public var highestInSnapshotMs: Int64?
        /// Its name in the catalog's `sources:`, which the header uses instead of its position.
        public var label: String?

        public init(name: String, description: String, spec: MemberSpec, highestInSnapshotMs: Int64? = nil, label: String? = nil) {
            self.name = name
            self.description = description
            self.spec = spec
            self.highestInSnapshotMs = highestInSnapshotMs
            self.label = label
        }
    }

    public let members: [Member]
    /// Parallel readers of one source (`--jobs`): the rows are that source's, unlabelled, and
    /// the run reports exactly what one reader would (this is its description).
    public let oneSource: String?

    public init(members: [Member]) {
        self.members = members
        oneSource = nil
    }

    public init(parallelReadersOf description: String, members: [Member]) {
        self.members = members
        oneSource = description
    }

    public var redactedDescription: String {
        oneSource ?? "\(members.count) sources merged in global order (hlc_physical, hlc_logical, event_id): " + members.map(\.name).joined(separator: "; ")
    }

    public func stream(scope: ReplayScope, _ body: (SourceRow) throws -> Void) throws -> SourceReport {
        let channels = members.map { _ in MemberChannel() }
        defer { for c in channels { c.cancel() } }
        for (i, member) in members.enumerated() {
            let channel = channels[i], spec = member.spec, name = member.name, index = UInt16(i), labels = oneSource == nil
            let thread = Thread {
                do {
                    let source = try spec.open()
                    var batch: [SourceRow] = []
                    batch.reserveCapacity(MemberChannel.batchRows)
                    var spentRows = SpentBatches<SourceRow>.Recycler(waitingMax: 2 * MemberChannel.batchRows)
                    // An extract is read whole anyway: read it unbounded and filter here, so the
                    // cut knows how far the file reaches; a database takes the bounds in its query.
                    var isFile = false
                    if case .file = spec { isFile = true }
                    var highestMs: Int64?
                    let report = try source.stream(scope: isFile ? ReplayScope() : scope) { row in
                        spentRows.releaseOne()
                        switch row {
                        case .event(var e):
                            if isFile {
                                highestMs = max(highestMs ?? e.hlcPhysicalMs, e.hlcPhysicalMs)
                                guard scope.includes(e) else { return }
                            }
                            if labels { e.sourceIndex = index }
                            batch.append(.event(e))
                        case .malformed(var m):
                            if labels { m.location = "\(name), \(m.location)" }
                            batch.append(.malformed(m))
                        }
                        if batch.count >= MemberChannel.batchRows {
                            try channel.send(batch)
                            batch.removeAll(keepingCapacity: true)
                            spentRows.collect(from: channel.spent)
                        }
                    }
                    if !batch.isEmpty { try channel.send(batch) }
                    channel.end(.success(MemberEnd(report: report, highestInFileMs: highestMs)))
                } catch {
                    channel.end(.failure(MemberFailure(description: "\(name): \(error)")))
                }
            }
            thread.name = "ledger-audit source \(i + 1)"
            thread.start()
        }

        // The merge: the head row of every member; unreadable rows go out as they come (they have
        // no place in global order), events by the smallest key.
        let n = members.count
        var batches = Array(repeating: [SourceRow](), count: n)
        var positions = Array(repeating: 0, count: n)
        var ended = Array(repeating: false, count: n)
        var ends = Array(repeating: MemberEnd(report: SourceReport(), highestInFileMs: nil), count: n)
        var highest = Array(repeating: GlobalOrderKey?.none, count: n)
        /// Whether member `i` has a row at its position, waiting for its next batch if need be.
        func hasRow(_ i: Int) throws -> Bool {
            while positions[i] >= batches[i].count {
                if ended[i] { return false }
                switch channels[i].receive() {
                case .rows(let rows):
                    channels[i].spent.giveBack(batches[i])
                    batches[i] = rows
                    positions[i] = 0
                case .end(let result):
                    ended[i] = true
                    batches[i] = []
                    positions[i] = 0
                    ends[i] = try result.get()
                }
            }
            return true
        }
        /// Brings member `i` to its next event, handing on the unreadable rows before it (they
        /// have no place in global order): that event's key, nil once the member has ended.
        /// Rows are read where they lie and handed on in place: a copy here retained each
        /// row's boxes on this core, and the reader's final release pulled them back.
        func settle(_ i: Int) throws -> GlobalOrderKey? {
            while try hasRow(i) {
                let p = positions[i]
                if let key = batches[i].withElementInPlace(at: p, { $0.globalOrderKey }) { return key }
                positions[i] += 1
                try batches[i].withElementInPlace(at: p, body)
            }
            return nil
        }
        // Each member's head key, kept until that member moves on.
        var headKeys = [GlobalOrderKey?]()
        headKeys.reserveCapacity(n)
        for i in 0..<n { headKeys.append(try settle(i)) }
        while true {
            var best = -1
            var bestKey: GlobalOrderKey?
            for i in 0..<n {
                guard let key = headKeys[i] else { continue }
                if let b = bestKey, !(key < b) { continue }
                best = i
                bestKey = key
            }
            guard best >= 0 else { break }
            let p = positions[best]
            positions[best] += 1
            highest[best] = bestKey
            try batches[best].withElementInPlace(at: p, body)
            headKeys[best] = try settle(best)
        }

        let reports = ends.map(\.report)
        var merged = SourceReport()
        if oneSource != nil {
            // One store read by several connections: what one reader reports.
            merged.rowsRead = reports.reduce(0) { $0 + $1.rowsRead }
            merged.notes = reports.first { !$0.notes.isEmpty }?.notes ?? []
            return merged
        }
        for (i, r) in reports.enumerated() {
            merged.rowsRead += r.rowsRead
            merged.reorderedFromWriteOrder = merged.reorderedFromWriteOrder || r.reorderedFromWriteOrder
            merged.byteOrderMarkSkipped = merged.byteOrderMarkSkipped || r.byteOrderMarkSkipped
            // One empty cell is as suspect as an empty store: never a clean night.
            merged.holdsNoRecords = merged.holdsNoRecords || r.holdsNoRecords
            merged.members.append(SourceMemberReport(name: members[i].label ?? "source \(i + 1)", description: members[i].description, rowsRead: r.rowsRead, notes: r.notes,
                                                     highestKey: highest[i], highestInSourceMs: ends[i].highestInFileMs ?? members[i].highestInSnapshotMs))
        }
        merged.notes.append("\(n) sources merged into one global order (hlc_physical, hlc_logical, event_id); each read on its own thread"
            + (members.contains { if case .postgres = $0.spec { return true } else { return false } } ? ", each PostgreSQL source in its own READ ONLY REPEATABLE READ snapshot, the snapshots taken one after another" : ""))
        return merged
    }
}

/// What a reader hands back at its end: its source's report, and for a file how far it reaches.
struct MemberEnd: Sendable {
    var report: SourceReport
    var highestInFileMs: Int64?
}

struct MemberFailure: Error, Sendable, CustomStringConvertible {
    var description: String
}

/// Rows from one member's reader thread to the merge: bounded (`batchesMax` × `batchRows` rows),
/// so memory does not grow with events. Sendable by construction: a mutex and semaphores.
/// Small batches for the same reason as `BatchChannel`'s: a spent row reaches its reader again
/// while still in cache.
final class MemberChannel: Sendable {
    static let batchRows = 256
    static let batchesMax = 4

    enum Item: Sendable {
        case rows([SourceRow])
        case end(Result<MemberEnd, MemberFailure>)
    }

    let items = Mutex<[Item]>([])
    /// Batches the consumer is done with, handed back so their rows are freed on the reader's
    /// thread, which allocated them.
    let spent = SpentBatches<SourceRow>()
    let cancelled = Atomic<Bool>(false)
    let ready = DispatchSemaphore(value: 0)
    let room = DispatchSemaphore(value: MemberChannel.batchesMax)

    func send(_ rows: [SourceRow]) throws {
        room.wait()
        if cancelled.load(ordering: .acquiring) { throw MemberFailure(description: "the merge stopped") }
        items.withLock { $0.append(.rows(rows)) }
        ready.signal()
    }

    /// Batches sent and not yet received.
    var queuedCount: Int { items.withLock { $0.count } }

    func end(_ result: Result<MemberEnd, MemberFailure>) {
        items.withLock { $0.append(.end(result)) }
        ready.signal()
    }

    func receive() -> Item {
        ready.wait()
        let item = items.withLock { $0.removeFirst() }
        if case .rows = item { room.signal() }
        return item
    }

    /// The merge is over (done or failed): a reader waiting for room wakes and stops.
    func cancel() {
        cancelled.store(true, ordering: .releasing)
        for _ in 0..<MemberChannel.batchesMax { room.signal() }
    }
}
