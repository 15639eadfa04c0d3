import Synchronization

/// An account name with placeholders filled from the event: `user:{aggregate_id}:available`,
/// `escrow:{payload.escrow_id}`. Columns: aggregate_id, user_id, event_id, correlation_id,
/// causation_id; `{stream}` the store's stream key; `payload.X` / `metadata.X` name a top-level field.
public struct AccountTemplate: Sendable, Equatable, CustomStringConvertible {
    public enum Segment: Sendable, Equatable {
        case literal(String)
        case column(EventColumn)
        case payloadField(String)
        case metadataField(String)
        /// `{stream}`: the store's stream key (`account-123`), or the aggregate id.
        case stream
    }

    public enum EventColumn: String, Sendable, CaseIterable {
        case aggregateId = "aggregate_id"
        case userId = "user_id"
        case eventId = "event_id"
        case correlationId = "correlation_id"
        case causationId = "causation_id"

        /// The column's id in an event (nil when the event has none).
        func value(in event: EventRecord) -> EventID? {
            switch self {
            case .aggregateId: event.aggregateId
            case .userId: event.userId
            case .eventId: event.eventId
            case .correlationId: event.correlationId
            case .causationId: event.causationId
            }
        }
    }

    public var segments: [Segment] { didSet { compact = nil } }
    public let text: String
    /// Set when the name is a function of one id column, of one payload or metadata field (when
    /// it holds a UUID, below), or of nothing (a literal name), so the account has a compact
    /// key, (template number, id), that the balance book finds it by without building, hashing
    /// or comparing the name.
    var compact: (number: UInt32, source: KeySource)?

    /// Where a compact key's id comes from.
    enum KeySource: Sendable, Equatable {
        case literal
        case column(EventColumn)
        /// A field whose value is a UUID in its canonical text (36 lowercase characters, as the
        /// key writes it back): `escrow:{payload.escrow_id}`. Any other value is named as text.
        case payloadField(String)
        case metadataField(String)
    }

