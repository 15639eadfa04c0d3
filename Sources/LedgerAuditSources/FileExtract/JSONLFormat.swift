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
            case .hlcPhysical?: physical = JSONLFormat.integerValue(record, range); found += 1
            case .hlcLogical?: logical = JSONLFormat.integerValue(record, range).flatMap { Int32(exactly: $0) }; found += 1
            case .eventId?: id = JSONLFormat.idValue(record, range); found += 1
            default: break
            }
            return found < 3
        })
        guard let physical, let logical, let id else { return nil }
        return GlobalOrderKey(hlcPhysicalMs: physical, hlcLogical: logical, eventId: id)
    }

    func decode(_ record: UnsafeBufferPointer<UInt8>, location: @autoclosure () -> String) -> SourceRow {
        // The columns on the stack: one allocation a line less.
        withUnsafeTemporaryAllocation(of: ColumnValue?.self, capacity: EventColumn.allCases.count) { columns in
            columns.initialize(repeating: nil)
            defer { columns.deinitialize() }
            var escapedKeys = false
            var repeated: EventColumn?
            // Where the JSON documents of vector_clock, payload and metadata sit in the line:
            // the three are copied into one buffer once the line is known good (three strings
            // were three allocations an event).
            var documents: (Range<Int>?, Range<Int>?, Range<Int>?) = (nil, nil, nil)
            // One pass validates the line and collects its columns.
            let invalid = JSONParser.validateObject(record) { key, range in
                guard let key else { escapedKeys = true; return }
                guard let c = JSONLFormat.column(named: key) else { return }
                if columns[c.rawValue] != nil { repeated = repeated ?? c }
                if let first = range.first.map({ record[$0] }), first == 0x7B || first == 0x5B {
                    // An object or an array (a string holding JSON, or null, goes the general way).
                    switch c {
                    case .vectorClock: documents.0 = range; columns[c.rawValue] = .null; return
                    case .payload: documents.1 = range; columns[c.rawValue] = .null; return
                    case .metadata: documents.2 = range; columns[c.rawValue] = .null; return
                    default: break
                    }
                }
                columns[c.rawValue] = JSONLFormat.columnValue(c, UnsafeBufferPointer(rebasing: record[range]))
            }
            if let invalid {
                return .malformed(MalformedRow(location: location(), reason: "not valid JSON object (\(invalid))"))
            }
            if let repeated { return JSONLFormat.repeatedColumn(repeated, location: location()) }
            if escapedKeys {
                // A column name written with escapes (`"event\u005fid"`) still names its column.
                return decodeSlow(record, location: location())
            }
            JSONLFormat.placeDocuments(documents, of: record, in: columns)
            return RowDecoder.decode({ columns[$0.rawValue] }, location: location())
        }
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

    /// The line's JSON documents as the columns' texts: all three in one shared buffer, or
    /// (some column missing or not a document) each that is one as a string of its own.
    static func placeDocuments(_ d: (Range<Int>?, Range<Int>?, Range<Int>?), of record: UnsafeBufferPointer<UInt8>, in columns: UnsafeMutableBufferPointer<ColumnValue?>) {
        func slice(_ r: Range<Int>) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: record[r]) }
        if let v = d.0, let p = d.1, let m = d.2 {
            let texts = JSONText.sharingOneBuffer(slice(v), slice(p), slice(m), jsonbForm: (false, false, false))
            columns[EventColumn.vectorClock.rawValue] = .jsonText(texts.0)
            columns[EventColumn.payload.rawValue] = .jsonText(texts.1)
            columns[EventColumn.metadata.rawValue] = .jsonText(texts.2)
            return
        }
        for (column, range) in [(EventColumn.vectorClock, d.0), (.payload, d.1), (.metadata, d.2)] {
            if let range { columns[column.rawValue] = columnValue(column, slice(range)) }
        }
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
        case .eventType:
            if let text = plainString(slice) { return .text(text) }
            return generic(slice)
        case .recordedAt:
            // The usual plain string, parsed from its bytes; anything else (escapes, a bad
            // time) goes the general way, which names what is wrong.
            if slice.count >= 2, slice[0] == 0x22, slice[slice.count - 1] == 0x22,
               let us = Instant.parseTimestampUs(bytes: UnsafeBufferPointer(rebasing: slice[1..<(slice.count - 1)])) { return .instantUs(us) }
            if let text = plainString(slice) { return .text(text) }
            return generic(slice)
        case .streamVersion, .hlcPhysical, .hlcLogical:
            // The line was validated: text starting with a digit or '-' is a JSON number.
            if let value = ColumnValue.integer(exactText: slice) { return value }
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

    /// A column name by its raw bytes, without allocating: the one candidate with the key's
    /// length and first byte (`candidateByShape`), then its bytes compared. Every key of every
    /// line comes here (twice for an extract out of order); walking the 13 names was ~35 byte
    /// comparisons a line.
    static func column(named key: UnsafeBufferPointer<UInt8>) -> EventColumn? {
        guard let first = key.first, key.count < nameLengthLimit else { return nil }
        let slot = candidateByShape[key.count << 8 | Int(first)]
        guard slot >= 0, let c = EventColumn(rawValue: Int(slot)) else { return nil }
        return nameWords(key) == columnNameWords[Int(slot)] ? c : nil
    }

    /// A name of 4 to 16 bytes as two words that cover it (overlapping when shorter than 16):
    /// with its length, they are the name. Every reference column name is 7 to 14 bytes long.
    @inline(__always)
    static func nameWords(_ bytes: UnsafeBufferPointer<UInt8>) -> NameWords {
        let raw = UnsafeRawPointer(bytes.baseAddress!)
        if bytes.count >= 8 {
            return NameWords(head: raw.loadUnaligned(as: UInt64.self), tail: raw.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt64.self))
        }
        return NameWords(head: UInt64(raw.loadUnaligned(as: UInt32.self)), tail: UInt64(raw.loadUnaligned(fromByteOffset: bytes.count - 4, as: UInt32.self)))
    }

    struct NameWords: Equatable {
        var head: UInt64
        var tail: UInt64
    }

    /// Each column's name as words, by raw value.
    static let columnNameWords: [NameWords] = EventColumn.allCases.map { c in
        let name = Array(c.name.utf8)
        precondition(name.count >= 4 && name.count <= 16, "a column name the words cannot cover")
        return name.withUnsafeBufferPointer(nameWords)
    }
    static let nameLengthLimit = 17
    /// By name length × 256 + first byte: the raw value of the one column of that shape, or -1.
    /// The reference names share no shape (checked in the tests).
    static let candidateByShape: [Int8] = {
        var table = [Int8](repeating: -1, count: nameLengthLimit << 8)
        for c in EventColumn.allCases {
            let name = Array(c.name.utf8)
            precondition(name.count < nameLengthLimit && table[name.count << 8 | Int(name[0])] == -1, "two columns share a name's length and first byte")
            table[name.count << 8 | Int(name[0])] = Int8(c.rawValue)
        }
        return table
    }()

    static let columnByName: [String: EventColumn] = Dictionary(uniqueKeysWithValues: EventColumn.allCases.map { ($0.name, $0) })

    /// An integer column, written as a number or a string, read from its bytes as `Int64(String)`
    /// reads its text (the decode pass reads it that way: the order key must be the same value).
    static func integerValue(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Int64? {
        var slice = UnsafeBufferPointer(rebasing: b[r])
        if slice.first == 0x22, slice.count >= 2 { slice = UnsafeBufferPointer(rebasing: slice[1..<(slice.count - 1)]) }
        return decimalInt64(slice)
    }

    /// An id column's value from the bytes of its JSON string (no String in between).
    static func idValue(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> EventID? {
        let slice = UnsafeBufferPointer(rebasing: b[r])
        guard slice.first == 0x22, slice.count >= 2 else { return nil }
        return EventID(hexText: UnsafeBufferPointer(rebasing: slice[1..<(slice.count - 1)]))
    }

    /// What `Int64(text)` accepts, from bytes: an optional `+` or `-`, then one or more ASCII
    /// digits, and nothing else; nil past 64 bits.
    static func decimalInt64(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard let first = bytes.first else { return nil }
        let negative = first == 0x2D
        let start = first == 0x2D || first == 0x2B ? 1 : 0
        guard start < bytes.count else { return nil }
        var value: Int64 = 0
        for i in start..<bytes.count {
            let b = bytes[i]
            guard b >= 0x30 && b <= 0x39 else { return nil }
            let digit = Int64(b &- 0x30)
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = negative ? times10.subtractingReportingOverflow(digit) : times10.addingReportingOverflow(digit)
            guard !o1 && !o2 else { return nil }
            value = next
        }
        return value
    }
}
