import Foundation
import LedgerAuditCore

/// Runs observers (the events digest, the checks) on a worker thread, fed in batches, while the
/// fold goes on: the replay's client work is split over two cores. Each observer still sees
/// every event in global order, so results are identical to running them inline. The queue is
/// bounded (`batchesMax` × `batchEvents`), so memory does not grow with events. Observers that
/// need the book at an instant (`willFold`) must stay inline.
public final class ObserverWorker: ReplayObserver, @unchecked Sendable {
    struct Item {
        var event: EventRecord
        var outcome: PostingOutcome
        var applied: [AppliedPosting]
    }

    static let batchEvents = 2048
    static let batchesMax = 8

    let observers: [any ReplayObserver]
    let condition = NSCondition()
    var queue: [[Item]] = []
    var closed = false
    var done = false
    var batch: [Item] = []
    var findings = FindingLog()
    var finalBook: BalanceBook?
    var thread: Thread?

    public init(_ observers: [any ReplayObserver]) {
        self.observers = observers
        batch.reserveCapacity(ObserverWorker.batchEvents)
        let t = Thread { [unowned self] in self.work() }
        t.name = "ledger-audit observers"
        thread = t
        t.start()
    }

    public func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog) {
        batch.append(Item(event: event, outcome: outcome, applied: applied))
        if batch.count >= ObserverWorker.batchEvents { hand(batch); batch = []; batch.reserveCapacity(ObserverWorker.batchEvents) }
    }

    func hand(_ items: [Item]) {
        condition.lock()
        while queue.count >= ObserverWorker.batchesMax { condition.wait() }
        queue.append(items)
        condition.signal()
        condition.unlock()
    }

    /// Drains the queue, lets the observers finish, and merges their findings.
    public func finish(book: BalanceBook, findings out: inout FindingLog) {
        if !batch.isEmpty { hand(batch); batch = [] }
        condition.lock()
        finalBook = book
        closed = true
        condition.broadcast()
        while !done { condition.wait() }
        condition.unlock()
        for f in findings.kept { out.append(f) }
        out.addUnlisted(findings)
    }

    func work() {
        while true {
            condition.lock()
            while queue.isEmpty && !closed { condition.wait() }
            if queue.isEmpty && closed {
                let book = finalBook ?? BalanceBook()
                condition.unlock()
                for o in observers { o.finish(book: book, findings: &findings) }
                condition.lock()
                done = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let items = queue.removeFirst()
            condition.signal()
            condition.unlock()
            for item in items {
                for o in observers { o.observe(item.event, outcome: item.outcome, applied: item.applied, findings: &findings) }
            }
        }
    }
}
