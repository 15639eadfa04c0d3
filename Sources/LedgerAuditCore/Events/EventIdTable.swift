import CPrefetch
#if canImport(Glibc)
import Glibc
#endif

/// Event ids → dense indexes 0, 1, 2, … in insertion order, for checks that must remember every
/// event. Open addressing (linear probing) over one array of 32-bit slots, the ids in chunks:
/// 16 bytes an id plus 5–7.5 bytes of slots (load kept between 0.53 and 0.8), no heap object
/// per event; a `Set<EventID>` or `[EventID: …]` costs 40–80 bytes an entry. The probe sequence
/// starts at a hash keyed per process, so ids chosen to collide (hostile input) cannot be
/// prepared ahead.
///
/// The slots grow by 1.5 and 1.33 in turn (2^k, 3·2^(k-1), 2^(k+1), …), an id's probe starting
/// at `hash × size / 2^64`: doubling alone left a table just past a power of two at a load of
/// 0.35, 11.4 bytes of slots an id (at 50M events, 537 MB for each of `verify`'s id tables
/// where 403 MB do now, 268 MB where the ids fit under 0.8 of 2^26).
///
/// The ids are an `EventIdLog`, a reference: copies of a table share them, so a table is copied
/// with `copied()`. Another thread may read the log (`log`) below the count it was handed: the
/// fold's table of ids and causes is the causation check's too (`DuplicateEventGuard`).
public struct EventIdTable: Sendable {
    @usableFromInline var ids: EventIdLog
    /// 0 is an empty slot; else the id's index + 1, with 4 low bits of the id's hash above it
    /// (`tagShift`; the probe's start comes from the high bits, so the tags of neighbouring
    /// slots stay independent) while every index fits below them: a probe that meets another id's slot
    /// then reads that id only when the tags agree (1 in 16), not on every step. A table past
    /// `taggedIdsMax` ids drops the tags and compares every id met.
    @usableFromInline var slots: [UInt32]
    /// `slots.count`, kept beside it: the probe wraps at it.
    @usableFromInline var size: Int
    @usableFromInline var tagged = true
    private let taggedIdsMax: Int
    @usableFromInline static let tagShift: UInt32 = 28
    /// The most ids whose index + 1 fits below the tag.
    private static let taggedIdsLimit = (1 << Int(tagShift)) - 1
    @usableFromInline static let seed: (UInt64, UInt64) = (UInt64.random(in: .min ... .max) | 1, UInt64.random(in: .min ... .max))

    public init(capacity: Int = 1024) { self.init(capacity: capacity, taggedIdsMax: Self.taggedIdsLimit) }

    /// A table whose ids go into `log` (empty), which another thread reads.
    public init(capacity: Int, log: EventIdLog) {
        precondition(log.count == 0, "a table starts with an empty log")
        self.init(capacity: capacity, taggedIdsMax: Self.taggedIdsLimit, log: log)
    }

    /// `taggedIdsMax` lower than the slots allow: tests reach the untagged table without 2^28 ids.
    init(capacity: Int, taggedIdsMax: Int, log: EventIdLog = EventIdLog()) {
        ids = log
        var size = 16
        while size * 8 < capacity * 10 { size <<= 1 }
        slots = [UInt32](repeating: 0, count: size)
        self.size = size
        self.taggedIdsMax = min(taggedIdsMax, Self.taggedIdsLimit)
    }

    /// The id given index `index`.
    public func id(at index: Int) -> EventID { ids[index] }

    /// The ids by index, for a reader on another thread (below the count it was handed).
    public var log: EventIdLog { ids }

    /// A table of its own: the same ids and slots, the ids not shared.
    public func copied() -> EventIdTable {
        var copy = self
        copy.ids = ids.copied()
        return copy
    }

    public var count: Int { ids.count }
    /// True when a further id cannot be given a 32-bit index.
    public var isFull: Bool { ids.count >= Limits.eventIdTableMax }

    /// A keyed 128→64 bit fold (multiply high and low halves): random ids and crafted ones
    /// alike spread. The high bits place the id (`start`), the low four are its tag.
    @inlinable @inline(__always)
    static func hash(_ id: EventID) -> UInt64 {
        let a = (id.high ^ seed.1).multipliedFullWidth(by: seed.0)
        let b = (id.low ^ a.high).multipliedFullWidth(by: 0x9E37_79B9_7F4A_7C15)
        return b.high ^ b.low ^ a.low
    }

    /// The slot an id's probe starts at: `hash × size / 2^64`, any size (not only a power of two).
    @inlinable @inline(__always)
    func start(_ hash: UInt64) -> Int { Self.start(hash, size: size) }

    @inlinable @inline(__always)
    static func start(_ hash: UInt64, size: Int) -> Int { Int(truncatingIfNeeded: hash.multipliedFullWidth(by: UInt64(size)).high) }

    /// The slot after `i`, wrapping at the end.
    @inlinable @inline(__always)
    func next(_ i: Int) -> Int { Self.next(i, size: size) }

    @inlinable @inline(__always)
    static func next(_ i: Int, size: Int) -> Int { i + 1 == size ? 0 : i + 1 }

