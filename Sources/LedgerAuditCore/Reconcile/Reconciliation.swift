/// One projected balance: what the application's read model says an account holds.
public struct ProjectedBalance: Sendable, Equatable {
    public var account: String
    public var currency: String
    public var amountMinor: Int64
    /// Where it came from, for messages: `user_balances.available_balance, key …`.
    public var origin: String

    public init(account: String, currency: String, amountMinor: Int64, origin: String) {
        self.account = account
        self.currency = currency
        self.amountMinor = amountMinor
        self.origin = origin
    }
}

public enum ReconciliationStatus: String, Sendable {
    case match
    case mismatch
    case missingInProjection = "missing_in_projection"
    case missingInEvents = "missing_in_events"
}

public struct ReconciliationRow: Sendable {
    public var account: String
    public var currency: String
    public var replayedMinor: Int64?
    public var projectedMinor: Int64?
    public var status: ReconciliationStatus
    public var suspectEventId: EventID?
    public var projection: String

    /// projected − replayed, a missing side counting as 0 (Int128: the difference of two Int64).
    public var differenceMinor: Int128 { Int128(projectedMinor ?? 0) - Int128(replayedMinor ?? 0) }
}

/// Compares one projection with the replayed book. Pure.
///
/// Rows: the union of the accounts the projection provides and the replayed accounts of the
/// projected kinds (the projection's templates with `{key}` as a wildcard) that have any posting.
/// Statuses: `match` when both sides agree (a projected 0 for an account the replay never
/// touched agrees: a read model carries every bucket of a key, the replay only those with
/// postings); `mismatch` when both sides exist and differ; `missing_in_projection` when the
/// replay has postings on an account the projection lacks; `missing_in_events` when the
/// projection claims a non-zero balance for an account the replay never posted to.
public enum Reconciliation {
    public static func compare(projected: [ProjectedBalance], book: BalanceBook, mapping: ProjectionMapping, projectionName: String) -> ReconciliationComparison {
        let patterns = mapping.columns.map { AccountPattern($0.account.replacingAll("{key}", with: "*")) }
        // The book's names sorted on one core while the projection is looked up in the book on
        // the other: after the pass the second core is idle, and each job reads every name of
        // its side once (a cache miss each: ~0.15 s each at 2M events, 237k accounts).
        let (sorted, lookedUp) = Concurrently.both({ book.sortedAccountKeys() }, { lookUp(projected, in: book) })
        let untouched = lookedUp.untouched
        // What each of the book's names becomes, in the names' own order on both cores: read in
        // C collation, each name was two cache misses and a retain (~1 s after the pass at 10M
        // events, 1.2M accounts), though most are matched rows that need only their place.
        let kinds = classify(sorted, lookedUp, patterns)
        // Where each untouched account falls among the book's names (never one of them).
        let untouchedPlaces = sorted.insertionPoints(of: untouched.map(\.0))
        // Rows come out in C collation as they are made: the book's compared accounts in order,
        // the projected accounts it never touched merged in. A matched row is kept as where its
        // name lies and its amount; only the rows that do not match are made whole.
        var comparison = ReconciliationComparison(projectionName: projectionName, bookKeys: sorted, untouched: untouched)
        var next = 0
        func appendUntouched(upTo place: Int) {
            while next < untouched.count, untouchedPlaces[next] <= place {
                let amount = untouched[next].1
                if amount == 0 {
                    comparison.appendMatched(name: -1 - Int32(next), amountMinor: 0)
                } else {
                    let k = untouched[next].0
                    comparison.appendNotMatching(ReconciliationRow(account: k.account, currency: k.currency, replayedMinor: nil, projectedMinor: amount,
                                                                   status: .missingInEvents, projection: projectionName))
                }
                next += 1
            }
        }
        kinds.withUnsafeBufferPointer { kinds in
            // A name's index in the sorted keys is its account's slot.
            sorted.forEachInOrder { place, slot in
                let kind = kinds[Int(slot)]
                guard kind != Kind.notCompared else { return }
                appendUntouched(upTo: place)
                let s = Int(slot)
                guard kind != Kind.matched else {
                    comparison.appendMatched(name: slot, amountMinor: lookedUp.projectedAtSlot[s])
                    return
                }
                let key = sorted.key(at: s)
                let projected = kind == Kind.mismatched
                comparison.appendNotMatching(ReconciliationRow(account: key.pointee.account, currency: key.pointee.currency, replayedMinor: book.totals(slot: s).balanceMinor,
                                                               projectedMinor: projected ? lookedUp.projectedAtSlot[s] : nil, status: projected ? .mismatch : .missingInProjection,
                                                               projection: projectionName))
            }
        }
        appendUntouched(upTo: Int.max)
        return comparison
    }

