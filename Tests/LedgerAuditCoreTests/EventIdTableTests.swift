import LedgerAuditConfig
import LedgerAuditTestSupport
import Testing
@testable import LedgerAuditCore

/// The compact id table the causation, duplicate-command and duplicate-event checks remember
/// events in: every id gets one index, in insertion order, through every growth of the table.
@Suite("event id table: dense indexes without a heap object per event", .removesTemporaryFolders)
struct EventIdTableTests {
    @Test("random ids and ids that differ in one bit each keep their first index through growth")
    func indexesSurviveGrowth() {
        var table = EventIdTable(capacity: 4)
        var rng = SystemRandomNumberGenerator()
        var inserted: [EventID] = []
        for i in 0..<150_000 {
            // Half random, half nearly equal ids (one bit apart): both must spread.
            let id = i % 2 == 0 ? EventID(high: rng.next(), low: rng.next()) : EventID(high: 7, low: UInt64(i))
            let r = table.insert(id)
            #expect(r?.inserted == true)
            #expect(r?.index == inserted.count)
            inserted.append(id)
        }
        #expect(table.count == inserted.count)
        for (i, id) in inserted.enumerated() where i % 97 == 0 {
            #expect(table.index(of: id) == i)
            #expect(table.id(at: i) == id)
            #expect(table.insert(id)?.inserted == false)
        }
        #expect(table.index(of: EventID(high: 8, low: 1)) == nil)
        // Within one chunk of the ids and at most 7.5 bytes of slots an id (a load of 0.53 or more).
        #expect(table.bytesHeld <= inserted.count * 16 + 65_536 * 16 + inserted.count * 15 / 2)
    }

