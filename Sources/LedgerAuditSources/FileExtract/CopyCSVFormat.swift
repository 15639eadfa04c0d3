import LedgerAuditCore

/// `COPY event_store TO STDOUT WITH (FORMAT csv, HEADER)`: RFC 4180 quoting, NULL as an unquoted
/// empty field, an empty string as `""`. Columns are found by the header's names.
struct CopyCSVFormat: ExtractFormat {
    var columnIndex = [Int](repeating: -1, count: EventColumn.allCases.count)
    var fieldCount = 0

    var framing: RecordFraming { .csv }

    mutating func readHeader(_ record: UnsafeBufferPointer<UInt8>) throws(SourceError) -> Bool {
        guard let fields = CopyCSVFormat.fields(record) else { throw SourceError("the CSV extract's header is not valid CSV") }
        fieldCount = fields.count
        for (i, f) in fields.enumerated() {
            guard let c = JSONLFormat.columnByName[f.text ?? ""] else { continue }
            // Which copy would be read is a guess; a guess is never made about money.
            guard columnIndex[c.rawValue] < 0 else {
                throw SourceError("the CSV extract's header names column \(c.name) twice (fields \(columnIndex[c.rawValue] + 1) and \(i + 1)); the file is refused")
            }
            columnIndex[c.rawValue] = i
        }
        let missing = EventColumn.allCases.filter { columnIndex[$0.rawValue] < 0 }
        guard missing.isEmpty else {
            throw SourceError("the CSV extract's header lacks column(s) \(missing.map(\.name).joined(separator: ", ")); write it with COPY event_store TO STDOUT WITH (FORMAT csv, HEADER)")
        }
        return true
    }

    struct Field {
        /// nil for NULL (an unquoted empty field).
        var text: String?
    }

    /// Splits one record; nil if quoting is broken or the text is not UTF-8.
    static func fields(_ record: UnsafeBufferPointer<UInt8>) -> [Field]? {
        // A record is UTF-8 exactly when each of its fields is: fields are cut at ASCII bytes,
        // which never sit inside a character. One check a record instead of one a field.
        guard ByteScan.isUTF8(record) else { return nil }
        var out: [Field] = []
        let ok = split(record) { span in
            out.append(Field(text: span.isNull ? nil : text(span, record)))
            return true
        }
        return ok ? out : nil
    }

    /// One field of a record: where its text lies (inside the quotes when quoted), and whether
    /// it holds doubled quotes to undo.
    struct FieldSpan {
        var range: Range<Int>
        var quoted: Bool
        var doubledQuotes: Bool
        /// COPY writes NULL as an unquoted empty field, and an empty string as `""`.
        var isNull: Bool { !quoted && range.isEmpty }
    }

    /// Visits each field of one record in order (RFC 4180 quoting, a final CR dropped) while
    /// `visit` returns true; false when the quoting is broken in the fields visited.
    @inline(__always)
    static func split(_ record: UnsafeBufferPointer<UInt8>, _ visit: (FieldSpan) -> Bool) -> Bool {
        guard let base = record.baseAddress else { _ = visit(FieldSpan(range: 0..<0, quoted: false, doubledQuotes: false)); return true }
        var end = record.count
        if end > 0 && record[end - 1] == 0x0D { end -= 1 }
        var i = 0
        while true {
            if i < end && record[i] == 0x22 {
                i += 1
                let start = i
                var doubled = false, closed = false
                while true {
                    i = ByteScan.firstOf(0x22, 0x22, in: base, from: i, to: end)
                    guard i < end else { break }
                    if i + 1 < end && record[i + 1] == 0x22 { doubled = true; i += 2; continue }
                    closed = true
                    break
                }
                guard closed else { return false }
                guard visit(FieldSpan(range: start..<i, quoted: true, doubledQuotes: doubled)) else { return true }
                i += 1
                guard i == end || record[i] == UInt8(ascii: ",") else { return false }
            } else {
                let start = i
                i = ByteScan.firstOf(0x2C, 0x22, in: base, from: i, to: end)
                if i < end && record[i] == 0x22 { return false }
                guard visit(FieldSpan(range: start..<i, quoted: false, doubledQuotes: false)) else { return true }
            }
            if i >= end { return true }
            i += 1
            if i == end { _ = visit(FieldSpan(range: i..<i, quoted: false, doubledQuotes: false)); return true }
        }
    }

    /// A field's text, its doubled quotes undone.
    static func text(_ span: FieldSpan, _ record: UnsafeBufferPointer<UInt8>) -> String {
        let raw = UnsafeBufferPointer(rebasing: record[span.range])
        guard span.doubledQuotes else { return String(decoding: raw, as: UTF8.self) }
        // Written straight into the string: JSON columns are full of doubled quotes, and the
        // split saw every quote inside one doubled.
        return String(unsafeUninitializedCapacity: raw.count) { out in
            var k = 0, written = 0
            while k < raw.count {
                let c = raw[k]
                out[written] = c
                written &+= 1
                k &+= c == 0x22 ? 2 : 1
            }
            return written
        }
    }

