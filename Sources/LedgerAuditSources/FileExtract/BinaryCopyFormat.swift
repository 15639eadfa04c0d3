import LedgerAuditCore

/// `\copy (SELECT …) TO 'events.pgcopy' (FORMAT binary)`: PostgreSQL's binary COPY, the reference
/// columns in table order with the JSON columns as jsonb. The fastest extract to read (no text
/// to parse but the JSON), and the same bytes the server streams, so replaying one measures the
/// client alone. JSON from a file is not trusted as the server's is: it is validated.
struct BinaryCopyFormat: ExtractFormat {
    var framing: RecordFraming { .binaryCopy }
    var decoder = BinaryCopyDecoder(headerSeen: true)

    mutating func readHeader(_ record: UnsafeBufferPointer<UInt8>) throws(SourceError) -> Bool { false }

    func orderKey(_ record: UnsafeBufferPointer<UInt8>) -> GlobalOrderKey? {
        var probe = BinaryCopyDecoder(headerSeen: true)
        guard let fields = (try? probe.fields(of: UnsafeRawBufferPointer(record))) ?? nil,
              let id = fields[0], id.count == 16, let hp = fields[6], hp.count == 8, let hl = fields[7], hl.count == 4
        else { return nil }
        let logical = Int32(bitPattern: UInt32(hl[0]) << 24 | UInt32(hl[1]) << 16 | UInt32(hl[2]) << 8 | UInt32(hl[3]))
        return GlobalOrderKey(hlcPhysicalMs: BinaryCopyDecoder.int64(hp), hlcLogical: logical, eventId: EventID(bytes: id))
    }

    mutating func decode(_ record: UnsafeBufferPointer<UInt8>, location: String) -> SourceRow {
        do {
            guard let fields = try decoder.fields(of: UnsafeRawBufferPointer(record)) else {
                return .malformed(MalformedRow(location: location, reason: "is a COPY trailer in the middle of the file"))
            }
            return BinaryCopyDecoder.row(fields, location: location, jsonbTrusted: false)
        } catch {
            return .malformed(MalformedRow(location: location, reason: error.description))
        }
    }
}