    public var description: String { text }

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case unclosedBrace
        case unknownPlaceholder(String)
        case empty
        public var description: String {
            switch self {
            case .unclosedBrace: return "a '{' has no closing '}'"
            case .unknownPlaceholder(let p):
                return "unknown placeholder {\(p)}; use one of " + EventColumn.allCases.map { "{\($0.rawValue)}" }.joined(separator: ", ") + ", {stream}, {payload.FIELD}, {metadata.FIELD}"
            case .empty: return "an account template is empty"
            }
        }
    }

    public init(parsing text: String) throws(ParseError) {
        guard !text.isEmpty else { throw .empty }
        self.text = text
        var segments: [Segment] = []
        var literal = ""
        var rest = Substring(text)
        while let c = rest.first {
            if c == "{" {
                guard let close = rest.firstIndex(of: "}") else { throw .unclosedBrace }
                let name = String(rest[rest.index(after: rest.startIndex)..<close])
                if !literal.isEmpty { segments.append(.literal(literal)); literal = "" }
                if let column = EventColumn(rawValue: name) {
                    segments.append(.column(column))
                } else if name == "stream" {
                    segments.append(.stream)
                } else if name.hasPrefix("payload."), name.count > 8 {
                    segments.append(.payloadField(String(name.dropFirst(8))))
                } else if name.hasPrefix("metadata."), name.count > 9 {
                    segments.append(.metadataField(String(name.dropFirst(9))))
                } else {
                    throw .unknownPlaceholder(name)
                }
                rest = rest[rest.index(after: close)...]
            } else {
                literal.append(c)
                rest = rest.dropFirst()
            }
        }
        if !literal.isEmpty { segments.append(.literal(literal)) }
        self.segments = segments
        // One placeholder (written once or more) besides literals; `{stream}` is not an id.
        var sources: [KeySource] = []
        var keyable = true
        for segment in segments {
            switch segment {
            case .literal: continue
            case .column(let c): sources.append(.column(c))
            case .payloadField(let f): sources.append(.payloadField(f))
            case .metadataField(let f): sources.append(.metadataField(f))
            case .stream: keyable = false
            }
        }
        if keyable, sources.allSatisfy({ $0 == sources.first }) {
            let parts: [AccountTemplateNumbers.Part] = segments.map {
                if case .literal(let l) = $0 { return .literal(Array(l.utf8)) } else { return .id }
            }
            if let number = AccountTemplateNumbers.number(for: text, parts: parts) { compact = (number, sources.first ?? .literal) }
        }
    }

    public static func == (a: AccountTemplate, b: AccountTemplate) -> Bool { a.text == b.text && a.segments == b.segments }

    /// The account's compact key for this event; nil when the template has none, or the
    /// column is null (the name cannot be made either).
    @inline(__always)
    func compactKey(for event: EventRecord) -> AccountKey? {
        guard let compact else { return nil }
        let id: EventID?
        switch compact.source {
        case .literal: id = EventID(high: 0, low: 0)
        case .column(let column): id = column.value(in: event)
        case .payloadField(let name): id = Self.canonicalUUID(event.payload, name)
        case .metadataField(let name): id = Self.canonicalUUID(event.metadata, name)
        }
        return id.map { AccountKey(templateNumber: compact.number, id: $0) }
    }

    /// The UUID a top-level field holds when its JSON text is exactly the UUID's canonical form
    /// (a string of 36 lowercase characters, no escape): then the key writes back the very
    /// name `render` makes from the field. Any other value (upper case, escapes, a number, no
    /// field) is nil, and the account is named as text.
    static func canonicalUUID(_ json: JSONText, _ name: String) -> EventID? {
        return json.withBytes { bytes -> EventID? in
            guard let range = json.members(name, nil, in: bytes).first.range, range.count == 38,
                  bytes[range.lowerBound] == 0x22, bytes[range.upperBound - 1] == 0x22 else { return nil }
            return EventID(canonicalText: UnsafeBufferPointer(rebasing: bytes[(range.lowerBound + 1)..<(range.upperBound - 1)]))
        }
    }

    /// The aggregate alone decides this account when its only placeholder is `{aggregate_id}`.
    public var isKeyedByAggregateOnly: Bool {
        segments.contains(.column(.aggregateId)) && segments.allSatisfy {
            if case .literal = $0 { return true }
            return $0 == .column(.aggregateId)
        }
    }

    /// Fills the template, or names the field that is missing.
    public func render(for event: EventRecord) -> Result<String, MalformedRow> {
        if let name = renderFromIds(event) { return .success(name) }
        var out = ""
        for segment in segments {
            switch segment {
            case .literal(let s): out += s
            case .column(let column):
                guard let value = column.value(in: event) else { return .failure(missing("column \(column.rawValue) is null")) }
                out += value.description
            case .stream:
                out += event.streamKey
            case .payloadField(let name):
                guard let v = event.payload.member(name)?.scalarText, !v.isEmpty else {
                    return .failure(missing("payload field \(name) is missing, empty or not a string"))
                }
                out += v
            case .metadataField(let name):
                guard let v = event.metadata.member(name)?.scalarText, !v.isEmpty else {
                    return .failure(missing("metadata field \(name) is missing, empty or not a string"))
                }
                out += v
            }
        }
        return .success(out)

        func missing(_ what: String) -> MalformedRow {
            MalformedRow(location: "event \(event.eventId)", reason: "\(what), needed for account \(text)", eventId: event.eventId, aggregateId: event.aggregateId)
        }
    }

    /// The usual template, literals and id columns only (`user:{aggregate_id}:available`),
    /// written in one allocation; nil for any other, or when a column is null.
    func renderFromIds(_ event: EventRecord) -> String? {
        var length = 0
        for segment in segments {
            switch segment {
            case .literal(let s): length += s.utf8.count
            case .column: length += 36
            default: return nil
            }
        }
        var complete = true
        let name = String(unsafeUninitializedCapacity: length) { out in
            var at = 0
            for segment in segments {
                switch segment {
                case .literal(var s):
                    s.withUTF8 { bytes in
                        for b in bytes { out[at] = b; at += 1 }
                    }
                case .column(let column):
                    guard let value = column.value(in: event) else { complete = false; return 0 }
                    value.writeHex(into: UnsafeMutableBufferPointer(rebasing: out[at..<(at + 36)]))
                    at += 36
                default: break
                }
            }
            return at
        }
        return complete ? name : nil
    }
}

/// An account named by a template whose only placeholder is one id column (or none): the
/// template's process-wide number and the column's id. Equal keys always name the same account
/// (the same template text filled with the same id); one account may have several keys.
public struct AccountKey: Hashable, Sendable {
    public var templateNumber: UInt32
    public var id: EventID
}

/// Numbers for template texts, the same for one text everywhere in the process, so postings
/// made by any `PostingRules` carry keys any balance book can trust.
enum AccountTemplateNumbers {
    /// A compact template's text: literal bytes, and the key's id where the column goes.
    enum Part: Sendable {
        case literal([UInt8])
        case id
    }

