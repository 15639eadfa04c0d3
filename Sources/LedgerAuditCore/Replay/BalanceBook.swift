public struct AccountCurrency: Hashable, Sendable, Comparable {
    public var account: String
    public var currency: String

    public init(account: String, currency: String) {
        self.account = account
        self.currency = currency
    }

    /// Equal by bytes, as the book tells accounts apart (`AccountName`), not by Swift's
    /// canonical equivalence: a dictionary keyed by accounts holds each of the book's once.
    public static func == (a: AccountCurrency, b: AccountCurrency) -> Bool {
        a.account.sameBytes(as: b.account) && a.currency.sameBytes(as: b.currency)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combineBytes(of: account)
        hasher.combineBytes(of: currency)
    }

    /// Bytewise (C collation): by account, then currency.
    public static func < (a: AccountCurrency, b: AccountCurrency) -> Bool {
        let byAccount = bytewiseCompare(a.account, b.account)
        return byAccount != 0 ? byAccount < 0 : bytewiseCompare(a.currency, b.currency) < 0
    }

    /// The indexes of `keys` in C collation, for reports with a row per account. Indexes are
    /// sorted on each account's first 16 bytes packed into two integers, so most comparisons
    /// touch no string and no row moves until the order is known (moving rows of Strings
    /// through the merge was most of the time after a reconcile's pass at 2M events); keys
    /// whose prefixes tie are compared in full.
    static func bytewiseOrder(_ keys: [AccountCurrency]) -> [Int] {
        keys.withUnsafeBufferPointer { bytewiseOrder($0) }
    }

    static func bytewiseOrder(_ keys: UnsafeBufferPointer<AccountCurrency>) -> [Int] {
        /// A key's prefix and place, sorted as plain values (24 bytes each); the place breaks
        /// ties, so the order is total and the sort's comparisons inline (a comparator closure
        /// over the keys was a call per comparison, ~4M of them at 237k accounts).
        struct Entry: Comparable {
            var high: UInt64
            var low: UInt64
            var index: Int
            static func < (a: Entry, b: Entry) -> Bool {
                if a.high != b.high { return a.high < b.high }
                if a.low != b.low { return a.low < b.low }
                return a.index < b.index
            }
        }
        var entries: [Entry] = []
        entries.reserveCapacity(keys.count)
        for i in keys.indices {
            let (high, low) = BalanceBook.sortPrefix(keys[i].account)
            entries.append(Entry(high: high, low: low, index: i))
        }
        entries.withUnsafeMutableBufferPointer { $0.sort() }
        // Each run of tied prefixes (a user's several accounts share their first 16 bytes) put
        // in full order by `<`, which reads the names in place (a buffer of every name's bytes
        // cost ~20 MB of peak at 237k accounts).
        var start = 0
        while start < entries.count {
            var end = start + 1
            while end < entries.count && entries[end].high == entries[start].high && entries[end].low == entries[start].low { end += 1 }
            if end - start > 1 {
                entries[start..<end].sort { keys[$0.index] < keys[$1.index] }
            }
            start = end
        }
        return entries.map(\.index)
    }
}

/// A posting as applied, with both balances before it (after = before ∓ amount), and the
/// book's slots of its two accounts: an account and currency's number in the book that applied
/// it, the same for every name or key it is found by (`BalanceBook.account(slot:)` names it).
/// A check that keeps state per account keys it by slot, not by a name written and hashed a leg.
public struct AppliedPosting: Sendable {
    public var posting: Posting
    public var fromBalanceBeforeMinor: Int64
    public var toBalanceBeforeMinor: Int64
    public var fromSlot: Int32
    public var toSlot: Int32

    public var fromBalanceAfterMinor: Int64 { fromBalanceBeforeMinor - posting.amountMinor }
    public var toBalanceAfterMinor: Int64 { toBalanceBeforeMinor + posting.amountMinor }
}

