import LedgerAuditCore

/// Decodes PostgreSQL's binary COPY format: a 19-byte header (first message only), then per row
/// an int16 field count and, per field, an int32 length (-1 for NULL) and the bytes; -1 ends.
struct BinaryCopyDecoder {
    var headerSeen = false
    /// Columns every row must have: the reference table's 13, or what a store layout selects.
    var fieldCount = 13
    /// The field slices of the row last read, kept to spare an allocation a row.
    var scratch: [UnsafeRawBufferPointer?] = []
    static let signature: [UInt8] = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00]

    init(headerSeen: Bool = false, fieldCount: Int = 13) {
        self.headerSeen = headerSeen
        self.fieldCount = fieldCount
    }

    /// Field slices of one row, or nil for the trailer.
    mutating func fields(of message: UnsafeRawBufferPointer) throws(SourceError) -> [UnsafeRawBufferPointer?]? {
        var p = 0
        if !headerSeen {
            guard message.count >= 19, Array(message[0..<11]) == BinaryCopyDecoder.signature else {
                throw SourceError("PostgreSQL sent a COPY stream without the binary signature")
            }
            let extensionLength = Int(BinaryCopyDecoder.int32(message, 15))
            guard extensionLength >= 0, 19 + extensionLength <= message.count else {
                throw SourceError("PostgreSQL sent a COPY header with a header extension of \(extensionLength) bytes")
            }
            p = 19 + extensionLength
            headerSeen = true
        }
        guard p + 2 <= message.count else { throw SourceError("PostgreSQL sent a truncated COPY row") }
        let count = Int(Int16(bitPattern: UInt16(message[p]) << 8 | UInt16(message[p + 1])))
        p += 2
        if count == -1 { return nil }
        guard count == fieldCount else { throw SourceError("PostgreSQL sent \(count) columns; expected \(fieldCount)") }
        scratch.removeAll(keepingCapacity: true)
        for _ in 0..<count {
            guard p + 4 <= message.count else { throw SourceError("PostgreSQL sent a truncated COPY row") }
            let length = Int(BinaryCopyDecoder.int32(message, p))
            p += 4
            if length < 0 { scratch.append(nil); continue }
            guard p + length <= message.count else { throw SourceError("PostgreSQL sent a truncated COPY field") }
            scratch.append(UnsafeRawBufferPointer(rebasing: message[p..<(p + length)]))
            p += length
        }
        return scratch
    }

    /// A network-order int32 at `at` (field lengths, int4 columns): one load, inlined; every
    /// field of every row passes here. Callers check the bytes are there; the precondition
    /// only stands guard.
    @inline(__always)
    static func int32(_ b: UnsafeRawBufferPointer, _ at: Int = 0) -> Int32 {
        precondition(at >= 0 && at + 4 <= b.count)
        return Int32(bigEndian: b.loadUnaligned(fromByteOffset: at, as: Int32.self))
    }

    @inline(__always)
    static func int64(_ b: UnsafeRawBufferPointer) -> Int64 {
        precondition(b.count >= 8)
        return Int64(bigEndian: b.loadUnaligned(fromByteOffset: 0, as: Int64.self))
    }

    /// µs between 1970-01-01 and PostgreSQL's epoch, 2000-01-01.
    static let postgresEpochUs: Int64 = 946_684_800_000_000

    static func row(_ f: [UnsafeRawBufferPointer?], rowNumber: Int) -> SourceRow {
        row(f, location: "row \(rowNumber) of the COPY stream")
    }

    /// One row typed. `jsonbTrusted`: the jsonb text comes from the server (valid, in jsonb's
    /// form); from a file it is checked like any other JSON text, and re-written for the digest
    /// unless the check found it in jsonb's form already.
    /// `location` is built only for a row that needs it: most rows never do.
    static func row(_ f: [UnsafeRawBufferPointer?], location: @autoclosure () -> String, jsonbTrusted: Bool = true) -> SourceRow {
        func uuid(_ i: Int) -> EventID? { f[i].flatMap { $0.count == 16 ? EventID(bytes: $0) : nil } }
        // From a file, text that is not UTF-8 is refused, never repaired into other characters.
        func text(_ i: Int) -> String? {
            f[i].flatMap { b in
                let bytes = b.bindMemory(to: UInt8.self)
                // Checked in place and copied as checked: `String(validating:)` went through
                // generic code whose metadata look-ups were ~1,000 instructions a row (callgrind, `.pgcopy`).
                return jsonbTrusted ? String(decoding: bytes, as: UTF8.self) : ByteScan.stringIfUTF8(bytes)
            }
        }
        /// A jsonb column's text, checked (from a file), and whether it is in jsonb's form.
        func json(_ i: Int, _ name: String) -> Result<(text: UnsafeBufferPointer<UInt8>, isJSONBForm: Bool), MalformedRow> {
            // jsonb binary: a version byte (1), then text that PostgreSQL has already validated.
            guard let b = f[i], b.count >= 1, b[0] == 1 else {
                return .failure(MalformedRow(location: location(), reason: "column \(name) is null or not jsonb"))
            }
            let text = UnsafeBufferPointer(rebasing: b.bindMemory(to: UInt8.self)[1...])
            var isJSONBForm = true
            if !jsonbTrusted {
                let checked = JSONText.checking(text)
                if let error = checked.error {
                    return .failure(MalformedRow(location: location(), reason: "column \(name) is not valid JSON (\(error))"))
                }
                isJSONBForm = checked.isJSONBForm
            }
            return .success((text, isJSONBForm))
        }
        // A 14th column names the text ids of the row that are not UUIDs (PostgresEventSource.ColumnForms).
        if f.count == 14, let bad = f[13], bad.count > 0 {
            let columns = String(decoding: bad.bindMemory(to: UInt8.self), as: UTF8.self)
            return .malformed(MalformedRow(location: location(), reason: "column(s) \(columns) hold text that is not a UUID", eventId: uuid(0), aggregateId: uuid(2)))
        }
        guard let eventId = uuid(0), let aggregateId = uuid(2), let correlationId = uuid(5),
              let eventType = text(1), let sv = f[3], sv.count == 8, let hp = f[6], hp.count == 8,
              let hl = f[7], hl.count == 4, let ra = f[12], ra.count == 8
        else {
            return .malformed(MalformedRow(location: location(), reason: "a required column is null or of an unexpected type", eventId: uuid(0), aggregateId: uuid(2)))
        }
        let vectorClock: JSONText, payload: JSONText, metadata: JSONText
        switch (json(8, "vector_clock"), json(9, "payload"), json(10, "metadata")) {
        case let (.success(v), .success(p), .success(m)):
            // A file's texts passed `JSONText.checking`, which refuses bytes that are not UTF-8
            // (inside strings and out): checked once. The server's are checked here.
            if !jsonbTrusted || (ByteScan.isUTF8(v.text) && ByteScan.isUTF8(p.text) && ByteScan.isUTF8(m.text)) {
                // The three texts in one allocation: three strings were three mallocs, frees
                // and reference counts an event.
                (vectorClock, payload, metadata) = JSONText.sharingOneBuffer(v.text, p.text, m.text, jsonbForm: (v.isJSONBForm, p.isJSONBForm, m.isJSONBForm))
            } else {
                // Not UTF-8 (a server whose encoding is not): made strings, as before.
                vectorClock = JSONText(validated: String(decoding: v.text, as: UTF8.self), isJSONBOutput: v.isJSONBForm)
                payload = JSONText(validated: String(decoding: p.text, as: UTF8.self), isJSONBOutput: p.isJSONBForm)
                metadata = JSONText(validated: String(decoding: m.text, as: UTF8.self), isJSONBOutput: m.isJSONBForm)
            }
        case (.failure(var m), _, _), (_, .failure(var m), _), (_, _, .failure(var m)):
            m.eventId = eventId
            m.aggregateId = aggregateId
            return .malformed(m)
        }
        let logical = int32(hl)
        // timestamptz 'infinity' is Int64.max: no instant, never a wrapped one.
        let (recordedAtUs, overflow) = int64(ra).addingReportingOverflow(postgresEpochUs)
        let record = EventRecord(
            eventId: eventId, eventType: eventType, aggregateId: aggregateId, streamVersion: int64(sv),
            causationId: uuid(4), correlationId: correlationId, hlcPhysicalMs: int64(hp), hlcLogical: logical,
            vectorClock: vectorClock, payload: payload, metadata: metadata, userId: uuid(11),
            recordedAtUs: overflow ? Int64.max : recordedAtUs
        )
        if let why = record.outOfRange {
            return .malformed(MalformedRow(location: location(), reason: why, eventId: eventId, aggregateId: aggregateId))
        }
        return .event(record)
    }
}
