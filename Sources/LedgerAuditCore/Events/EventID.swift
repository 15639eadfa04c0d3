/// A UUID as 128 bits. Ordering is bytewise, as PostgreSQL orders `uuid` (memcmp), which is also
/// the order of the lower-case hex text.
public struct EventID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// 16 bytes, network order (as in PostgreSQL's binary format).
    public init(bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count == 16)
        self.init(high: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                  low: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
    }

    /// Accepts the canonical 8-4-4-4-12 form, upper or lower case, as PostgreSQL prints it.
    /// (PostgreSQL also accepts braces and missing hyphens on input; extracts carry its output form.)
    public init?(_ text: String) {
        var t = text
        guard let parsed = t.withUTF8({ EventID(hexText: $0) }) else { return nil }
        self = parsed
    }

    /// The 8-4-4-4-12 text as bytes (no String needed): readers parse ids straight from a line.
    /// Eight digits at a time (every id of every extract row passes here): the hyphens at 8, 13,
    /// 18 and 23, and 32 hex digits, either case; anything else is nil.
    public init?(hexText buf: UnsafeBufferPointer<UInt8>) {
        guard buf.count == 36, let base = buf.baseAddress else { return nil }
        guard base[8] == 0x2D, base[13] == 0x2D, base[18] == 0x2D, base[23] == 0x2D else { return nil }
        let raw = UnsafeRawPointer(base)
        func word(_ offset: Int) -> UInt64 { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
        func halves(_ first: Int, _ second: Int) -> UInt64 {
            UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: first, as: UInt32.self)))
                | UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: second, as: UInt32.self))) << 32
        }
        guard let a = EventID.hexDigitsValue(word(0)), let b = EventID.hexDigitsValue(halves(9, 14)),
              let c = EventID.hexDigitsValue(halves(19, 24)), let d = EventID.hexDigitsValue(word(28)) else { return nil }
        self.init(high: a << 32 | b, low: c << 32 | d)
    }

    /// Only the canonical text, 8-4-4-4-12 in lower case as `description` writes it; nil for any
    /// other spelling, upper case included. One id has one such text, so what is keyed by the id
    /// compares as the texts' bytes do (account keys, hold keys).
    public init?(canonicalText buf: UnsafeBufferPointer<UInt8>) {
        guard !buf.contains(where: { $0 >= 0x41 && $0 <= 0x46 }) else { return nil }  // A–F
        self.init(hexText: buf)
    }

    /// Eight ASCII hex digits (the first in the lowest byte) as their 32-bit value, or nil when
    /// any byte is not a hex digit. Bytewise range tests without carries between bytes (each
    /// byte is masked to 7 bits first; bytes with the top bit set are refused up front).
    @inline(__always)
    static func hexDigitsValue(_ x: UInt64) -> UInt64? {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        guard x & highs == 0 else { return nil }
        // The top bit of each byte set where low < byte < high (byte < 0x80).
        func between(_ v: UInt64, _ low: UInt64, _ high: UInt64) -> UInt64 {
            (ones &* (127 + high) &- v) & ~v & (v &+ ones &* (127 - low)) & highs
        }
        let digit = between(x, 0x2F, 0x3A)
        let letter = between(x | 0x2020_2020_2020_2020, 0x60, 0x67)
        guard digit | letter == highs else { return nil }
        // Each byte's value: its low nibble, plus 9 for a letter ('a' is 0x61: 1 + 9 = 10).
        var v = ((x & 0x0F0F_0F0F_0F0F_0F0F) &+ (letter >> 7) &* 9).byteSwapped
        v = (v & 0x0F00_0F00_0F00_0F00) >> 4 | (v & 0x000F_000F_000F_000F)
        v = (v & 0x00FF_0000_00FF_0000) >> 8 | (v & 0x0000_00FF_0000_00FF)
        v = (v & 0x0000_FFFF_0000_0000) >> 16 | (v & 0x0000_0000_0000_FFFF)
        return v
    }

    public static func < (a: EventID, b: EventID) -> Bool {
        a.high != b.high ? a.high < b.high : a.low < b.low
    }


    public var description: String {
        String(unsafeUninitializedCapacity: 36) { out in
            writeHex(into: out)
            return 36
        }
    }

    /// The 36-byte 8-4-4-4-12 lower-case form, written into `out` (no allocation, no table):
    /// eight digits at a time, every id of every event passes here for the digest.
    @inline(__always)
    public func writeHex(into out: UnsafeMutableBufferPointer<UInt8>) {
        precondition(out.count >= 36)
        let p = UnsafeMutableRawPointer(out.baseAddress!)
        let a = EventID.hexDigits(UInt32(truncatingIfNeeded: high >> 32))
        let b = EventID.hexDigits(UInt32(truncatingIfNeeded: high))
        let c = EventID.hexDigits(UInt32(truncatingIfNeeded: low >> 32))
        let d = EventID.hexDigits(UInt32(truncatingIfNeeded: low))
        p.storeBytes(of: a, toByteOffset: 0, as: UInt64.self)
        p.storeBytes(of: 0x2D, toByteOffset: 8, as: UInt8.self)
        p.storeBytes(of: UInt32(truncatingIfNeeded: b), toByteOffset: 9, as: UInt32.self)
        p.storeBytes(of: 0x2D, toByteOffset: 13, as: UInt8.self)
        p.storeBytes(of: UInt32(truncatingIfNeeded: b >> 32), toByteOffset: 14, as: UInt32.self)
        p.storeBytes(of: 0x2D, toByteOffset: 18, as: UInt8.self)
        p.storeBytes(of: UInt32(truncatingIfNeeded: c), toByteOffset: 19, as: UInt32.self)
        p.storeBytes(of: 0x2D, toByteOffset: 23, as: UInt8.self)
        p.storeBytes(of: UInt32(truncatingIfNeeded: c >> 32), toByteOffset: 24, as: UInt32.self)
        p.storeBytes(of: d, toByteOffset: 28, as: UInt64.self)
    }

    /// Eight lower-case hex digits of `v`, packed so that storing the value in memory (little
    /// endian) writes them most significant first. Each nibble is spread into its own byte,
    /// then `'0' + n`, plus 39 more where n ≥ 10 (`'a' - '0' - 10`).
    @inline(__always)
    static func hexDigits(_ v: UInt32) -> UInt64 {
        var x = UInt64(v)
        x = ((x & 0xFFFF_0000) << 16) | (x & 0xFFFF)
        x = ((x & 0x0000_FF00_0000_FF00) << 8) | (x & 0x0000_00FF_0000_00FF)
        x = ((x & 0x00F0_00F0_00F0_00F0) << 4) | (x & 0x000F_000F_000F_000F)
        let atLeastTen = ((x &+ 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101
        x = x &+ 0x3030_3030_3030_3030 &+ atLeastTen &* 0x27
        return UInt64(littleEndian: x.byteSwapped)
    }

}