/// One account's running state: its balance, and all it ever received (debits) and gave (credits).
public struct AccountTotals: Sendable, Equatable {
    // The 16-byte-aligned sums first: the balance first left 8 bytes of padding before them,
    // and the book's record an account was 96 bytes where it is 80 now.
    public var debitsMinor: Int128 = 0
    public var creditsMinor: Int128 = 0
    public var balanceMinor: Int64 = 0
    public init() {}

    /// One leg out of the account; false, and nothing changed, when the balance would overflow.
    @inline(__always)
    mutating func payOut(_ amountMinor: Int64) -> Bool {
        let (after, overflow) = balanceMinor.subtractingReportingOverflow(amountMinor)
        if overflow { return false }
        balanceMinor = after
        creditsMinor += Int128(amountMinor)
        return true
    }

    /// One leg into the account; false, and nothing changed, when the balance would overflow.
    @inline(__always)
    mutating func receive(_ amountMinor: Int64) -> Bool {
        let (after, overflow) = balanceMinor.addingReportingOverflow(amountMinor)
        if overflow { return false }
        balanceMinor = after
        debitsMinor += Int128(amountMinor)
        return true
    }
}

/// Balances per account and currency: memory in proportion to accounts, never to events.
/// Each account's totals sit in one array at its slot; the slot is found by the account's name
/// (`AccountNameTable`: the names' bytes, no String an account), or, for a posting whose
/// accounts have compact keys (`AccountKey`), by key and currency without building, hashing or
/// comparing the name: probing a String-keyed dictionary missed the cache on each name (18% of
/// the fold at 2M events).
public struct BalanceBook: Sendable {
    /// Each account's totals at its slot, with the compact key postings find it by beside them.
    private var records: [AccountRecord] = []
    private var names = AccountNameTable()
    private var slotByKey = KeyedSlots()

    public init() {}

    public var accountCount: Int { records.count }
    public var isEmpty: Bool { records.isEmpty }

    /// Every account with its totals (made on demand: for the reports, after the pass).
    public var accounts: [AccountCurrency: AccountTotals] {
        var out = [AccountCurrency: AccountTotals](minimumCapacity: records.count)
        forEachAccount { out[$0] = $1 }
        return out
    }

    /// Every account with its totals, by slot (the order accounts opened), without a dictionary made for it.
    public func forEachAccount(_ body: (AccountCurrency, AccountTotals) throws -> Void) rethrows {
        for slot in records.indices { try body(key(slot), records[slot].totals) }
    }

    /// The name and currency of the account at `slot` (a new String each call).
    private func key(_ slot: Int) -> AccountCurrency { AccountCurrency(account: names.name(slot), currency: records[slot].currency) }

    /// The account and currency at a slot an applied posting names (`AppliedPosting.fromSlot`).
    public func account(slot: Int32) -> AccountCurrency { key(Int(slot)) }

    /// An account's slot, nil when no posting ever touched it.
    public func slot(of key: AccountCurrency) -> Int? {
        key.account.withUTF8InPlace { names.slot($0, key.currency, in: records) }.map { Int($0) }
    }

    /// Every account (name and currency), by slot.
    public var accountNames: [AccountCurrency] { records.indices.map(key) }

    public func balance(_ account: String, _ currency: String) -> Int64 {
        totals(AccountCurrency(account: account, currency: currency)).balanceMinor
    }

    public func totals(_ key: AccountCurrency) -> AccountTotals { slot(of: key).map { records[$0].totals } ?? AccountTotals() }

    public struct Overflow: Error, Sendable {
        public var account: String
        public var balanceMinor: Int64
    }

    /// The slot of a posting's account, nil when the account has none yet. An account found by
    /// name is remembered under its key, so the next posting finds it by key.
    /// `madeName` is the name written for the lookup, which a new account then takes: written
    /// twice, it was two allocations for each account a replay opens.
    @inline(__always)
    private mutating func slot(_ name: @autoclosure () -> String, _ key: AccountKey?, _ currency: String, madeName: inout String?) -> Int32? {
        if let key, let slot = slotByKey.slot(key, currency, in: records) { return slot }
        // A posting named by its key writes its name only here, and when the account opens.
        let written = name()
        guard let slot = written.withUTF8InPlace({ names.slot($0, currency, in: records) }) else {
            madeName = written
            return nil
        }
        if let key { remember(key, slot: slot) }
        return slot
    }

