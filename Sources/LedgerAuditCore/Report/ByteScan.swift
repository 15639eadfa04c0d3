/// Word-at-a-time scans over report text: every cell of every row goes through them (two
/// files with a row per account, a journal line per posting leg), and nearly all of it is
/// plain ASCII. Each returns where its byte-by-byte check must start, so the exact rule stays
/// in one loop at the caller; a word is skipped only when none of its bytes can matter.
public enum ByteScan {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highs: UInt64 = 0x8080_8080_8080_8080

    /// The high bit of each byte of `x` below `n` (n ≤ 128) is set in the result when any is:
    /// a test for "some byte is below n", exact as a whole.
    @inline(__always)
    static func anyBelow(_ x: UInt64, _ n: UInt64) -> Bool { (x &- ones &* n) & ~x & highs != 0 }

    /// Whether some byte of `x` equals `b`, exact as a whole.
    @inline(__always)
    static func anyEqual(_ x: UInt64, _ b: UInt64) -> Bool {
        let t = x ^ (ones &* b)
        return (t &- ones) & ~t & highs != 0
    }

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
}