    /// What a name of the book becomes in the comparison (and, for a slot, what the projection
    /// says of it: not projected, matched or mismatched).
    enum Kind {
        static let notCompared: UInt8 = 0
        static let matched: UInt8 = 1
        static let mismatched: UInt8 = 2
        static let missingInProjection: UInt8 = 3
    }

    /// Each of the book's names' kind, by its index among the sorted keys; half the names on
    /// each core. A name is read only when the projection lacks it (is it of a projected kind?).
    static func classify(_ sorted: SortedAccountKeys, _ lookedUp: LookedUp, _ patterns: [AccountPattern]) -> [UInt8] {
        let count = sorted.count
        var kinds = [UInt8](repeating: Kind.notCompared, count: count)
        kinds.withUnsafeMutableBufferPointer { buffer in
            // Each half writes only its own part of the buffer.
            nonisolated(unsafe) let out = buffer
            func run(_ range: Range<Int>) {
                for i in range {
                    let status = lookedUp.statusAtSlot[i]  // index i is slot i
                    if status != Kind.notCompared {
                        out[i] = status
                    } else {
                        // An account the projection names is compared whatever its kind; others only of a projected kind.
                        let account = sorted.key(at: i)
                        if patterns.contains(where: { $0.matches(account.pointee.account) }) { out[i] = Kind.missingInProjection }
                    }
                }
            }
            let middle = count / 2
            // A small book on one core: a thread costs more than its names.
            if count < 4096 { run(0..<count) } else { _ = Concurrently.both({ run(0..<middle) }, { run(middle..<count) }) }
        }
        return kinds
    }

    /// The projection as the book's slots see it, worked out on the core that looks it up.
    struct LookedUp {
        /// A byte a slot (`Kind`: not projected, matched, mismatched). Read in the names' order,
        /// the slots come in no order: a byte each stays in cache where the book's totals and
        /// the projection's rows did not.
        var statusAtSlot: [UInt8]
        /// The projected amount of each projected slot.
        var projectedAtSlot: [Int64]
        /// The projected accounts the replay never touched, in C collation, with their amounts.
        var untouched: [(AccountCurrency, Int64)]
    }

    /// Each projected balance by the book's slot of its account (the last one wins when a
    /// projection repeats an account): 9 bytes an account instead of a dictionary and a set of
    /// every account.
    static func lookUp(_ projected: [ProjectedBalance], in book: BalanceBook) -> LookedUp {
        var statusAtSlot = [UInt8](repeating: Kind.notCompared, count: book.accountCount)
        var projectedAtSlot = [Int64](repeating: 0, count: book.accountCount)
        var untouched: [AccountCurrency: Int64] = [:]
        for p in projected {
            let key = AccountCurrency(account: p.account, currency: p.currency)
            if let slot = book.slot(of: key) {
                projectedAtSlot[slot] = p.amountMinor
                statusAtSlot[slot] = p.amountMinor == book.totals(slot: slot).balanceMinor ? Kind.matched : Kind.mismatched
            } else {
                untouched[key] = p.amountMinor
            }
        }
        let keys = Array(untouched.keys)
        return LookedUp(statusAtSlot: statusAtSlot, projectedAtSlot: projectedAtSlot,
                        untouched: AccountCurrency.bytewiseOrder(keys).map { (keys[$0], untouched[keys[$0]]!) })
    }

    public static let columns = ["account", "currency", "replayed_minor", "projected_minor", "difference_minor", "status", "suspect_event_id", "projection"]

    /// Every projection's rows that do not match, in order: what findings, suspects and figures read.
    public static func notMatching(_ comparisons: [ReconciliationComparison]) -> [ReconciliationRow] {
        comparisons.count == 1 ? comparisons[0].notMatching : comparisons.flatMap(\.notMatching)
    }

