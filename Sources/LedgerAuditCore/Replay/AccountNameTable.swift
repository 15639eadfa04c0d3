/// The book's account names, each once, and (name, currency) → slot. Names sit as bytes in
/// large shared chunks, found by open addressing (linear probing) over 32-bit slots, the probe
/// started at a hash seeded per process (`Hasher`: names chosen to collide cannot be prepared
/// ahead). A `String` an account in a dictionary keyed by name and currency was ~170 bytes an
/// account (a 96-byte heap object for a 51-byte name, ~80 for the entry at the dictionary's
/// load): here the name's bytes, a 12-byte location and 4–8 bytes of table. The currency is
/// the book's record's (`AccountRecord.currency`), compared there.
///
/// Names are equal when their bytes are, as PostgreSQL compares text: `String`'s `==` equates
/// canonically equivalent spellings ("é" and "e" + U+0301), which made two accounts one.
struct AccountNameTable: Sendable {
    /// Where a slot's name lies: its chunk, its first byte there, its length in bytes.
    private struct Location: Sendable {
        var chunk: UInt32
        var offset: UInt32
        var length: UInt32
    }

    /// Names are appended to the last chunk; a chunk is never moved, so growing never holds
    /// two copies of every name (a doubling array did, for a moment, at the end of a big pass).
    private static let chunkBytes = 1 << 20
    private var chunks: [[UInt8]] = []
    /// By slot.
    private var locations: [Location] = []
    /// 0 is an empty entry; else the account's slot + 1.
    private var table = [UInt32](repeating: 0, count: 16)
    private var mask = 15

    var count: Int { locations.count }

    @inline(__always)
    private func home(_ name: UnsafeBufferPointer<UInt8>, _ currency: String) -> Int {
        var hasher = Hasher()
        hasher.combine(bytes: UnsafeRawBufferPointer(name))
        hasher.combine(name.count)
        hasher.combine(currency)
        return hasher.finalize() & mask
    }

    /// `body` on the bytes of the name at `slot`, read in place.
    @inline(__always)
    func withName<R>(_ slot: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let at = locations[slot]
        return try chunks[Int(at.chunk)].withUnsafeBufferPointer { chunk in
            try body(UnsafeBufferPointer(rebasing: chunk[Int(at.offset) ..< Int(at.offset) + Int(at.length)]))
        }
    }

    /// The name at `slot`, as a String (a new one each call: for reports, after the pass).
    func name(_ slot: Int) -> String {
        // The bytes were a String's: valid UTF-8, so decoding repairs nothing.
        withName(slot) { String(decoding: $0, as: UTF8.self) }
    }

    /// Names are one when their bytes are (one account: `BalanceBook.applyOne` compares the same way).
    @inline(__always)
    private func nameEquals(_ slot: Int, _ name: UnsafeBufferPointer<UInt8>) -> Bool {
        Int(locations[slot].length) == name.count && withName(slot) { bytewiseCompare($0, name) == 0 }
    }

    /// The slot of the account with these name bytes and currency, nil when the book has none.
    func slot(_ name: UnsafeBufferPointer<UInt8>, _ currency: String, in records: [AccountRecord]) -> Int32? {
        var i = home(name, currency)
        while true {
            let t = table[i]
            if t == 0 { return nil }
            let n = Int(t) - 1
            if nameEquals(n, name) && records[n].currency == currency { return Int32(n) }
            i = (i + 1) & mask
        }
    }

    /// The name of the account at the next slot (`count`), whose record (with its currency) the
    /// book has appended already; callers look the name up first.
    mutating func append(_ name: UnsafeBufferPointer<UInt8>, records: [AccountRecord]) {
        let slot = locations.count
        precondition(slot < records.count && slot < Int(UInt32.max) - 1, "AccountNameTable: no record for slot \(slot)")
        if chunks.isEmpty || chunks[chunks.count - 1].count + name.count > max(Self.chunkBytes, chunks[chunks.count - 1].capacity) {
            var chunk: [UInt8] = []
            chunk.reserveCapacity(max(Self.chunkBytes, name.count))
            chunks.append(chunk)
        }
        let last = chunks.count - 1
        locations.append(Location(chunk: UInt32(last), offset: UInt32(chunks[last].count), length: UInt32(name.count)))
        chunks[last].append(contentsOf: name)
        var i = home(name, records[slot].currency)
        while table[i] != 0 { i = (i + 1) & mask }
        table[i] = UInt32(slot + 1)
        if locations.count * 10 > table.count * 7 { grow(records) }
    }

    private mutating func grow(_ records: [AccountRecord]) {
        let size = table.count * 2
        // The slots are placed again from the records: the old ones go first (not both held).
        table.removeAll()
        table = [UInt32](repeating: 0, count: size)
        mask = size - 1
        for n in locations.indices {
            var i = withName(n) { home($0, records[n].currency) }
            while table[i] != 0 { i = (i + 1) & mask }
            table[i] = UInt32(n + 1)
        }
    }
}
