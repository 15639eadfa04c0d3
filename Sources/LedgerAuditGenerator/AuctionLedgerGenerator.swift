import LedgerAuditCore

/// Writes a realistic auction ledger per auction-ledger.md: deposits (USD, some EUR and JPY),
/// bids that reserve funds, outbids that release them, win sagas (escrow → seller pending →
/// ownership → notification, later settlement and fee), failed sagas compensated in reverse,
/// withdrawals; correct stream versions, HLC, vector clocks, causation and correlation.
public struct GeneratorOptions: Sendable {
    public var events = 3000
    public var seed: UInt64 = 42
    /// First instant of the ledger (ms since epoch): 2026-05-01T00:00:00Z.
    public var startMs: Int64 = 1_777_593_600_000
    /// Sagas left stuck after ESCROW_FUNDED: money in limbo.
    public var stuckSagas = 0
    /// Deliberate differences between the projection and the events.
    public var projectionDrifts: [ProjectionDrift] = []
    /// Write files in recorded_at order (as an extract is written), not in global order.
    public var writeInRecordedOrder = true
    public init() {}
}

public enum ProjectionDrift: String, Sendable, CaseIterable {
    /// The projection missed the user's last deposit.
    case missedEvent = "missed-event"
    /// The projection applied a deposit twice.
    case appliedTwice = "applied-twice"
    /// A user with postings has no projection row.
    case missingUser = "missing-user"
    /// A projection row for a user with no events.
    case rowWithoutEvents = "row-without-events"
    /// Someone edited a balance by hand.
    case manualEdit = "manual-edit"
}

public struct GeneratedEvent: Sendable {
    public var record: EventRecord
}

/// A sink for generated events and projection rows (files, or memory in tests).
public protocol GeneratorSink {
    mutating func event(_ e: EventRecord) throws
    mutating func projectionRow(userId: EventID, availableMinor: Int64, reservedMinor: Int64, pendingMinor: Int64, currency: String) throws
}

public struct AuctionLedgerGenerator {
    var rng: SplitMix64
    let options: GeneratorOptions
    var clockMs: Int64
    var versions: [EventID: Int64] = [:]
    var regionCounters: [String: Int64] = ["us-east": 0, "eu-west": 0]
    var users: [User] = []
    var usersByCurrency: [String: [Int]] = [:]
    /// Open auctions, kept sorted by closing time (earliest last, so closing pops from the end).
    var auctions: [Auction] = []
    /// Pending settlements, kept sorted by due time (earliest last).
    var settlements: [Settlement] = []
    var emitted = 0
    var stuckLeft: Int
    var reorder: [EventRecord] = []

    struct User {
        var id: EventID
        var currency: String
        var available: Int64 = 0
        var reserved: Int64 = 0
        var pending: Int64 = 0
        var lastDepositMinor: Int64 = 0
    }

    struct Auction {
        var id: EventID
        var assetId: EventID
        var seller: Int
        var currency: String
        var closesAtMs: Int64
        var highestBidder: Int?
        var highestBid: Int64 = 0
        var reservationId: EventID?
    }

    struct Settlement {
        var seller: Int
        var amount: Int64
        var escrowId: EventID
        var dueMs: Int64
        var cause: EventID
    }

    public init(options: GeneratorOptions) {
        self.options = options
        rng = SplitMix64(seed: options.seed)
        clockMs = options.startMs
        stuckLeft = options.stuckSagas
    }

