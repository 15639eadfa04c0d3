import Foundation
@testable import LedgerAuditCore
@testable import LedgerAuditReports
import LedgerAuditTestSupport
import Testing

/// The journal and GL detail write their lines straight into bytes (`CSVLineWriter`); their
/// previews hold `ReportCell`s. These tests pin that both give the bytes the one path for all
/// ledger text (`CSVRenderer.appendLine`) gives, on hostile text as well as the usual.
@Suite("CSV lines written straight into bytes", .removesTemporaryFolders)
struct CSVLineTests {
    /// Events and postings with text that must be masked, escaped, quoted or neutralised.
    static func hostileLegs() -> [(EventRecord, Posting)] {
        var b = LedgerBuilder()
        let types = ["FUNDS_DEPOSITED", "=cmd|' /C calc'!A0", "PAY 4111111111111111", "type,with \"quotes\"", "esc\u{1b}[31mred", "line\nbreak", "-2", "é ü"]
        let accounts = ["user:\(LedgerBuilder.id("a")):available", "card 4111 1111 1111 1111", "@SUM(A1)", "a,b", "tab\there", "\u{7}bell", "41111111-1111-4111-8111-111111111111"]
        var legs: [(EventRecord, Posting)] = []
        for (i, type) in types.enumerated() {
            let e = b.add(type, aggregate: "agg\(i)", causation: i % 2 == 0 ? "cause\(i)" : nil, user: i % 3 == 0 ? nil : "actor\(i)")
            let p = Posting(fromAccount: accounts[i % accounts.count], toAccount: accounts[(i + 3) % accounts.count],
                            currency: i == 5 ? "X,Y" : "USD", amountMinor: [0, 1, -5, Int64.max, Int64.min, 4111111111111111][i % 6])
            legs.append((e, p))
        }
        return legs
    }

    func bytes(_ cells: [ReportCell]) -> [UInt8] {
        var out: [UInt8] = []
        CSVRenderer.appendLine(cells, into: &out)
        return out
    }

    @Test("a journal line: the bytes written equal appendLine of the preview's cells")
    func journalLines() {
        var writer = CSVLineWriter()
        for (event, posting) in Self.hostileLegs() {
            for debit in [true, false] {
                for source in ["event_store", "cell,eu", "=cell"] {
                    let leg = JournalWriter.JournalLeg(leg: PostingLeg(event: event, posting: posting, debit: debit, lineNumber: 2, amount: "1.00"),
                                                       effectiveDate: "20260501", entered: ("20260501", "101500"), source: source)
                    var row = ReportCellRow()
                    leg.cells(into: &row)
                    writer.begin()
                    leg.cells(into: &writer)
                    writer.end()
                    #expect(writer.bytes == bytes(row.cells), "\(event.eventType) \(posting.fromAccount)")
                    #expect(row.cells.count == JournalWriter.columns.count)
                }
            }
        }
    }