    /// Opens an account; returns its slot.
    private mutating func newAccount(_ name: String, _ key: AccountKey?, _ currency: String, _ totals: AccountTotals) -> Int32 {
        let slot = Int32(records.count)
        records.append(AccountRecord(totals: totals, currency: currency))
        name.withUTF8InPlace { names.append($0, records: records) }
        if let key { remember(key, slot: slot) }
        return slot
    }

    /// The account at `slot` is found by `key` from now on. A record holds one key: an account
    /// that a second key names too (two templates writing one name) is found by name for it.
    private mutating func remember(_ key: AccountKey, slot: Int32) {
        guard !records[Int(slot)].keyed, slotByKey.count < Int(UInt32.max) - 1 else { return }
        records[Int(slot)].keyId = key.id
        records[Int(slot)].keyTemplate = key.templateNumber
        records[Int(slot)].keyed = true
        slotByKey.insert(key, records[Int(slot)].currency, slot: slot, records: records)
    }

    /// Applies all of an event's postings, or none: every leg is checked before any is applied.
    public mutating func apply(_ postings: [Posting]) -> Result<[AppliedPosting], Overflow> {
        var applied: [AppliedPosting] = []
        if let overflow = apply(postings, into: &applied) { return .failure(overflow) }
        return .success(applied)
    }

    /// The same, the applied postings appended to `applied` (the fold's array, reused from one
    /// event to the next: one allocation a money event fewer); nil when all were applied, the
    /// overflow (and nothing appended, nothing applied) when one leg would overflow.
    public mutating func apply(_ postings: [Posting], into applied: inout [AppliedPosting]) -> Overflow? {
        if postings.count == 1 {
            switch applyOne(postings[0]) {
            case .success(let one): applied.append(one)
            case .failure(let overflow): return overflow
            }
            return nil
        }
        /// An account the book holds, or one this event opens (by its name's bytes, as the book
        /// compares names, however its legs found it).
        enum Leg: Hashable {
            case slot(Int32)
            case opened(name: [UInt8], currency: String)
        }
        var trial: [Leg: AccountTotals] = [:]
        var legs: [AppliedPosting] = []
        legs.reserveCapacity(postings.count)
        var legSlots: [(from: Leg, to: Leg)] = []
        func leg(_ name: @autoclosure () -> String, _ key: AccountKey?, _ currency: String) -> Leg {
            var made: String?
            if let s = slot(name(), key, currency, madeName: &made) { return .slot(s) }
            return .opened(name: Array((made ?? name()).utf8), currency: currency)
        }
        func current(_ leg: Leg) -> AccountTotals {
            if let t = trial[leg] { return t }
            if case .slot(let s) = leg { return records[Int(s)].totals }
            return AccountTotals()
        }
        for p in postings {
            let fromLeg = leg(p.fromAccount, p.fromKey, p.currency)
            var from = current(fromLeg)
            let fromBefore = from.balanceMinor
            guard from.payOut(p.amountMinor) else { return Overflow(account: p.fromAccount, balanceMinor: fromBefore) }
            trial[fromLeg] = from
            let toLeg = leg(p.toAccount, p.toKey, p.currency)
            var to = current(toLeg)
            let toBefore = to.balanceMinor
            guard to.receive(p.amountMinor) else { return Overflow(account: p.toAccount, balanceMinor: toBefore) }
            trial[toLeg] = to
            legs.append(AppliedPosting(posting: p, fromBalanceBeforeMinor: fromBefore, toBalanceBeforeMinor: toBefore, fromSlot: -1, toSlot: -1))
            legSlots.append((fromLeg, toLeg))
        }
        var opened: [Leg: Int32] = [:]
        for (leg, totals) in trial {
            switch leg {
            case .slot(let s): records[Int(s)].totals = totals
            case .opened(let name, let currency): opened[leg] = newAccount(String(decoding: name, as: UTF8.self), nil, currency, totals)
            }
        }
        func slotNow(_ leg: Leg) -> Int32 {
            if case .slot(let s) = leg { return s }
            return opened[leg]!
        }
        for i in legs.indices {
            legs[i].fromSlot = slotNow(legSlots[i].from)
            legs[i].toSlot = slotNow(legSlots[i].to)
        }
        applied += legs
        return nil
    }

