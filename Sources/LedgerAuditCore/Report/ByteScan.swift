/// Word-at-a-time scans over report text and extract bytes: every cell of every row goes
/// through them (two files with a row per account, a journal line per posting leg), and every
/// byte of a COPY-CSV extract. The prefix scans return where a byte-by-byte check must start,
/// so the exact rule stays in one loop at the caller; a word is skipped only when none of its
/// bytes can matter.
public enum ByteScan {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highs: UInt64 = 0x8080_8080_8080_8080

    /// The high bit of each byte of `x` below `n` (n ≤ 128) is set in the result when any is:
    /// a test for "some byte is below n", exact as a whole.
    @inline(__always)
    static func anyBelow(_ x: UInt64, _ n: UInt64) -> Bool { (x &- ones &* n) & ~x & highs != 0 }

    /// Whether some byte of `x` equals `b`, exact as a whole.
    @inline(__always)
    static func anyEqual(_ x: UInt64, _ b: UInt64) -> Bool { equalFlags(x, ones &* b) != 0 }

    /// The high bit of the bytes of `x` equal to the byte repeated in `pattern`, and possibly of
    /// bytes above such a byte (borrows run upwards from a zero byte only): the lowest flag and
    /// "any flag" are exact.
    @inline(__always)
    static func equalFlags(_ x: UInt64, _ pattern: UInt64) -> UInt64 {
        let t = x ^ pattern
        return (t &- ones) & ~t & highs
    }

    /// `a`–`f` in either case.
    @inline(__always)
    public static func isHexLetter(_ b: UInt8) -> Bool { b | 0x20 >= 0x61 && b | 0x20 <= 0x66 }

    /// `0`–`9`, `a`–`f` or `A`–`F`.
    @inline(__always)
    public static func isHexDigit(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || isHexLetter(b) }

    /// The length of the leading run of whole 8-byte words that hold only 0x20–0x7E.
    @inline(__always)
    public static func printableASCIIPrefix(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        wordPrefix(bytes) { x in x & highs != 0 || anyBelow(x, 0x20) || anyEqual(x, 0x7F) }
    }

    /// The length of the leading run of whole 8-byte words with no byte below 0x20 and no
    /// `,`, `"` or `'`: bytes a CSV field never quotes for.
    @inline(__always)
    public static func csvUnquotedPrefix(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        wordPrefix(bytes) { x in anyBelow(x, 0x20) || anyEqual(x, 0x2C) || anyEqual(x, 0x22) || anyEqual(x, 0x27) }
    }

    /// The length of the leading run of whole 8-byte words none of which `stops` at.
    @inline(__always)
    static func wordPrefix(_ bytes: UnsafeBufferPointer<UInt8>, stops: (UInt64) -> Bool) -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        var at = 0
        while at &+ 8 <= bytes.count {
            if stops(UnsafeRawPointer(base).loadUnaligned(fromByteOffset: at, as: UInt64.self)) { break }
            at &+= 8
        }
        return at
    }

    /// Where the next of two given bytes is in `start..<end`, or `end` (`equalFlags`: the lowest
    /// flagged byte is the first match).
    @inline(__always)
    public static func firstOf(_ a: UInt8, _ b: UInt8, in base: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Int {
        let wordA = ones &* UInt64(a), wordB = ones &* UInt64(b)
        var i = start
        while i &+ 8 <= end {
            let x = word(base, i)
            let hit = equalFlags(x, wordA) | equalFlags(x, wordB)
            if hit != 0 { return i &+ hit.trailingZeroBitCount >> 3 }
            i &+= 8
        }
        while i < end {
            let c = base[i]
            if c == a || c == b { return i }
            i &+= 1
        }
        return end
    }

    /// Bit 7 of each byte of `word` equal to `byte`, and no other bit: exact per byte, since
    /// adding 0x7F to a byte's low seven bits never carries into the next byte.
    @inline(__always)
    public static func matches(_ byte: UInt8, in word: UInt64) -> UInt64 {
        let lows = ~highs
        let x = word ^ (ones &* UInt64(byte))
        return ~(((x & lows) &+ lows) | x) & highs
    }

    /// How many bytes `matches` flagged (the baseline x86-64 target has no popcnt): the flags
    /// moved to each byte's bit 0 and summed into the top byte by one multiply.
    @inline(__always)
    public static func flaggedCount(_ flags: UInt64) -> Int {
        Int(truncatingIfNeeded: ((flags >> 7) &* ones) >> 56)
    }

    /// Whether the bytes are UTF-8, checked in place (`UTF8Span`): `String(validating:)` makes a
    /// String and goes through generic code whose metadata look-ups cost more than the check.
    @inline(__always)
    public static func isUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        (try? UTF8Span(validating: bytes.span)) != nil
    }

    /// The bytes as a String when they are UTF-8, nil otherwise (never repaired): checked once,
    /// in place, and copied as checked (`String(decoding:)` after the check validated them again).
    @inline(__always)
    public static func stringIfUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        guard let checked = try? UTF8Span(validating: bytes.span) else { return nil }
        return String(copying: checked)
    }

    /// Eight bytes from `at`, the first in the lowest byte.
    @inline(__always)
    public static func word(_ base: UnsafePointer<UInt8>, _ at: Int) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(base + at).loadUnaligned(as: UInt64.self))
    }
}

extension Array where Element == UInt8 {
    /// Appends a run of bytes by one copy into the array's spare capacity (growing it as
    /// `append` does). `append(contentsOf:)` took ~100 instructions a call through its generic
    /// sequence copy (callgrind), and the journal, GL detail and population extract append
    /// ~100 short runs an event.
    @inlinable @inline(__always)
    public mutating func appendBytes(_ source: UnsafeBufferPointer<UInt8>) {
        let n = source.count
        guard n > 0, let from = source.baseAddress else { return }
        append(addingCapacity: n) { span in
            span.withUnsafeMutableBufferPointer { buffer, initialized in
                buffer.baseAddress!.initialize(from: from, count: n)
                initialized = n
            }
        }
    }

    /// A String's UTF-8, by one copy.
    @inlinable @inline(__always)
    public mutating func appendBytes(of text: String) {
        var copy = text
        copy.withUTF8 { appendBytes($0) }
    }

    /// An integer's decimal digits, minus sign first, as `String(value)` writes them, with no
    /// String made (the journal, GL detail and population extract write several an event).
    @inlinable
    public mutating func appendDecimal(_ value: Int64) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var magnitude = value.magnitude
            var at = 20
            repeat {
                at -= 1
                digits[at] = 0x30 + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 { append(0x2D) }
            appendBytes(UnsafeBufferPointer(rebasing: digits[at..<20]))
        }
    }
}