    /// Doubling alone left a table just past a power of two at a load of 0.35 (11.4 bytes of
    /// slots an id): the slots grow by 1.5 and 1.33 in turn, so the load stays within 0.53–0.8
    /// however many ids there are, and sizes that are not powers of two place every id.
    @Test("the slots stay between a load of 0.53 and 0.8 at every size, powers of two or not")
    func loadStaysWithinBounds() {
        var table = EventIdTable(capacity: 4)
        var rng = SystemRandomNumberGenerator()
        var sizes: [Int] = [table.size]
        var ids: [EventID] = []
        for _ in 0..<300_000 {
            let id = EventID(high: rng.next(), low: rng.next())
            table.insert(id)
            ids.append(id)
            if table.size != sizes.last! {
                sizes.append(table.size)
                // Just grown: the load fell to 0.53 or 0.6.
                #expect(Double(table.count) / Double(table.size) > 0.5)
            }
            #expect(table.count * 10 <= table.size * 8)
        }
        // 16, 24, 32, 48, 64, …: each size 2^k or 3·2^(k-1), each step 1.5 or 1.33.
        #expect(Array(sizes.prefix(5)) == [16, 24, 32, 48, 64])
        for (a, b) in zip(sizes, sizes.dropFirst()) { #expect(b == EventIdTable.grown(a)) }
        for (i, id) in ids.enumerated() where i % 31 == 0 { #expect(table.index(of: id) == i) }
    }

    @Test("a table past the ids its slots tag drops the tags and keeps every index: before, at and after the switch, and through growth")
    func untaggedPastTheLimit() {
        var table = EventIdTable(capacity: 4, taggedIdsMax: 1_000)
        var rng = SystemRandomNumberGenerator()
        var inserted: [EventID] = []
        for i in 0..<20_000 {
            let id = i % 3 == 0 ? EventID(high: 7, low: UInt64(i)) : EventID(high: rng.next(), low: rng.next())
            #expect(table.insert(id)?.index == inserted.count)
            inserted.append(id)
            if i == 999 || i == 1_000 || i == 1_001 {
                // Every id so far is still found, with its first index, right at the switch.
                for (n, seen) in inserted.enumerated() where n % 7 == 0 || n >= 995 { #expect(table.index(of: seen) == n) }
            }
        }
        for (n, id) in inserted.enumerated() where n % 13 == 0 {
            #expect(table.index(of: id) == n)
            #expect(table.insert(id)?.inserted == false)
        }
        #expect(table.index(of: EventID(high: 8, low: 1)) == nil)
    }

    /// The checks' worker asks for a batch's table lines before observing it (`Check.prefetch`):
    /// the hints read a slot at most, never change the table, and name only real indexes.
    @Test("prefetch hints change nothing: likely indexes are real ones, out-of-range asks are ignored")
    func prefetchHints() {
        var table = EventIdTable(capacity: 4)
        var rng = SystemRandomNumberGenerator()
        var ids: [EventID] = []
        for _ in 0..<5_000 { ids.append(EventID(high: rng.next(), low: rng.next())) }
        for id in ids { table.prefetchSlot(id); _ = table.likelyIndex(id); table.insert(id) }
        var likelyRight = 0
        for (i, id) in ids.enumerated() {
            table.prefetchSlot(id)
            if let n = table.likelyIndex(id) {
                #expect(n >= 0 && n < table.count)
                table.prefetchId(at: n)
                if n == i { likelyRight += 1 }
            }
            #expect(table.index(of: id) == i)
        }
        // Linear probing at a load of at most 0.8 puts most ids in the slot their probe starts at.
        #expect(likelyRight > ids.count / 2)
        for _ in 0..<1_000 {
            let stranger = EventID(high: rng.next(), low: rng.next())
            if let n = table.likelyIndex(stranger) { #expect(n < table.count && table.id(at: n) != stranger) }
        }
        table.prefetchId(at: -1)
        table.prefetchId(at: table.count)
        #expect(table.count == ids.count)
        var empty = ChunkedArray<UInt64>()
        empty.prefetch(at: 0)
        empty.append(1)
        empty.prefetch(at: 1)
        #expect(empty[0] == 1)
    }

    @Test("a chunked array reads back what was appended and set, across chunks")
    func chunkedArray() {
        var a = ChunkedArray<UInt32>()
        for i in 0..<200_000 { a.append(UInt32(i)) }
        a[131_072] = 7
        #expect(a.count == 200_000)
        #expect(a[0] == 0 && a[65_535] == 65_535 && a[65_536] == 65_536 && a[199_999] == 199_999)
        #expect(a[131_072] == 7)
    }

    /// The id table is the pass's: kept to the end of it, then let go before the reports are
    /// built (an evidence pack's peak held two of them). A merged run keeps its table, to
    /// name the source of each finding afterwards.
    @Test("a fold lets go of its id table when the pass ends, unless sources are merged")
    func foldReleasesItsIdTable() {
        var l = LedgerBuilder()
        for i in 0..<10 { l.add("FUNDS_DEPOSITED", aggregate: "alice", payload: #"{"amount":"1.00","currency":"USD"}"#, name: "e\(i)") }
        var one = Fold(catalog: CatalogLoader.reference(), observers: [], eventIdsMayRepeat: true)
        var merged = Fold(catalog: CatalogLoader.reference(), observers: [], eventIdsMayRepeat: true, sourceNames: ["cell-a", "cell-b"])
        for (i, var e) in l.events.enumerated() {
            one.accept(.event(e))
            e.sourceIndex = UInt16(i % 2)
            merged.accept(.event(e))
        }
        #expect(one.duplicateGuard.seen != nil)
        _ = one.finish(source: SourceReport())
        _ = merged.finish(source: SourceReport())
        #expect(one.duplicateGuard.seen == nil)
        #expect(merged.sourceIndex(of: l.events[3].eventId) == 1)
    }

    /// A lane that rode on another parts with a copy of its fold (`Fold.part`): the copy's
    /// table must not append to the log the host's causation check reads.
    @Test("a fold parted from one that indexes causes has a table of its own; the host's log holds only the host's ids, a merged run's sources only events'")
    func partedFoldSeparates() {
        var l = LedgerBuilder()
        let first = l.add("BID_PLACED", aggregate: "x", name: "e1", causation: "c1", user: nil)
        let second = l.add("BID_PLACED", aggregate: "x", name: "e2", causation: "c2", user: nil)
        let log = EventIdLog()
        var host = Fold(catalog: CatalogLoader.reference(), observers: [], eventIdsMayRepeat: true, sourceNames: ["cell-a", "cell-b"], causeIds: log)
        host.accept(.event(first))
        var rider = host.part([], observers: [])
        rider.accept(.event(second))
        #expect(log.count == 2 && rider.duplicateGuard.seen?.count == 4)
        host.accept(.event(second))
        #expect(log.count == 4 && log[2] == second.eventId && log[3] == LedgerBuilder.id("c2"))
        // A cause is not an event: no source, and a later event with its id is no repeat.
        #expect(host.sourceIndex(of: LedgerBuilder.id("c1")) == nil && host.sourceIndex(of: first.eventId) == 0)
        var c1 = l.add("BID_PLACED", aggregate: "y", name: "c1", user: nil)
        c1.sourceIndex = 1
        host.accept(.event(c1))
        #expect(host.sourceIndex(of: c1.eventId) == 1 && log.count == 4)
        host.accept(.event(c1))
        #expect(host.findings.countByCode[.duplicateEvent] == 1)
    }

    /// The fold's table of ids is read by the causation check on the checks' worker while the
    /// fold appends: a reader handed a count reads every id below it, across chunks, and a copy
    /// is a log of its own.
    @Test("an id log read on another thread below the count it was handed, across chunks; a copy does not share appends")
    func logReadAcrossThreads() async {
        let log = EventIdLog()
        let total = 3 * (1 << 16) + 123
        let ids = (0..<total).map { EventID(high: UInt64($0) &* 0x9E37_79B9_7F4A_7C15, low: UInt64($0)) }
        let handed = AsyncStream<Int>.makeStream()
        let reader = Task.detached {
            var checked = 0
            for await count in handed.stream {
                for i in stride(from: checked, to: count, by: 97) where log[i] != ids[i] { return false }
                checked = count
            }
            return checked == total
        }
        for start in stride(from: 0, to: total, by: 10_000) {
            for i in start..<min(start + 10_000, total) { log.append(ids[i]) }
            handed.continuation.yield(log.count)
        }
        handed.continuation.finish()
        #expect(await reader.value)
        #expect(log.count == total && log[total - 1] == ids[total - 1] && log[1 << 16] == ids[1 << 16])
        let copy = log.copied()
        copy.append(EventID(high: 1, low: 1))
        #expect(copy.count == total + 1 && log.count == total)
        #expect((0..<total).allSatisfy { copy[$0] == log[$0] })
        #expect(log.bytesHeld == 4 * (1 << 16) * 16)
    }
}

