import Foundation
@testable import LedgerAuditCore
import LedgerAuditTestSupport
import Testing

@Suite("JSON parser keeps number text and refuses bad JSON", .removesTemporaryFolders)
struct JSONParserTests {
    @Test func keepsNumberText() throws {
        let v = try JSONParser.parse(#"{"a": 9007199254740993, "b": 1.50, "c": -0, "d": 1E+3}"#)
        #expect(v.member("a") == .number("9007199254740993"))
        #expect(v.member("b") == .number("1.50"))
        #expect(v.member("c") == .number("-0"))
        #expect(v.member("d") == .number("1E+3"))
    }

    @Test func escapesAndUnicode() throws {
        let v = try JSONParser.parse(#"{"s": "a\"b\\c\u00e9\ud83d\ude00\n"}"#)
        #expect(v.member("s") == .string("a\"b\\cé😀\n"))
    }

    @Test("duplicate keys: the last wins, as in jsonb, and can be counted")
    func duplicates() throws {
        let v = try JSONParser.parse(#"{"amount": 1, "amount": 2}"#)
        #expect(v.member("amount") == .number("2"))
        #expect(v.memberCount("amount") == 2)
    }

    /// jsonb keeps keys that differ in bytes, even when Unicode calls them the same text: "é"
    /// precomposed (2 bytes) and decomposed (3 bytes) are two keys, the shorter first, as
    /// PostgreSQL 15 prints `'{"e\u0301": 2, "\u00e9": 1}'::jsonb`; true duplicates keep the last.
    @Test(arguments: [3, 20])
    func jsonbKeysCompareBytes(padding: Int) throws {
        let filler = (0..<padding).map { #""k\#($0)": 0"# }.joined(separator: ", ")
        let text = "{\"e\u{0301}\": 2, \"\u{00E9}\": 1, \"a\": 1, \"a\": 3, " + filler + "}"
        // Compared as bytes: String's own comparisons would call the two keys equal.
        let bytes = Array(JSONWriter.jsonbText(try JSONParser.parse(text)).utf8)
        func at(_ s: String) -> Int? {
            let needle = Array(s.utf8)
            return bytes.indices.first { bytes[$0...].starts(with: needle) }
        }
        let precomposed = at("\"\u{00E9}\": 1"), decomposed = at("\"e\u{0301}\": 2")
        #expect(precomposed != nil && decomposed != nil && precomposed! < decomposed!)
        #expect(bytes.starts(with: Array("{\"a\": 3, ".utf8)))
        #expect(Array(JSONWriter.jsonbText(try JSONParser.parse(String(decoding: bytes, as: UTF8.self))).utf8) == bytes)
    }

    /// jsonb text (keys shorter first, then bytewise, each once) is read only as far as that
    /// order allows: the members found are those a whole scan finds, and a key with an escape
    /// (whose text is longer than its name) is never taken as past the names looked for.
    @Test func jsonbTextStopsPastLongerKeys() {
        let texts = [
            #"{"amount": 5000, "currency": "USD", "auction_id": "8a9989cc", "reservation_id": "851a"}"#,
            #"{"amount": "739", "currency": "USD", "fee_kind": "seller_commission"}"#,
            #"{"a": 1, "amount": 7, "method": "card", "nested": {"amount": 9}, "currency": "EUR"}"#,
            #"{"b": 1, "amount": 8, "currency_x": 2}"#,
            #"{"amount": 1}"#, #"{}"#, #"{"currency": "JPY", "reference": [1, 2, {"amount": 3}]}"#,
        ]
        for text in texts {
            let whole = JSONText(validated: text)
            let jsonb = JSONText(validated: text, isJSONBOutput: true)
            for (first, second) in [("amount", "currency"), ("currency", "amount"), ("method", "amount"), ("fee_kind", "currency")] {
                let a = whole.membersAndCounts(first, second), b = jsonb.membersAndCounts(first, second)
                #expect(a.first.value == b.first.value && a.first.count == b.first.count, "\(text) \(first)")
                #expect(a.second.value == b.second.value && a.second.count == b.second.count, "\(text) \(second)")
                #expect(whole.memberAndCount(first).value == jsonb.memberAndCount(first).value, "\(text) \(first)")
                #expect(whole.memberAndCount(first).count == jsonb.memberAndCount(first).count, "\(text) \(first)")
            }
        }
    }

    @Test(arguments: ["{", "{\"a\":}", "[1,]", "{\"a\":1,}", "01", "NaN", "\"\\x\"", "{\"a\":1} x", "\"\u{01}\"", "{'a':1}", "\"\\ud800\""])
    func refused(text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }

    @Test func deepNestingIsRefusedNotCrashing() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
    }

    @Test func canonicalWriting() throws {
        let v = try JSONParser.parse(#"{"b": [1, "x"], "aa": {"d": null, "c": true}, "b": 2}"#)
        #expect(JSONWriter.write(v, canonical: true) == #"{"b":2,"aa":{"c":true,"d":null}}"#)
        #expect(JSONWriter.jsonbText(try JSONParser.parse(#"{"amount":1,"a":2,"currency":"USD"}"#)) == #"{"a": 2, "amount": 1, "currency": "USD"}"#)
    }

    @Test("a member's scalar text read from the bytes is what the parsed member gives: plain and escaped strings, numbers, other kinds, duplicates, nesting, jsonb form")
    func memberScalarText() throws {
        let documents = [
            #"{"reservation_id": "r-1", "amount": 5}"#,
            #"{"reservation_id":"a\"b\u0041é"}"#,
            #"{"reservation_id": "", "x": 1}"#,
            #"{"reservation_id": 42}"#,
            #"{"reservation_id": -1.50e3}"#,
            #"{"reservation_id": null}"#,
            #"{"reservation_id": true}"#,
            #"{"reservation_id": {"reservation_id": "inner"}}"#,
            #"{"reservation_id": ["r"]}"#,
            #"{"reservation_id": "first", "reservation_id": "last"}"#,
            #"{"reservation_id": "first", "reservation_id": 7}"#,
            #"{"other": "r-1"}"#,
            #"{}"#,
            #"{"a": 1, "reservation_id": "jsonb ordered, ünïcode"}"#,
        ]
        for text in documents {
            for json in [JSONText(validated: text), try JSONText.validating(text)] {
                #expect(json.memberScalarText("reservation_id") == json.member("reservation_id")?.scalarText, "\(text)")
            }
        }
        #expect(JSONText(validated: #"{"reservation_id": "first", "reservation_id": "last"}"#).memberScalarText("reservation_id") == "last")
        #expect(JSONText(validated: #"{"reservation_id":"a\"b\u0041é"}"#).memberScalarText("reservation_id") == "a\"bAé")
    }
}

@Suite("text read in place: String.withUTF8InPlace gives the very bytes withUTF8 gives", .removesTemporaryFolders)
struct UTF8InPlaceTests {
    @Test("empty, small (inline), large, non-ASCII, from a substring, from Foundation, and with a NUL")
    func sameBytes() {
        let large = String(repeating: "payload é 💶 ", count: 40)
        let texts: [String] = [
            "", "USD", "FUNDS_DEPOSITED", "a string of more than fifteen bytes", "é", "💶€", large,
            String(large.dropFirst(3).prefix(100)), String(Substring("escrow:123")), String(describing: NSString(string: large)),
            "nul\u{0}inside",
        ]
        for text in texts {
            var copy = text
            let expected = copy.withUTF8 { Array($0) }
            #expect(text.withUTF8InPlace { Array($0) } == expected, "\(text.prefix(20))")
            #expect(text.withUTF8InPlace { $0.count } == text.utf8.count)
        }
    }
}

@Suite("Instants: ISO 8601 with offsets, PostgreSQL text, epoch ms", .removesTemporaryFolders)
struct InstantTests {
    @Test(arguments: [
        ("2026-05-03T14:23:00Z", Int64(1_777_818_180_000_000)),
        ("2026-05-03T16:23:00+02:00", 1_777_818_180_000_000),
        ("2026-05-03 14:23:00+00", 1_777_818_180_000_000),
        ("2026-05-03 09:23:00-05", 1_777_818_180_000_000),
        ("2026-05-03 19:53:00+05:30", 1_777_818_180_000_000),
        ("2026-05-03T14:23:00.5Z", 1_777_818_180_500_000),
        ("2026-05-03 14:23:00.123456+00", 1_777_818_180_123_456),
        ("1970-01-01T00:00:00Z", 0),
        ("1969-12-31T23:59:59.999999Z", -1),
    ])
    func parses(text: String, us: Int64) {
        #expect(Instant.parseTimestampUs(text) == us)
    }

    @Test(arguments: ["2026-05-03T14:23:00", "2026-05-03", "2026-02-30T00:00:00Z", "2026-05-03T24:00:00Z", "yesterday", "2026-05-03T14:23:00.1234567Z", ""])
    func refused(text: String) {
        #expect(Instant.parseTimestampUs(text) == nil)
    }

    @Test func commandLine() {
        #expect(Instant.parseCommandLineUs("1777818180000") == 1_777_818_180_000_000)
        #expect(Instant.parseCommandLineUs("2026-05-03T14:23:00Z") == 1_777_818_180_000_000)
        #expect(Instant.parseCommandLineUs("99999999999999999999") == nil)
    }

    @Test func rendering() {
        #expect(Instant.iso8601(us: 1_777_818_180_123_456) == "2026-05-03T14:23:00.123456Z")
        #expect(Instant.iso8601(ms: 1_777_818_180_123) == "2026-05-03T14:23:00.123Z")
        #expect(Instant.iso8601(us: -1) == "1969-12-31T23:59:59.999999Z")
    }

    /// The fixed-width writer gives the padded-String form on instants across years 0–9999
    /// (its edges included), and other years keep that form.
    @Test func fixedWidthInstantsMatchThePaddedForm() {
        func padded(us: Int64) -> String {
            let (days, inDay) = Instant.floorDivMod(us, 86_400_000_000)
            let (y, m, d) = Instant.civilFromDays(days)
            let s = inDay / 1_000_000
            return Instant.pad(y, 4) + "-" + Instant.pad(m, 2) + "-" + Instant.pad(d, 2) + "T" + Instant.pad(s / 3600, 2) + ":"
                + Instant.pad(s / 60 % 60, 2) + ":" + Instant.pad(s % 60, 2) + "." + Instant.pad(inDay % 1_000_000, 6) + "Z"
        }
        let year0: Int64 = -719_528 * 86_400_000_000  // 0000-01-01T00:00:00Z
        let year9999End: Int64 = 2_932_897 * 86_400_000_000 - 1  // 9999-12-31T23:59:59.999999Z
        #expect(Instant.iso8601(us: year0) == "0000-01-01T00:00:00.000000Z")
        #expect(Instant.iso8601(us: year9999End) == "9999-12-31T23:59:59.999999Z")
        var instants: [Int64] = [0, -1, 1, year0, year0 - 1, year9999End, year9999End + 1, 1_777_818_180_123_456]
        var state: UInt64 = 42
        for _ in 0..<2000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            instants.append(year0 + Int64(state % UInt64(year9999End - year0)))
        }
        for us in instants {
            #expect(Instant.iso8601(us: us) == padded(us: us), "\(us)")
            let ms = Instant.floorDivMod(us, 1000).0
            let msText = Instant.iso8601(ms: ms)
            #expect(msText == String(padded(us: ms * 1000).dropLast(4)) + "Z", "\(ms)")
        }
    }

    @Test func uuidOrderIsBytewise() {
        let a = EventID("00000000-0000-0000-0000-0000000000ff")!
        let b = EventID("00000000-0000-0000-0001-000000000000")!
        #expect(a < b)
        #expect(EventID("A92A7608-A5A0-441E-B9A8-5C69395894CE")?.description == "a92a7608-a5a0-441e-b9a8-5c69395894ce")
        #expect(EventID("a92a7608a5a0441eb9a85c69395894ce") == nil)
        #expect(EventID("g92a7608-a5a0-441e-b9a8-5c69395894ce") == nil)
    }

    /// The eight-digits-at-a-time hex writer against the plain one, digit by digit, on ids
    /// covering every nibble in every position.
    @Test func uuidTextMatchesAPlainHexWriter() {
        func plain(_ id: EventID) -> String {
            let digits = Array("0123456789abcdef")
            var out = ""
            for i in 0..<32 {
                if i == 8 || i == 12 || i == 16 || i == 20 { out.append("-") }
                let word = i < 16 ? id.high : id.low
                out.append(digits[Int((word >> UInt64(60 - 4 * (i % 16))) & 0xF)])
            }
            return out
        }
        var state: UInt64 = 0x1234_5678_9ABC_DEF0
        var ids = [EventID(high: 0, low: 0), EventID(high: .max, low: .max), EventID(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210)]
        for _ in 0..<1000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let high = state
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            ids.append(EventID(high: high, low: state))
        }
        for id in ids {
            #expect(id.description == plain(id))
            #expect(EventID(id.description) == id)
        }
    }

    /// The eight-digits-at-a-time id parser against a plain one, byte by byte: every byte value
    /// in every position of a few ids (upper, lower and mixed case), and random valid ids.
    @Test func uuidParserMatchesAPlainParser() {
        func plain(_ text: [UInt8]) -> EventID? {
            guard text.count == 36 else { return nil }
            var h: UInt64 = 0, l: UInt64 = 0, nibbles = 0
            for (i, b) in text.enumerated() {
                if i == 8 || i == 13 || i == 18 || i == 23 { if b != UInt8(ascii: "-") { return nil }; continue }
                let d: UInt64
                switch b {
                case 0x30...0x39: d = UInt64(b - 0x30)
                case 0x61...0x66: d = UInt64(b - 0x61 + 10)
                case 0x41...0x46: d = UInt64(b - 0x41 + 10)
                default: return nil
                }
                if nibbles < 16 { h = h << 4 | d } else { l = l << 4 | d }
                nibbles += 1
            }
            return EventID(high: h, low: l)
        }
        func parsed(_ text: [UInt8]) -> EventID? { text.withUnsafeBufferPointer { EventID(hexText: $0) } }
        var samples = ["01234567-89ab-cdef-0123-456789abcdef", "01234567-89AB-CDEF-0123-456789ABCDEF",
                       "fFfFfFfF-aAaA-0000-9999-Ee0dDcCbBaA1", "00000000-0000-0000-0000-000000000000"].map { Array($0.utf8) }
        for sample in samples {
            for position in 0..<36 {
                for value in 0...255 {
                    var mutated = sample
                    mutated[position] = UInt8(value)
                    #expect(parsed(mutated) == plain(mutated), "byte \(value) at \(position) of \(String(decoding: sample, as: UTF8.self))")
                }
            }
        }
        var state: UInt64 = 0xDEAD_BEEF
        for _ in 0..<2000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let high = state
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let id = EventID(high: high, low: state)
            let upper = Array(id.description.uppercased().utf8)
            samples.append(upper)
            #expect(parsed(upper) == id && plain(upper) == id)
        }
        #expect(parsed(Array("01234567-89ab-cdef-0123-456789abcde".utf8)) == nil)
        #expect(parsed(Array("01234567089ab-cdef-0123-456789abcdef".utf8)) == nil)
    }

    /// Ids from their 16 network-order bytes, as the binary COPY carries them.
    @Test func uuidFromBytesIsNetworkOrder() {
        let bytes: [UInt8] = [0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10]
        let id = bytes.withUnsafeBytes { EventID(bytes: $0) }
        #expect(id == EventID(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210))
    }

    /// The eight-bytes-at-a-time string scan against a byte loop: each byte value at each
    /// offset of buffers of 0 to 40 bytes, with and without the ASCII-only stop, and random
    /// buffers holding several special bytes (the first one must be found, not a later one).
    @Test func stringScanFindsTheFirstSpecialByte() {
        func plain(_ b: [UInt8], _ from: Int, _ asciiOnly: Bool) -> Int {
            var i = from
            while i < b.count { let c = b[i]; if c == 0x22 || c == 0x5C || c < 0x20 || (asciiOnly && c >= 0x80) { return i }; i += 1 }
            return b.count
        }
        func scanned(_ b: [UInt8], _ from: Int, _ asciiOnly: Bool) -> Int {
            b.withUnsafeBufferPointer { JSONStringScan.plainEnd($0.baseAddress!, from: from, to: $0.count, asciiOnly: asciiOnly) }
        }
        for length in 1...40 {
            let filler = Array(repeating: UInt8(ascii: "a"), count: length)
            for offset in 0..<length {
                for value in 0...255 {
                    var b = filler
                    b[offset] = UInt8(value)
                    for asciiOnly in [false, true] {
                        #expect(scanned(b, 0, asciiOnly) == plain(b, 0, asciiOnly), "\(value) at \(offset) of \(length)")
                        if offset > 0 { #expect(scanned(b, 1, asciiOnly) == plain(b, 1, asciiOnly)) }
                    }
                }
            }
        }
        var state: UInt64 = 0xFEED
        let alphabet: [UInt8] = [0x22, 0x5C, 0x00, 0x1F, 0x20, 0x21, 0x7F, 0x80, 0xFF, 0x23, 0x5B, 0x5D, 0x41]
        for _ in 0..<5000 {
            var b: [UInt8] = []
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            for k in 0..<Int(state >> 58) {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                b.append(state >> 61 == 0 ? alphabet[Int(state >> 32) % alphabet.count] : UInt8(0x61 + k % 26))
            }
            guard !b.isEmpty else { continue }
            for asciiOnly in [false, true] { #expect(scanned(b, 0, asciiOnly) == plain(b, 0, asciiOnly)) }
        }
    }
}

/// An event's three JSON columns from PostgreSQL share one allocation (`JSONRowBytes`); every
/// reader must see in such a slice exactly what it sees in the same text held as a String.
@Suite("JSON texts in a row's shared bytes read as the same texts held as strings", .removesTemporaryFolders)
struct JSONRowBytesTests {
    static let documents: [String] = [
        "{}", "[]", "null", #"{"a": 1}"#,
        #"{"amount": 1250, "currency": "USD", "auction_id": "0b6c1f6e-8a0d-4b8e-9d7f-1c2b3a4d5e6f"}"#,
        #"{"amount": "0042", "currency": "EUR", "amount": 7}"#,
        #"{"note": "café 💶", "hold": "h\"1", "card": "4111 1111 1111 1111"}"#,
        #"{"nested": {"amount": 3}, "list": [1, 2, {"x": null}], "flag": true}"#,
    ]

    /// Three texts put in one buffer, as the binary COPY decoder does.
    static func shared(_ a: String, _ b: String, _ c: String, jsonb: Bool) -> [JSONText] {
        var (x, y, z) = (a, b, c)
        return x.withUTF8 { xa in y.withUTF8 { yb in z.withUTF8 { zc in
            let texts = JSONText.sharingOneBuffer(xa, yb, zc, jsonbForm: (jsonb, jsonb, jsonb))
            return [texts.0, texts.1, texts.2]
        } } }
    }

    @Test("equality, text, length, member look-ups, the plain amount path, parsing, card-number pre-check and the canonical encoding")
    func sameReadings() {
        let docs = JSONRowBytesTests.documents
        for i in docs.indices {
            let trio = [docs[i], docs[(i + 1) % docs.count], docs[(i + 2) % docs.count]]
            for jsonb in [false, true] {
                let sliced = JSONRowBytesTests.shared(trio[0], trio[1], trio[2], jsonb: jsonb)
                for (k, text) in trio.enumerated() {
                    let held = JSONText(validated: text, isJSONBOutput: jsonb)
                    let s = sliced[k]
                    #expect(s == held && held == s, "\(text)")
                    #expect(s.text == text && s.byteCount == text.utf8.count)
                    #expect(s.withBytes { Array($0) } == Array(text.utf8))
                    #expect(s.parse() == held.parse())
                    for key in ["amount", "currency", "hold", "note", "missing"] {
                        #expect(s.memberAndCount(key).value == held.memberAndCount(key).value)
                        #expect(s.memberAndCount(key).count == held.memberAndCount(key).count)
                        #expect(s.memberScalarText(key) == held.memberScalarText(key))
                    }
                    #expect(s.plainAmountAndCurrency("amount", "currency")?.amountMinor == held.plainAmountAndCurrency("amount", "currency")?.amountMinor)
                    #expect(s.plainAmountAndCurrency("amount", "currency")?.currency == held.plainAmountAndCurrency("amount", "currency")?.currency)
                    #expect(s.value(at: ["nested", "amount"]).value == held.value(at: ["nested", "amount"]).value)
                    #expect(CardMask.mayHoldCardNumber(s) == CardMask.mayHoldCardNumber(held))
                }
                // Different texts, or the same text in another form, are not equal.
                #expect(sliced[0] != JSONText(validated: trio[0] + " ", isJSONBOutput: jsonb))
                #expect(sliced[0] != JSONText(validated: trio[0], isJSONBOutput: !jsonb))
            }
        }
        // A whole event: its canonical bytes and its JSONL line are the same either way.
        var builder = LedgerBuilder()
        let event = builder.add("FUNDS_DEPOSITED", aggregate: "u1", payload: #"{"currency":"USD","amount":1250,"card":"4111 1111 1111 1111"}"#,
                                metadata: #"{"ip": "10.0.0.1", "note": "é"}"#)
        var sliced = event
        let trio = JSONRowBytesTests.shared(event.vectorClock.text, event.payload.text, event.metadata.text, jsonb: false)
        sliced.vectorClock = trio[0]
        sliced.payload = trio[1]
        sliced.metadata = trio[2]
        #expect(CanonicalEvent.encode(sliced) == CanonicalEvent.encode(event))
        #expect(EventJSONLine.encode(sliced) == EventJSONLine.encode(event))
        #expect(EventJSONLine.encode(sliced, masking: false) == EventJSONLine.encode(event, masking: false))
    }

    @Test("empty texts and a buffer of nothing")
    func empty() {
        let sliced = JSONRowBytesTests.shared("", "", "", jsonb: false)
        for s in sliced {
            #expect(s.byteCount == 0 && s.text == "" && s.withBytes { $0.count } == 0)
            #expect(s == JSONText(validated: ""))
        }
    }
}
