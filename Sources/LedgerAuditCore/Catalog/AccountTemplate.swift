/// An account name with placeholders filled from the event: `user:{aggregate_id}:available`,
/// `escrow:{payload.escrow_id}`. Columns: aggregate_id, user_id, event_id, correlation_id,
/// causation_id; `payload.X` / `metadata.X` name a top-level field.
public struct AccountTemplate: Sendable, Equatable, CustomStringConvertible {
    public enum Segment: Sendable, Equatable {
        case literal(String)
        case column(EventColumn)
        case payloadField(String)
        case metadataField(String)
    }

    public enum EventColumn: String, Sendable, CaseIterable {
        case aggregateId = "aggregate_id"
        case userId = "user_id"
        case eventId = "event_id"
        case correlationId = "correlation_id"
        case causationId = "causation_id"
    }

    public var segments: [Segment]
    public let text: String

    public var description: String { text }

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case unclosedBrace
        case unknownPlaceholder(String)
        case empty
        public var description: String {
            switch self {
            case .unclosedBrace: return "a '{' has no closing '}'"
            case .unknownPlaceholder(let p):
                return "unknown placeholder {\(p)}; use one of " + EventColumn.allCases.map { "{\($0.rawValue)}" }.joined(separator: ", ") + ", {payload.FIELD}, {metadata.FIELD}"
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
        var out = ""
        for segment in segments {
            switch segment {
            case .literal(let s): out += s
            case .column(let column):
                let value: EventID?
                switch column {
                case .aggregateId: value = event.aggregateId
                case .userId: value = event.userId
                case .eventId: value = event.eventId
                case .correlationId: value = event.correlationId
                case .causationId: value = event.causationId
                }
                guard let value else { return .failure(missing("column \(column.rawValue) is null")) }
                out += value.description
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
}

/// A glob over account names where `*` matches any run of characters (`user:*:reserved`).
public struct AccountPattern: Sendable, Equatable, CustomStringConvertible {
    public let text: String
    let parts: [Substring]

    public init(_ text: String) {
        self.text = text
        self.parts = text.split(separator: "*", omittingEmptySubsequences: false)
    }

    public var description: String { text }

    public func matches(_ account: String) -> Bool {
        if parts.count == 1 { return account == text }
        var rest = Substring(account)
        guard rest.hasPrefix(parts[0]) else { return false }
        rest = rest.dropFirst(parts[0].count)
        for part in parts.dropFirst().dropLast() where !part.isEmpty {
            guard let end = AccountPattern.endOfFirstMatch(of: part, in: rest) else { return false }
            rest = rest[end...]
        }
        return rest.hasSuffix(parts[parts.count - 1])
    }

    static func endOfFirstMatch(of needle: Substring, in haystack: Substring) -> Substring.Index? {
        var start = haystack.startIndex
        while start < haystack.endIndex {
            if haystack[start...].hasPrefix(needle) { return haystack.index(start, offsetBy: needle.count) }
            start = haystack.index(after: start)
        }
        return nil
    }
}
