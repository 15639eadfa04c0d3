#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Card numbers (PAN) in ledger text: a Luhn-valid run of 13–19 digits, not adjacent to another
/// digit, with single spaces or dashes allowed between digits. Every renderer masks through here.
public enum CardMask {
    public struct Match: Sendable, Equatable {
        /// Range in the string's unicode scalars.
        public var range: Range<Int>
        public var digits: [UInt8]
        public var masked: String { String(repeating: "*", count: digits.count - 4) + String(decoding: digits.suffix(4).map { $0 + 0x30 }, as: UTF8.self) }
        public init(range: Range<Int>, digits: [UInt8]) {
            self.range = range
            self.digits = digits
        }
    }

    /// Digits written in groups are a card number only in a card's layout: fours (the last group
    /// shorter), or 4-6-4 / 4-6-5 (Diners, Amex). Dates and times (`2026-05-03 14`, 4-2-2-2) are not.
    static func isCardLayout(_ positions: [Int]) -> Bool {
        var groups: [Int] = [1]
        for k in 1..<positions.count {
            if positions[k] == positions[k - 1] + 1 { groups[groups.count - 1] += 1 } else { groups.append(1) }
        }
        if groups.count == 1 { return true }
        if groups == [4, 6, 4] || groups == [4, 6, 5] { return true }
        return groups.dropLast().allSatisfy { $0 == 4 } && (1...4).contains(groups.last!)
    }

    public static func luhnValid(_ digits: [UInt8]) -> Bool {
        var sum = 0
        for (i, d) in digits.reversed().enumerated() {
            var v = Int(d)
            if i % 2 == 1 { v *= 2; if v > 9 { v -= 9 } }
            sum += v
        }
        return sum % 10 == 0
    }

    /// Every card number in `text`, left to right, non-overlapping.
    public static func matches(in text: String) -> [Match] {
        let scalars = Array(text.unicodeScalars)
        func digit(_ i: Int) -> UInt8? {
            guard i >= 0, i < scalars.count else { return nil }
            let v = scalars[i].value
            return v >= 0x30 && v <= 0x39 ? UInt8(v - 0x30) : nil
        }
        var out: [Match] = []
        var i = 0
        while i < scalars.count {
            guard digit(i) != nil, digit(i - 1) == nil else { i += 1; continue }
            // Collect a run of digits joined by single separators, remembering positions.
            var positions: [Int] = []
            var j = i
            while let _ = digit(j) {
                positions.append(j)
                if let _ = digit(j + 1) {
                    j += 1
                } else if j + 2 < scalars.count, scalars[j + 1] == " " || scalars[j + 1] == "-", digit(j + 2) != nil {
                    j += 2
                } else {
                    break
                }
            }
            // Longest Luhn-valid window of 13–19 digits starting at a digit boundary of the run
            // whose neighbours are not digits (a window inside a longer run is adjacent to a digit,
            // unless a separator splits it).
            var found: Match?
            var start = 0
            while start < positions.count && found == nil {
                if start == 0 || scalars[positions[start] - 1] == " " || scalars[positions[start] - 1] == "-" {
                    for length in stride(from: min(19, positions.count - start), through: 13, by: -1) {
                        let endIndex = start + length - 1
                        let after = positions[endIndex] + 1
                        if endIndex + 1 < positions.count && after == positions[endIndex + 1] { continue }
                        let ds = positions[start...endIndex].map { digit($0)! }
                        let range = positions[start]..<(positions[endIndex] + 1)
                        if luhnValid(ds) && !insideUUID(scalars, range) && isCardLayout(Array(positions[start...endIndex])) {
                            found = Match(range: range, digits: ds)
                            break
                        }
                    }
                }
                if found == nil { start += 1 }
            }
            if let found {
                out.append(found)
                i = found.range.upperBound
            } else {
                i = (positions.last ?? i) + 1
            }
        }
        return out
    }

    /// A UUID (8-4-4-4-12 hex) is an identifier, not a card number, even when its digits pass Luhn.
    static func insideUUID(_ scalars: [Unicode.Scalar], _ range: Range<Int>) -> Bool {
        func isHexOrDash(_ i: Int) -> Bool {
            guard i >= 0, i < scalars.count else { return false }
            let v = scalars[i].value
            return (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x46) || (v >= 0x61 && v <= 0x66) || v == 0x2D
        }
        var lo = range.lowerBound, hi = range.upperBound
        while isHexOrDash(lo - 1) { lo -= 1 }
        while isHexOrDash(hi) { hi += 1 }
        guard hi - lo >= 36 else { return false }
        for start in max(lo, range.upperBound - 36)...min(range.lowerBound, hi - 36) {
            var shaped = true
            for k in 0..<36 {
                let isDash = scalars[start + k] == "-"
                if (k == 8 || k == 13 || k == 18 || k == 23) != isDash { shaped = false; break }
            }
            if shaped { return true }
        }
        return false
    }

