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
        var end = record.count
        if end > 0 && record[end - 1] == 0x0D { end -= 1 }
        var out: [Field] = []
        var i = 0
        while true {
            if i < end && record[i] == 0x22 {
                i += 1
                var bytes: [UInt8] = []
                var closed = false
                while i < end {
                    let c = record[i]
                    if c == 0x22 {
                        if i + 1 < end && record[i + 1] == 0x22 { bytes.append(0x22); i += 2; continue }
                        i += 1
                        closed = true
                        break
                    }
                    bytes.append(c)
                    i += 1
                }
                guard closed, let s = String(validating: bytes, as: UTF8.self) else { return nil }
                out.append(Field(text: s))
                guard i == end || record[i] == UInt8(ascii: ",") else { return nil }
            } else {
                let start = i
                while i < end && record[i] != UInt8(ascii: ",") {
                    if record[i] == 0x22 { return nil }
                    i += 1
                }
                if i == start {
                    out.append(Field(text: nil))
                } else {
                    guard let s = String(validating: UnsafeBufferPointer(rebasing: record[start..<i]), as: UTF8.self) else { return nil }
                    out.append(Field(text: s))
                }
            }
            if i >= end { return out }
            i += 1
            if i == end { out.append(Field(text: nil)); return out }
        }
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
        var end = record.count
        if end > 0 && record[end - 1] == 0x0D { end -= 1 }
        var physical: Int64?, logical: Int32?, id: EventID?
        var i = 0
        for field in 0...last {
            let start = i
            if i < end && record[i] == 0x22 {
                // COPY never quotes the three (numbers, a uuid): a quoted one is left to the full split.
                guard field != physicalAt, field != logicalAt, field != idAt else { return nil }
                i += 1
                while i < end {
                    if record[i] == 0x22 {
                        if i + 1 < end && record[i + 1] == 0x22 { i += 2; continue }
                        break
                    }
                    i += 1
                }
                guard i < end else { return nil }
                i += 1
            } else {
                while i < end && record[i] != UInt8(ascii: ",") { i += 1 }
            }
            let text = { String(validating: UnsafeBufferPointer(rebasing: record[start..<i]), as: UTF8.self) }
            if field == physicalAt { physical = text().flatMap { Int64($0) } }
            if field == logicalAt { logical = text().flatMap { Int32($0) } }
            if field == idAt { id = text().flatMap { EventID($0) } }
            guard i < end || field == last else { return nil }
            i += 1
        }
        guard let physical, let logical, let id else { return nil }
        return GlobalOrderKey(hlcPhysicalMs: physical, hlcLogical: logical, eventId: id)
    }

    func decode(_ record: UnsafeBufferPointer<UInt8>, location: @autoclosure () -> String) -> SourceRow {
        guard let fields = CopyCSVFormat.fields(record) else {
            return .malformed(MalformedRow(location: location(), reason: "not a valid CSV record (quoting or UTF-8)"))
        }
        guard fields.count == fieldCount else {
            return .malformed(MalformedRow(location: location(), reason: "has \(fields.count) fields; the header has \(fieldCount)"))
        }
        return RowDecoder.decode({ column in
            guard let t = fields[columnIndex[column.rawValue]].text else { return .null }
            return .text(t)
        }, location: location())
    }
}
