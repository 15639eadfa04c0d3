/// Why an amount was refused. Every case quarantines the event as `BAD_AMOUNT`.
public enum AmountProblem: Error, Equatable, Sendable, CustomStringConvertible {
    case missing
    case notANumber(String)
    case fractional(String)
    case exponent(String)
    case negative(String)
    case outOfRange(String)
    case duplicated

    public var description: String {
        switch self {
        case .missing: return "amount is missing or null"
        case .notANumber(let t): return "amount \(t) is not an integer count of minor units"
        case .fractional(let t): return "amount \(t) has a fraction; amounts are integer minor units"
        case .exponent(let t): return "amount \(t) has an exponent; amounts are integer minor units"
        case .negative(let t): return "amount \(t) is negative"
        case .outOfRange(let t): return "amount \(t) is beyond a signed 64-bit integer"
        case .duplicated: return "amount appears more than once in the payload"
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