    /// A column's value: ids and the timestamp parsed from the bytes when they are in the form
    /// COPY writes; anything else as text, which the row decoder types or words a finding for.
    static func value(_ column: EventColumn, _ span: FieldSpan, _ record: UnsafeBufferPointer<UInt8>) -> ColumnValue {
        if span.isNull { return .null }
        if !span.doubledQuotes {
            let bytes = UnsafeBufferPointer(rebasing: record[span.range])
            switch column {
            case .eventId, .aggregateId, .causationId, .correlationId, .userId:
                if let id = EventID(hexText: bytes) { return .uuid(id) }
            case .recordedAt:
                if let us = Instant.parseTimestampUs(bytes: bytes) { return .instantUs(us) }
            case .streamVersion, .hlcPhysical, .hlcLogical:
                if let value = ColumnValue.integer(exactText: bytes) { return value }
            default: break
            }
        }
        return .text(text(span, record))
    }

    /// The three key fields, found by walking the record's quoting without building a String
    /// for any other field (the order pass; the decode pass checks the whole record).
    func orderKey(_ record: UnsafeBufferPointer<UInt8>) -> GlobalOrderKey? {
        if let key = quickOrderKey(record) { return key }
        // A key field quoted or odd: the whole record split as the decode pass splits it.
        guard let f = CopyCSVFormat.fields(record), f.count == fieldCount,
              let p = f[columnIndex[EventColumn.hlcPhysical.rawValue]].text.flatMap({ Int64($0) }),
              let l = f[columnIndex[EventColumn.hlcLogical.rawValue]].text.flatMap({ Int32($0) }),
              let id = f[columnIndex[EventColumn.eventId.rawValue]].text.flatMap({ EventID($0) })
        else { return nil }
        return GlobalOrderKey(hlcPhysicalMs: p, hlcLogical: l, eventId: id)
    }

    func quickOrderKey(_ record: UnsafeBufferPointer<UInt8>) -> GlobalOrderKey? {
        let physicalAt = columnIndex[EventColumn.hlcPhysical.rawValue], logicalAt = columnIndex[EventColumn.hlcLogical.rawValue]
        let idAt = columnIndex[EventColumn.eventId.rawValue]
        let last = max(physicalAt, logicalAt, idAt)
        var physical: Int64?, logical: Int64?, id: EventID?
        var field = 0
        // The fields up to the last of the three. The plain forms COPY writes are read from the
        // bytes; any other (quoted, a sign, 19 digits, odd text) is left to the full split,
        // which reads it as the decode does.
        _ = CopyCSVFormat.split(record) { span in
            let bytes = UnsafeBufferPointer(rebasing: record[span.range])
            if field == physicalAt { physical = span.quoted ? nil : CopyCSVFormat.plainInteger(bytes) }
            if field == logicalAt { logical = span.quoted ? nil : CopyCSVFormat.plainInteger(bytes) }
            if field == idAt { id = span.quoted ? nil : EventID(hexText: bytes) }
            field += 1
            return field <= last
        }
        guard let physical, let logical, let logicalValue = Int32(exactly: logical), let id else { return nil }
        return GlobalOrderKey(hlcPhysicalMs: physical, hlcLogical: logicalValue, eventId: id)
    }

    /// `-?[0-9]{1,18}` as its value (no overflow possible); nil for anything else.
    static func plainInteger(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        var k = 0
        let negative = !bytes.isEmpty && bytes[0] == 0x2D
        if negative { k = 1 }
        guard bytes.count > k, bytes.count - k <= 18 else { return nil }
        var v: Int64 = 0
        while k < bytes.count {
            let d = bytes[k] &- 0x30
            guard d <= 9 else { return nil }
            v = v &* 10 &+ Int64(d)
            k += 1
        }
        return negative ? -v : v
    }

    func decode(_ record: UnsafeBufferPointer<UInt8>, location: @autoclosure () -> String) -> SourceRow {
        let notCSV = "not a valid CSV record (quoting or UTF-8)"
        guard ByteScan.isUTF8(record) else { return .malformed(MalformedRow(location: location(), reason: notCSV)) }
        // The fields' spans on the stack; past the header's count they are only counted.
        return withUnsafeTemporaryAllocation(of: FieldSpan.self, capacity: max(fieldCount, 1)) { spans in
            var count = 0
            let quotingHolds = CopyCSVFormat.split(record) { span in
                if count < fieldCount { spans.initializeElement(at: count, to: span) }
                count += 1
                return true
            }
            guard quotingHolds else { return .malformed(MalformedRow(location: location(), reason: notCSV)) }
            guard count == fieldCount else {
                return .malformed(MalformedRow(location: location(), reason: "has \(count) fields; the header has \(fieldCount)"))
            }
            return RowDecoder.decode({ column in
                CopyCSVFormat.value(column, spans[columnIndex[column.rawValue]], record)
            }, location: location())
        }
    }
}
