import LedgerAuditCore

/// One event per line; keys are the table's column names, JSON columns nested.
struct JSONLFormat: ExtractFormat {
    func recordEnd(_ buffer: UnsafeBufferPointer<UInt8>, _ start: Int) -> Int? {
        var i = start
        while i < buffer.count {
            if buffer[i] == 0x0A { return i }
            i += 1
        }
        return nil
    }

    mutating func readHeader(_ record: UnsafeBufferPointer<UInt8>) throws(SourceError) -> Bool { false }

    func orderKey(_ record: UnsafeBufferPointer<UInt8>) -> GlobalOrderKey? {
        var physical: Int64?, logical: Int32?, id: EventID?
        for m in JSONParser.topLevelMembers(record) {
            switch m.key {
            case "hlc_physical": physical = JSONLFormat.integerText(record, m.value).flatMap { Int64($0) }
            case "hlc_logical": logical = JSONLFormat.integerText(record, m.value).flatMap { Int32($0) }
            case "event_id": id = JSONLFormat.stringText(record, m.value).flatMap { EventID($0) }
            default: break
            }
        }
        guard let physical, let logical, let id else { return nil }
        return GlobalOrderKey(hlcPhysicalMs: physical, hlcLogical: logical, eventId: id)
    }

    func decode(_ record: UnsafeBufferPointer<UInt8>, location: String) -> SourceRow {
        if let error = JSONParser.validate(record) {
            return .malformed(MalformedRow(location: location, reason: "not valid JSON (\(error))"))
        }
        var start = 0
        while start < record.count, record[start] == 0x20 || record[start] == 0x09 { start += 1 }
        guard start < record.count, record[start] == UInt8(ascii: "{") else {
            return .malformed(MalformedRow(location: location, reason: "a line is not a JSON object"))
        }
        var columns = [ColumnValue?](repeating: nil, count: EventColumn.allCases.count)
        for (key, range) in JSONParser.topLevelMembers(record) {
            guard let c = JSONLFormat.columnByName[key] else { continue }
            let slice = UnsafeBufferPointer(rebasing: record[range])
            switch c {
            case .vectorClock, .payload, .metadata:
                // Nested JSON stays text; a string holding JSON text is accepted too.
                if slice.first == UInt8(ascii: "\""), case .string(let inner)? = try? JSONParser.parse(slice) {
                    columns[c.rawValue] = .text(inner)
                } else if slice.first == UInt8(ascii: "n") {
                    columns[c.rawValue] = .null
                } else {
                    columns[c.rawValue] = .jsonText(JSONText(validated: String(decoding: slice, as: UTF8.self)))
                }
            default:
                let value = (try? JSONParser.parse(slice)) ?? .null
                if case .null = value { columns[c.rawValue] = .null } else { columns[c.rawValue] = .json(value) }
            }
        }
        return RowDecoder.decode({ columns[$0.rawValue] }, location: location)
    }

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
