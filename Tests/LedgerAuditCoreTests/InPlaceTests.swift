import Foundation
@testable import LedgerAuditCore
@testable import LedgerAuditSources
import LedgerAuditTestSupport
import Testing

/// Batches handed between threads are read in place (moved out for the call and moved back),
/// never copied. What must hold: every element visited once in order, the array whole after
/// the call even when the call throws, and each element freed exactly once.
@Suite("elements read in place: forEachInPlace and withElementInPlace", .removesTemporaryFolders)
struct InPlaceTests {
    final class Counted: @unchecked Sendable {
        let value: Int
        let freed: Freed
        init(_ value: Int, _ freed: Freed) { self.value = value; self.freed = freed }
        deinit { freed.count += 1 }
    }
    final class Freed: @unchecked Sendable { var count = 0 }
    struct Stop: Error {}

    @Test("each element once in order; after a throw part-way the array is whole; every element freed exactly once")
    func visitsAndStaysWhole() {
        let freed = Freed()
        do {
            var items = (0..<300).map { Counted($0, freed) }
            var seen: [Int] = []
            items.forEachInPlace { seen.append($0.value) }
            #expect(seen == Array(0..<300))
            seen = []
            #expect(throws: Stop.self) {
                try items.forEachInPlace { (item: Counted) throws(Stop) in
                    seen.append(item.value)
                    if item.value == 150 { throw Stop() }
                }
            }
            #expect(seen == Array(0...150))
            #expect(items.map(\.value) == Array(0..<300))
            #expect(items.withElementInPlace(at: 299) { $0.value } == 299)
            #expect(throws: Stop.self) { try items.withElementInPlace(at: 0) { (_: Counted) throws(Stop) in throw Stop() } }
            #expect(items.map(\.value) == Array(0..<300))
            var empty: [Counted] = []
            empty.forEachInPlace { _ in Issue.record("an empty array has no element") }
            #expect(freed.count == 0)
        }
        #expect(freed.count == 300)
    }

    /// The merge as it was written before it read rows in place: every member's unreadable
    /// head rows first, in member order, then the event with the smallest key.
    static func referenceMerge(_ members: [[SourceRow]], names: [String]) -> [String] {
        var positions = Array(repeating: 0, count: members.count)
        var out: [String] = []
        while true {
            var best = -1
            var bestKey: GlobalOrderKey?
            for i in members.indices {
                while positions[i] < members[i].count, case .malformed(let m) = members[i][positions[i]] {
                    out.append("malformed \(names[i]), \(m.location): \(m.reason)")
                    positions[i] += 1
                }
                guard positions[i] < members[i].count, case .event(let e) = members[i][positions[i]] else { continue }
                if let b = bestKey, !(e.globalOrderKey < b) { continue }
                best = i
                bestKey = e.globalOrderKey
            }
            guard best >= 0 else { return out }
            if case .event(let e) = members[best][positions[best]] { out.append(String(decoding: CanonicalEvent.encode(e), as: UTF8.self)) }
            positions[best] += 1
        }
    }

    @Test("extracts merged in global order: the reference merge's rows, unreadable rows where their member met them, over many batches")
    func mergedExtractsInOrder() throws {
        let folder = ScratchFolder("in-place-merge")
        let lines = TestPaths.read(TestPaths.sample + "/events.jsonl").split(separator: "\n").map(String.init)
        #expect(lines.count > 6 * MemberChannel.batchRows)
        // Three cells dealt round-robin, unreadable lines at a cell's start, in runs, at a batch's
        // edge and at its end; the third cell unreadable from its first line to its tenth.
        var cells: [[String]] = [[], [], []]
        for (n, line) in lines.enumerated() { cells[n % 3].append(line) }
        cells[0].insert("{not json", at: 0)
        cells[0].insert(contentsOf: ["[1,2]", "{\"broken\":"], at: MemberChannel.batchRows - 1)
        cells[1].insert("nope", at: 400)
        cells[1].append("{trailing")
        cells[2].insert(contentsOf: (0..<10).map { "bad \($0)" }, at: 0)
        var members: [MergedEventSource.Member] = []
        var direct: [[SourceRow]] = []
        let names = ["cell-a", "cell-b", "cell-c"]
        for (i, cell) in cells.enumerated() {
            let path = folder.sub("\(names[i]).jsonl")
            try cell.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
            members.append(.init(name: names[i], description: path, spec: .file(path: path)))
            var rows: [SourceRow] = []
            _ = try FileExtractSource(path: path).stream(scope: ReplayScope()) { rows.append($0) }
            direct.append(rows)
        }
        let merged = try ReadAheadTests.lines(MergedEventSource(members: members)).lines
        let expected = InPlaceTests.referenceMerge(direct, names: names)
        #expect(merged.count == lines.count + 15)
        #expect(merged == expected)
    }
}

/// `Concurrently.both` runs its second job on a thread of its own (libdispatch's
/// `concurrentPerform` ran both on the caller right after a pass), and hands back both results.
@Suite("two jobs at once: Concurrently.both")
struct ConcurrentlyBothTests {
    @Test("both results come back, the second job ran on another thread, and nested calls work")
    func bothOnTwoThreads() {
        let caller = pthread_self()
        let (a, b) = Concurrently.both({ () -> (Int, Bool) in (21 * 2, pthread_equal(pthread_self(), caller) != 0) },
                                       { () -> (String, Bool) in ("second", pthread_equal(pthread_self(), caller) != 0) })
        #expect(a.0 == 42 && a.1)
        #expect(b.0 == "second" && !b.1)
        let ((x, y), z) = Concurrently.both({ Concurrently.both({ 1 }, { 2 }) }, { Array(0..<1000).reduce(0, +) })
        #expect(x == 1 && y == 2 && z == 499_500)
    }
}

/// The book's names in C collation are moved out to whoever makes rows of them; never taken,
/// they are freed with the storage.
@Suite("the book's sorted names: SortedAccountKeys")
struct SortedAccountKeysTests {
    @Test("taken: every account once, in C collation, with its slot; not taken: freed")
    func takenOrNot() throws {
        var book = BalanceBook()
        for (n, name) in ["user:b:available", "user:a:available", "Z", "user:a:available"].enumerated() {
            _ = try book.apply([Posting(fromAccount: "external:x", toAccount: name, currency: n == 3 ? "EUR" : "USD", amountMinor: Int64(n + 1))]).get()
        }
        var seen: [(String, String, Int64)] = []
        book.sortedAccountKeys().take { key, slot in seen.append((key.account, key.currency, book.totals(slot: Int(slot)).balanceMinor)) }
        #expect(seen.map(\.0) == ["Z", "external:x", "external:x", "user:a:available", "user:a:available", "user:b:available"])
        #expect(seen.map(\.1) == ["USD", "EUR", "USD", "EUR", "USD", "USD"])
        #expect(seen[3].2 == 4 && seen[4].2 == 2 && seen[2].2 == -6)
        _ = book.sortedAccountKeys()  // never taken: freed by its deinit (ASan and leaks would say otherwise)
        #expect(book.sortedRows().map(\.0.account) == seen.map(\.0))
    }
}
