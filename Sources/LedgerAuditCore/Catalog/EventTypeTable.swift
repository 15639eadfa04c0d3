/// Event type → the catalog's index for it, probed by the type's UTF-8 bytes: the posting stage
/// looks up every event's type, and hashing a String (SipHash) then comparing it was ~420
/// instructions an event. Open addressing, linear probing, at most half full. Only the
/// catalog's types are ever inserted, so a store's types, however chosen, cannot lengthen a
/// probe: each lookup ends at the catalog's longest run of occupied slots.
struct EventTypeTable: Sendable {
    private let names: [[UInt8]]
    /// Index into `names`, or -1 for an empty slot.
    private let slots: [Int32]
    private let mask: Int

    init(_ types: [String]) {
        names = types.map { Array($0.utf8) }
        var capacity = 8
        while capacity < 2 * max(types.count, 1) { capacity *= 2 }
        mask = capacity - 1
        var slots = [Int32](repeating: -1, count: capacity)
        for (i, name) in names.enumerated() {
            var at = name.withUnsafeBufferPointer { EventTypeTable.hash($0) } & (capacity - 1)
            while slots[at] >= 0 { at = (at + 1) & (capacity - 1) }
            slots[at] = Int32(i)
        }
        self.slots = slots
    }

    /// Eight bytes at a time, multiplied and folded (types are short: one to three words).
    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var h = UInt64(truncatingIfNeeded: bytes.count) &* 0x9E37_79B9_7F4A_7C15
        guard let base = bytes.baseAddress else { return Int(truncatingIfNeeded: h) }
        let raw = UnsafeRawPointer(base)
        var at = 0
        while at &+ 8 <= bytes.count {
            h = (h ^ raw.loadUnaligned(fromByteOffset: at, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 31
            at &+= 8
        }
        var tail: UInt64 = 0
        while at < bytes.count {
            tail = tail << 8 | UInt64(base[at])
            at &+= 1
        }
        h = (h ^ tail) &* 0x94D0_49BB_1331_11EB
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    func index(of type: String) -> Int? {
        return type.withUTF8InPlace { bytes -> Int? in
            var at = EventTypeTable.hash(bytes) & mask
            while true {
                let slot = slots[at]
                if slot < 0 { return nil }
                if names[Int(slot)].withUnsafeBufferPointer({ bytesEqual($0, bytes) }) { return Int(slot) }
                at = (at + 1) & mask
            }
        }
    }
}
