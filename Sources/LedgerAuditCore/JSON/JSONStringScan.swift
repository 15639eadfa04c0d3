/// Where the bytes a JSON string can carry as they are end: the first quote, backslash, control
/// character (and, when asked, non-ASCII byte). Every string of every payload is scanned, so
/// eight bytes at a time: a byte-wise zero test on the word XOR the quote, XOR the backslash,
/// and a byte-wise "less than 0x20"; borrows only run upwards from a flagged byte, so the lowest
/// flagged byte is the first one.
enum JSONStringScan {
    @inline(__always)
    static func plainEnd(_ base: UnsafePointer<UInt8>, from start: Int, to end: Int, asciiOnly: Bool) -> Int {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        var i = start
        while i &+ 8 <= end {
            let x = UInt64(littleEndian: UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self))
            let quote = x ^ (ones &* 0x22), backslash = x ^ (ones &* 0x5C)
            var special = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((x &- ones &* 0x20) & ~x)
            if asciiOnly { special |= x }
            special &= highs
            if special != 0 { return i &+ special.trailingZeroBitCount >> 3 }
            i &+= 8
        }
        while i < end {
            let b = base[i]
            if b == 0x22 || b == 0x5C || b < 0x20 || (asciiOnly && b >= 0x80) { return i }
            i &+= 1
        }
        return end
    }

    /// Whether all of `bytes` can stand in a JSON string as they are.
    @inline(__always)
    static func isPlain(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        return plainEnd(base, from: 0, to: bytes.count, asciiOnly: false) == bytes.count
    }
}
