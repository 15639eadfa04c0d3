import LedgerAuditCore
/// `MONEY_IN_LIMBO`: money that arrived in a transit account (reservation, escrow, seller
/// pending) and has not left it `limbo_after` after it arrived, as of T. Holds are keyed by
/// the catalog's `hold_key` payload field; money leaves a hold oldest lot first, and leaves
/// accounts keyed from arrival (seller pending) first-in first-out unless the departing event
/// names a hold that still holds money. Memory: open holds only.
public final class LimboCheck: Check {
    public static let name = "limbo"
    public static let summary = "money held in transit accounts longer than limbo_after"
    public static let codes: [FindingCode] = [.moneyInLimbo]

    /// A hold: its account and currency (the book's slot for them, `AppliedPosting.fromSlot`)
    /// and its hold key, hashed once when made. The dictionaries of open holds rehash the
    /// entries after each removal and on each growth: a hold's hash then costs one integer.
    /// By slot, not by name: the name was written from its key, hashed and compared for every
    /// leg (a third of the check); the book already told the accounts apart, by name and currency.
    struct HoldID: Hashable {
        let slot: Int32
        let key: HoldKey
        private let hash: Int

        init(slot: Int32, key: HoldKey) {
            self.slot = slot
            self.key = key
            var hasher = Hasher()
            hasher.combine(slot)
            key.hash(into: &hasher)
            hash = hasher.finalize()
        }

        static func == (a: HoldID, b: HoldID) -> Bool { a.hash == b.hash && a.slot == b.slot && a.key == b.key }

        func hash(into hasher: inout Hasher) { hasher.combine(hash) }
        /// What the dictionaries of holds probe with: the hash made once, mixed with the table's
        /// seed, instead of another SipHash round over it for every lookup, insert and removal.
        func _rawHashValue(seed: Int) -> Int { LimboCheck.mixed(hash, seed) }
    }

    /// A hold key as its text names it: a UUID in its canonical text (lower case, 8-4-4-4-12),
    /// the usual key, as its 16 bytes (no String made, read or hashed for it); any other text as
    /// itself. Each text has one form, so two keys are equal exactly when their texts' bytes are.
    enum HoldKey: Hashable {
        case uuid(EventID)
        case text(String)

        init(_ bytes: UnsafeBufferPointer<UInt8>) {
            if let id = EventID(canonicalText: bytes) {
                self = .uuid(id)
            } else {
                self = .text(String(decoding: bytes, as: UTF8.self))
            }
        }

        static let unnamed = HoldKey.text("")

        var text: String {
            switch self {
            case .uuid(let id): return id.description
            case .text(let t): return t
            }
        }

        static func == (a: HoldKey, b: HoldKey) -> Bool {
            switch (a, b) {
            case (.uuid(let x), .uuid(let y)): return x == y
            case (.text(let x), .text(let y)): return x.sameBytes(as: y)
            default: return false
            }
        }

        func hash(into hasher: inout Hasher) {
            switch self {
            case .uuid(let id): hasher.combine(id.high); hasher.combine(id.low)
            case .text(let t): hasher.combine(UInt8(1)); hasher.combineBytes(of: t)
            }
        }
    }

    /// A hash already made with the process's keyed SipHash (`Hasher`), spread with a table's
    /// seed by two multiplies (MurmurHash3's finalizer) rather than hashed again.
    @inline(__always)
    static func mixed(_ hash: Int, _ seed: Int) -> Int {
        var h = UInt64(bitPattern: Int64(hash ^ seed))
        h = (h ^ (h >> 33)) &* 0xFF51_AFD7_ED55_8CCD
        h = (h ^ (h >> 33)) &* 0xC4CE_B9FE_1A85_EC53
        return Int(truncatingIfNeeded: h ^ (h >> 33))
    }

    struct Lot {
        var amountMinor: Int64
        var arrivedMs: Int64
        var correlationId: EventID
    }

    /// A hold's lots in arrival order, the first inline: most holds get one lot and lose it,
    /// and an array for each was an allocation (and a uniqueness check a write) a hold.
    struct Hold {
        private var first: Lot
        private var later: [Lot] = []
        /// Lots held (`head` of them spent).
        private(set) var count = 0
        var head = 0
        var lastEventId: EventID

