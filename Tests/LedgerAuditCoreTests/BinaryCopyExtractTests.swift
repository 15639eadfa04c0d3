import Foundation
import LedgerAuditConfig
import LedgerAuditCore
@testable import LedgerAuditSources
import LedgerAuditTestSupport
import Testing

/// `.pgcopy` extracts: PostgreSQL's binary COPY written to a file. The writer here follows the
/// format's documentation (signature, flags, extension, rows of length-prefixed fields, trailer)
/// so hostile files can be built byte by byte.
@Suite("File extracts: binary COPY", .removesTemporaryFolders)
final class BinaryCopyExtractTests {
    /// Each test's files, removed when the test ends.
    var folders: [ScratchFolder] = []

    static func int16(_ v: Int16, _ out: inout [UInt8]) { out += [UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)] }
    static func int32(_ v: Int32, _ out: inout [UInt8]) { for s in [24, 16, 8, 0] { out.append(UInt8(truncatingIfNeeded: v >> Int32(s))) } }
    static func int64(_ v: Int64, _ out: inout [UInt8]) { for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> Int64(s))) } }

    static func field(_ bytes: [UInt8]?, _ out: inout [UInt8]) {
        guard let bytes else { int32(-1, &out); return }
        int32(Int32(bytes.count), &out)
        out += bytes
    }

    static func uuid(_ id: EventID?) -> [UInt8]? {
        guard let id else { return nil }
        var out: [UInt8] = []
        int64(Int64(bitPattern: id.high), &out)
        int64(Int64(bitPattern: id.low), &out)
        return out
    }

    static func jsonb(_ t: JSONText) -> [UInt8] { [1] + Array(JSONWriter.jsonbText(t.parse()).utf8) }

    static func row(_ e: EventRecord, payloadBytes: [UInt8]? = nil, eventTypeBytes: [UInt8]? = nil) -> [UInt8] {
        var out: [UInt8] = []
        int16(13, &out)
        field(uuid(e.eventId), &out)
        field(eventTypeBytes ?? Array(e.eventType.utf8), &out)
        field(uuid(e.aggregateId), &out)
        var v: [UInt8] = []; int64(e.streamVersion, &v); field(v, &out)
        field(uuid(e.causationId), &out)
        field(uuid(e.correlationId), &out)
        v = []; int64(e.hlcPhysicalMs, &v); field(v, &out)
        v = []; int32(e.hlcLogical, &v); field(v, &out)
        field(jsonb(e.vectorClock), &out)
        field(payloadBytes ?? jsonb(e.payload), &out)
        field(jsonb(e.metadata), &out)
        field(uuid(e.userId), &out)
        v = []; int64(e.recordedAtUs - 946_684_800_000_000, &v); field(v, &out)
        return out
    }

    static let header: [UInt8] = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00] + [0, 0, 0, 0] + [0, 0, 0, 0]
    static let trailer: [UInt8] = [0xFF, 0xFF]

    static func events(_ path: String) throws -> [SourceRow] {
        var rows: [SourceRow] = []
        _ = try FileExtractSource(path: path).stream(scope: ReplayScope()) { rows.append($0) }
        return rows
    }

    func write(_ bytes: [UInt8]) -> String {
        let folder = ScratchFolder("pgcopy")
        folders.append(folder)
        let path = folder.path + "/events.pgcopy"
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    var sampleEvents: [EventRecord] {
        get throws {
            try BinaryCopyExtractTests.events(TestPaths.sample + "/events.jsonl").compactMap { if case .event(let e) = $0 { return e } else { return nil } }
        }
    }

    @Test("the sample as binary COPY gives the JSONL extract's events, canonical bytes and balances")
    func sampleAgrees() throws {
        let events = try sampleEvents
        let path = write(BinaryCopyExtractTests.header + events.flatMap { BinaryCopyExtractTests.row($0) } + BinaryCopyExtractTests.trailer)
        let copied = try BinaryCopyExtractTests.events(path).compactMap { if case .event(let e) = $0 { return e } else { return nil } }
        #expect(copied.map { CanonicalEvent.encode($0) } == events.map { CanonicalEvent.encode($0) })
        let a = try Replay(catalog: CatalogLoader.reference()).run(source: try FileExtractSource(path: TestPaths.sample + "/events.jsonl"), scope: ReplayScope(), eventIdsMayRepeat: true)
        let b = try Replay(catalog: CatalogLoader.reference()).run(source: try FileExtractSource(path: path), scope: ReplayScope(), eventIdsMayRepeat: true)
        #expect(a.book.sortedRows().map { "\($0.0.account) \($0.0.currency) \($0.1)" } == b.book.sortedRows().map { "\($0.0.account) \($0.0.currency) \($0.1)" })
        #expect(a.population == b.population)
        #expect(!b.source.reorderedFromWriteOrder)
    }

    @Test("rows out of global order are sorted, and the report says so")
    func sortsOutOfOrder() throws {
        let events = try sampleEvents
        let path = write(BinaryCopyExtractTests.header + events.reversed().flatMap { BinaryCopyExtractTests.row($0) } + BinaryCopyExtractTests.trailer)
        let r = try Replay(catalog: CatalogLoader.reference()).run(source: try FileExtractSource(path: path), scope: ReplayScope(), eventIdsMayRepeat: true)
        #expect(r.source.reorderedFromWriteOrder)
        #expect(r.findings.total == 0)
        #expect(r.population.eventsInScope == events.count)
    }

    @Test("JSON and text a server would never send are quarantined as MALFORMED_EVENT, not trusted")
    func untrustedContent() throws {
        let e = try sampleEvents[0]
        let badJSON = BinaryCopyExtractTests.row(e, payloadBytes: [1] + Array(#"{"amount": 5,}"#.utf8))
        let notJSONB = BinaryCopyExtractTests.row(e, payloadBytes: Array(#"{"amount": 5}"#.utf8))
        let badUTF8 = BinaryCopyExtractTests.row(e, eventTypeBytes: [0x46, 0xC3, 0x28])
        let path = write(BinaryCopyExtractTests.header + badJSON + notJSONB + badUTF8 + BinaryCopyExtractTests.trailer)
        let rows = try BinaryCopyExtractTests.events(path)
        #expect(rows.count == 3)
        let reasons = rows.compactMap { if case .malformed(let m) = $0 { return m.location + ": " + m.reason } else { return nil } }
        #expect(reasons.count == 3)
        #expect(reasons[0].hasPrefix("row 1") && reasons[0].contains("payload is not valid JSON"))
        #expect(reasons[1].contains("not jsonb"))
        #expect(reasons[2].hasPrefix("row 3"))
    }

    /// A row's three JSON columns share one buffer when they are UTF-8. From the server, a column
    /// that is not is read as before (a String, its bad bytes replaced); from a file it is refused.
    @Test("JSON columns: UTF-8 ones share one buffer and read as the server's text; bytes that are not UTF-8 are read as before")
    func sharedJSONBytes() throws {
        let e = try sampleEvents[0]
        let plain = BinaryCopyExtractTests.row(e)
        let notUTF8Payload: [UInt8] = [1] + Array(#"{"amount": 5, "note": ""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
        let notUTF8 = BinaryCopyExtractTests.row(e, payloadBytes: notUTF8Payload)
        let path = write(BinaryCopyExtractTests.header + plain + notUTF8 + BinaryCopyExtractTests.trailer)
        let rows = try BinaryCopyExtractTests.events(path)
        #expect(rows.count == 2)
        guard case .event(let first)? = rows.first else { Issue.record("row 1 is not an event"); return }
        #expect(first.payload == JSONText(validated: JSONWriter.jsonbText(e.payload.parse()), isJSONBOutput: true))
        #expect(first.metadata.text == JSONWriter.jsonbText(e.metadata.parse()))
        #expect(first.vectorClock.text == JSONWriter.jsonbText(e.vectorClock.parse()))
        #expect(CanonicalEvent.encode(first) == CanonicalEvent.encode(e))
        // The server's own rows (trusted) and the file's (checked) give the same texts.
        var decoder = BinaryCopyDecoder(headerSeen: true)
        for (bytes, expectedPayload) in [(plain, JSONWriter.jsonbText(e.payload.parse())), (notUTF8, String(decoding: notUTF8Payload.dropFirst(), as: UTF8.self))] {
            let fields = try #require(try bytes.withUnsafeBytes { try decoder.fields(of: $0) })
            guard case .event(let trusted) = BinaryCopyDecoder.row(fields, rowNumber: 1) else { Issue.record("not an event"); continue }
            #expect(trusted.payload.text == expectedPayload)
            #expect(trusted.payload.text.unicodeScalars.contains("\u{FFFD}") == (expectedPayload != JSONWriter.jsonbText(e.payload.parse())))
        }
        // From a file, JSON that is not UTF-8 is quarantined (the strict check refuses it).
        guard case .malformed(let second) = rows[1] else { Issue.record("row 2 is not malformed"); return }
        #expect(second.reason.contains("payload is not valid JSON"))
    }

    /// A file's JSON in jsonb's form is copied into the digest after one strict pass; other valid
    /// JSON is re-written. Both must give the server's bytes, and text shaped like jsonb's form
    /// that is not JSON must still be refused.
    @Test("a file's JSON: jsonb's form or not, the same canonical bytes; in that form but not JSON, quarantined")
    func jsonFormsFromAFile() throws {
        let e = try sampleEvents.first { $0.payload.member("amount") != nil }!
        let canonical = Array(JSONWriter.jsonbText(e.payload.parse()).utf8)
        // The same payload, compact and with its members reversed: valid, not in jsonb's form.
        guard case .object(let members) = e.payload.parse() else { Issue.record("payload is not an object"); return }
        let rewritten = Array(JSONWriter.write(.object(members.reversed())).utf8)
        #expect(rewritten != canonical)
        let shapedNotJSON = Array(#"{"amount": 01, "currency": "USD"}"#.utf8)
        let notUTF8: [UInt8] = Array(#"{"amount": 1, "currency": ""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
        let path = write(BinaryCopyExtractTests.header
            + BinaryCopyExtractTests.row(e, payloadBytes: [1] + canonical)
            + BinaryCopyExtractTests.row(e, payloadBytes: [1] + rewritten)
            + BinaryCopyExtractTests.row(e, payloadBytes: [1] + shapedNotJSON)
            + BinaryCopyExtractTests.row(e, payloadBytes: [1] + notUTF8)
            + BinaryCopyExtractTests.trailer)
        let rows = try BinaryCopyExtractTests.events(path)
        #expect(rows.count == 4)
        guard rows.count == 4, case .event(let a) = rows[0], case .event(let b) = rows[1] else { Issue.record("rows 1 and 2 are events"); return }
        #expect(a.payload.isJSONBOutput && !b.payload.isJSONBOutput)
        #expect(CanonicalEvent.encode(a) == CanonicalEvent.encode(e))
        #expect(CanonicalEvent.encode(b) == CanonicalEvent.encode(e))
        for row in rows[2...] {
            guard case .malformed(let m) = row else { Issue.record("not quarantined: \(row)"); continue }
            #expect(m.reason.contains("payload is not valid JSON"))
        }
    }

    @Test("a row with the wrong field count is malformed; the rows after it are still read")
    func wrongFieldCount() throws {
        let e = try sampleEvents[0]
        var short: [UInt8] = []
        BinaryCopyExtractTests.int16(2, &short)
        BinaryCopyExtractTests.field([1, 2], &short)
        BinaryCopyExtractTests.field(nil, &short)
        let rows = try BinaryCopyExtractTests.events(write(BinaryCopyExtractTests.header + short + BinaryCopyExtractTests.row(e) + BinaryCopyExtractTests.trailer))
        #expect(rows.count == 2)
        if case .malformed(let m) = rows[0] { #expect(m.reason.contains("2 columns")) } else { Issue.record("row 1 should be malformed") }
        if case .event = rows[1] {} else { Issue.record("row 2 should be read") }
    }

    @Test("a file without the signature, cut short, or going on after the trailer is refused")
    func framingErrors() throws {
        let e = try sampleEvents[0]
        let row = BinaryCopyExtractTests.row(e)
        let cases: [([UInt8], String)] = [
            (Array("event_id,event_type\n".utf8), "PGCOPY signature"),
            (BinaryCopyExtractTests.header + row, "without the COPY trailer"),
            (BinaryCopyExtractTests.header + Array(row.dropLast(3)), "ends inside row 1"),
            (BinaryCopyExtractTests.header + row + BinaryCopyExtractTests.trailer + [0], "after the COPY trailer"),
            (Array(BinaryCopyExtractTests.header.prefix(12)), "PGCOPY signature"),
            (BinaryCopyExtractTests.header + [0, 1, 0x7F, 0xFF, 0xFF, 0xFF], "over the limit"),
        ]
        for (bytes, message) in cases {
            do {
                _ = try BinaryCopyExtractTests.events(write(bytes))
                Issue.record("accepted: \(message)")
            } catch let error as SourceError {
                #expect(error.description.contains(message), "\(error.description)")
            }
        }
    }
}