    @inlinable @inline(__always)
    static func tag(_ hash: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: hash & 0xF) }

    /// What a slot holding `index` stores.
    @inline(__always)
    private func slot(index: Int, hash: UInt64) -> UInt32 { Self.slot(index: index, hash: hash, tagged: tagged) }

    @inline(__always)
    private static func slot(index: Int, hash: UInt64, tagged: Bool) -> UInt32 {
        tagged ? UInt32(index + 1) | tag(hash) << tagShift : UInt32(index + 1)
    }

    /// The index in a non-empty slot when its tag agrees with `hash`'s, else nil.
    @inlinable @inline(__always)
    func candidate(_ s: UInt32, hash: UInt64) -> Int? {
        guard tagged else { return Int(s) - 1 }
        guard s >> Self.tagShift == Self.tag(hash) else { return nil }
        return Int(s & ((1 << Self.tagShift) - 1)) - 1
    }

    public func index(of id: EventID) -> Int? {
        let h = Self.hash(id)
        var i = start(h)
        while true {
            let s = slots[i]
            if s == 0 { return nil }
            if let n = candidate(s, hash: h), ids[n] == id { return n }
            i = next(i)
        }
    }

    // Prefetch hints. A check's table is far larger than the caches (2M ids: 16 MB of slots,
    // 32 MB of ids), and its slot and the id it names are two cache misses an event on the
    // checks' thread. The worker asks for them a few events ahead (`Check.prefetch`): first the
    // slot an id's probe starts at, then, once that line is in, the id its index names. Hints
    // change nothing but timing.

    /// Asks for the slot `id`'s probe starts at.
    @inlinable
    public func prefetchSlot(_ id: EventID) {
        let i = start(Self.hash(id))
        slots.withUnsafeBufferPointer { prefetchMemory($0.baseAddress! + i) }
    }

    /// The index the first slot of `id`'s probe names when its tag agrees (a probable match,
    /// not a certain one): read after `prefetchSlot`, to ask for what that index locates.
    @inlinable
    public func likelyIndex(_ id: EventID) -> Int? {
        let h = Self.hash(id)
        let s = slots[start(h)]
        guard s != 0, let n = candidate(s, hash: h), n < ids.count else { return nil }
        return n
    }

    /// Asks for the id at `index` (the compare a found id makes).
    @inlinable
    public func prefetchId(at index: Int) { ids.prefetch(at: index) }

    /// The id's index, and whether it was added now. nil when the table is full (`isFull`).
    @discardableResult
    public mutating func insert(_ id: EventID) -> (index: Int, inserted: Bool)? {
        let h = Self.hash(id)
        var i = start(h)
        while true {
            let s = slots[i]
            if s == 0 { break }
            if let n = candidate(s, hash: h), ids[n] == id { return (n, false) }
            i = next(i)
        }
        guard !isFull else { return nil }
        ids.append(id)
        if tagged && ids.count > taggedIdsMax {
            // The new index does not fit beside a tag: every slot is written again without one.
            tagged = false
            rebuild(size: slots.count)
        } else {
            slots[i] = slot(index: ids.count - 1, hash: h)
        }
        if ids.count * 10 > size * 8 { rebuild(size: Self.grown(size)) }
        return (ids.count - 1, true)
    }

    /// The next size: 2^k → 3·2^(k-1) → 2^(k+1), a load of 0.8 falling to 0.53 and 0.6.
    static func grown(_ size: Int) -> Int { size & (size - 1) == 0 ? size + size / 2 : size / 3 * 4 }

    /// Places every id again from the ids alone: the old slots go first, so a growth never holds
    /// both arrays (the largest table's last growth came near the end of the pass, at the peak).
    private mutating func rebuild(size: Int) {
        slots.removeAll()
        slots = [UInt32](repeating: 0, count: size)
        self.size = size
        let count = ids.count
        // Each id's slot is a cache miss in a table this size: the slot of the id
        // `rebuildPrefetchIds` ahead is asked for first, so the misses overlap instead of
        // stalling one after another (the rebuilds were ~3% of `verify`'s checks' thread).
        let ahead = Self.rebuildPrefetchIds
        // Locals: the loop runs inside the slots' exclusive access, where `self` cannot be read.
        let ids = self.ids, tagged = self.tagged
        slots.withUnsafeMutableBufferPointer { slots in
            let base = slots.baseAddress!
            for n in 0..<count {
                if n + ahead < count { prefetchMemory(base + Self.start(Self.hash(ids[n + ahead]), size: size)) }
                let h = Self.hash(ids[n])
                var i = Self.start(h, size: size)
                while base[i] != 0 { i = Self.next(i, size: size) }
                base[i] = Self.slot(index: n, hash: h, tagged: tagged)
            }
        }
    }

    static let rebuildPrefetchIds = 16

    /// Bytes held (ids and slots, allocated capacity), for the README's per-event figures and tests.
    public var bytesHeld: Int { ids.bytesHeld + slots.count * 4 }
}

