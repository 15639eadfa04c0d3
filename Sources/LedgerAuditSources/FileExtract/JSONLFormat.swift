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
        guard let members = TopLevelScan.members(record) else { return nil }
        var physical: Int64?, logical: Int32?, id: EventID?
        for m in members {
            switch m.key {
            case "hlc_physical": physical = TopLevelScan.integer(record, m.value).flatMap { Int64($0) }
            case "hlc_logical": logical = TopLevelScan.integer(record, m.value).flatMap { Int32($0) }
            case "event_id": id = TopLevelScan.string(record, m.value).flatMap { EventID($0) }
            default: break
            }
        }
        guard let physical, let logical, let id else { return nil }
        return GlobalOrderKey(hlcPhysicalMs: physical, hlcLogical: logical, eventId: id)
    }

    func decode(_ record: UnsafeBufferPointer<UInt8>, location: String) -> SourceRow {
        let value: JSONValue
        do {
            value = try JSONParser.parse(record)
        } catch {
            return .malformed(MalformedRow(location: location, reason: "not valid JSON (\(error))"))
        }
        guard case .object(let members) = value else {
            return .malformed(MalformedRow(location: location, reason: "a line is a JSON \(value.kindName), not an object"))
        }
        var columns = [JSONValue?](repeating: nil, count: EventColumn.allCases.count)
        for (k, v) in members {
            if let c = JSONLFormat.columnByName[k] { columns[c.rawValue] = v }
        }
        return RowDecoder.decode({ column in
            guard let v = columns[column.rawValue] else { return nil }
            if case .null = v { return .null }
            return .json(v)
        }, location: location)
    }

    static let columnByName: [String: EventColumn] = Dictionary(uniqueKeysWithValues: EventColumn.allCases.map { ($0.name, $0) })
}

/// A fast scan of a JSON object's top-level members, skipping nested values without building
/// them: enough to read the order key of a line before deciding whether to sort.
enum TopLevelScan {
    struct Member {
        var key: String
        var value: Range<Int>
    }

    static func members(_ b: UnsafeBufferPointer<UInt8>) -> [Member]? {
        var i = 0
        func ws() { while i < b.count, b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0A || b[i] == 0x0D { i += 1 } }
        func skipString() -> Bool {
            guard i < b.count, b[i] == 0x22 else { return false }
            i += 1
            while i < b.count {
                if b[i] == 0x5C { i += 2; continue }
                if b[i] == 0x22 { i += 1; return true }
                i += 1
            }
            return false
        }
        func skipValue() -> Bool {
            guard i < b.count else { return false }
            if b[i] == 0x22 { return skipString() }
            if b[i] == UInt8(ascii: "{") || b[i] == UInt8(ascii: "[") {
                var depth = 0
                while i < b.count {
                    let c = b[i]
                    if c == 0x22 { guard skipString() else { return false }; continue }
                    if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") { depth += 1 }
                    if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
                        depth -= 1
                        if depth == 0 { i += 1; return true }
                    }
                    i += 1
                }
                return false
            }
            while i < b.count, b[i] != UInt8(ascii: ","), b[i] != UInt8(ascii: "}"), b[i] != 0x20, b[i] != 0x0A, b[i] != 0x0D, b[i] != 0x09 { i += 1 }
            return true
        }
        ws()
        guard i < b.count, b[i] == UInt8(ascii: "{") else { return nil }
        i += 1
        var out: [Member] = []
        while true {
            ws()
            guard i < b.count else { return nil }
            if b[i] == UInt8(ascii: "}") { return out }
            let keyStart = i + 1
            guard skipString() else { return nil }
            let key = String(decoding: UnsafeBufferPointer(rebasing: b[keyStart..<(i - 1)]), as: UTF8.self)
            ws()
            guard i < b.count, b[i] == UInt8(ascii: ":") else { return nil }
            i += 1
            ws()
            let valueStart = i
            guard skipValue() else { return nil }
            out.append(Member(key: key, value: valueStart..<i))
            ws()
            guard i < b.count else { return nil }
            if b[i] == UInt8(ascii: ",") { i += 1 }
        }
    }

    static func integer(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> String? {
        var slice = UnsafeBufferPointer(rebasing: b[r])
        if slice.first == 0x22, slice.count >= 2 { slice = UnsafeBufferPointer(rebasing: slice[1..<(slice.count - 1)]) }
        return String(decoding: slice, as: UTF8.self)
    }

    static func string(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> String? {
        let slice = UnsafeBufferPointer(rebasing: b[r])
        guard slice.first == 0x22, slice.count >= 2 else { return nil }
        return String(decoding: UnsafeBufferPointer(rebasing: slice[1..<(slice.count - 1)]), as: UTF8.self)
    }
}
