import LedgerAuditCore
import Testing

@Suite("JSON parser keeps number text and refuses bad JSON")
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
}

@Suite("Instants: ISO 8601 with offsets, PostgreSQL text, epoch ms")
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

    @Test func uuidOrderIsBytewise() {
        let a = EventID("00000000-0000-0000-0000-0000000000ff")!
        let b = EventID("00000000-0000-0000-0001-000000000000")!
        #expect(a < b)
        #expect(EventID("A92A7608-A5A0-441E-B9A8-5C69395894CE")?.description == "a92a7608-a5a0-441e-b9a8-5c69395894ce")
        #expect(EventID("a92a7608a5a0441eb9a85c69395894ce") == nil)
        #expect(EventID("g92a7608-a5a0-441e-b9a8-5c69395894ce") == nil)
    }
}