    private struct Table {
        var numbers: [String: UInt32] = [:]
        var parts: [[Part]] = []
    }
    private static let table = Mutex<Table>(Table())

    /// nil once 2³² texts are numbered (never, in practice): a template without a number has no key.
    static func number(for text: String, parts: [Part]) -> UInt32? {
        table.withLock { table in
            if let n = table.numbers[text] { return n }
            guard table.numbers.count < Int(UInt32.max) else { return nil }
            let n = UInt32(table.numbers.count)
            table.numbers[text] = n
            table.parts.append(parts)
            return n
        }
    }

    /// The parts of a numbered template; nil for a number no template has.
    static func parts(_ number: UInt32) -> [Part]? {
        table.withLock { Int(number) < $0.parts.count ? $0.parts[Int(number)] : nil }
    }

    /// The name a template writes, byte by byte, with -1 where the id's characters go; nil for
    /// a number no template has.
    static func nameShape(_ number: UInt32) -> [Int16]? {
        parts(number).map { parts in
            parts.flatMap { part -> [Int16] in
                switch part {
                case .literal(let bytes): return bytes.map { Int16($0) }
                case .id: return Array(repeating: -1, count: 36)
                }
            }
        }
    }

    /// The account name a key stands for: its template filled with its id (what
    /// `AccountTemplate.render` writes for the event the key was made from).
    static func name(_ key: AccountKey) -> String {
        let parts = table.withLock { $0.parts[Int(key.templateNumber)] }
        var length = 0
        for part in parts {
            switch part {
            case .literal(let bytes): length += bytes.count
            case .id: length += 36
            }
        }
        return String(unsafeUninitializedCapacity: length) { out in
            var at = 0
            for part in parts {
                switch part {
                case .literal(let bytes):
                    for b in bytes { out[at] = b; at += 1 }
                case .id:
                    key.id.writeHex(into: UnsafeMutableBufferPointer(rebasing: out[at..<(at + 36)]))
                    at += 36
                }
            }
            return at
        }
    }
}

/// Account names written as bytes straight from their templates, for a writer of many lines
/// (the journal and the GL detail write two a posting leg). A template whose every name is a
/// plain cell by construction (`isPlainCell`) needs neither a String nor the card scan; any
/// other name is left to the general path.
public struct AccountNameBytes {
    private enum Shape {
        case unknown
        case plain(parts: [AccountTemplateNumbers.Part], literalFirst: Bool)
        case general
    }
    private var shapes: [Shape] = []

    public init() {}

    /// Appends the name `key` stands for and returns true when its template writes only plain
    /// cells (with `literalFirst`, also beginning with a literal byte); false, with nothing
    /// appended, otherwise.
    public mutating func appendPlain(_ key: AccountKey, literalFirst: Bool, into out: inout [UInt8]) -> Bool {
        let number = Int(key.templateNumber)
        guard number < Limits.accountTemplatesRememberedMax else { return false }
        if number >= shapes.count { shapes.append(contentsOf: repeatElement(Shape.unknown, count: number + 1 - shapes.count)) }
        if case .unknown = shapes[number] {
            if let parts = AccountTemplateNumbers.parts(key.templateNumber), AccountNameBytes.isPlainCell(parts) {
                var startsWithLiteral = false
                if case .literal = parts[0] { startsWithLiteral = true }
                shapes[number] = .plain(parts: parts, literalFirst: startsWithLiteral)
            } else {
                shapes[number] = .general
            }
        }
        guard case .plain(let parts, let startsWithLiteral) = shapes[number], startsWithLiteral || !literalFirst else { return false }
        for part in parts {
            switch part {
            case .literal(let bytes): bytes.withUnsafeBufferPointer { out.appendBytes($0) }
            case .id:
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 36) { text in
                    key.id.writeHex(into: text)
                    out.appendBytes(UnsafeBufferPointer(text))
                }
            }
        }
        return true
    }

    /// Whether every name the template writes is printable ASCII holding no card number, that
    /// a CSV cell shows as it is: literal bytes are printable, with no digit, hyphen or space
    /// (every digit of the name is then inside an id, and no run of digits reaches into one),
    /// no hex letter touching an id (each id stands alone, so no card search takes its digits:
    /// `CardMask.insideUUID`), no two ids side by side, nothing a CSV field is quoted for, and no
    /// first byte a spreadsheet reads as a formula. The id is lower-case hex and hyphens.
    static func isPlainCell(_ parts: [AccountTemplateNumbers.Part]) -> Bool {
        guard !parts.isEmpty else { return false }
        for (i, part) in parts.enumerated() {
            switch part {
            case .id:
                if i > 0, case .id = parts[i - 1] { return false }
            case .literal(let bytes):
                guard let first = bytes.first, let last = bytes.last else { return false }
                for b in bytes {
                    guard b > 0x20, b < 0x7F, !(b >= 0x30 && b <= 0x39), b != 0x2D, b != 0x2C, b != 0x22, b != 0x27 else { return false }
                }
                if i > 0, ByteScan.isHexLetter(first) { return false }
                if i + 1 < parts.count, ByteScan.isHexLetter(last) { return false }
                if i == 0, first == 0x3D || first == 0x2B || first == 0x40 { return false }
            }
        }
        return true
    }
}

