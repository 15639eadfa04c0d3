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
    public static func compare(projected: [ProjectedBalance], book: BalanceBook, mapping: ProjectionMapping, projectionName: String) -> [ReconciliationRow] {
        let patterns = mapping.columns.map { AccountPattern($0.account.replacingAll("{key}", with: "*")) }
        // The book's names sorted on one core while the projection is looked up in the book on
        // the other: after the pass the second core is idle, and each job reads every name of
        // its side once (a cache miss each: ~0.15 s each at 2M events, 237k accounts).
        let (sorted, (projectedAtSlot, untouched)) = Concurrently.both({ book.sortedAccountKeys() }, { lookUp(projected, in: book) })
        // Rows come out in C collation as they are made: the book's compared accounts in order,
        // the projected accounts it never touched (sorted apart; never one of the book's)
        // merged in. Sorting the finished rows and copying them into place retained each
        // row's three strings again (~0.13 s after the pass at 2M events).
        var next = 0
        var rows: [ReconciliationRow] = []
        rows.reserveCapacity(projected.count + untouched.count)
        func appendUntouched(upTo key: AccountCurrency?) {
            while next < untouched.count {
                let (k, amount) = untouched[next]
                if let key, !(k < key) { return }
                rows.append(ReconciliationRow(account: k.account, currency: k.currency, replayedMinor: nil, projectedMinor: amount,
                                              status: amount == 0 ? .match : .missingInEvents, projection: projectionName))
                next += 1
            }
        }
        sorted.take { key, slot in
            let projectedIndex = Int(projectedAtSlot[Int(slot)])
            // An account the projection names is compared whatever its kind.
            guard projectedIndex >= 0 || patterns.contains(where: { $0.matches(key.account) }) else { return }
            appendUntouched(upTo: key)
            let replayed = book.totals(slot: Int(slot)).balanceMinor
            if projectedIndex >= 0 {
                let amount = projected[projectedIndex].amountMinor
                rows.append(ReconciliationRow(account: key.account, currency: key.currency, replayedMinor: replayed, projectedMinor: amount,
                                              status: amount == replayed ? .match : .mismatch, projection: projectionName))
            } else {
                rows.append(ReconciliationRow(account: key.account, currency: key.currency, replayedMinor: replayed, projectedMinor: nil,
                                              status: .missingInProjection, projection: projectionName))
            }
        }
        appendUntouched(upTo: nil)
        return rows
    }

    /// Each projected balance by the book's slot of its account (the last one wins when a
    /// projection repeats an account): 4 bytes an account instead of a dictionary and a set of
    /// every account. Those the replay never touched, in C collation, with their amounts.
    static func lookUp(_ projected: [ProjectedBalance], in book: BalanceBook) -> ([Int32], [(AccountCurrency, Int64)]) {
        var projectedAtSlot = [Int32](repeating: -1, count: book.accountCount)
        var untouched: [AccountCurrency: Int64] = [:]
        for (i, p) in projected.enumerated() {
            let key = AccountCurrency(account: p.account, currency: p.currency)
            if let slot = book.slot(of: key) { projectedAtSlot[slot] = Int32(i) } else { untouched[key] = p.amountMinor }
        }
        let keys = Array(untouched.keys)
        return (projectedAtSlot, AccountCurrency.bytewiseOrder(keys).map { (keys[$0], untouched[keys[$0]]!) })
    }

    /// The positions of the rows that do not match, in order. By index: a `filter` over the
    /// rows themselves copied every row it kept (three strings retained each), and counting
    /// the matched ones that way copied ~200,000 rows at 2M events, several times a run.
    public static func notMatching(_ rows: [ReconciliationRow]) -> [Int] {
        rows.indices.filter { rows[$0].status != .match }
    }

    public static let columns = ["account", "currency", "replayed_minor", "projected_minor", "difference_minor", "status", "suspect_event_id", "projection"]

    /// reconciliation.csv's rows, mismatched ones first, each said when a renderer reads it.
    public static func madeRows(_ rows: [ReconciliationRow]) -> ReportRows {
        let order = notMatching(rows) + rows.indices.filter { rows[$0].status == .match }
        // As held cells would say: a column is numeric when some row has a number in it.
        let numeric = [false, false, rows.contains { $0.replayedMinor != nil }, rows.contains { $0.projectedMinor != nil }, true, false, false, false]
        return ReportRows(lines: Lines(rows: rows, order: order), numericColumns: numeric)
    }

    /// Line by line, so the CSV renderer writes each row's bytes with no cell array and no
    /// String per amount (a row per account: ~200,000 at 2M events, after the pass).
    struct Lines: ReportLineSource {
        let rows: [ReconciliationRow]
        let order: [Int]
        var count: Int { order.count }
        var columnCount: Int { Reconciliation.columns.count }

        func line<Sink: ReportCellSink>(_ index: Int, into sink: inout Sink) {
            rows.withUnsafeBufferPointer { Lines.line(at: $0.baseAddress! + order[index], into: &sink) }
        }

        /// From the row where it lies: read through a pointer, a row's fields are read one by
        /// one; handed over as a value, the whole row was copied (its three strings retained).
        static func line<Sink: ReportCellSink>(at row: UnsafePointer<ReconciliationRow>, into sink: inout Sink) {
            sink.ledgerText(row.pointee.account)
            sink.ledgerText(row.pointee.currency)
            if let v = row.pointee.replayedMinor { sink.integer(v) } else { sink.empty() }
            if let v = row.pointee.projectedMinor { sink.integer(v) } else { sink.empty() }
            // The difference of two Int64 fits an Int64 unless one side is near a bound.
            let difference = row.pointee.differenceMinor
            if let small = Int64(exactly: difference) { sink.integer(small) } else { sink.number(String(difference)) }
            sink.ledgerText(row.pointee.status.rawValue)
            sink.optionalId(row.pointee.suspectEventId)
            sink.ledgerText(row.pointee.projection)
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