        init(lastEventId: EventID) {
            first = Lot(amountMinor: 0, arrivedMs: 0, correlationId: lastEventId)
            self.lastEventId = lastEventId
        }

        var isEmpty: Bool { head == count }

        subscript(i: Int) -> Lot {
            get { i == 0 ? first : later[i - 1] }
            set { if i == 0 { first = newValue } else { later[i - 1] = newValue } }
        }

        mutating func append(_ lot: Lot) {
            if count == 0 { first = lot } else { later.append(lot) }
            count += 1
        }

        /// Forgets the spent lots (a hold drained slowly keeps no long array of them).
        mutating func dropSpent() {
            guard head > 0 else { return }
            let kept = (head..<count).map { self[$0] }
            later = Array(kept.dropFirst())
            first = kept[0]
            count = kept.count
            head = 0
        }

        /// Wider than any one amount: lots that stayed after their account was emptied by a
        /// departure naming another hold can add up past Int64 (hostile input; it trapped).
        var totalMinor: Int128 { (head..<count).reduce(0) { $0 + Int128(self[$1].amountMinor) } }
    }

    /// The hold keys of one account's open holds in the order they opened, the oldest inline
    /// (an account holds one at a time mostly: no array for it).
    struct Arrivals {
        private var oldest: HoldKey
        private var later: [HoldKey] = []

        init(_ key: HoldKey) { oldest = key }

        /// The oldest key other than `key`.
        func first(other key: HoldKey?) -> HoldKey? {
            guard let key else { return oldest }
            if oldest != key { return oldest }
            return later.first { $0 != key }
        }

        mutating func append(_ key: HoldKey) { later.append(key) }

        /// Removes `key` (held once at most); true when no key is left.
        mutating func remove(_ key: HoldKey) -> Bool {
            if oldest == key {
                guard !later.isEmpty else { return true }
                oldest = later.removeFirst()
            } else if let i = later.firstIndex(where: { $0 == key }) {
                later.remove(at: i)
            }
            return false
        }
    }

    /// One open hold as of T, for limbo.csv and the aging table.
    public struct OpenHold: Sendable {
        public var account: String
        public var currency: String
        public var holdKey: String
        /// Int128: see `Hold.totalMinor`.
        public var amountMinor: Int128
        public var sinceHlcPhysicalMs: Int64
        public var ageMs: Int64
        public var correlationId: EventID
        public var lastEventId: EventID
        public var inLimbo: Bool
    }

    let measuredAtMs: Int64
    /// The open holds and what places a leg, in one stored property: an event is then one
    /// access to the object (a run-time exclusivity check, ~90 instructions each), not four.
    var book: HoldBook
    public private(set) var openHolds: [OpenHold] = []

    public init(context: CheckContext) {
        measuredAtMs = Instant.floorDivMod(context.measuredAtUs, 1000).0
        book = HoldBook(catalog: context.catalog)
    }

    public static func note(_ context: CheckContext) -> String { "ages measured to " + Instant.iso8601(us: context.measuredAtUs) }

    /// Skipped, the report still has its limbo section, saying so.
    public static func sectionsWhenSkipped(_ context: CheckContext) -> [ReportSection] {
        [VerifyReport.limboSection([], catalog: context.catalog, ran: false)]
    }