    mutating func uuid() -> EventID {
        // Version-4 layout, so the ids look like the application's.
        var h = rng.next(), l = rng.next()
        h = (h & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
        l = (l & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return EventID(high: h, low: l)
    }

    mutating func chance(_ p: Double) -> Bool { Double(rng.next() % 1_000_000) < p * 1_000_000 }
    mutating func int(_ range: ClosedRange<Int64>) -> Int64 { range.lowerBound + Int64(rng.next() % UInt64(range.upperBound - range.lowerBound + 1)) }

    /// One command or saga step: events share a physical instant and count up the logical clock.
    struct Batch {
        var physicalMs: Int64
        var logical: Int32 = 0
    }

    mutating func emit<S: GeneratorSink>(
        _ sink: inout S, _ batch: inout Batch, type: String, aggregate: EventID, causation: EventID?, correlation: EventID,
        payload: [(String, JSONValue)], actor: EventID?
    ) throws -> EventID {
        let id = uuid()
        let version = (versions[aggregate] ?? 0) + 1
        versions[aggregate] = version
        let region = chance(0.6) ? "us-east" : "eu-west"
        regionCounters[region, default: 0] += 1
        let vector: JSONValue = .object(regionCounters.sorted { $0.key < $1.key }.map { ($0.key, .number(String($0.value))) })
        let metadata: JSONValue = .object([
            ("region", .string(region)),
            ("source", .string(actor == nil ? "saga-orchestrator" : "api")),
            ("schema_version", .number("1")),
        ])
        let record = EventRecord(
            eventId: id, eventType: type, aggregateId: aggregate, streamVersion: version, causationId: causation,
            correlationId: correlation, hlcPhysicalMs: batch.physicalMs, hlcLogical: batch.logical,
            vectorClock: JSONText(vector), payload: JSONText(.object(payload)), metadata: JSONText(metadata), userId: actor,
            recordedAtUs: (batch.physicalMs + int(0...40)) * 1000 + int(0...999)
        )
        batch.logical += 1
        emitted += 1
        if options.writeInRecordedOrder {
            // A small window sorted by recorded_at: what an extract in write order looks like.
            reorder.append(record)
            if reorder.count > 8 {
                let i = reorder.indices.min { reorder[$0].recordedAtUs < reorder[$1].recordedAtUs }!
                try sink.event(reorder.remove(at: i))
            }
        } else {
            try sink.event(record)
        }
        return id
    }

    mutating func amountJSON(_ v: Int64) -> JSONValue {
        // Amounts arrive as numbers or numeric strings; both are exact.
        chance(0.1) ? .string(String(v)) : .number(String(v))
    }

    /// The ledger spans about two weeks whatever its size: the mean step is 14 days / events.
    var stepMeanMs: Int64 { max(1, 14 * 86_400_000 / Int64(max(options.events, 1))) }

    mutating func tick() -> Batch {
        clockMs += int(1...2 * stepMeanMs)
        return Batch(physicalMs: clockMs)
    }

    static let currencies: [(String, ClosedRange<Int64>)] = [("USD", 5_000...500_000), ("EUR", 5_000...400_000), ("JPY", 1_000...60_000)]

    public mutating func run<S: GeneratorSink>(into sink: inout S) throws {
        let userCount = max(6, options.events / 30)
        for _ in 0..<userCount {
            let r = rng.next() % 10
            let currency = r < 7 ? "USD" : (r < 9 ? "EUR" : "JPY")
            usersByCurrency[currency, default: []].append(users.count)
            users.append(User(id: uuid(), currency: currency))
        }
        // Everyone starts with a deposit, so auctions have bidders.
        for i in users.indices { try deposit(&sink, i) }
        while emitted < options.events {
            try settleDue(&sink, untilMs: clockMs)
            try closeDue(&sink)
            let r = rng.next() % 100
            switch r {
            case 0..<14: try deposit(&sink, Int(rng.next() % UInt64(users.count)))
            case 14..<24: try openAuction(&sink)
            case 24..<88: try bid(&sink)
            case 88..<94: try withdraw(&sink)
            default: try closeEarliest(&sink)
            }
        }
        // Drain: close every auction and settle every seller, so no hold is left (no limbo).
        while !auctions.isEmpty { try closeEarliest(&sink) }
        try settleDue(&sink, untilMs: Int64.max)
        while !reorder.isEmpty {
            let i = reorder.indices.min { reorder[$0].recordedAtUs < reorder[$1].recordedAtUs }!
            try sink.event(reorder.remove(at: i))
        }
        try writeProjection(&sink)
    }

    mutating func deposit<S: GeneratorSink>(_ sink: inout S, _ u: Int) throws {
        var batch = tick()
        let range = AuctionLedgerGenerator.currencies.first { $0.0 == users[u].currency }!.1
        let amount = int(range.lowerBound * 4...range.upperBound * 4)
        let command = uuid()
        var payload: [(String, JSONValue)] = [("amount", amountJSON(amount))]
        // USD is the catalog default: about half of the USD deposits leave the currency out.
        if users[u].currency != "USD" || chance(0.5) { payload.append(("currency", .string(users[u].currency))) }
        payload.append(("method", .string(chance(0.5) ? "card" : "bank_transfer")))
        _ = try emit(&sink, &batch, type: "FUNDS_DEPOSITED", aggregate: users[u].id, causation: chance(0.5) ? command : nil,
                     correlation: command, payload: payload, actor: users[u].id)
        users[u].available += amount
        users[u].lastDepositMinor = amount
    }

    mutating func withdraw<S: GeneratorSink>(_ sink: inout S) throws {
        let u = Int(rng.next() % UInt64(users.count))
        guard users[u].available > 100 else { return }
        var batch = tick()
        let amount = int(1...users[u].available / 3 + 1)
        let command = uuid()
        _ = try emit(&sink, &batch, type: "FUNDS_WITHDRAWN", aggregate: users[u].id, causation: command, correlation: command,
                     payload: [("amount", amountJSON(amount)), ("currency", .string(users[u].currency))], actor: users[u].id)
        users[u].available -= amount
    }

    mutating func openAuction<S: GeneratorSink>(_ sink: inout S) throws {
        let seller = Int(rng.next() % UInt64(users.count))
        var batch = tick()
        let auction = Auction(id: uuid(), assetId: uuid(), seller: seller, currency: users[seller].currency,
                              closesAtMs: clockMs + int(600_000...36 * 3_600_000))
        let command = uuid()
        _ = try emit(&sink, &batch, type: "AUCTION_OPENED", aggregate: auction.id, causation: nil, correlation: command, payload: [
            ("auction_id", .string(auction.id.description)), ("seller_id", .string(users[seller].id.description)),
            ("asset_id", .string(auction.assetId.description)), ("currency", .string(auction.currency)),
            ("title", .string(AuctionLedgerGenerator.titles[Int(rng.next() % UInt64(AuctionLedgerGenerator.titles.count))])),
        ], actor: users[seller].id)
        // Sorted insert, earliest closing last.
        let at = insertionIndex(auctions.count) { auctions[$0].closesAtMs > auction.closesAtMs }
        auctions.insert(auction, at: at)
    }

    /// First index in 0..<count where `isAfter` is false (binary search over a descending array).
    func insertionIndex(_ count: Int, _ isAfter: (Int) -> Bool) -> Int {
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) / 2
            if isAfter(mid) { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    static let titles = ["Vintage camera", "Oak writing desk", "Signed first edition", "Mechanical watch", "Tea set, 12 pieces",
                         "Road bicycle", "Oil painting: harbour at dusk", "Vinyl collection", "Café chairs (4)", "Kimono, silk"]

    mutating func bid<S: GeneratorSink>(_ sink: inout S) throws {
        guard !auctions.isEmpty else { return try openAuction(&sink) }
        let a = Int(rng.next() % UInt64(auctions.count))
        let auction = auctions[a]
        let sameCurrency = usersByCurrency[auction.currency] ?? []
        guard sameCurrency.count > 2 else { return }
        var bidder = sameCurrency[Int(rng.next() % UInt64(sameCurrency.count))]
        while bidder == auction.seller || bidder == auction.highestBidder {
            bidder = sameCurrency[Int(rng.next() % UInt64(sameCurrency.count))]
        }
        let range = AuctionLedgerGenerator.currencies.first { $0.0 == auction.currency }!.1
        let amount = max(auction.highestBid + int(1...range.lowerBound), range.lowerBound)
        guard users[bidder].available >= amount else { return try deposit(&sink, bidder) }
        var batch = tick()
        let command = uuid()
        let reservation = uuid()
        let bidEvent = try emit(&sink, &batch, type: "BID_PLACED", aggregate: auction.id, causation: nil, correlation: command, payload: [
            ("auction_id", .string(auction.id.description)), ("bidder_id", .string(users[bidder].id.description)),
            ("amount", amountJSON(amount)), ("currency", .string(auction.currency)),
        ], actor: users[bidder].id)
        _ = try emit(&sink, &batch, type: "FUNDS_RESERVED", aggregate: users[bidder].id, causation: bidEvent, correlation: command, payload: [
            ("amount", amountJSON(amount)), ("currency", .string(auction.currency)), ("auction_id", .string(auction.id.description)),
            ("reservation_id", .string(reservation.description)),
        ], actor: users[bidder].id)
        users[bidder].available -= amount
        users[bidder].reserved += amount
        if let previous = auction.highestBidder, let previousReservation = auction.reservationId {
            _ = try emit(&sink, &batch, type: "RESERVATION_RELEASED", aggregate: users[previous].id, causation: bidEvent, correlation: command, payload: [
                ("amount", amountJSON(auction.highestBid)), ("currency", .string(auction.currency)),
                ("reservation_id", .string(previousReservation.description)), ("reason", .string("outbid")),
            ], actor: users[previous].id)
            users[previous].reserved -= auction.highestBid
            users[previous].available += auction.highestBid
        }
        auctions[a].highestBidder = bidder
        auctions[a].highestBid = amount
        auctions[a].reservationId = reservation
    }

    mutating func closeDue<S: GeneratorSink>(_ sink: inout S) throws {
        while let last = auctions.last, last.closesAtMs <= clockMs {
            try close(&sink, auctions.removeLast())
        }
    }

    mutating func closeEarliest<S: GeneratorSink>(_ sink: inout S) throws {
        guard let last = auctions.popLast() else { return }
        clockMs = max(clockMs, last.closesAtMs)
        try close(&sink, last)
    }

    mutating func close<S: GeneratorSink>(_ sink: inout S, _ auction: Auction) throws {
        var batch = tick()
        let saga = uuid()
        let closed = try emit(&sink, &batch, type: "AUCTION_CLOSED", aggregate: auction.id, causation: nil, correlation: saga,
                              payload: [("auction_id", .string(auction.id.description)), ("had_bids", .bool(auction.highestBidder != nil))], actor: nil)
        guard let winner = auction.highestBidder, let reservation = auction.reservationId else { return }
        let amount = auction.highestBid
        let cur: JSONValue = .string(auction.currency)
        let won = try emit(&sink, &batch, type: "AUCTION_WON", aggregate: auction.id, causation: closed, correlation: saga, payload: [
            ("auction_id", .string(auction.id.description)), ("winner_id", .string(users[winner].id.description)),
            ("amount", amountJSON(amount)), ("currency", cur),
        ], actor: nil)
        // The saga's steps run a little later, each its own instant (different services).
        var step = tick()
        let escrow = uuid()
        let funded = try emit(&sink, &step, type: "ESCROW_FUNDED", aggregate: users[winner].id, causation: won, correlation: saga, payload: [
            ("amount", amountJSON(amount)), ("currency", cur), ("auction_id", .string(auction.id.description)),
            ("escrow_id", .string(escrow.description)), ("reservation_id", .string(reservation.description)),
        ], actor: users[winner].id)
        users[winner].reserved -= amount
        if stuckLeft > 0 && chance(0.5) {
            // The fibre broke: the saga never resumes. Money sits in escrow.
            stuckLeft -= 1
            return
        }
        step = tick()
        let seller = auction.seller
        let credited = try emit(&sink, &step, type: "SELLER_CREDITED_PENDING", aggregate: users[seller].id, causation: funded, correlation: saga, payload: [
            ("amount", amountJSON(amount)), ("currency", cur), ("escrow_id", .string(escrow.description)),
            ("auction_id", .string(auction.id.description)),
        ], actor: users[seller].id)
        users[seller].pending += amount
        step = tick()
        if chance(0.9) {
            let owned = try emit(&sink, &step, type: "OWNERSHIP_TRANSFERRED", aggregate: auction.assetId, causation: credited, correlation: saga, payload: [
                ("asset_id", .string(auction.assetId.description)), ("from_user", .string(users[seller].id.description)),
                ("to_user", .string(users[winner].id.description)),
            ], actor: nil)
            _ = try emit(&sink, &step, type: "NOTIFICATION_SENT", aggregate: auction.id, causation: owned, correlation: saga, payload: [
                ("channel", .string("email")), ("template", .string("auction_won")), ("recipient_id", .string(users[winner].id.description)),
            ], actor: nil)
            let settlement = Settlement(seller: seller, amount: amount, escrowId: escrow, dueMs: clockMs + int(3_600_000...48 * 3_600_000), cause: credited)
            let at = insertionIndex(settlements.count) { settlements[$0].dueMs > settlement.dueMs }
            settlements.insert(settlement, at: at)
        } else {
            // Ownership failed: compensate in reverse order.
            let debited = try emit(&sink, &step, type: "SELLER_PENDING_DEBITED", aggregate: users[seller].id, causation: credited, correlation: saga, payload: [
                ("amount", amountJSON(amount)), ("currency", cur), ("escrow_id", .string(escrow.description)),
                ("reason", .string("ownership_transfer_failed")),
            ], actor: users[seller].id)
            users[seller].pending -= amount
            let refunded = try emit(&sink, &step, type: "ESCROW_REFUNDED", aggregate: users[winner].id, causation: debited, correlation: saga, payload: [
                ("amount", amountJSON(amount)), ("currency", cur), ("escrow_id", .string(escrow.description)),
                ("reservation_id", .string(reservation.description)),
            ], actor: users[winner].id)
            _ = try emit(&sink, &step, type: "RESERVATION_RELEASED", aggregate: users[winner].id, causation: refunded, correlation: saga, payload: [
                ("amount", amountJSON(amount)), ("currency", cur), ("reservation_id", .string(reservation.description)),
                ("reason", .string("saga_compensation")),
            ], actor: users[winner].id)
            users[winner].available += amount
        }
    }

    mutating func settleDue<S: GeneratorSink>(_ sink: inout S, untilMs: Int64) throws {
        while let s = settlements.last, s.dueMs <= untilMs {
            settlements.removeLast()
            clockMs = max(clockMs, s.dueMs)
            var batch = tick()
            let command = uuid()
            let settled = try emit(&sink, &batch, type: "PENDING_SETTLED", aggregate: users[s.seller].id, causation: s.cause, correlation: command, payload: [
                ("amount", amountJSON(s.amount)), ("currency", .string(users[s.seller].currency)),
            ], actor: users[s.seller].id)
            users[s.seller].pending -= s.amount
            users[s.seller].available += s.amount
            let fee = s.amount / 20
            _ = try emit(&sink, &batch, type: "FEE_CHARGED", aggregate: users[s.seller].id, causation: settled, correlation: command, payload: [
                ("amount", amountJSON(fee)), ("currency", .string(users[s.seller].currency)), ("fee_kind", .string("seller_commission")),
            ], actor: users[s.seller].id)
            users[s.seller].available -= fee
        }
    }

    mutating func writeProjection<S: GeneratorSink>(_ sink: inout S) throws {
        var rows = users
        let drifts = options.projectionDrifts
        var skip = Set<Int>()
        for (n, drift) in drifts.enumerated() {
            let u = (n * 7 + 3) % rows.count
            switch drift {
            case .missedEvent: rows[u].available -= rows[u].lastDepositMinor
            case .appliedTwice: rows[u].available += rows[u].lastDepositMinor
            case .missingUser: skip.insert(u)
            case .rowWithoutEvents: rows.append(User(id: uuid(), currency: "USD", available: 5_000))
            case .manualEdit: rows[u].reserved += 77
            }
        }
        for (i, u) in rows.enumerated() where !skip.contains(i) {
            try sink.projectionRow(userId: u.id, availableMinor: u.available, reservedMinor: u.reserved, pendingMinor: u.pending, currency: u.currency)
        }
    }
}