    /// The common case, one posting: no trial copy, checked before written, each account found once.
    mutating func applyOne(_ p: Posting) -> Result<AppliedPosting, Overflow> {
        var fromName: String?, toName: String?
        let fromSlot = slot(p.fromAccount, p.fromKey, p.currency, madeName: &fromName)
        let toSlot = slot(p.toAccount, p.toKey, p.currency, madeName: &toName)
        // Both held: the same slot. Both new: the same name. One held and one new: two accounts.
        let sameAccount = fromSlot != nil ? fromSlot == toSlot : (toSlot == nil && bytewiseCompare(fromName ?? p.fromAccount, toName ?? p.toAccount) == 0)
        var from = fromSlot.map { records[Int($0)].totals } ?? AccountTotals()
        let fromBefore = from.balanceMinor
        guard from.payOut(p.amountMinor) else { return .failure(Overflow(account: p.fromAccount, balanceMinor: fromBefore)) }
        var to = sameAccount ? from : toSlot.map { records[Int($0)].totals } ?? AccountTotals()
        let toBefore = to.balanceMinor
        guard to.receive(p.amountMinor) else { return .failure(Overflow(account: p.toAccount, balanceMinor: toBefore)) }
        let from32: Int32, to32: Int32
        if sameAccount {
            if let fromSlot { records[Int(fromSlot)].totals = to; from32 = fromSlot } else { from32 = newAccount(fromName ?? p.fromAccount, p.fromKey, p.currency, to) }
            to32 = from32
        } else {
            if let fromSlot { records[Int(fromSlot)].totals = from; from32 = fromSlot } else { from32 = newAccount(fromName ?? p.fromAccount, p.fromKey, p.currency, from) }
            if let toSlot { records[Int(toSlot)].totals = to; to32 = toSlot } else { to32 = newAccount(toName ?? p.toAccount, p.toKey, p.currency, to) }
        }
        return .success(AppliedPosting(posting: p, fromBalanceBeforeMinor: fromBefore, toBalanceBeforeMinor: toBefore, fromSlot: from32, toSlot: to32))
    }

    // Prefetch hints, a few events ahead of the fold (`Fold.prefetch`). At 2M events the book
    // (an 80-byte record an account, 240k of them, and the slots table) is far larger than the
    // caches: a posting's two accounts were up to four misses, each stalling the fold in turn
    // (`applyOne` was 15% of the fold's thread). First the slots the postings' keys hash to,
    // then, once those lines are in, the records they name. Hints change nothing but timing.

    /// Asks for the table lines the keyed legs of `postings` start their probes at.
    public func prefetchSlots(of postings: [Posting]) {
        // Read in place: `for p in postings` copied each posting (a retain of each of its strings).
        postings.withUnsafeBufferPointer { postings in
            for i in postings.indices {
                if let key = postings[i].fromKey { slotByKey.prefetchHome(key, postings[i].currency) }
                if let key = postings[i].toKey { slotByKey.prefetchHome(key, postings[i].currency) }
            }
        }
    }

    /// Asks for the records the first slots of those probes name (after `prefetchSlots`).
    public func prefetchRecords(of postings: [Posting]) {
        records.withUnsafeBufferPointer { records in
            func ask(_ key: AccountKey?, _ currency: String) {
                guard let key, let n = slotByKey.likelySlot(key, currency), n < records.count else { return }
                // A record spans two cache lines at most: its first byte's and the one 64 bytes on
                // (records are 80 bytes from a 16-byte-aligned start, so one starts at most 48
                // bytes into a line).
                let start = UnsafeRawPointer(records.baseAddress! + n)
                prefetchMemory(start)
                prefetchMemory(start + 64)
            }
            postings.withUnsafeBufferPointer { postings in
                for i in postings.indices {
                    ask(postings[i].fromKey, postings[i].currency)
                    ask(postings[i].toKey, postings[i].currency)
                }
            }
        }
    }