/// Event ids by index, append-only, in fixed chunks of 2^16 under a directory allocated once
/// for the most ids a table indexes: growing never moves an id, so another thread may read any
/// id below a count it was handed (through a queue, which orders the writes before) while this
/// one appends. The count and the chunks sit behind pointers: reads and appends are plain
/// loads and stores, without a class property's run-time exclusivity check.
public final class EventIdLog: @unchecked Sendable {
    @usableFromInline static var chunkShift: Int { 16 }
    @usableFromInline static var chunkMask: Int { (1 << chunkShift) - 1 }
    static let directoryCapacity = (Limits.eventIdTableMax >> 16) + 1
    /// From `calloc`: the directory's pages no chunk was put in are never touched, so never resident.
    @usableFromInline let directory: UnsafeMutablePointer<UnsafeMutablePointer<EventID>?>
    @usableFromInline let counter: UnsafeMutablePointer<Int>

    public init() {
        let raw = calloc(Self.directoryCapacity, MemoryLayout<UnsafeMutablePointer<EventID>?>.stride)!
        directory = raw.bindMemory(to: UnsafeMutablePointer<EventID>?.self, capacity: Self.directoryCapacity)
        counter = .allocate(capacity: 1)
        counter.initialize(to: 0)
    }

    deinit {
        for k in 0..<chunkCount { directory[k]!.deallocate() }
        free(directory)
        counter.deallocate()
    }

    public var count: Int { counter.pointee }
    var chunkCount: Int { (counter.pointee + Self.chunkMask) >> Self.chunkShift }

    @inlinable
    public subscript(index: Int) -> EventID {
        directory[index >> Self.chunkShift].unsafelyUnwrapped[index & Self.chunkMask]
    }

    @inlinable
    public func append(_ id: EventID) {
        let n = counter.pointee
        precondition(n < Limits.eventIdTableMax, "an EventIdLog holds at most Limits.eventIdTableMax ids")
        if n & Self.chunkMask == 0 { directory[n >> Self.chunkShift] = .allocate(capacity: Self.chunkMask + 1) }
        (directory[n >> Self.chunkShift].unsafelyUnwrapped + (n & Self.chunkMask)).initialize(to: id)
        counter.pointee = n + 1
    }

    /// A log of its own with the same ids.
    public func copied() -> EventIdLog {
        let copy = EventIdLog()
        for k in 0..<chunkCount {
            let chunk = UnsafeMutablePointer<EventID>.allocate(capacity: Self.chunkMask + 1)
            chunk.initialize(from: directory[k]!, count: min(Self.chunkMask + 1, count - k << Self.chunkShift))
            copy.directory[k] = chunk
        }
        copy.counter.pointee = count
        return copy
    }

    public var bytesHeld: Int { chunkCount * (Self.chunkMask + 1) * MemoryLayout<EventID>.stride }

    /// Asks the CPU for the id at `index` (a hint; nothing when out of range).
    @inlinable
    public func prefetch(at index: Int) {
        guard index >= 0, index < counter.pointee else { return }
        prefetchMemory(directory[index >> Self.chunkShift].unsafelyUnwrapped + (index & Self.chunkMask))
    }
}

/// An append-only array in fixed chunks: growing never copies what is there nor leaves the
/// doubling slack of an `Array` (up to 2× at the moment of growth), so memory stays within one
/// chunk of `count × stride`.
public struct ChunkedArray<Element>: Sendable where Element: Sendable {
    // Inlinable: the checks (another module) append an element an event; unspecialised, each
    // call looked up generic metadata at run time (3–5% of the checks' thread).
    @usableFromInline static var chunkShift: Int { 16 }
    @usableFromInline static var chunkSize: Int { 1 << chunkShift }
    @usableFromInline var chunks: [[Element]] = []
    @usableFromInline var storedCount = 0
    public var count: Int { storedCount }

    public init() {}

    @inlinable
    public mutating func append(_ element: Element) {
        if storedCount & (Self.chunkSize - 1) == 0 {
            var chunk: [Element] = []
            chunk.reserveCapacity(Self.chunkSize)
            chunks.append(chunk)
        }
        chunks[chunks.count - 1].append(element)
        storedCount += 1
    }

    @inlinable
    public subscript(index: Int) -> Element {
        get { chunks[index >> Self.chunkShift][index & (Self.chunkSize - 1)] }
        // In place: an element holding a reference (a dictionary) stays uniquely referenced
        // while the caller changes it, where get-then-set copied it first.
        _modify { yield &chunks[index >> Self.chunkShift][index & (Self.chunkSize - 1)] }
    }

    public var bytesHeld: Int { chunks.count * Self.chunkSize * MemoryLayout<Element>.stride }

    /// Asks the CPU for the element at `index` (a hint; nothing when out of range).
    @inlinable
    public func prefetch(at index: Int) {
        guard index >= 0, index < storedCount else { return }
        chunks[index >> Self.chunkShift].withUnsafeBufferPointer { prefetchMemory($0.baseAddress! + (index & (Self.chunkSize - 1))) }
    }
}

/// The CPU's prefetch hint, for inlinable code in other modules.
public func prefetchMemory(_ address: UnsafeRawPointer) { ledger_audit_prefetch(address) }
