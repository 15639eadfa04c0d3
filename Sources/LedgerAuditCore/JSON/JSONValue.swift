/// A JSON value that keeps numbers as their exact text: amounts never pass through a float.
/// Objects keep their members in document order, duplicates included (PostgreSQL's jsonb keeps
/// the last of duplicate keys; `member(_:)` does the same, `memberCount(_:)` lets rules refuse them).
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    public var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// The last member with this key, as jsonb would keep it.
    public func member(_ key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        for (k, v) in members.reversed() where k == key { return v }
        return nil
    }

    public func memberCount(_ key: String) -> Int {
        guard case .object(let members) = self else { return 0 }
        return members.reduce(0) { $0 + ($1.0 == key ? 1 : 0) }
    }

    /// A type-tagged value as the Python `eventsourcing` library writes them
    /// (`{"_type_": "decimal_str", "_data_": "12.50"}`, `{"_type_": "datetime_iso", …}`, UUIDs
    /// as `{"_type_": "uuid_hex", "_data_": "…"}`): its `_data_`. Any other value is itself.
    public var untagged: JSONValue {
        guard case .object(let members) = self, members.count == 2, case .string? = member("_type_"), let data = member("_data_") else { return self }
        if case .string(let hex) = data, case .string("uuid_hex")? = member("_type_"), hex.utf8.count == 32 {
            // uuid_hex carries 32 hex digits: give it the 8-4-4-4-12 form every id takes.
            let h = Array(hex)
            return .string(String(h[0..<8]) + "-" + String(h[8..<12]) + "-" + String(h[12..<16]) + "-" + String(h[16..<20]) + "-" + String(h[20...]))
        }
        return data
    }

    /// Every type-tagged value inside, unwrapped (arrays and objects followed; depth is bounded by the parser's).
    public var deepUntagged: JSONValue {
        switch untagged {
        case .array(let items): return .array(items.map(\.deepUntagged))
        case .object(let members): return .object(members.map { ($0.0, $0.1.deepUntagged) })
        case let scalar: return scalar
        }
    }

    /// A scalar as text for placeholders (`escrow:{payload.escrow_id}`): strings and integers only.
    public var scalarText: String? {
        switch self {
        case .string(let s): return s
        case .number(let n): return n
        default: return nil
        }
    }
}
