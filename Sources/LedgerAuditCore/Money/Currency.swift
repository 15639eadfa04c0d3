/// ISO 4217 minor-unit exponents. Codes not listed here default to 2 decimals unless the
/// catalog names their exponent; see `CurrencyTable`.
public enum ISO4217 {
    /// Active codes whose minor unit is not 2 (the rest of the active list has 2).
    public static let exponentsOtherThanTwo: [String: Int] = [
        "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
        "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
        "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
        "CLF": 4, "UYW": 4,
    ]
    /// Active ISO 4217 codes with two decimals.
    public static let twoDecimalCodes: Set<String> = [
        "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
        "BGN", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF",
        "CHE", "CHF", "CHW", "CNY", "COP", "COU", "CRC", "CUC", "CUP", "CVE", "CZK", "DKK", "DOP",
        "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GTQ",
        "GYD", "HKD", "HNL", "HRK", "HTG", "HUF", "IDR", "ILS", "INR", "IRR", "JMD", "KES", "KGS",
        "KHR", "KPW", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "MAD", "MDL", "MGA", "MKD",
        "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN",
        "NIO", "NOK", "NPR", "NZD", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "QAR", "RON", "RSD",
        "RUB", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SLL", "SOS", "SRD", "SSP",
        "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH",
        "USD", "USN", "UYU", "UZS", "VED", "VES", "WST", "XCD", "XCG", "YER", "ZAR", "ZMW", "ZWG", "ZWL",
    ]

    /// The exponent of a code, or nil when the code is not an active ISO 4217 code. Asked for
    /// every posting: a well-formed code is read from a table of all 17,576 three-letter codes
    /// instead of hashing the String into two lookups.
    public static func exponent(of code: String) -> Int? {
        if let i = tableIndex(code) {
            let e = exponentByCode[i]
            return e < 0 ? nil : Int(e)
        }
        return listedExponent(of: code)
    }

    static func listedExponent(of code: String) -> Int? {
        if let e = exponentsOtherThanTwo[code] { return e }
        return twoDecimalCodes.contains(code) ? 2 : nil
    }

    /// −1 for a code with no exponent listed.
    static let exponentByCode: [Int8] = {
        var table = [Int8](repeating: -1, count: 26 * 26 * 26)
        for code in twoDecimalCodes { if let i = tableIndex(code) { table[i] = 2 } }
        for (code, e) in exponentsOtherThanTwo { if let i = tableIndex(code) { table[i] = Int8(e) } }
        return table
    }()

    /// A three-letter upper-case code's place in `exponentByCode`; nil for anything else.
    @inline(__always)
    static func tableIndex(_ code: String) -> Int? {
        return code.withUTF8InPlace { b -> Int? in
            guard b.count == 3 else { return nil }
            var i = 0
            for u in b {
                guard u >= 0x41 && u <= 0x5A else { return nil }
                i = i * 26 + Int(u - 0x41)
            }
            return i
        }
    }
}

/// The exponents in force for one run: ISO 4217 plus the catalog's own additions.
public struct CurrencyTable: Sendable, Equatable {
    public var overrides: [String: Int]

    public init(overrides: [String: Int] = [:]) { self.overrides = overrides }

    public func exponent(of code: String) -> Int? {
        (overrides.isEmpty ? nil : overrides[code]) ?? ISO4217.exponent(of: code)
    }

    /// A currency code is three upper-case ASCII letters.
    public static func isWellFormed(_ code: String) -> Bool { ISO4217.tableIndex(code) != nil }
}

/// Text rendering of minor units: the currency's exponent, a leading `-` for negatives, no point for exponent 0.
public enum MoneyFormat {
    public static func decimal(_ amountMinor: Int64, exponent: Int) -> String {
        guard exponent >= 0 && exponent <= 18 else {
            return decimal(magnitude: amountMinor.magnitude.description, negative: amountMinor < 0, exponent: exponent)
        }
        // Digits written backwards into a stack buffer, the point placed as they go: reports
        // print two amounts a row for every account (~2,100 instructions a call through Strings).
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 48) { buffer in
            var at = buffer.count
            var magnitude = amountMinor.magnitude
            var written = 0
            repeat {
                if written == exponent && exponent > 0 { at -= 1; buffer[at] = 0x2E }
                at -= 1
                buffer[at] = UInt8(truncatingIfNeeded: magnitude % 10) + 0x30
                magnitude /= 10
                written += 1
            } while magnitude > 0 || written <= exponent
            if amountMinor < 0 { at -= 1; buffer[at] = 0x2D }
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[at...]), as: UTF8.self)
        }
    }

    /// Also used for 128-bit control totals, which may exceed Int64.
    public static func decimal(_ amountMinor: Int128, exponent: Int) -> String {
        decimal(magnitude: amountMinor.magnitude.description, negative: amountMinor < 0, exponent: exponent)
    }

    static func decimal(magnitude: String, negative: Bool, exponent: Int) -> String {
        let sign = negative ? "-" : ""
        guard exponent > 0 else { return sign + magnitude }
        var digits = magnitude
        if digits.count <= exponent {
            digits = String(repeating: "0", count: exponent - digits.count + 1) + digits
        }
        let split = digits.index(digits.endIndex, offsetBy: -exponent)
        return sign + digits[..<split] + "." + digits[split...]
    }
}
