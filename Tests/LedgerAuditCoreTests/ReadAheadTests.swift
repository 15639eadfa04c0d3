import Foundation
import LedgerAuditCore
@testable import LedgerAuditSources
import LedgerAuditTestSupport
import Testing

/// A file extract read and decoded on its own thread must hand the fold exactly what the file
/// source hands it on the fold's thread: the same rows in the same order, the same report, the
/// same failures; and an event's cached canonical encoding must be the encoding.
@Suite("Read-ahead of file extracts", .removesTemporaryFolders)
struct ReadAheadTests {
    /// Every row as a comparable line: its canonical encoding, or the malformed row's words.
    static func lines(_ source: any EventSource, scope: ReplayScope = ReplayScope()) throws -> (lines: [String], report: SourceReport) {
        var lines: [String] = []
        let report = try source.stream(scope: scope) { row in
            switch row {
            case .event(let e): lines.append(String(decoding: CanonicalEvent.encode(e), as: UTF8.self))
            case .malformed(let m): lines.append("malformed \(m.location): \(m.reason)")
            }
        }
        return (lines, report)
    }

    @Test("rows, order and report equal the file source's, for every extract format, in and out of order")
    func sameRowsAsTheFileSource() throws {
        let folder = ScratchFolder("read-ahead")
        var lines = TestPaths.read(TestPaths.sample + "/events.jsonl").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // Enough rows for many batches, with unreadable lines among them.
        lines += ["{not json", "[1,2]"]
        let inOrder = folder.sub("in-order.jsonl")
        try lines.joined(separator: "\n").write(toFile: inOrder, atomically: true, encoding: .utf8)
        var shuffled = lines
        var state: UInt64 = 7
        for i in stride(from: shuffled.count - 1, to: 0, by: -1) {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            shuffled.swapAt(i, Int(state >> 33) % (i + 1))
        }
        let outOfOrder = folder.sub("shuffled.jsonl")
        try shuffled.joined(separator: "\n").write(toFile: outOfOrder, atomically: true, encoding: .utf8)
        let middleMs: Int64 = 1_778_000_000_000
        for path in [inOrder, outOfOrder, TestPaths.sample + "/events.csv"] {
            for scope in [ReplayScope(), ReplayScope(hlcPhysicalMaxMs: middleMs)] {
                let file = try FileExtractSource(path: path)
                let direct = try ReadAheadTests.lines(file, scope: scope)
                let ahead = try ReadAheadTests.lines(ReadAheadSource(file), scope: scope)
                if scope == ReplayScope() { #expect(direct.lines.count > 2 * MemberChannel.batchRows, "\(path)") }
                #expect(ahead.lines == direct.lines, "\(path)")
                #expect(ahead.report == direct.report, "\(path)")
            }
        }
    }

    @Test("a file refused part-way is refused with the file source's words, after the same rows")
    func failureAsTheFileSourceSaysIt() throws {
        let folder = ScratchFolder("read-ahead-cut")
        let path = folder.sub("cut.csv")
        // An unterminated quoted field: refused whole, as PostgreSQL's COPY refuses it.
        let csv = TestPaths.read(TestPaths.sample + "/events.csv") + "\"unterminated\n"
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
        let file = try FileExtractSource(path: path)
        var directError: String?, aheadError: String?
        do { _ = try ReadAheadTests.lines(file) } catch { directError = "\(error)" }
        do { _ = try ReadAheadTests.lines(ReadAheadSource(file)) } catch { aheadError = "\(error)" }
        #expect(directError != nil)
        #expect(aheadError == directError)
    }

    @Test("when the fold stops, the reader stops and the error is the fold's")
    func foldStops() throws {
        struct Stop: Error {}
        var seen = 0
        #expect(throws: Stop.self) {
            _ = try ReadAheadSource(try FileExtractSource(path: TestPaths.sample + "/events.jsonl")).stream(scope: ReplayScope()) { _ in
                seen += 1
                if seen == 3 { throw Stop() }
            }
        }
        #expect(seen == 3)
    }

    @Test("a record copied and changed keeps its copy's texts (copy on write); a cached encoding is the encoding, and is dropped when a column it covers changes")
    func recordCopies() throws {
        var rows: [EventRecord] = []
        _ = try FileExtractSource(path: TestPaths.sample + "/events.jsonl").stream(scope: ReplayScope()) { if case .event(let e) = $0 { rows.append(e) } }
        let original = rows[0]
        var changed = original
        changed.eventType = "CHANGED"
        changed.payload = JSONText(validated: #"{"amount":1}"#)
        #expect(original.eventType != "CHANGED" && original.payload.text != #"{"amount":1}"#)
        #expect(changed.eventType == "CHANGED" && changed.eventId == original.eventId)
        for e in rows {
            var cached = e
            cached.canonicalEncoding = CanonicalEvent.encode(e)
            #expect(CanonicalEvent.encode(cached) == CanonicalEvent.encode(e))
        }
        // A column changed after the encoding was made: never the stale bytes.
        var cached = original
        cached.canonicalEncoding = CanonicalEvent.encode(original)
        let shared = cached
        cached.payload = JSONText(validated: #"{"amount":2}"#)
        #expect(cached.canonicalEncoding == nil && shared.canonicalEncoding != nil)
        var moved = shared
        moved.hlcPhysicalMs += 1
        #expect(moved.canonicalEncoding == nil)
        #expect(CanonicalEvent.encode(moved) != CanonicalEvent.encode(shared))
        var renamed = shared
        renamed.sourceIndex = 3
        #expect(renamed.canonicalEncoding != nil)
    }

    @Test("the order pass reads an integer from bytes exactly as Int64(String) reads its text")
    func integersFromBytes() {
        let cases = ["0", "7", "-7", "+7", "", "-", "+", "--1", "1.5", "1e3", " 1", "1 ", "00012", "9223372036854775807", "9223372036854775808",
                     "-9223372036854775808", "-9223372036854775809", "18446744073709551616", "12a", "١٢", "0x10"]
        for text in cases {
            var copy = text
            let fromBytes = copy.withUTF8 { JSONLFormat.decimalInt64($0) }
            #expect(fromBytes == Int64(text), "\(text)")
        }
        var state: UInt64 = 1
        for _ in 0..<2000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let text = String(Int64(bitPattern: state) >> Int64(state % 63))
            var copy = text
            #expect(copy.withUTF8 { JSONLFormat.decimalInt64($0) } == Int64(text), "\(text)")
        }
    }

    @Test("a JSONL key names its column by its exact bytes: every column name, and no near miss, prefix, longer or empty key")
    func columnsByName() {
        func column(_ key: String) -> EventColumn? {
            var copy = key
            return copy.withUTF8 { JSONLFormat.column(named: $0) }
        }
        for c in EventColumn.allCases { #expect(column(c.name) == c, "\(c.name)") }
        let misses = ["event_ix", "Event_id", "event_id ", "event_i", "payloae", "payload\u{0}", "", "e", "metadatas", "hlc_logicaL",
                      "recorded_a", String(repeating: "e", count: 40), "évent_id", "user_ie", "vector_clocks", "stream_versioN"]
        for key in misses { #expect(column(key) == nil, "\(key)") }
    }
}
