/// Instants in microseconds since the Unix epoch, and the text forms the tool accepts.
public enum Instant {
    /// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
    public static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public static func civilFromDays(_ z0: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    /// Parses ISO 8601 / RFC 3339 and PostgreSQL's timestamptz output:
    /// `2026-05-03T14:23:00Z`, `2026-05-03 14:23:00.123456+02`, `…-03:30`, `…+05:45:00`.
    /// A zone is required: an instant without one is ambiguous.
    public static func parseTimestampUs(_ text: String) -> Int64? {
        var copy = text
        return copy.withUTF8 { parseTimestampUs(bytes: $0) }
    }

    /// The same, from the text's UTF-8 bytes (readers parse `recorded_at` straight from a line).
    public static func parseTimestampUs(bytes b: UnsafeBufferPointer<UInt8>) -> Int64? {
        var i = 0
        func digits(_ n: Int) -> Int64? {
            guard i + n <= b.count else { return nil }
            var v: Int64 = 0
            for k in 0..<n {
                let c = b[i + k]
                guard c >= 0x30 && c <= 0x39 else { return nil }
                v = v * 10 + Int64(c - 0x30)
            }
            i += n
            return v
        }
        // A byte, not a Character: `Character.asciiValue` goes through String's scalar
        // machinery, which was a third of this parse on every extract row.
        func expect(_ c: Unicode.Scalar) -> Bool {
            guard i < b.count, b[i] == UInt8(ascii: c) else { return false }
            i += 1
            return true
        }
        guard let year = digits(4), expect("-"), let month = digits(2), expect("-"), let day = digits(2) else { return nil }
        guard i < b.count, b[i] == UInt8(ascii: "T") || b[i] == UInt8(ascii: " ") || b[i] == UInt8(ascii: "t") else { return nil }
        i += 1
        guard let hour = digits(2), expect(":"), let minute = digits(2), expect(":"), let second = digits(2) else { return nil }
        var micros: Int64 = 0
        if i < b.count && (b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: ",")) {
            i += 1
            var n = 0
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                // Digits past microseconds would be silently dropped: refuse them instead.
                guard n < 6 else { return nil }
                micros = micros * 10 + Int64(b[i] - 0x30)
                n += 1
                i += 1
            }
            guard n > 0 else { return nil }
            for _ in n..<6 { micros *= 10 }
        }
        guard (1...12).contains(month), (1...31).contains(day), hour <= 23, minute <= 59, second <= 60 else { return nil }
        guard day <= daysInMonth(year: year, month: month) else { return nil }
        var offsetSeconds: Int64 = 0
        guard i < b.count else { return nil }
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            i += 1
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            let negative = b[i] == UInt8(ascii: "-")
            i += 1
            guard let oh = digits(2), oh <= 15 else { return nil }
            var om: Int64 = 0
            var os: Int64 = 0
            if i < b.count {
                if b[i] == UInt8(ascii: ":") { i += 1 }
                guard let m = digits(2), m <= 59 else { return nil }
                om = m
                if i < b.count {
                    if b[i] == UInt8(ascii: ":") { i += 1 }
                    guard let s = digits(2), s <= 59 else { return nil }
                    os = s
                }
            }
            offsetSeconds = (oh * 3600 + om * 60 + os) * (negative ? -1 : 1)
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + min(second, 59) - offsetSeconds
        return seconds * 1_000_000 + micros
    }

    static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// `--as-of` and friends: ISO 8601 with a zone offset, or integer epoch milliseconds.
    public static func parseCommandLineUs(_ text: String) -> Int64? {
        if !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) || (text.first == "-" && text.count > 1 && text.dropFirst().utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })) {
            guard let ms = Int64(text) else { return nil }
            let (us, overflow) = ms.multipliedReportingOverflow(by: 1000)
            return overflow ? nil : us
        }
        return parseTimestampUs(text)
    }

    /// `2026-05-03T14:23:00.123456Z`: UTC, microseconds always written, fixed width, sorts as text.
    public static func iso8601(us: Int64) -> String {
        let (days, inDay) = floorDivMod(us, 86_400_000_000)
        let (y, m, d) = civilFromDays(days)
        let secondsInDay = inDay / 1_000_000
        let micros = inDay % 1_000_000
        guard y >= 0, y <= 9999 else {
            return pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2) + "T" + pad(secondsInDay / 3600, 2) + ":"
                + pad(secondsInDay / 60 % 60, 2) + ":" + pad(secondsInDay % 60, 2) + "." + pad(micros, 6) + "Z"
        }
        return fixedWidth(y, m, d, secondsInDay, fraction: micros, fractionDigits: 6)
    }

    /// The text of a four-digit year's instant, 21 bytes and the fraction (the path every
    /// report line takes; other years keep the padded-String path, whose output this equals).
    static func fixedWidth(_ y: Int64, _ m: Int64, _ d: Int64, _ secondsInDay: Int64, fraction: Int64, fractionDigits: Int) -> String {
        String(unsafeUninitializedCapacity: 21 + fractionDigits) { out in
            func digits(_ v: Int64, _ width: Int, at: Int) {
                var v = v
                var i = at + width
                while i > at { i -= 1; out[i] = UInt8(truncatingIfNeeded: v % 10) + 0x30; v /= 10 }
            }
            digits(y, 4, at: 0); out[4] = 0x2D
            digits(m, 2, at: 5); out[7] = 0x2D
            digits(d, 2, at: 8); out[10] = 0x54
            digits(secondsInDay / 3600, 2, at: 11); out[13] = 0x3A
            digits(secondsInDay / 60 % 60, 2, at: 14); out[16] = 0x3A
            digits(secondsInDay % 60, 2, at: 17); out[19] = 0x2E
            digits(fraction, fractionDigits, at: 20)
            out[20 + fractionDigits] = 0x5A
            return 21 + fractionDigits
        }
    }

    /// Milliseconds as ISO 8601 UTC, for HLC instants: `2026-05-03T14:23:00.123Z`.
    public static func iso8601(ms: Int64) -> String {
        let (days, inDay) = floorDivMod(ms, 86_400_000)
        let (y, m, d) = civilFromDays(days)
        let secondsInDay = inDay / 1000
        if y >= 0, y <= 9999 { return fixedWidth(y, m, d, secondsInDay, fraction: inDay % 1000, fractionDigits: 3) }
        return pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2) + "T" + pad(secondsInDay / 3600, 2) + ":"
            + pad(secondsInDay / 60 % 60, 2) + ":" + pad(secondsInDay % 60, 2) + "." + pad(inDay % 1000, 3) + "Z"
    }

    public static func floorDivMod(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        var q = a / b
        var r = a % b
        if r < 0 { q -= 1; r += b }
        return (q, r)
    }

    static func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