    /// reconciliation.csv's rows: every projection's rows that do not match, then every
    /// projection's matched rows, each said when a renderer reads it.
    public static func madeRows(_ comparisons: [ReconciliationComparison]) -> ReportRows {
        let lines = Lines(comparisons: comparisons)
        // As held cells would say: a column is numeric when some row has a number in it.
        let notMatching = comparisons.lazy.flatMap(\.notMatching)
        let anyMatched = comparisons.contains { !$0.matched.isEmpty }
        let numeric = [false, false,
                       notMatching.contains { $0.replayedMinor != nil } || comparisons.contains { $0.matched.contains { $0.name >= 0 } },
                       notMatching.contains { $0.projectedMinor != nil } || anyMatched,
                       true, false, false, false]
        return ReportRows(lines: lines, numericColumns: numeric)
    }

    /// Line by line, so the CSV renderer writes each row's bytes with no cell array and no
    /// String per amount (a row per account: ~200,000 at 2M events, after the pass).
    struct Lines: ReportLineSource {
        let comparisons: [ReconciliationComparison]
        let notMatchingCount: Int
        let count: Int
        var columnCount: Int { Reconciliation.columns.count }

        init(comparisons: [ReconciliationComparison]) {
            self.comparisons = comparisons
            notMatchingCount = comparisons.reduce(0) { $0 + $1.notMatching.count }
            count = comparisons.reduce(0) { $0 + $1.count }
        }

        /// Each comparison read where it lies: `for c in comparisons` copied one (seven
        /// retains) for every line.
        func line<Sink: ReportCellSink>(_ index: Int, into sink: inout Sink) {
            var i = index
            if i < notMatchingCount {
                for k in comparisons.indices {
                    let count = comparisons[k].notMatching.count
                    if i < count {
                        comparisons[k].notMatching.withUnsafeBufferPointer { Lines.line(at: $0.baseAddress! + i, into: &sink) }
                        return
                    }
                    i -= count
                }
            }
            i -= notMatchingCount
            for k in comparisons.indices {
                let count = comparisons[k].matched.count
                if i < count { comparisons[k].matchedLine(i, into: &sink); return }
                i -= count
            }
        }

        /// From the row where it lies: read through a pointer, a row's fields are read one by
        /// one; handed over as a value, the whole row was copied (its three strings retained).
        static func line<Sink: ReportCellSink>(at row: UnsafePointer<ReconciliationRow>, into sink: inout Sink) {
            line(account: row.pointee.account, currency: row.pointee.currency, replayedMinor: row.pointee.replayedMinor, projectedMinor: row.pointee.projectedMinor,
                 differenceMinor: row.pointee.differenceMinor, status: row.pointee.status, suspect: row.pointee.suspectEventId, projection: row.pointee.projection, into: &sink)
        }

        /// A row's cells, whole or matched: the one place that says them.
        static func line<Sink: ReportCellSink>(account: String, currency: String, replayedMinor: Int64?, projectedMinor: Int64?, differenceMinor: Int128,
                                               status: ReconciliationStatus, suspect: EventID?, projection: String, into sink: inout Sink) {
            sink.ledgerText(account)
            sink.ledgerText(currency)
            if let v = replayedMinor { sink.integer(v) } else { sink.empty() }
            if let v = projectedMinor { sink.integer(v) } else { sink.empty() }
            // The difference of two Int64 fits an Int64 unless one side is near a bound.
            if let small = Int64(exactly: differenceMinor) { sink.integer(small) } else { sink.number(String(differenceMinor)) }
            sink.ledgerText(status.rawValue)
            sink.optionalId(suspect)
            sink.ledgerText(projection)
        }
    }

