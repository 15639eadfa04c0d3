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

    /// Two lower-case hex digits per byte value, packed as (high << 8 | low).
    static let hexPairs: [UInt16] = (0..<256).map { b in
        let digits = Array("0123456789abcdef".utf8)
        return UInt16(digits[b >> 4]) << 8 | UInt16(digits[b & 0xF])
    }

    /// The 36-byte 8-4-4-4-12 lower-case form, written into `out` (no allocation).
    public func writeHex(into out: UnsafeMutableBufferPointer<UInt8>) {
        EventID.hexPairs.withUnsafeBufferPointer { pairs in
            var pos = 0
            for i in 0..<16 {
                if i == 4 || i == 6 || i == 8 || i == 10 { out[pos] = UInt8(ascii: "-"); pos += 1 }
                let word = i < 8 ? high : low
                let byte = Int((word >> UInt64(56 - 8 * (i % 8))) & 0xFF)
                let pair = pairs[byte]
                out[pos] = UInt8(pair >> 8)
                out[pos + 1] = UInt8(pair & 0xFF)
                pos += 2
            }
        }
    }

}