    /// Fast pre-check: a card number needs 13 digits in one run joined by single separators.
    public static func mayHoldCardNumber(_ text: String) -> Bool {
        return text.withUTF8InPlace { mayHoldCardNumber(bytes: $0) }
    }

    /// Whether a JSON document may hold a card number in a key or a value: its text holds a
    /// card-shaped run of digits, or an escape (which may spell digits: `"\u0034\u0031…"` is
    /// `"41…"`; jsonb prints it decoded, but a json column or a file keeps the escape).
    public static func mayHoldCardNumber(_ json: JSONText) -> Bool {
        return json.withBytes { bytes in
            guard let base = bytes.baseAddress else { return false }
            return mayHoldCardNumber(bytes: bytes) || memchr(base, 0x5C, bytes.count) != nil
        }
    }

    /// `mayHoldCardNumber` on UTF-8 bytes. Two word-at-a-time filters clear most text before
    /// the exact byte-by-byte scan: no 13 bytes in a row that are all digits, spaces or hyphens
    /// (a UUID's digits are broken up by its hex letters), or fewer than 13 digits in all.
    /// The scan steps over a standalone UUID (`standaloneUUID`): an account name holding an id
    /// whose digits run long (`…-4123-8123-1234…`) would otherwise send every line that shows
    /// it to the full search, which never finds a card number there.
    public static func mayHoldCardNumber(bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        // The run first: a payload's ids hold 13 digits in all but seldom 13 in a row, so the
        // run clears most text on its own (both are pure: the order changes no answer).
        guard hasCardShapedRun(bytes), digitCount(bytes, atLeast: 13) else { return false }
        var run = DigitRun()
        var i = 0
        while i < bytes.count {
            if standaloneUUID(bytes, at: i) {
                run = DigitRun()
                i += 36
                continue
            }
            if run.reachesCardLength(after: bytes[i]) { return true }
            i += 1
        }
        return false
    }

    /// Whether 36 bytes from `at` are a UUID (8-4-4-4-12 hex) with neither a hex digit, a
    /// hyphen nor a space on either side. `matches` never takes digits inside a UUID
    /// (`insideUUID` finds this very one), and no run of digits joined by spaces or hyphens can
    /// reach into it from outside, so no card number has a digit in it.
    @inline(__always)
    static func standaloneUUID(_ bytes: UnsafeBufferPointer<UInt8>, at: Int) -> Bool {
        @inline(__always) func joins(_ u: UInt8) -> Bool { ByteScan.isHexDigit(u) || u == 0x2D || u == 0x20 }
        guard at + 36 <= bytes.count, bytes[at + 8] == 0x2D, ByteScan.isHexDigit(bytes[at]) else { return false }
        if at > 0 && joins(bytes[at - 1]) { return false }
        if at + 36 < bytes.count && joins(bytes[at + 36]) { return false }
        for k in 0..<36 {
            let u = bytes[at + k]
            if k == 8 || k == 13 || k == 18 || k == 23 { guard u == 0x2D else { return false } } else { guard ByteScan.isHexDigit(u) else { return false } }
        }
        return true
    }

    /// Per byte of `word`, the high bit set where the byte is a digit, a space or a hyphen (exact:
    /// no carry crosses a byte).
    @inline(__always)
    static func cardCharacterBits(_ word: UInt64) -> UInt64 {
        let highBits: UInt64 = 0x8080_8080_8080_8080
        let low7 = word & 0x7F7F_7F7F_7F7F_7F7F
        let digit = (low7 &+ 0x5050_5050_5050_5050) & ~(low7 &+ 0x4646_4646_4646_4646) & highBits
        return (digit & ~word) | ByteScan.matches(0x20, in: word) | ByteScan.matches(0x2D, in: word)
    }

