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

    /// A hold: account, currency and hold key, hashed once when made. The dictionaries of open
    /// holds rehash the entries after each removal and on each growth: a hold's hash then costs
    /// one integer, not its three Strings again (hashing was about a third of the check before).
    struct HoldID: Hashable {
        let account: String
        let currency: String
        let key: String
        private let hash: Int

        init(account: String, currency: String, key: String) {
            self.account = account
            self.currency = currency
            self.key = key
            var hasher = Hasher()
            hasher.combineBytes(of: account)
            hasher.combineBytes(of: currency)
            hasher.combineBytes(of: key)
            hash = hasher.finalize()
        }

        /// By bytes, as the book tells accounts apart (`AccountName`).
        static func == (a: HoldID, b: HoldID) -> Bool {
            a.hash == b.hash && a.account.sameBytes(as: b.account) && a.currency.sameBytes(as: b.currency) && a.key.sameBytes(as: b.key)
        }

        func hash(into hasher: inout Hasher) { hasher.combine(hash) }
        /// What the dictionaries of holds probe with: the hash made once, mixed with the table's
        /// seed, instead of another SipHash round over it for every lookup, insert and removal.
        func _rawHashValue(seed: Int) -> Int { LimboCheck.mixed(hash, seed) }
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

    /// An account and currency, hashed once when made (see `HoldID`).
    struct HeldAccount: Hashable {
        let account: String
        let currency: String
        private let hash: Int

        init(_ account: String, _ currency: String) {
            self.account = account
            self.currency = currency
            var hasher = Hasher()
            hasher.combineBytes(of: account)
            hasher.combineBytes(of: currency)
            hash = hasher.finalize()
        }

        static func == (a: HeldAccount, b: HeldAccount) -> Bool { a.hash == b.hash && a.account.sameBytes(as: b.account) && a.currency.sameBytes(as: b.currency) }

        func hash(into hasher: inout Hasher) { hasher.combine(hash) }
        func _rawHashValue(seed: Int) -> Int { LimboCheck.mixed(hash, seed) }
    }

    struct Lot {
        var amountMinor: Int64
        var arrivedMs: Int64
        var correlationId: EventID
    }

    struct Hold {
        var lots: [Lot] = []
        var head = 0
        var lastEventId: EventID
        var totalMinor: Int64 { lots[head...].reduce(0) { $0 + $1.amountMinor } }
    }

    /// One open hold as of T, for limbo.csv and the aging table.
    public struct OpenHold: Sendable {
        public var account: String
        public var currency: String
        public var holdKey: String
        public var amountMinor: Int64
        public var sinceHlcPhysicalMs: Int64
        public var ageMs: Int64
        public var correlationId: EventID
        public var lastEventId: EventID
        public var inLimbo: Bool
    }

    let catalog: Catalog
    let measuredAtMs: Int64
    var holds: [HoldID: Hold] = [:]
    /// Arrival order of holds per account, for first-in first-out departures.
    var arrivalOrder: [HeldAccount: [String]] = [:]
    /// Account → index of its transit rule in the catalog, -1 when it is not a transit account
    /// (an index, not the rule: ~30 bytes an account instead of ~130).
    var ruleCache: [AccountName: Int32] = [:]
    public private(set) var openHolds: [OpenHold] = []

    public init(context: CheckContext) {
        catalog = context.catalog
        measuredAtMs = Instant.floorDivMod(context.measuredAtUs, 1000).0
    }

    public static func note(_ context: CheckContext) -> String { "ages measured to " + Instant.iso8601(us: context.measuredAtUs) }

    /// Skipped, the report still has its limbo section, saying so.
    public static func sectionsWhenSkipped(_ context: CheckContext) -> [ReportSection] {
        [VerifyReport.limboSection([], catalog: context.catalog, ran: false)]
    }

    /// The index of the transit rule an account name falls under, nil for any other account.
    func transitRule(_ account: String) -> Int? {
        func matched() -> Int? { catalog.accounts.firstIndex { $0.pattern.matches(account) }.flatMap { catalog.accounts[$0].transit ? $0 : nil } }
        // A few patterns (the reference catalog has 6) are matched faster than a cache of
        // account names is probed: a probe hashes the name and misses the cache for every leg.
        if catalog.accounts.count <= Limits.limboRulesMatchedDirectlyMax { return matched() }
        if let cached = ruleCache[AccountName(account)] { return cached < 0 ? nil : Int(cached) }
        let index = matched()
        if ruleCache.count < Limits.limboRuleCacheAccountsMax { ruleCache[AccountName(account)] = index.map { Int32($0) } ?? -1 }
        return index
    }

    /// Per account template (by number): the transit rule every name it writes falls under
    /// (its index), -1 when no name it writes is a transit account, -2 when that depends on
    /// the id. A posting's account known by its key is then placed without writing its name.
    var transitByTemplate: [UInt32: Int] = [:]

    func transitRule(template: UInt32) -> Int {
        if let known = transitByTemplate[template] { return known }
        var decided = -1
        for (i, rule) in catalog.accounts.enumerated() {
            guard let matches = rule.pattern.matchesEveryName(ofTemplate: template) else { decided = -2; break }
            if matches { decided = rule.transit ? i : -1; break }
        }
        transitByTemplate[template] = decided
        return decided
    }

    /// The transit rule (index) an account falls under, with the account's name; nil for any
    /// other account. The name is written only for a transit account, or when its template
    /// cannot tell.
    func transit(_ key: AccountKey?, _ name: () -> String) -> (rule: Int, name: String)? {
        if let key {
            let rule = transitRule(template: key.templateNumber)
            if rule == -1 { return nil }
            if rule >= 0 { return (rule, name()) }
        }
        let account = name()
        return transitRule(account).map { ($0, account) }
    }

    func named(_ event: EventRecord, _ rule: Int) -> String? {
        guard let field = catalog.accounts[rule].holdKeyField else { return nil }
        return event.payload.memberScalarText(field)
    }

    public func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog) {
        for a in applied {
            let p = a.posting
            if let from = transit(p.fromKey, { p.fromAccount }) {
                depart(from.name, p.currency, named(event, from.rule), p.amountMinor, event, keyedOnArrival: catalog.accounts[from.rule].holdKeyFromArrival)
            }
            if let to = transit(p.toKey, { p.toAccount }) { arrive(to.name, p.currency, named(event, to.rule) ?? "", p.amountMinor, event) }
        }
    }

    func arrive(_ account: String, _ currency: String, _ key: String, _ amount: Int64, _ event: EventRecord) {
        guard amount > 0 else { return }
        let id = HoldID(account: account, currency: currency, key: key)
        // The hold changed where it sits (one lookup): a hold taken out and put back was
        // looked up twice and its lots array copied on each write (the dictionary still held it).
        func add(to hold: inout Hold) -> Bool {
            let reopened = hold.head == hold.lots.count
            hold.lots.append(Lot(amountMinor: amount, arrivedMs: event.hlcPhysicalMs, correlationId: event.correlationId))
            hold.lastEventId = event.eventId
            return reopened
        }
        if add(to: &holds[id, default: Hold(lastEventId: event.eventId)]) {
            arrivalOrder[HeldAccount(account, currency), default: []].append(key)
        }
    }

    func depart(_ account: String, _ currency: String, _ key: String?, _ amount: Int64, _ event: EventRecord, keyedOnArrival: Bool) {
        var remaining = amount
        // The named hold first.
        if let key { take(from: HoldID(account: account, currency: currency, key: key), &remaining, event) }
        // Accounts keyed on arrival (seller pending) then give up their oldest holds first.
        guard remaining > 0, key == nil || keyedOnArrival else { return }
        let accountKey = HeldAccount(account, currency)
        while remaining > 0, let oldest = arrivalOrder[accountKey]?.first(where: { held in key.map { held.sameBytes(as: $0) } != true }) {
            take(from: HoldID(account: account, currency: currency, key: oldest), &remaining, event)
        }
    }

    /// Takes up to `remaining` from a hold, oldest lot first; forgets the hold once empty.
    func take(from id: HoldID, _ remaining: inout Int64, _ event: EventRecord) {
        guard let index = holds.index(forKey: id) else { return }
        func drain(_ hold: inout Hold) -> Bool {
            while remaining > 0 && hold.head < hold.lots.count {
                let take = min(remaining, hold.lots[hold.head].amountMinor)
                hold.lots[hold.head].amountMinor -= take
                remaining -= take
                if hold.lots[hold.head].amountMinor == 0 { hold.head += 1 }
            }
            hold.lastEventId = event.eventId
            if hold.head == hold.lots.count { return true }
            if hold.head > 64 { hold.lots.removeFirst(hold.head); hold.head = 0 }
            return false
        }
        // Changed where it sits, found once (see `arrive`).
        guard drain(&holds.values[index]) else { return }
        holds.remove(at: index)
        let accountKey = HeldAccount(id.account, id.currency)
        if var order = arrivalOrder.removeValue(forKey: accountKey) {
            if let i = order.firstIndex(where: { $0.sameBytes(as: id.key) }) { order.remove(at: i) }
            if !order.isEmpty { arrivalOrder[accountKey] = order }
        }
    }

    public func finish(_ end: CheckEnd, findings: inout FindingLog) -> CheckReport {
        for (id, hold) in holds {
            let total = hold.totalMinor
            guard total > 0, hold.head < hold.lots.count else { continue }
            let oldest = hold.lots[hold.head]
            let age = measuredAtMs - oldest.arrivedMs
            let inLimbo = age > catalog.limboAfterMs
            openHolds.append(OpenHold(account: id.account, currency: id.currency, holdKey: id.key, amountMinor: total,
                                      sinceHlcPhysicalMs: oldest.arrivedMs, ageMs: age, correlationId: oldest.correlationId,
                                      lastEventId: hold.lastEventId, inLimbo: inLimbo))
            guard inLimbo else { continue }
            findings.append(Finding(code: .moneyInLimbo, eventId: hold.lastEventId, account: id.account, amountMinor: total, currency: id.currency,
                                    message: "\(total) \(id.currency) minor units have sat in \(id.account) (hold \(id.key.isEmpty ? "unnamed" : id.key)) for \(LimboCheck.hours(age)) h, past the \(catalog.limboAfterMs / 3_600_000) h limit: a saga stopped mid-way. Resume or compensate correlation \(oldest.correlationId)",
                                    evidence: [("hold_key", id.key), ("since", Instant.iso8601(ms: oldest.arrivedMs)), ("age_hours", LimboCheck.hours(age)), ("correlation_id", oldest.correlationId.description)]))
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