    @Test("an integer's digits appended to bytes equal String(value): the extremes, zero, each power of ten either side and 10,000 random values")
    func decimalDigits() {
        var values: [Int64] = [0, 1, -1, 9, 10, -10, Int64.max, Int64.min, Int64.max - 1, Int64.min + 1]
        var power: Int64 = 1
        for _ in 0..<18 {
            power *= 10
            values += [power - 1, power, power + 1, -(power - 1), -power, -(power + 1)]
        }
        var state: UInt64 = 3
        for _ in 0..<10_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            values.append(Int64(bitPattern: state) >> Int64(state % 63))
        }
        for v in values {
            var bytes: [UInt8] = [0x41]
            bytes.appendDecimal(v)
            #expect(bytes == [0x41] + Array(String(v).utf8), "\(v)")
        }
    }

    @Test("a day's date texts made once: every instant's parts equal its ISO 8601 text cut up, across days, years and back in time")
    func dayCachedParts() {
        func cut(_ us: Int64) -> [String] {
            let c = Array(Instant.iso8601(us: us).utf8)
            func t(_ r: Range<Int>) -> String { String(decoding: c[r], as: UTF8.self) }
            return [t(0..<10), t(11..<19), t(0..<4) + t(5..<7) + t(8..<10), t(11..<13) + t(14..<16) + t(17..<19), t(0..<4), t(5..<7)]
        }
        func texts(_ p: AuditDataStandard.DateParts) -> [String] {
            [p.date, p.time, p.compact, p.compactTime, String(format: "%04d", p.year), String(format: "%02d", p.month)]
        }
        let day: Int64 = 86_400_000_000
        // Midnight, the last µs of a day, leap days, year ends, before 1970 and year 1; then
        // instants that go back to an earlier day, as a second time column does.
        var instants: [Int64] = [0, -1, day - 1, day, 1_777_593_600_000_000, 1_777_593_600_000_000 + day - 1, 951_782_400_000_000,
                                 946_684_799_999_999, 946_684_800_000_000, -62_135_596_800_000_000, 253_402_300_799_999_999, -86_400_000_001]
        var g = SystemRandomNumberGenerator()
        for _ in 0..<2_000 { instants.append(Int64.random(in: -62_135_596_800_000_000...253_402_300_799_999_999, using: &g)) }
        var cached = UTCDayParts()
        for us in instants + instants.reversed() {
            #expect(texts(cached.parts(us: us)) == cut(us), "\(us)")
            #expect(texts(AuditDataStandard.parts(us: us)) == cut(us), "\(us)")
        }
        // Many instants of one day, in and out of order.
        for s in stride(from: Int64(86_399), through: 0, by: -7) {
            let us = 1_777_593_600_000_000 + s * 1_000_000 + 999_999
            #expect(texts(cached.parts(us: us)) == cut(us))
        }
    }

    @Test("a GL detail line: the bytes written equal appendLine of the same cells")
    func glDetailLines() {
        var writer = CSVLineWriter()
        let parts = AuditDataStandard.parts(us: 1_777_593_600_000_000)
        for (event, posting) in Self.hostileLegs() {
            for debit in [true, false] {
                for unit in ["", "+BU", "unit 4111111111111111"] {
                    let leg = ADSWriter.GLDetailLeg(leg: PostingLeg(event: event, posting: posting, debit: debit, lineNumber: 1, amount: "-0.05"), businessUnit: unit,
                                                    effective: parts, entered: parts, fiscal: (2026, 5), source: "event_store")
                    var row = ReportCellRow()
                    leg.cells(into: &row)
                    writer.begin()
                    leg.cells(into: &writer)
                    writer.end()
                    #expect(writer.bytes == bytes(row.cells))
                    #expect(row.cells.count == AuditDataStandard.glDetailColumns.count + AuditDataStandard.glDetailExtraColumns.count)
                }
            }
        }
    }

    @Test("an id's text is never masked, quoted or neutralised, even when its digits pass Luhn")
    func idsPassUnchanged() {
        var ids = [EventID("41111111-1111-4111-8111-111111111111")!, EventID("00000000-0000-0000-0000-000000000000")!,
                   EventID("45320151-1283-0366-4532-015112830366")!, EventID("ffffffff-ffff-ffff-ffff-ffffffffffff")!]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 { ids.append(EventID(high: generator.next(), low: generator.next())) }
        // Ids of decimal digits only: the runs a card scan looks at.
        for _ in 0..<2_000 {
            func digits(_ n: Int) -> String { String((0..<n).map { _ in Character(String(Int.random(in: 0...9))) }) }
            ids.append(EventID("\(digits(8))-\(digits(4))-\(digits(4))-\(digits(4))-\(digits(12))")!)
        }
        var writer = CSVLineWriter()
        for id in ids {
            writer.begin()
            writer.id(id)
            #expect(writer.bytes == bytes([.ledgerText(id.description)]).dropLast(), "\(id)")
        }
    }

    @Test("the word-at-a-time card filters agree with the byte-by-byte scan on 20,000 random texts")
    func cardFiltersAgree() {
        let alphabet: [UInt8] = Array("0123456789 -- abcdef:xyz\t\n\u{1}".utf8) + [0x7F, 0xC3, 0xA9, 0xE2, 0x80, 0xA8]
        var generator = SystemRandomNumberGenerator()
        for n in 0..<20_000 {
            // Mostly digits and separators, so that card-length runs are common.
            let length = Int.random(in: 0...64, using: &generator)
            let bytes: [UInt8] = (0..<length).map { _ in
                Int.random(in: 0..<4, using: &generator) == 0 ? alphabet.randomElement(using: &generator)! : UInt8(0x30 + Int.random(in: 0...9, using: &generator))
            }
            let unshadowed = CSVLineTests.withoutStandaloneUUIDs(bytes)
            var run = CardMask.DigitRun()
            let expectedRun = unshadowed.contains { run.reachesCardLength(after: $0) }
            var plainRun = CardMask.DigitRun()
            let expectedPlain = bytes.allSatisfy { $0 >= 0x20 && $0 < 0x7F || $0 == 0x0A || $0 == 0x09 } && !unshadowed.contains { plainRun.reachesCardLength(after: $0) }
            bytes.withUnsafeBufferPointer { buffer in
                #expect(CardMask.mayHoldCardNumber(bytes: buffer) == expectedRun, "\(n): \(bytes)")
                #expect(LedgerText.isPlain(bytes: buffer) == expectedPlain, "\(n): \(bytes)")
            }
        }
    }

    /// The bytes with each UUID that has no hex digit, hyphen or space beside it replaced by
    /// `x`s (what the card pre-check steps over), found the slow way.
    static func withoutStandaloneUUIDs(_ bytes: [UInt8]) -> [UInt8] {
        let hex = Set(Array("0123456789abcdefABCDEF".utf8))
        var out = bytes
        var i = 0
        while i + 36 <= out.count {
            let shaped = (0..<36).allSatisfy { k in [8, 13, 18, 23].contains(k) ? bytes[i + k] == 0x2D : hex.contains(bytes[i + k]) }
            let alone = (i == 0 || !(hex.contains(bytes[i - 1]) || bytes[i - 1] == 0x2D || bytes[i - 1] == 0x20))
                && (i + 36 == bytes.count || !(hex.contains(bytes[i + 36]) || bytes[i + 36] == 0x2D || bytes[i + 36] == 0x20))
            if shaped && alone {
                for k in 0..<36 { out[i + k] = 0x78 }
                i += 36
            } else {
                i += 1
            }
        }
        return out
    }

    /// The pre-check steps over standalone UUIDs: it must still say yes wherever the full
    /// search finds a card number, on texts built of ids whose digits run long, card numbers in
    /// their layouts, digit runs and every byte that can join or part them.
    @Test("the card pre-check never clears a text in which the full search finds a card number")
    func cardPreCheckIsSound() {
        var generator = SystemRandomNumberGenerator()
        func digits(_ n: Int) -> String { String((0..<n).map { _ in Character(String(Int.random(in: 0...9, using: &generator))) }) }
        func luhnCard(_ length: Int) -> String {
            var d = (0..<(length - 1)).map { _ in UInt8(Int.random(in: 0...9, using: &generator)) }
            for check in UInt8(0)...9 where CardMask.luhnValid(d + [check]) { d.append(check); break }
            return String(decoding: d.map { $0 + 0x30 }, as: UTF8.self)
        }
        let joiners = [":", " ", "-", "", "a", "F", "x", "/", "\"", "é"]
        var found = 0, cleared = 0
        for _ in 0..<20_000 {
            var text = ""
            for _ in 0..<Int.random(in: 1...5, using: &generator) {
                switch Int.random(in: 0..<6, using: &generator) {
                case 0, 1: text += "\(digits(8))-\(digits(4))-\(digits(4))-\(digits(4))-\(digits(12))"
                case 2: text += "\(digits(8))-\(digits(4))-4\(digits(3))-a\(digits(3))-\(digits(12))".uppercased()
                case 3:
                    let card = luhnCard([13, 15, 16, 19].randomElement(using: &generator)!)
                    text += Bool.random(using: &generator) ? card : stride(from: 0, to: card.count, by: 4).map { String(Array(card)[$0..<min($0 + 4, card.count)]) }.joined(separator: ["-", " "].randomElement(using: &generator)!)
                case 4: text += digits(Int.random(in: 1...16, using: &generator))
                default: text += "user:"
                }
                text += joiners.randomElement(using: &generator)!
            }
            let hasCard = !CardMask.matches(in: text).isEmpty
            let mayHold = CardMask.mayHoldCardNumber(text)
            #expect(!hasCard || mayHold, "\(text)")
            if hasCard { found += 1 }
            if !mayHold && CSVLineTests.digitRunReaches(text) { cleared += 1 }
        }
        #expect(found > 1_000)
        #expect(cleared > 1_000)  // texts the old pre-check sent to the full search, cleared now
    }

    static func digitRunReaches(_ text: String) -> Bool {
        var run = CardMask.DigitRun()
        return text.utf8.contains { run.reachesCardLength(after: $0) }
    }

    /// Names written from their templates' bytes (`AccountNameBytes`) must be the bytes the
    /// general path writes for the same name, alone and at the end of a description, on random
    /// templates whose literals hold digits, hyphens, spaces, hex letters, quotes, commas and
    /// formula characters beside ids of decimal digits (card-shaped runs) and hex.
    @Test("account names from template bytes equal the general path's, on 20,000 random templates and ids")
    func accountNamesFromTemplates() {
        var generator = SystemRandomNumberGenerator()
        let literalBytes = Array("user:ext_rnl/.=+@ -0123456789abcdefABCDEF,\"'!~x".utf8)
        func digits(_ n: Int) -> String { String((0..<n).map { _ in Character(String(Int.random(in: 0...9, using: &generator))) }) }
        var fast = 0
        for n in 0..<20_000 {
            var parts: [AccountTemplateNumbers.Part] = []
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                if Bool.random(using: &generator) {
                    parts.append(.id)
                } else {
                    parts.append(.literal((0..<Int.random(in: 1...6, using: &generator)).map { _ in
                        Int.random(in: 0..<3, using: &generator) == 0 ? literalBytes.randomElement(using: &generator)! : UInt8(0x61 + Int.random(in: 6..<26, using: &generator))
                    }))
                }
            }
            guard let number = AccountTemplateNumbers.number(for: "test template \(n) \(UUID())", parts: parts) else { Issue.record("no number"); return }
            let id = Bool.random(using: &generator) ? EventID("\(digits(8))-\(digits(4))-\(digits(4))-\(digits(4))-\(digits(12))")! : EventID(high: UInt64.random(in: 0 ... .max, using: &generator), low: UInt64.random(in: 0 ... .max, using: &generator))
            let key = AccountKey(templateNumber: number, id: id)
            let name = AccountTemplateNumbers.name(key)
            var general = CSVLineWriter(), fromKey = CSVLineWriter()
            general.begin(); fromKey.begin()
            general.ledgerText(name)
            fromKey.account(name, key: key)
            general.ledgerText("FUNDS_DEPOSITED", " from ", name)
            fromKey.ledgerText("FUNDS_DEPOSITED", " from ", account: name, key: key)
            general.ledgerText("4111 1111 1111", " ", name)  // a run of digits that a name's first byte could continue
            fromKey.ledgerText("4111 1111 1111", " ", account: name, key: key)
            #expect(fromKey.bytes == general.bytes, "\(name)")
            if AccountNameBytes.isPlainCell(parts) { fast += 1 }
        }
        #expect(fast > 2_000)
        // The reference catalog's templates are plain by construction.
        for text in ["user:{aggregate_id}", "external:deposits", "user:{aggregate_id}:reserved"] {
            let parts: [AccountTemplateNumbers.Part] = text.split(separator: "{", omittingEmptySubsequences: false).enumerated().flatMap { i, piece -> [AccountTemplateNumbers.Part] in
                let rest = i == 0 ? Substring(piece) : piece.drop { $0 != "}" }.dropFirst()
                return (i == 0 ? [] : [.id]) + (rest.isEmpty ? [] : [.literal(Array(rest.utf8))])
            }
            #expect(AccountNameBytes.isPlainCell(parts), "\(text)")
        }
    }

    @Test("integers are written as String(value) writes them")
    func integers() {
        var writer = CSVLineWriter()
        var values: [Int64] = [0, 1, -1, 9, 10, -10, 99, 100, Int64.max, Int64.min, Int64.min + 1, 1_777_593_600_492]
        for _ in 0..<1_000 { values.append(Int64.random(in: .min ... .max)) }
        for v in values {
            writer.begin()
            writer.integer(v)
            #expect(String(decoding: writer.bytes, as: UTF8.self) == String(v))
        }
    }

    @Test("the population extract's line in bytes is the line the String path wrote before")
    func populationLine() {
        var b = LedgerBuilder()
        let events = [
            b.add("FUNDS_DEPOSITED", aggregate: "alice", payload: #"{"amount": 100, "card": "4111 1111 1111 1111", "pan": 4111111111111111}"#),
            b.add("type \"quoted\"\n\u{1}", aggregate: "bob", payload: "{}", causation: "c", user: nil, metadata: #"{"note": "5500005555555559"}"#),
            b.add("PAY 4111111111111111", aggregate: "carol", payload: #"{"amount": -3}"#, logical: 7),
        ]
        for e in events {
            for masking in [true, false] {
                #expect(EventJSONLine.encode(e, masking: masking) == Self.previousEncode(e, masking: masking))
                var bytes: [UInt8] = []
                EventJSONLine.encode(e, masking: masking, into: &bytes)
                #expect(String(decoding: bytes, as: UTF8.self) == Self.previousEncode(e, masking: masking))
            }
            #expect(EventJSONLine.encode(e, recordedAt: "2026-05-01T02:00:00.000000+02:00") == Self.previousEncode(e, recordedAt: "2026-05-01T02:00:00.000000+02:00"))
        }
    }

    /// The String-building encoder as it was before the byte one (kept here as the reference).
    static func previousEncode(_ e: EventRecord, recordedAt: String? = nil, masking: Bool = true) -> String {
        var line = "{\"event_id\":\"\(e.eventId)\",\"event_type\":"
        JSONWriter.writeString(masking ? CardMask.masked(e.eventType) : e.eventType, into: &line)
        line += ",\"aggregate_id\":\"\(e.aggregateId)\",\"stream_version\":\(e.streamVersion),\"causation_id\":"
        line += e.causationId.map { "\"\($0)\"" } ?? "null"
        line += ",\"correlation_id\":\"\(e.correlationId)\",\"hlc_physical\":\(e.hlcPhysicalMs),\"hlc_logical\":\(e.hlcLogical),\"vector_clock\":"
        line += masking ? previousMasked(e.vectorClock) : e.vectorClock.text
        line += ",\"payload\":" + (masking ? previousMasked(e.payload) : e.payload.text)
        line += ",\"metadata\":" + (masking ? previousMasked(e.metadata) : e.metadata.text)
        line += ",\"user_id\":" + (e.userId.map { "\"\($0)\"" } ?? "null")
        line += ",\"recorded_at\":\"" + (recordedAt ?? Instant.iso8601(us: e.recordedAtUs)) + "\"}\n"
        return line
    }

    static func previousMasked(_ json: JSONText) -> String {
        let text = json.text
        guard CardMask.masked(text) != text, let value = try? JSONParser.parse(text) else { return text }
        return JSONWriter.jsonbText(EventJSONLine.mask(value))
    }
}

/// Report text is scanned eight bytes at a time (`ByteScan`) before the exact byte rules.
/// These pin that the word scans change no answer: plain or not, quoted or not, at every
/// position of a word, for each byte that matters and its neighbours.
@Suite("report text scanned a word at a time", .removesTemporaryFolders)
struct ByteScanTests {
    static func plainByBytes(_ bytes: [UInt8]) -> Bool {
        for u in bytes where !((u >= 0x20 && u < 0x7F) || u == 0x0A || u == 0x09) { return false }
        return !CardMask.mayHoldCardNumber(bytes: bytes.withUnsafeBufferPointer { UnsafeBufferPointer(start: $0.baseAddress, count: $0.count) })
    }

    static func fieldByBytes(_ bytes: [UInt8]) -> [UInt8] {
        let needsQuotes = bytes.contains { [0x2C, 0x22, 0x0A, 0x0D, 0x27, 0x00, 0x09].contains($0) }
        guard needsQuotes else { return bytes }
        return [0x22] + bytes.flatMap { $0 == 0x22 ? [0x22, 0x22] : [$0] } + [0x22]
    }

    @Test("every byte that matters, and its neighbours, at each place in texts of 1 to 24 bytes")
    func sameAnswers() {
        let special: [UInt8] = [0x00, 0x01, 0x08, 0x09, 0x0A, 0x0D, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x26, 0x27, 0x28, 0x2B, 0x2C, 0x2D,
                                0x30, 0x39, 0x7E, 0x7F, 0x80, 0xC3, 0xFF]
        var checked = 0
        for length in 1...24 {
            for position in 0..<length {
                for b in special {
                    var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                    bytes[position] = b
                    let plain = bytes.withUnsafeBufferPointer { LedgerText.isPlain(bytes: $0) }
                    #expect(plain == Self.plainByBytes(bytes), "isPlain \(bytes)")
                    var field: [UInt8] = []
                    bytes.withUnsafeBufferPointer { CSVRenderer.appendField($0, neutralising: false, into: &field) }
                    #expect(field == Self.fieldByBytes(bytes), "field \(bytes)")
                    checked += 1
                }
            }
        }
        #expect(checked == 300 * 24)
    }

    @Test("the digit count added by byte lanes equals a count byte by byte: texts of 0 to 4,500 bytes (past the lanes' 255 words), digits, other ASCII and UTF-8 bytes")
    func digitCountByLanes() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = Array(0x2F...0x3A) + [0x20, 0x2D, 0x61, 0x7F, 0x80, 0xB0, 0xB9, 0xC3, 0xFF]
        for length in Array(0...40) + [2039, 2040, 2041, 2048, 4095, 4500] {
            for digitShare in [0, 1, 3, 8] {
                let bytes = (0..<length).map { _ in
                    Int.random(in: 0..<8, using: &generator) < digitShare ? UInt8.random(in: 0x30...0x39, using: &generator) : alphabet.randomElement(using: &generator)!
                }
                let digits = bytes.filter { $0 >= 0x30 && $0 <= 0x39 }.count
                for minimum in Set([1, 13, digits, digits + 1, max(0, digits - 1)]) {
                    let atLeast = bytes.withUnsafeBufferPointer { CardMask.digitCount($0, atLeast: minimum) }
                    #expect(atLeast == (length >= minimum && digits >= minimum), "\(length) bytes, \(digits) digits, at least \(minimum)")
                }
            }
        }
    }
}

/// The balance book finds an account by its compact key (template number and id) or by its
/// name; these pin that both ways give the same book.
@Suite("balance book: accounts by key and by name", .removesTemporaryFolders)
struct BalanceBookKeyTests {
    /// Postings over a few aggregates and currencies, some accounts reached both through a
    /// template (keyed) and by name, some through two templates of the same text, some events
    /// of several postings, and some that overflow.
    static func events() throws -> [[Posting]] {
        let ids = (0..<6).map { LedgerBuilder.id("agg\($0)") }
        var b = LedgerBuilder()
        let available = try AccountTemplate(parsing: "user:{aggregate_id}:available")
        let availableAgain = try AccountTemplate(parsing: "user:{aggregate_id}:available")
        let byUser = try AccountTemplate(parsing: "user:{user_id}:available")
        let external = try AccountTemplate(parsing: "external:deposits")
        // A field that holds an aggregate's id names the same account as that aggregate's template.
        let byField = try AccountTemplate(parsing: "user:{payload.owner}:available")
        var out: [[Posting]] = []
        var generator = SystemRandomNumberGenerator()
        for n in 0..<3_000 {
            let i = Int.random(in: 0..<ids.count, using: &generator)
            let owner = ids[Int.random(in: 0..<ids.count, using: &generator)].description
            let e = b.add("T", aggregate: ids[i].description, payload: "{\"owner\": \"\(n % 3 == 0 ? owner.uppercased() : owner)\"}",
                          user: "agg\(Int.random(in: 0..<ids.count, using: &generator))")
            let currency = ["USD", "EUR", "JPY"][Int.random(in: 0..<3, using: &generator)]
            // As the posting stage makes them: by key alone (the name written when read).
            func keyed(_ from: AccountTemplate, _ to: AccountTemplate, _ amount: Int64) -> Posting {
                Posting(from: AccountRef(key: from.compactKey(for: e)!), to: AccountRef(key: to.compactKey(for: e)!), currency: currency, amountMinor: amount, index: 0)
            }
            let amount = Int64.random(in: -1_000...1_000, using: &generator)
            switch n % 7 {
            case 0: out.append([keyed(external, available, amount)])
            case 1: out.append([keyed(availableAgain, external, amount)])
            case 2: out.append([keyed(byUser, available, amount)])
            case 3: out.append([Posting(fromAccount: "user:\(ids[i]):available", toAccount: "escrow:x", currency: currency, amountMinor: amount)])
            case 4: out.append([keyed(external, available, amount), keyed(available, byUser, amount), Posting(fromAccount: "escrow:x", toAccount: "user:\(ids[i]):available", currency: currency, amountMinor: 1)])
            case 5: out.append([keyed(available, available, amount)])
            case 6 where n % 2 == 0:
                // Upper case: named as text, a different account from the lower-case key's.
                let to = try byField.compactKey(for: e).map { AccountRef(key: $0) } ?? AccountRef(name: byField.render(for: e).get())
                out.append([Posting(from: AccountRef(key: available.compactKey(for: e)!), to: to, currency: currency, amountMinor: amount, index: 0)])
            default: out.append([keyed(external, available, n % 2 == 0 ? Int64.max : Int64.min)])
            }
        }
        return out
    }

    @Test("keyed postings and the same postings by name give the same book, overflows included")
    func sameBook() throws {
        var keyed = BalanceBook()
        var named = BalanceBook()
        for postings in try Self.events() {
            let byName = postings.map { p -> Posting in
                var q = p
                q.fromAccount = p.fromAccount  // a name set again drops its key
                q.toAccount = p.toAccount
                #expect(q.fromKey == nil && q.toKey == nil)
                return q
            }
            let a = keyed.apply(postings), b = named.apply(byName)
            switch (a, b) {
            case (.success(let x), .success(let y)):
                #expect(x.map(\.fromBalanceBeforeMinor) == y.map(\.fromBalanceBeforeMinor) && x.map(\.toBalanceBeforeMinor) == y.map(\.toBalanceBeforeMinor))
            case (.failure(let x), .failure(let y)): #expect(x.account == y.account && x.balanceMinor == y.balanceMinor)
            default: Issue.record("one book applied what the other refused")
            }
        }
        #expect(keyed.accounts == named.accounts)
        #expect(keyed.accountCount == named.accountCount)
        #expect(keyed.sortedRows().map { "\($0.0.account) \($0.0.currency) \($0.1)" } == named.sortedRows().map { "\($0.0.account) \($0.0.currency) \($0.1)" })
    }

    @Test("a posting named by its account key reads the name the template writes; renaming drops the key")
    func namesFromKeys() throws {
        var b = LedgerBuilder()
        let e = b.add("T", aggregate: "alice", user: "bob")
        for text in ["user:{aggregate_id}:available", "{user_id}", "external:deposits", "a{event_id}b{event_id}c", "é:{correlation_id}:ü"] {
            let t = try AccountTemplate(parsing: text)
            let key = try #require(t.compactKey(for: e), "\(text) has a key")
            var p = Posting(from: AccountRef(key: key), to: AccountRef(name: "external:x"), currency: "USD", amountMinor: 5, index: 0)
            #expect(p.fromAccount == (try t.render(for: e).get()))
            #expect(p.fromKey == key)
            #expect(p == Posting(fromAccount: try t.render(for: e).get(), toAccount: "external:x", currency: "USD", amountMinor: 5))
            p.fromAccount = "renamed"
            #expect(p.fromKey == nil && p.fromAccount == "renamed")
        }
    }

    @Test("a payload or metadata field holding a UUID in its canonical text keys its account, and the key writes back the name the field makes; any other value is named as text")
    func keysFromFields() throws {
        var b = LedgerBuilder()
        let uuid = "0f0f0f0f-0000-4000-8000-0000000000ab"
        let escrow = try AccountTemplate(parsing: "escrow:{payload.escrow_id}")
        let bySeller = try AccountTemplate(parsing: "seller:{metadata.seller}:{metadata.seller}")
        let e = b.add("T", aggregate: "a", payload: "{\"escrow_id\": \"\(uuid)\"}", metadata: "{\"seller\": \"\(uuid)\"}")
        for (template, name) in [(escrow, "escrow:\(uuid)"), (bySeller, "seller:\(uuid):\(uuid)")] {
            let key = try #require(template.compactKey(for: e))
            #expect(key.id == EventID(uuid))
            #expect(try template.render(for: e).get() == name)
            #expect(Posting(from: AccountRef(key: key), to: AccountRef(name: "x"), currency: "USD", amountMinor: 1, index: 0).fromAccount == name)
        }
        // The same field in another event gives the same key; the name path agrees.
        #expect(escrow.compactKey(for: b.add("T", aggregate: "b", payload: "{\"escrow_id\": \"\(uuid)\", \"x\": 1}")) == escrow.compactKey(for: e))
        let upper = uuid.uppercased(), escaped = "\\u0030" + uuid.dropFirst()
        for payload in ["{\"escrow_id\": \"\(upper)\"}", "{\"escrow_id\": \"\(escaped)\"}", "{\"escrow_id\": 12345}", "{\"escrow_id\": \"ESC-1\"}",
                        "{\"escrow_id\": \"\(uuid.dropLast())\"}", "{\"escrow_id\": \"\(uuid)0\"}", "{}", "{\"escrow_id\": \"\(uuid.replacingOccurrences(of: "-", with: "_"))\"}"] {
            let other = b.add("T", aggregate: "c", payload: payload)
            #expect(escrow.compactKey(for: other) == nil, "\(payload)")
        }
        // The last of repeated fields is the one named, by key as by text.
        let twice = b.add("T", aggregate: "d", payload: "{\"escrow_id\": \"ESC-1\", \"escrow_id\": \"\(uuid)\"}")
        if let key = escrow.compactKey(for: twice) {
            #expect(AccountTemplateNumbers.name(key) == (try escrow.render(for: twice).get()))
        } else {
            #expect(try escrow.render(for: twice).get() == "escrow:ESC-1")
        }
        // Two placeholders, or {stream}, give no key.
        #expect(try AccountTemplate(parsing: "x:{payload.a}:{payload.b}").compactKey(for: e) == nil)
        #expect(try AccountTemplate(parsing: "x:{aggregate_id}:{payload.escrow_id}").compactKey(for: e) == nil)
        #expect(try AccountTemplate(parsing: "x:{stream}").compactKey(for: e) == nil)
    }

    @Test("an account an overflowing event would open is not opened")
    func overflowOpensNothing() throws {
        var book = BalanceBook()
        let e = LedgerBuilder().events.first ?? { var b = LedgerBuilder(); return b.add("T", aggregate: "a") }()
        let t = try AccountTemplate(parsing: "user:{aggregate_id}:available")
        let p = Posting(from: AccountRef(key: try #require(t.compactKey(for: e))), to: AccountRef(name: "external:x"), currency: "USD", amountMinor: Int64.min, index: 0)
        guard case .failure = book.apply([p]) else { Issue.record("Int64.min from an empty account must overflow"); return }
        #expect(book.isEmpty)
    }
}

@Suite("reconciliation rows in C collation", .removesTemporaryFolders)
struct ReconciliationOrderTests {
    @Test("compare's rows come in the bytewise order of (account, currency): the book's accounts and the projection's untouched ones merged, ties past 16 bytes and non-ASCII included; with a large book, the names classified on two cores and a few untouched placed by galloping search",
          arguments: [0, 19_998])
    func mergedOrderEqualsFullSort(padding: Int) throws {
        let stems = ["user:", "user:0000000000000000", "user:00000000000000001", "escrow:", "é", "e", "", "user:\u{0}", "platform:fees"]
        var book = BalanceBook()
        var projected: [ProjectedBalance] = []
        var expected = Set<String>()
        var k = 0
        for (i, stem) in stems.enumerated() {
            for n in 0..<40 {
                let account = stem + (n % 3 == 0 ? "" : String(n * 7919 % 97))
                for currency in ["USD", "EUR", "JPY"] where (n + i) % 2 == 0 || currency == "USD" {
                    k += 1
                    expected.insert("\(account)|\(currency)")
                    // Every other account only in the projection: the replay never touched it.
                    if k % 2 == 0 {
                        _ = try book.apply([Posting(fromAccount: "external:x", toAccount: account, currency: currency, amountMinor: 1)]).get()
                        expected.insert("external:x|\(currency)")
                    } else {
                        projected.append(ProjectedBalance(account: account, currency: currency, amountMinor: Int64(k % 5), origin: "t"))
                    }
                }
            }
        }
        // Book accounts the projection names (matched and not) or lacks: with thousands of
        // them, the few untouched accounts are found by galloping search, not a walk.
        for n in 0..<padding {
            let account = "pad:\(n * 7919 % padding)"
            _ = try book.apply([Posting(fromAccount: "external:x", toAccount: account, currency: "USD", amountMinor: 2)]).get()
            expected.insert("\(account)|USD")
            if n % 3 != 0 { projected.append(ProjectedBalance(account: account, currency: "USD", amountMinor: Int64(n % 3), origin: "t")) }
        }
        projected.shuffle()
        // `{key}` alone: every account of the book is of the projected kind.
        let mapping = ProjectionMapping(table: "t", keyColumn: "k", currencyColumn: nil, columns: [(column: "c", account: "{key}")])
        let rows = Reconciliation.compare(projected: projected, book: book, mapping: mapping, projectionName: "p").rows
        let got = rows.map { AccountCurrency(account: $0.account, currency: $0.currency) }
        #expect(got == got.sorted())
        if padding > 0 {
            let pads = rows.filter { $0.account.hasPrefix("pad:") }
            #expect(pads.filter { $0.status == .match }.count == padding / 3 && pads.filter { $0.status == .mismatch }.count == padding / 3)
            #expect(pads.filter { $0.status == .missingInProjection }.count == padding / 3)
        }
        #expect(Set(got.map { "\($0.account)|\($0.currency)" }) == expected)
        #expect(got.count == expected.count)
    }
}

@Suite("a CSV file with most of a report's lines, written on two cores", .removesTemporaryFolders)
struct CSVTwoCoresTests {
    /// Lines of every kind of cell, hostile text included, each different.
    struct Numbered: ReportLineSource {
        let count: Int
        var columnCount: Int { 4 }
        func line<Sink: ReportCellSink>(_ index: Int, into sink: inout Sink) {
            sink.ledgerText(index % 7 == 0 ? "=cmd|\"x\",\(index)" : "user:\(index):available")
            sink.integer(Int64(index) * (index % 2 == 0 ? 1 : -1))
            if index % 3 == 0 { sink.empty() } else { sink.ledgerText("4111 1111 1111 \(1000 + index % 9000)") }
            sink.optionalId(index % 5 == 0 ? EventID(high: UInt64(index), low: 7) : nil)
        }
    }

    static func table(_ name: String, _ lines: Int) -> ReportTable {
        ReportTable(csvName: name, xmlRow: "row", title: name, columns: ["a", "b", "c", "d"], rows: ReportRows(lines: Numbered(count: lines), numericColumns: [false, true, false, false]))
    }

    @Test("the same bytes as on one core: runs that end mid-way and exactly at the end, and a report whose one large file is split beside a small one")
    func sameBytes() throws {
        let folder = TestPaths.temporaryDirectory("csv2")
        for count in [0, 1, Limits.csvLinesPerRun, 2 * Limits.csvLinesPerRun, 3 * Limits.csvLinesPerRun + 17] {
            try CSVRenderer.write(Self.table("t.csv", count), to: folder + "/one.csv")
            try CSVRenderer.write(Self.table("t.csv", count), to: folder + "/two.csv", onTwoCores: true)
            let one = try Data(contentsOf: URL(fileURLWithPath: folder + "/one.csv"))
            #expect(one == (try Data(contentsOf: URL(fileURLWithPath: folder + "/two.csv"))), "\(count) lines")
            #expect(one.filter { $0 == 0x0A }.count == count + 1)
        }
        // Through the report: the large file is the one split; both files as one core writes them.
        let large = Limits.csvLinesToSplit + 5
        let header = ReportHeader(reportKind: "t", asOfUs: nil, timeBasis: .hlc, source: "t", catalogFile: "t", catalogSHA256: "", population: Population(), controlTotals: [:],
                                  conservation: Conservation(book: BalanceBook(), controlTotals: [:]), eventsDigestSHA256: nil, toolVersion: "t", gitRevision: "t",
                                  generatedAtUs: 0, runBy: "t", notes: [])
        let report = Report(kind: "t", title: "t", header: header, sections: [
            ReportSection(id: "s", title: "s", tables: [Self.table("large.csv", large), Self.table("small.csv", 10)]),
        ])
        let written = try CSVRenderer.write(report, to: folder)
        #expect(written.map { ($0 as NSString).lastPathComponent } == ["large.csv", "small.csv"])
        try CSVRenderer.write(Self.table("large.csv", large), to: folder + "/large-one.csv")
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/large.csv")) == (try Data(contentsOf: URL(fileURLWithPath: folder + "/large-one.csv"))))
    }
}

@Suite("ISO 4217 exponents from the code table", .removesTemporaryFolders)
struct CurrencyTableTests {
    @Test("every three-letter code, and codes of other shapes, give the listed exponent")
    func tableEqualsLists() {
        var codes = ["", "US", "USDX", "usd", "Usd", "ÉUR", "U5D", "JPY", "KWD", "CLF", "USD", "EUR", "XXX"]
        let letters = (0x41...0x5A).map { Character(UnicodeScalar(UInt8($0))) }
        for a in letters { for b in letters { for c in letters { codes.append(String([a, b, c])) } } }
        for code in codes { #expect(ISO4217.exponent(of: code) == ISO4217.listedExponent(of: code), "\(code)") }
        #expect(ISO4217.exponent(of: "JPY") == 0 && ISO4217.exponent(of: "KWD") == 3 && ISO4217.exponent(of: "USD") == 2 && ISO4217.exponent(of: "ZZZ") == nil)
    }
}