    /// Per currency, the sum over all accounts (external included): zero when money is conserved.
    public func netByCurrency() -> [String: Int128] {
        // Over the records in place (each holds its currency): walking the dictionary of names
        // read each key, a cache miss an account at the end of the pass.
        var net = PerCurrency<Int128>()
        for record in records { net.update(record.currency, default: 0) { $0 += Int128(record.totals.balanceMinor) } }
        return net.dictionary
    }

    /// `body` on each account's name, by slot: the slot's number at its index.
    func mapNamesBySlot(_ body: (String) -> UInt32) -> [UInt32] {
        records.indices.map { body(names.name($0)) }
    }

    /// Rows in C collation (bytewise by account, then currency).
    public func sortedRows() -> [(AccountCurrency, Int64)] { sortedRowsAndSlots().rows }

    /// Rows in C collation, and each row's slot (its totals by `totals(slot:)`).
    func sortedRowsAndSlots() -> (rows: [(AccountCurrency, Int64)], slots: [Int32]) {
        var rows: [(AccountCurrency, Int64)] = [], slots: [Int32] = []
        rows.reserveCapacity(records.count)
        slots.reserveCapacity(records.count)
        sortedAccountKeys().take { key, slot in
            rows.append((key, records[Int(slot)].totals.balanceMinor))
            slots.append(slot)
        }
        return (rows, slots)
    }

    /// Every account's name in C collation, with its slot, to be taken once (`take`).
    func sortedAccountKeys() -> SortedAccountKeys {
        let keys = UnsafeMutableBufferPointer<AccountCurrency>.allocate(capacity: records.count)
        for slot in records.indices { (keys.baseAddress! + slot).initialize(to: key(slot)) }
        return SortedAccountKeys(keys: keys, order: AccountCurrency.bytewiseOrder(UnsafeBufferPointer(keys)))
    }

    /// An account's totals by its slot (`sortedRowsAndSlots`, `sortedAccountKeys`).
    public func totals(slot: Int) -> AccountTotals { records[slot].totals }

    /// The first 16 bytes of a name, big-endian, zero-padded: comparing two prefixes gives the
    /// bytewise order of the names, or a tie (a shorter name padded with zeros ties with one
    /// that has NUL bytes there, so ties always fall back to the full comparison).
    static func sortPrefix(_ name: String) -> (UInt64, UInt64) {
        name.withUTF8InPlace { bytes in
            var high: UInt64 = 0, low: UInt64 = 0
            for i in 0..<16 {
                let b = i < bytes.count ? UInt64(bytes[i]) : 0
                if i < 8 { high = high << 8 | b } else { low = low << 8 | b }
            }
            return (high, low)
        }
    }
}

/// A book's account names in C collation, each with its slot: copied once out of the book's
/// dictionary and moved from there into whatever rows are made of them. Mapping an array of
/// keys into rows retained every name again, and letting go of the array released each (a
/// cache miss each, ~0.1 s at 237k accounts). Made on one thread, taken on another: after the
/// pass a reconcile sorts the names on one core while it looks up the projection on the other.
/// A reconcile keeps them, unmoved, for the matched rows of reconciliation.csv (`forEachInOrder`).
final class SortedAccountKeys: @unchecked Sendable {
    private let keys: UnsafeMutableBufferPointer<AccountCurrency>
    private let order: [Int]
    private var taken = false

    /// `keys` by slot: a name's index is its account's slot.
    init(keys: UnsafeMutableBufferPointer<AccountCurrency>, order: [Int]) {
        self.keys = keys
        self.order = order
    }

    var count: Int { keys.count }

