import Dispatch
import Foundation
import LedgerAuditChecks
import LedgerAuditCore
import LedgerAuditReports
import Synchronization

/// What a lane's watchers are: values only, so they can be made on the thread that runs them.
struct WatchSpec: Sendable {
    var digest: Bool
    /// Event checks to make, in registry order.
    var checkNames: [String]
    var context: CheckContext
    /// Sources merged in the run: more than one gives each its own digest too.
    var sourceCount = 1
    /// The log of the fold's table of event ids and causes, when the causation check reads its
    /// indexes from the events instead of keeping a table of its own (`DuplicateEventGuard`).
    var causeIds: EventIdLog?

    /// A check that reads each event's canonical encoding (seals) is among the checks.
    var checksReadEncoding: Bool { checkNames.contains { Checks.named($0)?.readsCanonicalEncoding ?? false } }
}

/// What the watchers hand back: the events digest and each check's result.
struct WatchResults: Sendable {
    var digestHex: String?
    var checks: [CheckResult]
    var sourceDigestsHex: [String] = []
}

/// The events digest and the event checks of one lane, on whichever thread made them.
final class LaneWatchers {
    let digest: EventsDigest?
    let checks: [any Check]
    var logs: [FindingLog]

    init(_ spec: WatchSpec) {
        let checks: [any Check] = spec.checkNames.compactMap { Checks.named($0) }.map { $0.init(context: spec.context) }
        let canonicalReaders = checks.filter { type(of: $0).readsCanonicalEncoding }
        // Seal leaves are the canonical encoding the digest makes anyway: one encoding an event.
        digest = spec.digest || !canonicalReaders.isEmpty ? EventsDigest(sourceCount: spec.sourceCount) : nil
        digest?.sinks = canonicalReaders.map(CanonicalToCheck.init)
        self.checks = checks
        logs = Array(repeating: FindingLog(), count: checks.count)
        // The duplicate-command check keeps first events as indexes into the causation check's
        // table, which must then see each event before it (each check's findings are its own log,
        // so the order of the calls changes no result).
        var order = Array(checks.indices)
        let c = checks.firstIndex { $0 is CausationCheck }
        if let c, let causeIds = spec.causeIds { (checks[c] as! CausationCheck).readFoldIndexes(causeIds) }
        if let c, let d = checks.firstIndex(where: { $0 is DuplicateCommandCheck }) {
            (checks[d] as! DuplicateCommandCheck).sharedIds = (checks[c] as! CausationCheck)
            order.removeAll { $0 == c }
            order.insert(c, at: 0)
        }
        observeOrder = order
        prefetchers = checks.indices.filter { type(of: checks[$0]).prefetchesMemory }
    }

    /// The checks that give prefetch hints (`Check.prefetch`).
    let prefetchers: [Int]
    static let prefetchRunEvents = 16

    /// The order checks see each event in (registry order, but the causation check first).
    let observeOrder: [Int]

    func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting]) {
        var taken = takeLogs()
        observe(event, outcome: outcome, applied: applied, logs: &taken)
        logs = taken
    }

    /// A worker's batch: the logs are taken out of the object once for all its events. Each
    /// `&logs[i]` on the stored property was a run-time exclusivity check, one a check an
    /// event (~8 an event in verify, 650 instructions).
    func observe(_ batch: inout [ObservedEvent]) {
        var taken = takeLogs()
        guard !prefetchers.isEmpty else {
            batch.forEachInPlace { item in observe(item.event, outcome: item.outcome, applied: item.applied, logs: &taken) }
            logs = taken
            return
        }
        // The ids read in place (copying an event out would retain its texts).
        let keys = batch.withUnsafeBufferPointer { items in
            (0..<items.count).map { j in
                PrefetchKeys(eventId: items[j].event.eventId, causationId: items[j].event.causationId, aggregateId: items[j].event.aggregateId,
                             causeIdIndex: items[j].event.causeIdIndex)
            }
        }
        // In runs of 16 events: while run r is observed, run r + 1's entries and run r + 2's
        // slots are asked for. Close enough ahead that the lines are still in cache when used,
        // far enough that they have arrived.
        let run = Self.prefetchRunEvents
        keys.withUnsafeBufferPointer { keys in
            func hint(_ r: Int, _ stage: PrefetchStage) {
                let start = r * run
                guard start < keys.count else { return }
                let events = UnsafeBufferPointer(rebasing: keys[start..<min(start + run, keys.count)])
                for i in prefetchers { checks[i].prefetch(events, stage: stage) }
            }
            hint(0, .slots)
            hint(1, .slots)
            hint(0, .entries)
            var next = 0
            batch.forEachInPlace { item in
                if next % run == 0 {
                    hint(next / run + 2, .slots)
                    hint(next / run + 1, .entries)
                }
                next += 1
                observe(item.event, outcome: item.outcome, applied: item.applied, logs: &taken)
            }
        }
        logs = taken
    }

    /// The logs, moved out (the stored array left empty, so the local copy is the only one and
    /// is written in place); put back by the caller.
    private func takeLogs() -> [FindingLog] {
        var taken: [FindingLog] = []
        swap(&taken, &logs)
        return taken
    }

    private func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], logs: inout [FindingLog]) {
        // Not through `observe`: an empty finding log made and let go an event was ~0.5% of the fold's thread.
        digest?.add(event)
        for i in observeOrder { checks[i].observe(event, outcome: outcome, applied: applied, findings: &logs[i]) }
    }

    func finish(book: BalanceBook) throws -> WatchResults {
        var results: [CheckResult] = []
        for i in checks.indices { results.append(try checks[i].result(CheckEnd(book: book), findings: logs[i])) }
        return WatchResults(digestHex: digest?.hexDigest(), checks: results, sourceDigestsHex: digest?.sourceHexDigests() ?? [])
    }
}