    public static func finding(_ r: ReconciliationRow) -> Finding {
        let what: String
        switch r.status {
        case .mismatch: what = "the projection \(r.projection) shows \(r.projectedMinor ?? 0) but the events give \(r.replayedMinor ?? 0) (difference \(r.differenceMinor))"
        case .missingInProjection: what = "the events give \(r.replayedMinor ?? 0) but the projection \(r.projection) has no such account"
        case .missingInEvents: what = "the projection \(r.projection) shows \(r.projectedMinor ?? 0) but no event ever posted to this account"
        case .match: what = "matches"
        }
        let suspect = r.suspectEventId.map { "; event \($0) moved exactly the difference: the projection may have missed it or applied it twice" } ?? ""
        let amount = r.differenceMinor.magnitude <= UInt128(Int64.max) ? Int64(r.differenceMinor) : nil
        return Finding(code: .projectionMismatch, severity: .high, eventId: r.suspectEventId, account: r.account, amountMinor: amount, currency: r.currency,
                       message: "\(r.account) \(r.currency): \(what)\(suspect)",
                       evidence: [("replayed_minor", r.replayedMinor.map(String.init) ?? ""), ("projected_minor", r.projectedMinor.map(String.init) ?? ""), ("status", r.status.rawValue)],
                       location: r.projection)
    }
}

/// One projection compared with the book. The rows that do not match are held whole: findings,
/// suspects and the report's figures read them. A matched row is 16 bytes, where its names lie
/// and its amount, and is said when reconciliation.csv is written: at 10M events a million
/// whole rows (~110 bytes and three strings each) took ~1 s to make after the pass, on one
/// core, for rows that say "match".
public struct ReconciliationComparison: Sendable {
    public let projectionName: String
    /// The rows that do not match, in C collation.
    public private(set) var notMatching: [ReconciliationRow] = []
    /// Each of them's place among all the rows in C collation.
    private var notMatchingPlaces: [Int] = []
    /// The matched rows in C collation.
    private(set) var matched: [Matched] = []
    /// The book's names, read in place.
    private let bookKeys: SortedAccountKeys
    /// The projected accounts the replay never touched, in C collation, with their amounts.
    private let untouched: [(AccountCurrency, Int64)]
    /// The second pass's suspects, by account: looked up for matched rows too, as for every row.
    private var suspects: [AccountCurrency: EventID] = [:]

    struct Matched {
        /// At least 0: the book's name at that index; below 0: `untouched[-1 - name]`.
        var name: Int32
        var amountMinor: Int64
    }

    init(projectionName: String, bookKeys: SortedAccountKeys, untouched: [(AccountCurrency, Int64)]) {
        self.projectionName = projectionName
        self.bookKeys = bookKeys
        self.untouched = untouched
    }

    public var count: Int { notMatching.count + matched.count }

    mutating func appendMatched(name: Int32, amountMinor: Int64) { matched.append(Matched(name: name, amountMinor: amountMinor)) }

    mutating func appendNotMatching(_ row: ReconciliationRow) {
        notMatchingPlaces.append(count)
        notMatching.append(row)
    }

    /// Sets the suspect the second pass found for each account (nil where it found none).
    public mutating func setSuspects(_ found: [AccountCurrency: EventID]) {
        suspects = found
        for i in notMatching.indices {
            notMatching[i].suspectEventId = found[AccountCurrency(account: notMatching[i].account, currency: notMatching[i].currency)]
        }
    }

    /// Every row in C collation, made whole (tests and small projections).
    public var rows: [ReconciliationRow] {
        var all: [ReconciliationRow] = []
        all.reserveCapacity(count)
        var n = 0
        for m in matched.indices {
            while n < notMatching.count, notMatchingPlaces[n] == all.count { all.append(notMatching[n]); n += 1 }
            all.append(matchedRow(m))
        }
        all.append(contentsOf: notMatching[n...])
        return all
    }

    func matchedRow(_ i: Int) -> ReconciliationRow {
        let m = matched[i]
        let key = m.name >= 0 ? bookKeys.key(at: Int(m.name)).pointee : untouched[Int(-1 - m.name)].0
        return ReconciliationRow(account: key.account, currency: key.currency, replayedMinor: m.name >= 0 ? m.amountMinor : nil, projectedMinor: m.amountMinor,
                                 status: .match, suspectEventId: suspects.isEmpty ? nil : suspects[key], projection: projectionName)
    }

    /// A matched row's line, its names read where they lie.
    func matchedLine<Sink: ReportCellSink>(_ i: Int, into sink: inout Sink) {
        let m = matched[i]
        if m.name >= 0 {
            let key = bookKeys.key(at: Int(m.name))
            line(key, replayedMinor: m.amountMinor, projectedMinor: m.amountMinor, into: &sink)
        } else {
            untouched.withUnsafeBufferPointer { u in
                let entry = u.baseAddress! + Int(-1 - m.name)
                withUnsafePointer(to: entry.pointee.0) { line($0, replayedMinor: nil, projectedMinor: m.amountMinor, into: &sink) }
            }
        }
    }