    /// Each name's place in C collation (0, 1, …) and its index, which is its account's slot
    /// (for `key(at:)` and the book's totals), in order. The names themselves are not read.
    func forEachInOrder(_ body: (Int, Int32) -> Void) {
        for (place, i) in order.enumerated() { body(place, Int32(i)) }
    }

    /// For each of `others` (in C collation), the first place in C collation whose name is not
    /// below it. Each search gallops on from where the last one ended: a few untouched accounts
    /// read ~20 names each, many read a few each, where walking the names read every one
    /// (~0.2 s at 10M events, 1.2M names).
    func insertionPoints(of others: [AccountCurrency]) -> [Int] {
        let names = order.count
        var start = 0
        return others.map { key in
            // Every place below `low` holds a name below `key`; `high` is the end or a place that does not.
            var low = start, high = start, step = 1
            while high < names, keys[order[high]] < key {
                low = high + 1
                high = low + step
                step <<= 1
            }
            high = min(high, names)
            while low < high {
                let mid = (low + high) / 2
                if keys[order[mid]] < key { low = mid + 1 } else { high = mid }
            }
            start = low
            return low
        }
    }

    /// The name at an index `forEachInOrder` gave, where it lies: read in place, not retained.
    func key(at index: Int) -> UnsafePointer<AccountCurrency> {
        precondition(!taken && index >= 0 && index < keys.count, "SortedAccountKeys: no name at \(index)")
        return UnsafePointer(keys.baseAddress! + index)
    }

    /// Each name in order, moved out to `body` with its slot. Once.
    func take(_ body: (consuming AccountCurrency, Int32) -> Void) {
        precondition(!taken, "SortedAccountKeys taken twice")
        taken = true
        // `order` is a permutation of the keys' places: each key is moved out exactly once.
        for i in order { body((keys.baseAddress! + i).move(), Int32(i)) }
    }

    deinit {
        if !taken { keys.deinitialize() }
        keys.deallocate()
    }
}

/// Values kept per currency while reports go through every account: a run has a few
/// currencies, found by a scan (a small String compares by its bits) rather than hashed once
/// an account; past `scanMax` of them, by a dictionary.
public struct PerCurrency<Value> {
    public private(set) var entries: [(currency: String, value: Value)] = []
    private var indexByCurrency: [String: Int] = [:]
    static var scanMax: Int { 16 }

    public init() {}

    public mutating func update(_ currency: String, default make: @autoclosure () -> Value, _ body: (inout Value) -> Void) {
        let found: Int?
        if entries.count <= Self.scanMax {
            found = entries.firstIndex { $0.currency == currency }
        } else {
            if indexByCurrency.isEmpty { for (i, e) in entries.enumerated() { indexByCurrency[e.currency] = i } }
            found = indexByCurrency[currency]
        }
        if let found { body(&entries[found].value); return }
        var value = make()
        body(&value)
        if entries.count > Self.scanMax { indexByCurrency[currency] = entries.count }
        entries.append((currency, value))
    }

    public var dictionary: [String: Value] { Dictionary(entries.map { ($0.currency, $0.value) }, uniquingKeysWith: { a, _ in a }) }
}

/// SAF-T style control totals for one currency: entries, total debit, total credit.
public struct ControlTotal: Sendable, Equatable {
    public var postingCount: Int = 0
    /// Each posting debits the receiving account and credits the giving one by the same amount.
    public var totalDebitMinor: Int128 = 0
    public var totalCreditMinor: Int128 = 0
    public init() {}

    /// One posting: the same amount on the debit side and on the credit side.
    mutating func add(_ amountMinor: Int64) {
        postingCount += 1
        totalDebitMinor += Int128(amountMinor)
        totalCreditMinor += Int128(amountMinor)
    }
}

/// Conservation, computed on two paths: the book's net per currency, and debits vs credits.
public struct Conservation: Sendable, Equatable {
    public var netByCurrency: [String: Int128]
    public var holds: Bool

    public init(book: BalanceBook, controlTotals: [String: ControlTotal]) {
        netByCurrency = book.netByCurrency()
        holds = netByCurrency.values.allSatisfy { $0 == 0 }
            && controlTotals.values.allSatisfy { $0.totalDebitMinor == $0.totalCreditMinor }
    }
}

