import LedgerAuditCore
import Testing

@Suite("Amounts are parsed exactly from JSON text", .removesTemporaryFolders)
struct AmountParserTests {
    func parse(_ json: String) -> Result<Int64, AmountProblem> {
        AmountParser.parse(try! JSONParser.parse("{\"a\":\(json)}").member("a"))
    }

    @Test("numbers and numeric strings are exact up to Int64.max", arguments: [
        ("0", Int64(0)), ("12345", 12345), ("\"12345\"", 12345),
        ("9007199254740993", 9_007_199_254_740_993), ("\"9007199254740993\"", 9_007_199_254_740_993),
        ("9223372036854775807", Int64.max), ("\"9223372036854775807\"", Int64.max),
        ("\"007\"", 7), ("\"0000000000000000000000000042\"", 42),
    ])
    func exact(json: String, expected: Int64) throws {
        #expect(try parse(json).get() == expected)
    }

    @Test("bad amounts are refused, never rounded", arguments: [
        ("12.5", "fraction"), ("\"12.5\"", "fraction"), ("1.0", "fraction"),
        ("1e3", "exponent"), ("1.2e3", "exponent"), ("1E3", "exponent"), ("\"1e3\"", "integer"),
        ("-1", "negative"), ("\"-1\"", "negative"), ("-0", "negative"),
        ("9223372036854775808", "beyond"), ("\"9223372036854775808\"", "beyond"),
        ("\"99999999999999999999999999999999999999\"", "beyond"), ("123456789012345678901234567890", "beyond"),
        ("\" 12\"", "integer"), ("\"12 \"", "integer"), ("\"\"", "integer"), ("\"12a\"", "integer"), ("\"+12\"", "integer"),
        ("null", "missing"), ("true", "integer"), ("[1]", "integer"), ("{}", "integer"),
    ])
    func refused(json: String, why: String) {
        switch parse(json) {
        case .success(let v): Issue.record("\(json) was accepted as \(v)")
        case .failure(let p): #expect(p.description.contains(why), "\(json): \(p)")
        }
    }

    @Test func missingField() {
        #expect(AmountParser.parse(nil) == .failure(.missing))
    }

    @Test("a hostile huge amount is echoed clipped, not whole")
    func clippedEcho() {
        let huge = String(repeating: "9", count: 10_000)
        guard case .failure(let p) = parse("\"\(huge)\"") else { Issue.record("accepted"); return }
        #expect(p.description.count < 120)
    }
}

@Suite("The plain amount path reads what the general path reads", .removesTemporaryFolders)
struct PlainAmountTests {
    static let payloads = [
        #"{"amount": 5000, "currency": "USD"}"#, #"{"currency": "JPY", "amount": "007"}"#, #"{"amount": 0}"#,
        #"{"amount": "739", "currency": "USD", "fee_kind": "seller_commission"}"#,
        #"{"amount": 999999999999999999, "currency": "EUR"}"#, #"{"amount": 9223372036854775807}"#,
        #"{"amount": 9223372036854775808}"#, #"{"amount": -5}"#, #"{"amount": "-5"}"#, #"{"amount": 1.5}"#,
        #"{"amount": 1e3}"#, #"{"amount": ""}"#, #"{"amount": "12a"}"#, #"{"amount": " 12"}"#, #"{"amount": "\u0031"}"#,
        #"{"amount": 1, "amount": 2}"#, #"{"amount": 1, "currency": "USD", "currency": "EUR"}"#,
        #"{"amount": 1, "currency": null}"#, #"{"amount": 1, "currency": "\u0055SD"}"#, #"{"amount": 1, "currency": 5}"#,
        #"{"currency": "USD"}"#, #"{"amount": null}"#, #"{"amount": true}"#, #"{"amount": {"value": 1}}"#,
        #"{"\u0061mount": 12, "currency": "USD"}"#, #"{"b": 1, "amount": 7, "method": "card", "currency": "GBP", "reservation_id": "x"}"#,
        #"{"amount": 5, "currency": "US\"D"}"#, #"{}"#,
    ]

    /// Wherever the plain path answers, its amount and currency are those of the general path
    /// (one member scan, JSON values, `AmountParser`); it answers for the usual payloads.
    @Test func agreesWithGeneralPath() {
        var answered = 0
        for text in Self.payloads {
            for asJSONB in [false, true] {
                let payload = JSONText(validated: text, isJSONBOutput: asJSONB)
                guard let plain = payload.plainAmountAndCurrency("amount", "currency") else { continue }
                answered += 1
                let both = payload.membersAndCounts("amount", "currency")
                #expect(both.first.count == 1, "\(text)")
                #expect((try? AmountParser.parse(both.first.value).get()) == plain.amountMinor, "\(text)")
                #expect(both.second.value == plain.currency.map(JSONValue.string), "\(text)")
            }
        }
        for usual in Self.payloads.prefix(5) { #expect(JSONText(validated: usual).plainAmountAndCurrency("amount", "currency") != nil, "\(usual)") }
        #expect(answered >= 10)
    }
}

@Suite("Decimal rendering uses ISO 4217 exponents", .removesTemporaryFolders)
struct MoneyFormatTests {
    @Test(arguments: [
        (Int64(1234), 2, "12.34"), (-5, 2, "-0.05"), (0, 2, "0.00"), (0, 0, "0"), (1234, 0, "1234"),
        (1, 3, "0.001"), (-1234567, 3, "-1234.567"), (Int64.max, 2, "92233720368547758.07"), (Int64.min, 2, "-92233720368547758.08"),
    ])
    func decimal(minor: Int64, exponent: Int, text: String) {
        #expect(MoneyFormat.decimal(minor, exponent: exponent) == text)
    }

    /// The digit-buffer path against the plain String path it replaced, at every exponent a
    /// catalog may name and amounts around each power of ten.
    @Test func bufferedEqualsStringPath() {
        var amounts: [Int64] = [0, 1, -1, 9, 10, 99, 100, 101, Int64.max, Int64.min, Int64.max - 1, Int64.min + 1]
        var power: Int64 = 1
        for _ in 0..<18 {
            power *= 10
            amounts += [power - 1, power, power + 1, -(power - 1), -power, -(power + 1)]
        }
        for exponent in 0...18 {
            for a in amounts {
                let old = MoneyFormat.decimal(Int128(a), exponent: exponent)  // the String path
                #expect(MoneyFormat.decimal(a, exponent: exponent) == old, "\(a) at exponent \(exponent)")
            }
        }
    }

    @Test func exponents() {
        #expect(ISO4217.exponent(of: "USD") == 2)
        #expect(ISO4217.exponent(of: "JPY") == 0)
        #expect(ISO4217.exponent(of: "BHD") == 3)
        #expect(ISO4217.exponent(of: "EUR") == 2)
        #expect(ISO4217.exponent(of: "XYZ") == nil)
        #expect(CurrencyTable(overrides: ["XYZ": 1]).exponent(of: "XYZ") == 1)
    }
}