    /// Whether 13 bytes in a row are digits, spaces or hyphens: a card number's 13 digits and
    /// any separators between them need that many. Eight bytes at a time.
    @inline(__always)
    static func hasCardShapedRun(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let raw = UnsafeRawPointer(base)
        let highBits: UInt64 = 0x8080_8080_8080_8080
        var run = 0
        var at = 0
        while at + 8 <= bytes.count {
            let bits = cardCharacterBits(raw.loadUnaligned(fromByteOffset: at, as: UInt64.self))
            if bits == highBits {
                run += 8
            } else {
                let others = ~bits & highBits
                // Little-endian: the low bits are the first bytes.
                if run + others.trailingZeroBitCount / 8 >= 13 { return true }
                run = others.leadingZeroBitCount / 8
            }
            if run >= 13 { return true }
            at += 8
        }
        while at < bytes.count {
            let u = bytes[at]
            if (u >= 0x30 && u <= 0x39) || u == 0x20 || u == 0x2D { run += 1 } else { run = 0 }
            if run >= 13 { return true }
            at += 1
        }
        return false
    }

    /// Whether `bytes` hold at least `minimum` ASCII digits in all, counted eight bytes at a
    /// time: most ledger text (a payload, an account name without an id) has fewer than the 13
    /// a card number needs, and is cleared without the byte-by-byte scan. Each word's digits
    /// are added per byte lane (a 1 in each lane that holds a digit), not counted with a
    /// population count: this build's target has no such instruction, and its software form
    /// was a quarter of the function's time in an evidence pack's profile.
    @inline(__always)
    static func digitCount(_ bytes: UnsafeBufferPointer<UInt8>, atLeast minimum: Int) -> Bool {
        guard bytes.count >= minimum, let base = bytes.baseAddress else { return false }
        let raw = UnsafeRawPointer(base)
        let highBits: UInt64 = 0x8080_8080_8080_8080
        var digits = 0
        var lanes: UInt64 = 0
        var wordsInLanes = 0
        var at = 0
        while at + 8 <= bytes.count {
            let word = raw.loadUnaligned(fromByteOffset: at, as: UInt64.self)
            let low7 = word & 0x7F7F_7F7F_7F7F_7F7F
            // Per byte, no carry between bytes (each sum stays below 0x100): the high bit says
            // ≥ 0x30, and not > 0x39; bytes ≥ 0x80 (UTF-8) are no digits.
            let atLeast0 = (low7 &+ 0x5050_5050_5050_5050) & highBits
            let above9 = (low7 &+ 0x4646_4646_4646_4646) & highBits
            lanes &+= (atLeast0 & ~above9 & ~word & highBits) >> 7
            wordsInLanes += 1
            // A lane holds at most 255: emptied before it could carry into the next.
            if wordsInLanes == 255 {
                digits += laneSum(lanes)
                lanes = 0
                wordsInLanes = 0
            }
            at += 8
        }
        digits += laneSum(lanes)
        while at < bytes.count {
            if bytes[at] >= 0x30 && bytes[at] <= 0x39 { digits += 1 }
            at += 1
        }
        return digits >= minimum
    }

    /// The sum of a word's eight byte lanes (each ≤ 255): pairs into 16-bit lanes, then one
    /// multiply adds the four into the top 16 bits (at most 2,040, no overflow).
    @inline(__always)
    static func laneSum(_ lanes: UInt64) -> Int {
        let pairs = (lanes & 0x00FF_00FF_00FF_00FF) &+ ((lanes >> 8) & 0x00FF_00FF_00FF_00FF)
        return Int((pairs &* 0x0001_0001_0001_0001) >> 48)
    }

    /// Digits in one run, joined by single spaces or dashes, fed a byte at a time: the run a
    /// card number needs (13 digits) is the one thing every scan of ledger text looks for.
    struct DigitRun {
        var digits = 0
        var previousWasSeparator = false

        @inline(__always) mutating func reachesCardLength(after u: UInt8) -> Bool {
            if u >= 0x30 && u <= 0x39 {
                digits += 1
                previousWasSeparator = false
                return digits >= 13
            }
            if (u == 0x20 || u == 0x2D) && digits > 0 && !previousWasSeparator {
                previousWasSeparator = true
            } else {
                digits = 0
                previousWasSeparator = false
            }
            return false
        }
    }

    /// The text with every card number replaced by `*` and its last four digits.
    public static func masked(_ text: String) -> String {
        guard mayHoldCardNumber(text) else { return text }
        let found = matches(in: text)
        guard !found.isEmpty else { return text }
        let scalars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        for m in found {
            out.append(contentsOf: scalars[i..<m.range.lowerBound])
            out.append(contentsOf: m.masked.unicodeScalars)
            i = m.range.upperBound
        }
        out.append(contentsOf: scalars[i...])
        return String(out)
    }
}
