import Foundation
import LedgerAuditCore

/// The report writers of a lane (journal, ADS GL detail, an evidence pack's population extract)
/// on a thread of their own: they only turn each event into lines of their own file, so the
/// fold hands them the same value-typed batches the checks worker gets and goes on reading.
/// `finish` (the fold's end) waits until every line is written; only then does the run read
/// the writers again (their counts, failures, commit).
final class WriterWorker: ReplayObserver {
    /// The writers, touched only by the worker thread until `finish` has waited for it. The
    /// thread takes them out and lets go before it signals the end: a writer's last reference
    /// then always drops on the run's own thread, so a failed run's partial files are removed
    /// (`AtomicFile.deinit`) before the process exits, never left to a thread still tearing down.
    final class Writers: @unchecked Sendable {
        var observers: [any ReplayObserver]?
        init(_ observers: [any ReplayObserver]) { self.observers = observers }
    }

    let channel = BatchChannel()
    var feed: BatchFeed
    var closed = false

    init(_ writers: [any ReplayObserver]) {
        feed = BatchFeed(channel, carriesCanonicalEncoding: false)
        let channel = self.channel, box = Writers(writers)
        let thread = Thread {
            do {
                let writers = box.observers ?? []
                box.observers = nil
                // Writers add no findings (their failures are their own, reported at commit).
                var unused = FindingLog()
                // Each event handed to every writer borrowed, never copied (a copy retains its boxes).
                channel.drain { items in
                    items.forEachInPlace { item in
                        for writer in writers { writer.observe(item.event, outcome: item.outcome, applied: item.applied, findings: &unused) }
                    }
                }
            }
            channel.done.signal()
        }
        thread.name = "ledger-audit writers"
        thread.start()
    }

    func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog) {
        feed.append(event, outcome: outcome, applied: applied)
    }

    func finish(book: BalanceBook, findings: inout FindingLog) {
        feed.flush()
        close()
        channel.done.wait()
    }

    /// An empty wake-up with no batch left: the thread ends.
    func close() {
        closed = true
        channel.ready.signal()
    }

    /// A run that failed mid-way still lets its thread end (the writers' files are never committed).
    deinit {
        if !closed {
            close()
            channel.done.wait()
        }
    }
}
