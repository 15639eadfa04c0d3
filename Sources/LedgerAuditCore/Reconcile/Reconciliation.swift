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
        // Each projected balance by the book's slot of its account (the last one wins when a
        // projection repeats an account); only those the replay never touched need a table of
        // their own. 4 bytes an account instead of a dictionary and a set of every account.
        var projectedAtSlot = [Int32](repeating: -1, count: book.accountCount)
        var untouched: [AccountCurrency: Int64] = [:]
        for (i, p) in projected.enumerated() {
            let key = AccountCurrency(account: p.account, currency: p.currency)
            if let slot = book.slot(of: key) { projectedAtSlot[slot] = Int32(i) } else { untouched[key] = p.amountMinor }
        }
        var rows: [ReconciliationRow] = []
        book.forEachAccountSlot { key, slot, totals in
            let projectedIndex = Int(projectedAtSlot[slot])
            // An account the projection names is compared whatever its kind.
            guard projectedIndex >= 0 || patterns.contains(where: { $0.matches(key.account) }) else { return }
            let replayed = totals.balanceMinor
            if projectedIndex >= 0 {
                let amount = projected[projectedIndex].amountMinor
                rows.append(ReconciliationRow(account: key.account, currency: key.currency, replayedMinor: replayed, projectedMinor: amount,
                                              status: amount == replayed ? .match : .mismatch, projection: projectionName))
            } else {
                rows.append(ReconciliationRow(account: key.account, currency: key.currency, replayedMinor: replayed, projectedMinor: nil,
                                              status: .missingInProjection, projection: projectionName))
            }
        }
        for (key, amount) in untouched {
            rows.append(ReconciliationRow(account: key.account, currency: key.currency, replayedMinor: nil, projectedMinor: amount,
                                          status: amount == 0 ? .match : .missingInEvents, projection: projectionName))
        }
        return sortedByAccount(rows)
    }

    /// The positions of the rows that do not match, in order. By index: a `filter` over the
    /// rows themselves copied every row it kept (three strings retained each), and counting
    /// the matched ones that way copied ~200,000 rows at 2M events, several times a run.
    public static func notMatching(_ rows: [ReconciliationRow]) -> [Int] {
        rows.indices.filter { rows[$0].status != .match }
    }

    /// Rows in C collation (bytewise by account, then currency).
    static func sortedByAccount(_ rows: [ReconciliationRow]) -> [ReconciliationRow] {
        AccountCurrency.bytewiseOrder(rows.map { AccountCurrency(account: $0.account, currency: $0.currency) }).map { rows[$0] }
    }

    public static let columns = ["account", "currency", "replayed_minor", "projected_minor", "difference_minor", "status", "suspect_event_id", "projection"]

    public static func cells(_ r: ReconciliationRow) -> [ReportCell] {
        [.ledgerText(r.account), .ledgerText(r.currency), r.replayedMinor.map { .integer($0) } ?? .empty, r.projectedMinor.map { .integer($0) } ?? .empty,
         .number(String(r.differenceMinor)), .ledgerText(r.status.rawValue), .optional(r.suspectEventId?.description), .ledgerText(r.projection)]
    }

    /// reconciliation.csv's rows, mismatched ones first, each made when a renderer reads it.
    public static func madeRows(_ rows: [ReconciliationRow]) -> ReportRows {
        let order = notMatching(rows) + rows.indices.filter { rows[$0].status == .match }
        // As held cells would say: a column is numeric when some row has a number in it.
        let numeric = [false, false, rows.contains { $0.replayedMinor != nil }, rows.contains { $0.projectedMinor != nil }, true, false, false, false]
        return ReportRows(count: order.count, numericColumns: numeric) { cells(rows[order[$0]]) }
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
