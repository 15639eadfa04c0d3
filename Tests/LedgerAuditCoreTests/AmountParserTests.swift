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