    public func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog) {
        book.observe(event, applied: applied)
    }

    /// The hold key an event names for a rule: its payload field's scalar text. Read once an
    /// event a field (an event's two legs often name the same one), not once a leg.
    struct HoldKeys {
        var field = ""
        var key: HoldKey?
        var read = false

        mutating func named(_ event: EventRecord, _ rule: AccountRule) -> HoldKey? {
            guard let wanted = rule.holdKeyField else { return nil }
            if read && field.sameBytes(as: wanted) { return key }
            field = wanted
            key = event.payload.withMemberScalarText(wanted) { $0.map(HoldKey.init) }
            read = true
            return key
        }
    }

    /// The event a lot arrives or leaves with.
    struct Mark {
        let eventId: EventID
        let hlcPhysicalMs: Int64
        let correlationId: EventID
    }

    /// The open holds, and what places a leg's account under its transit rule.
    struct HoldBook {
        let catalog: Catalog
        var holds: [HoldID: Hold] = [:]
        /// Arrival order of holds per account (its slot), for first-in first-out departures.
        var arrivalOrder: [Int32: Arrivals] = [:]
        /// Per account (by the book's slot): the index of its transit rule in the catalog, -1 for
        /// any other account, `undecided` until a posting names it. Four bytes an account: each
        /// account is matched against the patterns once, not once a leg.
        var ruleBySlot: [Int32] = []
        static let undecided = Int32.min

        init(catalog: Catalog) { self.catalog = catalog }

        /// Per account template (by number): the transit rule every name it writes falls under
        /// (its index), -1 when no name it writes is a transit account, -2 when that depends on
        /// the id. An account opened by its key is then placed without writing its name.
        /// By template number (small, numbered from 0 for the process: an array, not a dictionary
        /// hashed every leg); `unknownTemplate` where not yet decided.
        var transitByTemplate: [Int] = []
        static let unknownTemplate = Int.min

        mutating func transitRule(template: UInt32) -> Int {
            let t = Int(template)
            if t < transitByTemplate.count, transitByTemplate[t] != Self.unknownTemplate { return transitByTemplate[t] }
            var decided = -1
            for (i, rule) in catalog.accounts.enumerated() {
                guard let matches = rule.pattern.matchesEveryName(ofTemplate: template) else { decided = -2; break }
                if matches { decided = rule.transit ? i : -1; break }
            }
            if t >= transitByTemplate.count { transitByTemplate += repeatElement(Self.unknownTemplate, count: t + 1 - transitByTemplate.count) }
            transitByTemplate[t] = decided
            return decided
        }

        /// The transit rule (index) of the account at `slot`, nil for any other account. Decided
        /// the first time a posting names the account: by its key's template, else by its name.
        @inline(__always)
        mutating func transitRule(slot: Int32, _ key: AccountKey?, _ name: () -> String) -> Int? {
            let s = Int(slot)
            if s < ruleBySlot.count, ruleBySlot[s] != Self.undecided { return ruleBySlot[s] < 0 ? nil : Int(ruleBySlot[s]) }
            return decideRule(slot: s, key, name)
        }

        private mutating func decideRule(slot s: Int, _ key: AccountKey?, _ name: () -> String) -> Int? {
            if s >= ruleBySlot.count { ruleBySlot += repeatElement(Self.undecided, count: s + 1 - ruleBySlot.count) }
            var rule = key.map { transitRule(template: $0.templateNumber) } ?? -2
            if rule == -2 { rule = catalog.accountRuleIndex(for: name()).flatMap { catalog.accounts[$0].transit ? $0 : nil } ?? -1 }
            ruleBySlot[s] = Int32(rule)
            return rule < 0 ? nil : rule
        }

        mutating func observe(_ event: EventRecord, applied: [AppliedPosting]) {
            var keys = HoldKeys()
            // What a hold keeps of the event, as values: nested functions that read the event
            // took a copy of it (a retain and a release of each of its boxes a leg).
            let mark = Mark(eventId: event.eventId, hlcPhysicalMs: event.hlcPhysicalMs, correlationId: event.correlationId)
            applied.withUnsafeBufferPointer { applied in
                for i in applied.indices {
                    let amount = applied[i].posting.amountMinor
                    if let from = transitRule(slot: applied[i].fromSlot, applied[i].posting.fromKey, { applied[i].posting.fromAccount }) {
                        let rule = catalog.accounts[from]
                        depart(applied[i].fromSlot, keys.named(event, rule), amount, mark, keyedOnArrival: rule.holdKeyFromArrival)
                    }
                    if let to = transitRule(slot: applied[i].toSlot, applied[i].posting.toKey, { applied[i].posting.toAccount }) {
                        arrive(applied[i].toSlot, keys.named(event, catalog.accounts[to]) ?? .unnamed, amount, mark)
                    }
                }
            }
        }

        mutating func arrive(_ slot: Int32, _ key: HoldKey, _ amount: Int64, _ event: Mark) {
            guard amount > 0 else { return }
            let id = HoldID(slot: slot, key: key)
            // The hold changed where it sits (one lookup): a hold taken out and put back was
            // looked up twice and its lots copied on each write (the dictionary still held it).
            func add(to hold: inout Hold) -> Bool {
                let reopened = hold.isEmpty
                hold.append(Lot(amountMinor: amount, arrivedMs: event.hlcPhysicalMs, correlationId: event.correlationId))
                hold.lastEventId = event.eventId
                return reopened
            }
            guard add(to: &holds[id, default: Hold(lastEventId: event.eventId)]) else { return }
            if let i = arrivalOrder.index(forKey: slot) {
                arrivalOrder.values[i].append(key)
            } else {
                arrivalOrder[slot] = Arrivals(key)
            }
        }

        mutating func depart(_ slot: Int32, _ key: HoldKey?, _ amount: Int64, _ event: Mark, keyedOnArrival: Bool) {
            var remaining = amount
            // The named hold first.
            if let key { take(from: HoldID(slot: slot, key: key), &remaining, event) }
            // Accounts keyed on arrival (seller pending) then give up their oldest holds first.
            guard remaining > 0, key == nil || keyedOnArrival else { return }
            while remaining > 0, let oldest = arrivalOrder[slot]?.first(other: key) {
                take(from: HoldID(slot: slot, key: oldest), &remaining, event)
            }
        }

        /// Takes up to `remaining` from a hold, oldest lot first; forgets the hold once empty.
        mutating func take(from id: HoldID, _ remaining: inout Int64, _ event: Mark) {
            guard let index = holds.index(forKey: id) else { return }
            func drain(_ hold: inout Hold) -> Bool {
                while remaining > 0 && !hold.isEmpty {
                    let take = min(remaining, hold[hold.head].amountMinor)
                    hold[hold.head].amountMinor -= take
                    remaining -= take
                    if hold[hold.head].amountMinor == 0 { hold.head += 1 }
                }
                hold.lastEventId = event.eventId
                if hold.isEmpty { return true }
                if hold.head > 64 { hold.dropSpent() }
                return false
            }
            // Changed where it sits, found once (see `arrive`).
            guard drain(&holds.values[index]) else { return }
            holds.remove(at: index)
            // Its key leaves the account's arrival order in place; the account's entry goes with its last hold.
            if let i = arrivalOrder.index(forKey: id.slot), arrivalOrder.values[i].remove(id.key) {
                arrivalOrder.remove(at: i)
            }
        }
    }

    public func finish(_ end: CheckEnd, findings: inout FindingLog) -> CheckReport {
        let catalog = book.catalog
        for (id, hold) in book.holds {
            let key = id.key.text
            let named = end.book.account(slot: id.slot)
            let total = hold.totalMinor
            guard total > 0, !hold.isEmpty else { continue }
            let oldest = hold[hold.head]
            let age = measuredAtMs - oldest.arrivedMs
            let inLimbo = age > catalog.limboAfterMs
            openHolds.append(OpenHold(account: named.account, currency: named.currency, holdKey: key, amountMinor: total,
                                      sinceHlcPhysicalMs: oldest.arrivedMs, ageMs: age, correlationId: oldest.correlationId,
                                      lastEventId: hold.lastEventId, inLimbo: inLimbo))
            guard inLimbo else { continue }
            // Past Int64 the finding has no amount column: the message and evidence carry it.
            let exactly = Int64(exactly: total)
            findings.append(Finding(code: .moneyInLimbo, eventId: hold.lastEventId, account: named.account, amountMinor: exactly, currency: named.currency,
                                    message: "\(total) \(named.currency) minor units have sat in \(named.account) (hold \(key.isEmpty ? "unnamed" : key)) for \(LimboCheck.hours(age)) h, past the \(catalog.limboAfterMs / 3_600_000) h limit: a saga stopped mid-way. Resume or compensate correlation \(oldest.correlationId)",
                                    evidence: [("hold_key", key), ("since", Instant.iso8601(ms: oldest.arrivedMs)), ("age_hours", LimboCheck.hours(age)), ("correlation_id", oldest.correlationId.description)]
                                        + (exactly == nil ? [("amount_minor", String(total))] : [])))
        }
        openHolds.sort { ($0.account, $0.currency, $0.holdKey) < ($1.account, $1.currency, $1.holdKey) }
        return CheckReport(sections: [VerifyReport.limboSection(openHolds, catalog: catalog, ran: true)])
    }

    /// Hours with two decimals, rounded half up, from integer milliseconds (no floating point).
    public static func hours(_ ms: Int64) -> String {
        let centiHours = (ms * 100 + 1_800_000) / 3_600_000
        return MoneyFormat.decimal(centiHours, exponent: 2)
    }
}
