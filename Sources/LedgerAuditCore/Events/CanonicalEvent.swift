/// The canonical encoding of one event, `ledger-audit-canonical-v1`: the bytes behind the
/// reports' events digest and the seals' Merkle leaves. Anyone can recompute it:
///
/// a JSON array, no whitespace, of the 13 columns in table order —
/// `["event_id","event_type","aggregate_id",stream_version,"causation_id"|null,"correlation_id",
///   hlc_physical,hlc_logical,vector_clock,payload,metadata,"user_id"|null,recorded_at_us]` —
/// UUIDs in lower-case 8-4-4-4-12 form, `recorded_at` as integer microseconds since the Unix
/// epoch (UTC), JSON columns exactly as PostgreSQL's jsonb prints them — object keys shorter
/// first, then bytewise, the last of duplicate keys kept; `", "` between members and elements,
/// `": "` after keys, no other whitespace; numbers as stored; strings escaping only `"`, `\` and
/// control characters (`\b \f \n \r \t`, others `\u00xx`), other characters as UTF-8.
/// From PostgreSQL the JSON columns are taken as they arrive; from files they are re-written.
public enum CanonicalEvent {
    public static let name = "ledger-audit-canonical-v1"

    public static func encode(_ e: EventRecord, into out: inout [UInt8]) {
        if let made = e.canonicalEncoding {
            out.append(contentsOf: made)
            return
        }
        // The fixed-width columns go through a stack scratch and are appended in two runs:
        // byte-at-a-time appends to the array were most of the encoding's cost.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: headBytesMax) { scratch in
            var n = 0
            put(0x5B, scratch, &n)
            putUUID(e.eventId, scratch, &n); put(0x2C, scratch, &n)
            out.appendBytes(UnsafeBufferPointer(rebasing: scratch[0..<n]))
            string(e.eventType, &out)
            n = 0
            put(0x2C, scratch, &n)
            putUUID(e.aggregateId, scratch, &n); put(0x2C, scratch, &n)
            putInteger(e.streamVersion, scratch, &n); put(0x2C, scratch, &n)
            putOptionalUUID(e.causationId, scratch, &n); put(0x2C, scratch, &n)
            putUUID(e.correlationId, scratch, &n); put(0x2C, scratch, &n)
            putInteger(e.hlcPhysicalMs, scratch, &n); put(0x2C, scratch, &n)
            putInteger(Int64(e.hlcLogical), scratch, &n); put(0x2C, scratch, &n)
            out.appendBytes(UnsafeBufferPointer(rebasing: scratch[0..<n]))
            json(e.vectorClock, &out); out.append(0x2C)
            json(e.payload, &out); out.append(0x2C)
            json(e.metadata, &out)
            n = 0
            put(0x2C, scratch, &n)
            putOptionalUUID(e.userId, scratch, &n); put(0x2C, scratch, &n)
            putInteger(e.recordedAtUs, scratch, &n)
            put(0x5D, scratch, &n)
            out.appendBytes(UnsafeBufferPointer(rebasing: scratch[0..<n]))
        }
    }

    /// One event's encoding in an array of its own (a reader thread's, handed to the fold):
    /// sized once from the texts it copies, where growing by appends reallocated and copied
    /// it three or four times an event.
    public static func encode(_ e: EventRecord) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(capacityEstimate(e))
        encode(e, into: &out)
        return out
    }

    /// The fixed-width columns' most, the texts' bytes, and a quarter more for a file's JSON
    /// re-written in jsonb's form (its `", "` and `": "`).
    static func capacityEstimate(_ e: EventRecord) -> Int {
        let texts = e.vectorClock.byteCount + e.payload.byteCount + e.metadata.byteCount
        return headBytesMax + e.eventType.utf8.count + 8 + texts + texts / 4
    }

    /// The longest run written through the scratch (four ids and three integers with their
    /// commas, 171 bytes), and room at its end for an integer's digits.
    static let headBytesMax = 256

    @inline(__always) static func put(_ b: UInt8, _ out: UnsafeMutableBufferPointer<UInt8>, _ n: inout Int) {
        out[n] = b
        n += 1
    }

    @inline(__always) static func putUUID(_ id: EventID, _ out: UnsafeMutableBufferPointer<UInt8>, _ n: inout Int) {
        out[n] = 0x22
        id.writeHex(into: UnsafeMutableBufferPointer(rebasing: out[(n + 1)..<(n + 37)]))
        out[n + 37] = 0x22
        n += 38
    }

    @inline(__always) static func putOptionalUUID(_ id: EventID?, _ out: UnsafeMutableBufferPointer<UInt8>, _ n: inout Int) {
        if let id { putUUID(id, out, &n); return }
        out[n] = 0x6E; out[n + 1] = 0x75; out[n + 2] = 0x6C; out[n + 3] = 0x6C  // null
        n += 4
    }

    /// Decimal digits, at most 20 and a sign: written backwards into the scratch's tail, then
    /// moved into place (one pass over the digits).
    @inline(__always) static func putInteger(_ v: Int64, _ out: UnsafeMutableBufferPointer<UInt8>, _ n: inout Int) {
        if v < 0 { out[n] = 0x2D; n += 1 }
        var magnitude = v.magnitude
        var at = out.count
        repeat {
            at -= 1
            out[at] = UInt8(truncatingIfNeeded: magnitude % 10) + 0x30
            magnitude /= 10
        } while magnitude > 0
        let digits = out.count - at
        (out.baseAddress! + n).update(from: out.baseAddress! + at, count: digits)
        n += digits
    }

    static func string(_ s: String, _ out: inout [UInt8]) {
        JSONWriter.stringBytes(s, into: &out)
    }

    static func json(_ t: JSONText, _ out: inout [UInt8]) {
        if t.isJSONBOutput {
            t.withBytes { out.appendBytes($0) }
            return
        }
        let written = t.withBytes { JSONBCanonical.write($0, into: &out) }
        if !written { JSONWriter.jsonbBytes(t.parse(), into: &out) }
    }
}