    private func line<Sink: ReportCellSink>(_ key: UnsafePointer<AccountCurrency>, replayedMinor: Int64?, projectedMinor: Int64, into sink: inout Sink) {
        Reconciliation.Lines.line(account: key.pointee.account, currency: key.pointee.currency, replayedMinor: replayedMinor, projectedMinor: projectedMinor,
                                  differenceMinor: 0, status: .match, suspect: suspects.isEmpty ? nil : suspects[key.pointee], projection: projectionName, into: &sink)
    }
}

/// Where a projection's checkpoint is: a place in global order (read from the database), or an
/// event id (`--checkpoint ID` with a file source), placed when the replay reaches that event.
public enum CheckpointPosition: Sendable, Equatable {
    case key(GlobalOrderKey)
    case event(EventID)
}

/// The book as it stood at a projection's checkpoint: snapshot taken before the first event past it.
public final class CheckpointSnapshot: ReplayObserver {
    public let checkpoint: CheckpointPosition?
    /// The checkpoint in global order, once known (at once for a key, when reached for an id).
    public private(set) var position: GlobalOrderKey?
    public private(set) var book = BalanceBook()
    public private(set) var eventsAfter = 0
    public private(set) var lastEventHlcMs: Int64?
    var taken: Bool

    /// No checkpoint: the book at the end of the replay.
    public init(checkpoint: CheckpointPosition?) {
        self.checkpoint = checkpoint
        if case .key(let k)? = checkpoint { position = k }
        taken = false
    }

    public convenience init(position: GlobalOrderKey?) { self.init(checkpoint: position.map { .key($0) }) }

    /// A checkpoint event id that the replay never reached.
    public var isUnresolved: Bool {
        if case .event? = checkpoint { return position == nil }
        return false
    }

    public func willFold(_ event: EventRecord, book current: BalanceBook) {
        lastEventHlcMs = event.hlcPhysicalMs
        if case .event(let id)? = checkpoint, position == nil, event.eventId == id { position = event.globalOrderKey }
        guard let position, position < event.globalOrderKey else { return }
        eventsAfter += 1
        if !taken {
            book = current
            taken = true
        }
    }

    public func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog) {}

    public func finish(book current: BalanceBook, findings: inout FindingLog) {
        if !taken {
            book = current
            taken = true
        }
    }
}

/// Second pass over mismatched accounts only: the most recent event that moved exactly the
/// difference (a missed or doubled event), and the account's last movements for the report.
public final class SuspectFinder: ReplayObserver {
    public struct Movement: Sendable {
        public var eventId: EventID
        public var eventType: String
        public var hlcPhysicalMs: Int64
        public var amountMinor: Int64
        public var balanceAfterMinor: Int64
    }

    let targets: [AccountCurrency: Int64]
    let limit: GlobalOrderKey?
    public private(set) var suspects: [AccountCurrency: EventID] = [:]
    public private(set) var recent: [AccountCurrency: [Movement]] = [:]
    static let recentMax = 8

    /// `targets`: account → |difference|; `limit`: the checkpoint the comparison used.
    public init(targets: [AccountCurrency: Int64], limit: GlobalOrderKey?) {
        self.targets = targets
        self.limit = limit
    }

    public func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog) {
        if let limit, limit < event.globalOrderKey { return }
        for a in applied {
            let p = a.posting
            for (account, signed, after) in [(p.fromAccount, -p.amountMinor, a.fromBalanceAfterMinor), (p.toAccount, p.amountMinor, a.toBalanceAfterMinor)] {
                let key = AccountCurrency(account: account, currency: p.currency)
                guard let difference = targets[key] else { continue }
                if p.amountMinor == difference { suspects[key] = event.eventId }
                var list = recent[key] ?? []
                list.append(Movement(eventId: event.eventId, eventType: event.eventType, hlcPhysicalMs: event.hlcPhysicalMs, amountMinor: signed, balanceAfterMinor: after))
                if list.count > SuspectFinder.recentMax { list.removeFirst() }
                recent[key] = list
            }
        }
    }
}
