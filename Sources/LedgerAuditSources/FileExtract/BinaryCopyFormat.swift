import LedgerAuditCore

/// `\copy (SELECT …) TO 'events.pgcopy' (FORMAT binary)`: PostgreSQL's binary COPY, the reference
/// columns in table order with the JSON columns as jsonb. The fastest extract to read (no text
/// to parse but the JSON), and the same bytes the server streams, so replaying one measures the
/// client alone. JSON from a file is not trusted as the server's is: it is validated.
struct BinaryCopyFormat: ExtractFormat {
    var framing: RecordFraming { .binaryCopy }
    var decoder = BinaryCopyDecoder(headerSeen: true)

    mutating func readHeader(_ record: UnsafeBufferPointer<UInt8>) throws(SourceError) -> Bool { false }

    /// event_id, hlc_physical and hlc_logical (fields 0, 6 and 7), reached by the field lengths
    /// before them: no decoder and no allocation in the order pass.
    func orderKey(_ record: UnsafeBufferPointer<UInt8>) -> GlobalOrderKey? {
        let raw = UnsafeRawBufferPointer(record)
        guard raw.count >= 2, Int(raw[0]) << 8 | Int(raw[1]) == decoder.fieldCount else { return nil }
        var at = 2
        var id: EventID?, physical: Int64?, logical: Int32?
        for field in 0..<8 {
            guard at + 4 <= raw.count else { return nil }
            let length = Int(BinaryCopyDecoder.int32(raw, at))
            at += 4
            guard length >= 0 else { continue }  // NULL
            guard length <= raw.count - at else { return nil }
            let value = UnsafeRawBufferPointer(rebasing: raw[at..<(at + length)])
            switch (field, length) {
            case (0, 16): id = EventID(bytes: value)
            case (6, 8): physical = BinaryCopyDecoder.int64(value)
            case (7, 4): logical = BinaryCopyDecoder.int32(value)
            default: break
            }
            at += length
        }
        guard let id, let physical, let logical else { return nil }
        return GlobalOrderKey(hlcPhysicalMs: physical, hlcLogical: logical, eventId: id)
    }

    mutating func decode(_ record: UnsafeBufferPointer<UInt8>, location: @autoclosure () -> String) -> SourceRow {
        do {
            guard let fields = try decoder.fields(of: UnsafeRawBufferPointer(record)) else {
                return .malformed(MalformedRow(location: location(), reason: "is a COPY trailer in the middle of the file"))
            }
            return BinaryCopyDecoder.row(fields, location: location(), jsonbTrusted: false)
        } catch {
            return .malformed(MalformedRow(location: location(), reason: error.description))
        }
    }
}