/// Hands the digest's canonical bytes to a check that reads them.
final class CanonicalToCheck: CanonicalEventSink {
    let check: any Check
    init(_ check: any Check) { self.check = check }
    func canonical(_ bytes: UnsafeRawBufferPointer, event: EventRecord) { check.canonical(bytes, event: event) }
}

/// The watchers of a lane as the fold sees them: inline, or on a worker thread.
protocol LaneWatch: ReplayObserver {
    /// After the fold has finished.
    func results() throws -> WatchResults
    /// The events digest when it runs on the fold's thread (a lane riding on this one copies it).
    var inlineDigest: EventsDigest? { get }
}

extension LaneWatch {
    var inlineDigest: EventsDigest? { nil }
}

/// Inline: the digest alone costs less than handing events to another core, which the
/// PostgreSQL server needs (measured: 14.7 s against 10.9 s for `balances` at 2M events).
final class InlineWatch: LaneWatch {
    let watchers: LaneWatchers
    var finished: Result<WatchResults, Error>?

    init(_ spec: WatchSpec, extraSinks: [any CanonicalEventSink] = []) {
        watchers = LaneWatchers(spec)
        watchers.digest?.sinks += extraSinks
    }

    var inlineDigest: EventsDigest? { watchers.digest }

    func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog) {
        watchers.observe(event, outcome: outcome, applied: applied)
    }

    func finish(book: BalanceBook, findings: inout FindingLog) {
        finished = Result { try watchers.finish(book: book) }
    }

    func results() throws -> WatchResults {
        guard let finished else { preconditionFailure("results before the fold finished") }
        return try finished.get()
    }
}

/// One event as the worker sees it: values only.
struct ObservedEvent: Sendable {
    var event: EventRecord
    var outcome: PostingOutcome
    var applied: [AppliedPosting]
}

/// The queue between the fold and the worker: bounded (`batchesMax` × `batchEvents` events),
/// so memory does not grow with events. Sendable by construction: a mutex and semaphores.
/// An event queued holds ~1 KB (its texts and canonical encoding): 16 batches of 256 are ~4 MB.
/// With 4, a worker's short waits (a table growing, a page fault, a writer in the kernel)
/// stopped the fold and then the server: PostgreSQL `verify` at 10M events took 49.5–52.3 s
/// with 4 batches, 46.5–47.0 s with 16 and 46.5–47.6 s with 32 (interleaved; ~4 MB more peak).
/// Batches are small so that a spent event comes back to the fold while its lines are still in
/// cache: with 2,048 an event, letting go of spent events (their texts' last releases and frees)
/// took ~16% of the fold's thread, with 256 ~6% (PostgreSQL `verify` at 2M events).
final class BatchChannel: Sendable {
    static let batchEvents = 256
    static let batchesMax = 16

    let batches = Mutex<[[ObservedEvent]]>([])
    /// Batches the worker is done with, handed back so their events are freed on the fold's
    /// thread, which allocated them.
    let spent = SpentBatches<ObservedEvent>()
    let closingBook = Mutex<BalanceBook?>(nil)
    let outcome = Mutex<Result<WatchResults, WorkerFailure>?>(nil)
    let ready = DispatchSemaphore(value: 0)
    let room = DispatchSemaphore(value: BatchChannel.batchesMax)
    let done = DispatchSemaphore(value: 0)
}

extension BatchChannel {
    /// The worker's side: each batch in order, until a wake-up finds none queued (the close).
    func drain(_ body: (inout [ObservedEvent]) -> Void) {
        while true {
            ready.wait()
            guard var items = batches.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { return }
            room.signal()
            body(&items)
            spent.giveBack(items)
        }
    }
}

