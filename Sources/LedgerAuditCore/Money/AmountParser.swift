/// Why an amount was refused. Every case quarantines the event as `BAD_AMOUNT`.
public enum AmountProblem: Error, Equatable, Sendable, CustomStringConvertible {
    case missing
    case notANumber(String)
    case fractional(String)
    case exponent(String)
    case negative(String)
    case outOfRange(String)
    case duplicated
    case tooManyDecimals(String, currency: String, exponent: Int)

    public var description: String {
        switch self {
        case .missing: return "amount is missing or null"
        case .notANumber(let t): return "amount \(t) is not an integer count of minor units"
        case .fractional(let t): return "amount \(t) has a fraction; amounts are integer minor units"
        case .exponent(let t): return "amount \(t) has an exponent; amounts are integer minor units"
        case .negative(let t): return "amount \(t) is negative"
        case .outOfRange(let t): return "amount \(t) is beyond a signed 64-bit integer"
        case .duplicated: return "amount appears more than once in the payload"
        case .tooManyDecimals(let t, let c, let e):
            return "amount \(t) has more decimals than \(c) allows (\(e)); it is never rounded"
        }
    }
}

/// Parses amounts from their exact JSON text into `Int64` minor units. No floating point anywhere.
public enum AmountParser {
    /// Longest text echoed back in a message (hostile inputs can be huge).
    static let echoCharsMax = 40

    static func echo(_ text: String) -> String {
        let clipped = text.count > echoCharsMax ? String(text.prefix(echoCharsMax)) + "…" : text
        return "'" + clipped + "'"
    }

    /// A JSON value as it appears in a payload.
    public static func parse(_ value: JSONValue?) -> Result<Int64, AmountProblem> {
        guard let value else { return .failure(.missing) }
        switch value {
        case .null: return .failure(.missing)
        case .number(let text): return parseNumberText(text)
        case .string(let text): return parseDigitString(text)
        case .bool(let b): return .failure(.notANumber(String(b)))
        case .array, .object: return .failure(.notANumber("a JSON \(value.kindName)"))
        }
    }

    /// JSON number text (already valid JSON grammar): only plain non-negative integers pass.
    public static func parseNumberText(_ text: String) -> Result<Int64, AmountProblem> {
        let bytes = Array(text.utf8)
        if bytes.first == UInt8(ascii: "-") {
            // "-0" is still a negative sign on money: refuse it like any negative.
            return .failure(.negative(echo(text)))
        }
        if bytes.contains(UInt8(ascii: "e")) || bytes.contains(UInt8(ascii: "E")) {
            return .failure(.exponent(echo(text)))
        }
        if bytes.contains(UInt8(ascii: ".")) {
            return .failure(.fractional(echo(text)))
        }
        return digitsToInt64(bytes, original: text)
    }

    /// A string amount is accepted only as `^[0-9]+$`; the refusal says why, for the reader.
    public static func parseDigitString(_ text: String) -> Result<Int64, AmountProblem> {
        let bytes = Array(text.utf8)
        let isDigit: (UInt8) -> Bool = { $0 >= 0x30 && $0 <= 0x39 }
        if !bytes.isEmpty && bytes.allSatisfy(isDigit) {
            return digitsToInt64(bytes, original: text)
        }
        if bytes.count > 1 && bytes[0] == UInt8(ascii: "-") && bytes.dropFirst().allSatisfy(isDigit) {
            return .failure(.negative(echo(text)))
        }
        if bytes.contains(UInt8(ascii: ".")) && bytes.allSatisfy({ isDigit($0) || $0 == UInt8(ascii: ".") }) {
            return .failure(.fractional(echo(text)))
        }
        return .failure(.notANumber(echo(text)))
    }

    /// A decimal amount in major units (`"12.50"` or `12.5` USD), converted exactly to minor
    /// units with the currency's exponent: `"12.50"` → 1250, `"12"` → 1200; more decimals than
    /// the exponent allows (`"12.505"` USD) is refused, never rounded; no exponent notation.
    public static func parseMajorUnits(_ value: JSONValue?, currency: String, exponent: Int) -> Result<Int64, AmountProblem> {
        guard let value else { return .failure(.missing) }
        let text: String
        switch value {
        case .null: return .failure(.missing)
        case .number(let t), .string(let t): text = t
        case .bool(let b): return .failure(.notANumber(String(b)))
        case .array, .object: return .failure(.notANumber("a JSON \(value.kindName)"))
        }
        let bytes = Array(text.utf8)
        let isDigit: (UInt8) -> Bool = { $0 >= 0x30 && $0 <= 0x39 }
        if bytes.first == UInt8(ascii: "-") { return .failure(.negative(echo(text))) }
        if bytes.contains(UInt8(ascii: "e")) || bytes.contains(UInt8(ascii: "E")) { return .failure(.exponent(echo(text))) }
        let parts = bytes.split(separator: UInt8(ascii: "."), maxSplits: 1, omittingEmptySubsequences: false)
        let whole = Array(parts[0])
        let fraction = parts.count > 1 ? Array(parts[1]) : []
        guard !whole.isEmpty, whole.allSatisfy(isDigit), fraction.allSatisfy(isDigit), parts.count == 1 || !fraction.isEmpty else {
            return .failure(.notANumber(echo(text)))
        }
        // Trailing zeros past the exponent change nothing ("12.500" USD is 1250).
        var significant = fraction
        while significant.count > exponent, significant.last == UInt8(ascii: "0") { significant.removeLast() }
        guard significant.count <= exponent else { return .failure(.tooManyDecimals(echo(text), currency: currency, exponent: exponent)) }
        let digits = whole + significant + [UInt8](repeating: UInt8(ascii: "0"), count: exponent - significant.count)
        return digitsToInt64(digits, original: text)
    }

    /// Base-10 digits to Int64, refusing anything past Int64.max (leading zeros are fine).
    static func digitsToInt64(_ bytes: [UInt8], original: String) -> Result<Int64, AmountProblem> {
        var value: Int64 = 0
        for b in bytes {
            guard b >= 0x30 && b <= 0x39 else { return .failure(.notANumber(echo(original))) }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = times10.addingReportingOverflow(Int64(b &- 0x30))
            if o1 || o2 { return .failure(.outOfRange(echo(original))) }
            value = next
        }
        return .success(value)
    }
}
