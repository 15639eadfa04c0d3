/// Where the next of two given bytes is: CSV framing and field splitting look for a quote and
/// a newline or comma in every byte of an extract. Eight bytes at a time: a bytewise zero test
/// on the word XOR each byte; borrows only run upwards from a zero byte, so the lowest flagged
/// byte is the first match.
enum ByteScan {
    @inline(__always)
    static func firstOf(_ a: UInt8, _ b: UInt8, in base: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Int {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let wordA = ones &* UInt64(a), wordB = ones &* UInt64(b)
        var i = start
        while i &+ 8 <= end {
            let x = UInt64(littleEndian: UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self))
            let xa = x ^ wordA, xb = x ^ wordB
            let hit = (((xa &- ones) & ~xa) | ((xb &- ones) & ~xb)) & highs
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

    /// Bit 7 of each byte of `word` equal to `byte`, and no other bit: exact, since adding
    /// 0x7F to a byte's low seven bits never carries into the next byte.
    @inline(__always)
    static func matches(_ byte: UInt8, in word: UInt64) -> UInt64 {
        let lows: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        let x = word ^ (0x0101_0101_0101_0101 &* UInt64(byte))
        return ~(((x & lows) &+ lows) | x) & ~lows
    }

    /// How many bytes `matches` flagged (the baseline x86-64 target has no popcnt): the flags
    /// moved to each byte's bit 0 and summed into the top byte by one multiply.
    @inline(__always)
    static func flaggedCount(_ flags: UInt64) -> Int {
        Int(truncatingIfNeeded: ((flags >> 7) &* 0x0101_0101_0101_0101) >> 56)
    }

    @inline(__always)
    static func word(_ base: UnsafePointer<UInt8>, _ at: Int) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(base + at).loadUnaligned(as: UInt64.self))
    }
}
