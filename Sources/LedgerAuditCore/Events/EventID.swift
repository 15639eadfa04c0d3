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
        var h: UInt64 = 0
        var l: UInt64 = 0
        for i in 0..<8 { h = h << 8 | UInt64(bytes[i]) }
        for i in 8..<16 { l = l << 8 | UInt64(bytes[i]) }
        self.init(high: h, low: l)
    }

    /// Accepts the canonical 8-4-4-4-12 form, upper or lower case, as PostgreSQL prints it.
    /// (PostgreSQL also accepts braces and missing hyphens on input; extracts carry its output form.)
    public init?(_ text: String) {
        var t = text
        guard let parsed = t.withUTF8({ EventID(hexText: $0) }) else { return nil }
        self = parsed
    }

    /// The 8-4-4-4-12 text as bytes (no String needed): readers parse ids straight from a line.
    public init?(hexText buf: UnsafeBufferPointer<UInt8>) {
        guard buf.count == 36 else { return nil }
        var h: UInt64 = 0
        var l: UInt64 = 0
        var nibbles = 0
        for i in 0..<36 {
            let b = buf[i]
            if i == 8 || i == 13 || i == 18 || i == 23 {
                guard b == UInt8(ascii: "-") else { return nil }
                continue
            }
            let d: UInt64
            switch b {
            case 0x30...0x39: d = UInt64(b - 0x30)
            case 0x61...0x66: d = UInt64(b - 0x61 + 10)
            case 0x41...0x46: d = UInt64(b - 0x41 + 10)
            default: return nil
            }
            if nibbles < 16 { h = h << 4 | d } else { l = l << 4 | d }
            nibbles += 1
        }
        self.init(high: h, low: l)
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