/// A glob over account names where `*` matches any run of characters (`user:*:reserved`).
/// Matched on UTF-8 bytes: it runs for every account of every report.
public struct AccountPattern: Sendable, Equatable, CustomStringConvertible {
    public let text: String
    let parts: [[UInt8]]

    public init(_ text: String) {
        self.text = text
        self.parts = text.split(separator: "*", omittingEmptySubsequences: false).map { Array($0.utf8) }
    }

    public var description: String { text }

    public static func == (a: AccountPattern, b: AccountPattern) -> Bool { a.text == b.text }

    public func matches(_ account: String) -> Bool {
        var copy = account
        return copy.withUTF8 { bytes in
            if parts.count == 1 { return bytesEqual(bytes, parts[0].withUnsafeBufferPointer { $0 }) }
            let first = parts[0], last = parts[parts.count - 1]
            guard bytes.count >= first.count + last.count,
                  first.withUnsafeBufferPointer({ bytesEqual(UnsafeBufferPointer(rebasing: bytes[0..<first.count]), $0) }),
                  last.withUnsafeBufferPointer({ bytesEqual(UnsafeBufferPointer(rebasing: bytes[(bytes.count - last.count)...]), $0) })
            else { return false }
            // Middle parts, leftmost first, between the prefix and the suffix.
            var position = first.count
            let end = bytes.count - last.count
            for part in parts.dropFirst().dropLast() where !part.isEmpty {
                var found = false
                while position + part.count <= end {
                    if part.withUnsafeBufferPointer({ bytesEqual(UnsafeBufferPointer(rebasing: bytes[position..<(position + part.count)]), $0) }) {
                        position += part.count
                        found = true
                        break
                    }
                    position += 1
                }
                if !found { return false }
            }
            return true
        }
    }
}

extension AccountPattern {
    /// Whether this pattern matches every name an account key's template writes (true), none
    /// of them (false), or it depends on the id (nil). Decided from the template's literal
    /// bytes around its id, which is 36 lowercase hex digits and hyphens: a check that needs
    /// only the rule an account falls under need not write the name of each posting's account.
    /// Patterns with one `*` at most are decided; others give nil.
    public func matchesEveryName(ofTemplate templateNumber: UInt32) -> Bool? {
        guard let shape = AccountTemplateNumbers.nameShape(templateNumber) else { return nil }
        // Where the name has an id character, a pattern byte outside the id's alphabet cannot match.
        func compare(_ nameByte: Int16, _ patternByte: UInt8) -> Bool? {
            if nameByte >= 0 { return UInt8(nameByte) == patternByte }
            let idByte = (patternByte >= 0x30 && patternByte <= 0x39) || (patternByte >= 0x61 && patternByte <= 0x66) || patternByte == 0x2D
            return idByte ? nil : false
        }
        // nil as soon as any position depends on the id, false as soon as one cannot match.
        func fits(_ piece: [UInt8], at start: Int) -> Bool? {
            var decided = true
            for (i, b) in piece.enumerated() {
                switch compare(shape[start + i], b) {
                case false?: return false
                case nil: decided = false
                default: break
                }
            }
            return decided ? true : nil
        }
        switch parts.count {
        case 1:
            guard shape.count == parts[0].count else { return false }
            return fits(parts[0], at: 0)
        case 2:
            let first = parts[0], last = parts[1]
            guard shape.count >= first.count + last.count else { return false }
            let prefix = fits(first, at: 0), suffix = fits(last, at: shape.count - last.count)
            if prefix == false || suffix == false { return false }
            return prefix == true && suffix == true ? true : nil
        default:
            return nil
        }
    }
}
