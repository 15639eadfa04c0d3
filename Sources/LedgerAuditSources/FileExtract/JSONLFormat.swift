import LedgerAuditCore

/// One event per line; keys are the table's column names, JSON columns nested.
struct JSONLFormat: ExtractFormat {
    var framing: RecordFraming { .lines }

    mutating func readHeader(_ record: UnsafeBufferPointer<UInt8>) throws(SourceError) -> Bool { false }

    func orderKey(_ record: UnsafeBufferPointer<UInt8>) -> GlobalOrderKey? {
        var physical: Int64?, logical: Int32?, id: EventID?
        var found = 0
        // Stops at the third: the order pass reads a line only as far as its key (a repeated
        // member or a bad line is the decode pass's to report).
        JSONParser.forEachTopLevelMember(record, rawKeysUntil: { key, range in
            switch key.flatMap(JSONLFormat.column(named:)) {
            case .hlcPhysical?: physical = JSONLFormat.integerText(record, range).flatMap { Int64($0) }; found += 1
            case .hlcLogical?: logical = JSONLFormat.integerText(record, range).flatMap { Int32($0) }; found += 1
            case .eventId?: id = JSONLFormat.stringText(record, range).flatMap { EventID($0) }; found += 1
            default: break
            }
            return found < 3
        })
        guard let physical, let logical, let id else { return nil }
        return GlobalOrderKey(hlcPhysicalMs: physical, hlcLogical: logical, eventId: id)
    }

    func decode(_ record: UnsafeBufferPointer<UInt8>, location: String) -> SourceRow {
        var columns = [ColumnValue?](repeating: nil, count: EventColumn.allCases.count)
        var escapedKeys = false
        var repeated: EventColumn?
        // One pass validates the line and collects its columns.
        let invalid = JSONParser.validateObject(record) { key, range in
            guard let key else { escapedKeys = true; return }
            guard let c = JSONLFormat.column(named: key) else { return }
            if columns[c.rawValue] != nil { repeated = repeated ?? c }
            columns[c.rawValue] = JSONLFormat.columnValue(c, UnsafeBufferPointer(rebasing: record[range]))
        }
        if let invalid {
            return .malformed(MalformedRow(location: location, reason: "not valid JSON object (\(invalid))"))
        }
        if let repeated { return JSONLFormat.repeatedColumn(repeated, location: location) }
        if escapedKeys {
            // A column name written with escapes (`"event\u005fid"`) still names its column.
            return decodeSlow(record, location: location)
        }
        return RowDecoder.decode({ columns[$0.rawValue] }, location: location)
    }

    /// The slow path for lines whose keys use escapes: keys decoded, then matched by name.
    func decodeSlow(_ record: UnsafeBufferPointer<UInt8>, location: String) -> SourceRow {
        var columns = [ColumnValue?](repeating: nil, count: EventColumn.allCases.count)
        for (key, range) in JSONParser.topLevelMembers(record) {
            guard let c = JSONLFormat.columnByName[key] else { continue }
            if columns[c.rawValue] != nil { return JSONLFormat.repeatedColumn(c, location: location) }
            let slice = UnsafeBufferPointer(rebasing: record[range])
            columns[c.rawValue] = JSONLFormat.columnValue(c, slice)
        }
        return RowDecoder.decode({ columns[$0.rawValue] }, location: location)
    }

    /// Which copy of a repeated column is meant is a guess; a guess is never made about money.
    static func repeatedColumn(_ c: EventColumn, location: String) -> SourceRow {
        .malformed(MalformedRow(location: location, reason: "names column \(c.name) twice; the row is quarantined rather than guessing which is meant"))
    }

    /// Nested JSON columns stay text (a string holding JSON text is accepted too); others are values.
    static func columnValue(_ c: EventColumn, _ slice: UnsafeBufferPointer<UInt8>) -> ColumnValue {
        switch c {
        case .vectorClock, .payload, .metadata:
            if slice.first == UInt8(ascii: "\""), case .string(let inner)? = try? JSONParser.parse(slice) { return .text(inner) }
            if slice.first == UInt8(ascii: "n") { return .null }
            return .jsonText(JSONText(validated: String(decoding: slice, as: UTF8.self)))
        case .eventId, .aggregateId, .causationId, .correlationId, .userId:
            // The common case, a plain 36-character id, parsed from the bytes.
            if slice.count == 38, slice[0] == 0x22, slice[37] == 0x22,
               let id = EventID(hexText: UnsafeBufferPointer(rebasing: slice[1..<37])) { return .uuid(id) }
            return generic(slice)
        case .eventType, .recordedAt:
            if let text = plainString(slice) { return .text(text) }
            return generic(slice)
        case .streamVersion, .hlcPhysical, .hlcLogical:
            // The line was validated: text starting with a digit or '-' is a JSON number.
            if let b = slice.first, b == 0x2D || (b >= 0x30 && b <= 0x39) { return .json(.number(String(decoding: slice, as: UTF8.self))) }
            return generic(slice)
        }
    }

    /// A JSON string's content when it holds no escape (the line is already validated).
    static func plainString(_ slice: UnsafeBufferPointer<UInt8>) -> String? {
        guard slice.count >= 2, slice[0] == 0x22, slice[slice.count - 1] == 0x22 else { return nil }
        let inner = UnsafeBufferPointer(rebasing: slice[1..<(slice.count - 1)])
        guard !inner.contains(0x5C) else { return nil }
        return String(decoding: inner, as: UTF8.self)
    }

    static func generic(_ slice: UnsafeBufferPointer<UInt8>) -> ColumnValue {
        let value = (try? JSONParser.parse(slice)) ?? .null
        if case .null = value { return .null }
        return .json(value)
    }

    /// A column name by its raw bytes, without allocating.
    static func column(named key: UnsafeBufferPointer<UInt8>) -> EventColumn? {
        for (c, name) in columnNameBytes where name.count == key.count {
            if name.withUnsafeBufferPointer({ bytesEqual($0, key) }) { return c }
        }
        return nil
    }

    static let columnNameBytes: [(EventColumn, [UInt8])] = EventColumn.allCases.map { ($0, Array($0.name.utf8)) }

    static let columnByName: [String: EventColumn] = Dictionary(uniqueKeysWithValues: EventColumn.allCases.map { ($0.name, $0) })

    /// An integer column's text, whether written as a number or a string.
    static func integerText(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> String? {
        var slice = UnsafeBufferPointer(rebasing: b[r])
        if slice.first == 0x22, slice.count >= 2 { slice = UnsafeBufferPointer(rebasing: slice[1..<(slice.count - 1)]) }
        return String(decoding: slice, as: UTF8.self)
    }

    static func stringText(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> String? {
        let slice = UnsafeBufferPointer(rebasing: b[r])
        guard slice.first == 0x22, slice.count >= 2 else { return nil }
        return String(decoding: UnsafeBufferPointer(rebasing: slice[1..<(slice.count - 1)]), as: UTF8.self)
    }
}
