/// Provenance: money followed through accounts as lots. Each account (per currency) holds a
/// queue of lots; each lot remembers the event and account it entered the ledger from (a
/// deposit, for the reference ledger) and the accounts it passed through. A posting takes lots
/// from its source account, first in first out (or last in first out), splitting the last one,
/// and appends them to its destination. An account that pays out more than it holds in lots
/// (`external:deposits`, which may go negative) issues a new lot for the shortfall, whose
/// origin is that event; the shortfall is the account's deficit. Conservation per lot: for
/// every account, lots − deficit = balance. Memory grows with lots outstanding, not events.
public final class LotBook: ReplayObserver {
    public enum Order: String, Sendable, CaseIterable {
        case fifo, lifo
    }

    public struct Lot: Sendable, Equatable {
        public var originEventId: EventID
        public var amountMinor: Int64
        var path: Int32
    }

    struct Queue {
        var lots: [Lot] = []
        var head = 0
        var isEmpty: Bool { head >= lots.count }
        var total: Int128 = 0
        var deficit: Int128 = 0
    }

    struct PathStep: Hashable {
        var parent: Int32
        var account: Int32
    }

    public let order: Order
    var accountIndex: [AccountName: Int32] = [:]
    var accountNames: [String] = []
    var pathSteps: [PathStep] = []
    var pathIndex: [PathStep: Int32] = [:]
    var queues: [AccountCurrency: Queue] = [:]
    var taken: [Lot] = []
    public private(set) var conservationBreaks: [(AccountCurrency, lotsMinusDeficitMinor: Int128, balanceMinor: Int64)] = []
    public private(set) var checkedAccounts = 0

    public init(order: Order) { self.order = order }

    func account(_ name: String) -> Int32 {
        if let i = accountIndex[AccountName(name)] { return i }
        let i = Int32(accountNames.count)
        accountNames.append(name)
        accountIndex[AccountName(name)] = i
        return i
    }

    func extend(_ parent: Int32, _ account: Int32) -> Int32 {
        let step = PathStep(parent: parent, account: account)
        if let i = pathIndex[step] { return i }
        let i = Int32(pathSteps.count)
        pathSteps.append(step)
        pathIndex[step] = i
        return i
    }

    public func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog) {
        for a in applied where a.posting.amountMinor > 0 {
            move(a.posting, event: event.eventId)
        }
    }

    func move(_ p: Posting, event: EventID) {
        let fromName = p.fromAccount, toName = p.toAccount  // each written once
        let from = AccountCurrency(account: fromName, currency: p.currency)
        let to = AccountCurrency(account: toName, currency: p.currency)
        let fromIndex = account(fromName), toIndex = account(toName)
        taken.removeAll(keepingCapacity: true)
        var remaining = p.amountMinor
        var source = queues.removeValue(forKey: from) ?? Queue()
        while remaining > 0 && !source.isEmpty {
            let at = order == .fifo ? source.head : source.lots.count - 1
            var lot = source.lots[at]
            let part = min(lot.amountMinor, remaining)
            remaining -= part
            if part == lot.amountMinor {
                if order == .fifo { source.head += 1 } else { source.lots.removeLast() }
            } else {
                source.lots[at].amountMinor -= part
                lot.amountMinor = part
            }
            taken.append(lot)
        }
        source.total -= Int128(p.amountMinor - remaining)
        if remaining > 0 {
            // The source holds no lots for this money: it enters the ledger here.
            source.deficit += Int128(remaining)
            taken.append(Lot(originEventId: event, amountMinor: remaining, path: extend(-1, fromIndex)))
        }
        if source.head > 64 && source.head * 2 > source.lots.count {
            source.lots.removeFirst(source.head)
            source.head = 0
        }
        queues[from] = source
        var destination = queues.removeValue(forKey: to) ?? Queue()
        for var lot in taken {
            lot.path = extend(lot.path, toIndex)
            destination.total += Int128(lot.amountMinor)
            // Adjacent pieces of one lot along one path stay one lot.
            if !destination.isEmpty, let last = destination.lots.last, last.originEventId == lot.originEventId, last.path == lot.path,
               case (let sum, false) = last.amountMinor.addingReportingOverflow(lot.amountMinor) {
                destination.lots[destination.lots.count - 1].amountMinor = sum
            } else {
                destination.lots.append(lot)
            }
        }
        queues[to] = destination
    }

    /// Conservation per lot, against the book: every account's lots minus its deficit equal its balance.
    public func finish(book: BalanceBook, findings: inout FindingLog) {
        conservationBreaks = []
        checkedAccounts = 0
        for (key, balance) in book.sortedRows() {
            checkedAccounts += 1
            let q = queues[key] ?? Queue()
            if q.total - q.deficit != Int128(balance) {
                conservationBreaks.append((key, q.total - q.deficit, balance))
            }
        }
    }

    /// The lots an account holds now, in the order they would leave it.
    public func lots(_ key: AccountCurrency) -> [Lot] {
        guard let q = queues[key] else { return [] }
        let held = Array(q.lots[q.head...])
        return order == .fifo ? held : held.reversed()
    }

    public func deficit(_ key: AccountCurrency) -> Int128 { queues[key]?.deficit ?? 0 }

    /// The accounts a lot passed through, from where it entered the ledger to where it is.
    public func path(_ lot: Lot) -> [String] {
        var names: [String] = []
        var at = lot.path
        while at >= 0 {
            let step = pathSteps[Int(at)]
            names.append(accountNames[Int(step.account)])
            at = step.parent
        }
        return names.reversed()
    }

    public var lotCount: Int { queues.values.reduce(0) { $0 + $1.lots.count - $1.head } }
}