/// An account's totals and, when postings find it by key, that key and its currency: one
/// record, so a posting found by key reads what it compares and what it changes in one place.
/// An index entry and the totals kept apart were one more cache miss an account (the book was
/// 21% of a PostgreSQL `balances` client at 2M events, 11% at 200k).
struct AccountRecord: Sendable {
    var totals: AccountTotals
    var keyId = EventID(high: 0, low: 0)
    var keyTemplate: UInt32 = 0
    var keyed = false
    var currency: String

    init(totals: AccountTotals, currency: String) {
        self.totals = totals
        self.currency = currency
    }
}

/// (account key, currency) → the book's slot: open addressing (linear probing) over 32-bit
/// slots, the keys compared in the book's records, the probe started at a hash keyed per
/// process (ids chosen to collide cannot be prepared ahead). 8–16 bytes an account here.
struct KeyedSlots: Sendable {
    /// 0 is an empty slot; else the account's slot + 1.
    private var table = [UInt32](repeating: 0, count: 16)
    private var mask = 15
    private(set) var count = 0
    private static let seed: (UInt64, UInt64) = (UInt64.random(in: .min ... .max) | 1, UInt64.random(in: .min ... .max))

    @inline(__always)
    private func home(_ id: EventID, _ templateNumber: UInt32, _ currency: String) -> Int {
        var code: UInt64 = 0
        currency.withUTF8InPlace { bytes in
            for (i, b) in bytes.prefix(8).enumerated() { code |= UInt64(b) << (8 * UInt64(i)) }
        }
        let a = (id.high ^ Self.seed.1 ^ UInt64(templateNumber)).multipliedFullWidth(by: Self.seed.0)
        let b = (id.low ^ code ^ a.high).multipliedFullWidth(by: 0x9E37_79B9_7F4A_7C15)
        return Int(truncatingIfNeeded: b.high ^ b.low ^ a.low) & mask
    }

    @inline(__always)
    func slot(_ key: AccountKey, _ currency: String, in records: [AccountRecord]) -> Int32? {
        var i = home(key.id, key.templateNumber, currency)
        while true {
            let t = table[i]
            if t == 0 { return nil }
            let n = Int(t) - 1
            if records[n].keyId == key.id && records[n].keyTemplate == key.templateNumber && records[n].currency == currency { return Int32(n) }
            i = (i + 1) & mask
        }
    }

    /// Asks for the table line `key`'s probe starts at (a hint).
    @inline(__always)
    func prefetchHome(_ key: AccountKey, _ currency: String) {
        let i = home(key.id, key.templateNumber, currency)
        table.withUnsafeBufferPointer { prefetchMemory($0.baseAddress! + i) }
    }

    /// The slot the first step of `key`'s probe names: a probable match, not a certain one.
    @inline(__always)
    func likelySlot(_ key: AccountKey, _ currency: String) -> Int? {
        let t = table[home(key.id, key.templateNumber, currency)]
        return t == 0 ? nil : Int(t) - 1
    }

    /// For a key not yet present (callers look it up first), whose record holds it already.
    mutating func insert(_ key: AccountKey, _ currency: String, slot: Int32, records: [AccountRecord]) {
        var i = home(key.id, key.templateNumber, currency)
        while table[i] != 0 { i = (i + 1) & mask }
        table[i] = UInt32(slot) + 1
        count += 1
        if count * 10 > table.count * 7 { grow(records) }
    }

    private mutating func grow(_ records: [AccountRecord]) {
        let size = table.count * 2
        // The slots are placed again from the records: the old ones go first (not both held).
        table.removeAll()
        table = [UInt32](repeating: 0, count: size)
        mask = size - 1
        for n in records.indices where records[n].keyed {
            var i = home(records[n].keyId, records[n].keyTemplate, records[n].currency)
            while table[i] != 0 { i = (i + 1) & mask }
            table[i] = UInt32(n + 1)
        }
    }
}