/// The fold's side of a `BatchChannel`: events gathered into batches, each handed over when
/// full (waiting while `batchesMax` are queued), the last one at `flush`.
struct BatchFeed {
    let channel: BatchChannel
    /// Whether the worker reads the events' canonical encoding (a digest does; writers do not):
    /// else a record's ready-made encoding is not carried through the queue, whose events would
    /// hold ~600 bytes more each (measured: 34 MiB more in an evidence pack at 2M events).
    let carriesCanonicalEncoding: Bool
    private var batch: [ObservedEvent] = []
    /// Events the worker is done with, let go one an append (a whole batch freed at once
    /// overflows glibc's per-thread cache). At most two batches wait.
    private var recycling = SpentBatches<ObservedEvent>.Recycler(waitingMax: 2 * BatchChannel.batchEvents)

    init(_ channel: BatchChannel, carriesCanonicalEncoding: Bool) {
        self.channel = channel
        self.carriesCanonicalEncoding = carriesCanonicalEncoding
        batch.reserveCapacity(BatchChannel.batchEvents)
    }

    mutating func append(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting]) {
        recycling.releaseOne()
        var observed = ObservedEvent(event: event, outcome: outcome, applied: applied)
        if !carriesCanonicalEncoding { observed.event.canonicalEncoding = nil }
        batch.append(observed)
        if batch.count >= BatchChannel.batchEvents { send() }
    }

    mutating func flush() { if !batch.isEmpty { send() } }

    private mutating func send() {
        // The worker's spent batches come back to the thread that made their events.
        recycling.collect(from: channel.spent)
        let items = batch
        batch = []
        batch.reserveCapacity(BatchChannel.batchEvents)
        channel.room.wait()
        channel.batches.withLock { $0.append(items) }
        channel.ready.signal()
    }
}

struct WorkerFailure: Error, Sendable, CustomStringConvertible {
    var description: String
}

/// On a second core: the checks of verify and reconcile are CPU-bound in the client, so they
/// and the digest run on a worker fed value-typed batches while the fold goes on. Each watcher
/// still sees every event in global order, so results equal the inline ones (tested). The
/// watchers are made on the worker from a value spec; only values cross between the threads.
final class WorkerWatch: LaneWatch {
    let channel = BatchChannel()
    var feed: BatchFeed
    var closed = false

    init(_ spec: WatchSpec) {
        feed = BatchFeed(channel, carriesCanonicalEncoding: spec.digest || spec.checksReadEncoding)
        let channel = self.channel
        let thread = Thread {
            let watchers = LaneWatchers(spec)
            channel.drain { items in watchers.observe(&items) }
            let book = channel.closingBook.withLock { $0 } ?? BalanceBook()
            let result: Result<WatchResults, WorkerFailure>
            do { result = .success(try watchers.finish(book: book)) } catch { result = .failure(WorkerFailure(description: "\(error)")) }
            channel.outcome.withLock { $0 = result }
            channel.done.signal()
        }
        thread.name = "ledger-audit checks"
        thread.start()
    }

    func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog) {
        feed.append(event, outcome: outcome, applied: applied)
    }

    func finish(book: BalanceBook, findings: inout FindingLog) {
        feed.flush()
        close(book)
        channel.done.wait()
    }

    func close(_ book: BalanceBook) {
        closed = true
        channel.closingBook.withLock { $0 = book }
        channel.ready.signal()
    }

    /// A run that failed mid-way still lets its worker end.
    deinit { if !closed { close(BalanceBook()) } }

    func results() throws -> WatchResults {
        guard let outcome = channel.outcome.withLock({ $0 }) else { preconditionFailure("results before the worker finished") }
        return try outcome.get()
    }
}

/// The digest inline and the checks on a worker (`Lane.start` says when): their results as one.
final class SplitWatch: LaneWatch {
    let inline: InlineWatch
    let worker: WorkerWatch

    init(inline: InlineWatch, worker: WorkerWatch) {
        self.inline = inline
        self.worker = worker
    }

    var inlineDigest: EventsDigest? { inline.inlineDigest }

    func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog) {
        worker.observe(event, outcome: outcome, applied: applied, findings: &findings)
        inline.observe(event, outcome: outcome, applied: applied, findings: &findings)
    }

    func finish(book: BalanceBook, findings: inout FindingLog) {
        inline.finish(book: book, findings: &findings)
        worker.finish(book: book, findings: &findings)
    }

    func results() throws -> WatchResults {
        var results = try worker.results()
        let digest = try inline.results()
        results.digestHex = digest.digestHex
        results.sourceDigestsHex = digest.sourceDigestsHex
        return results
    }
}
