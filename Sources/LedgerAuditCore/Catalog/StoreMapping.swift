/// Where a store that is not the reference `event_store` keeps each part of an event: the
/// catalog's `store:` section with `order:` and `fields:`. Without one, the store is the
/// reference table and its thirteen columns (spec: auction-ledger.md).
public struct StoreMapping: Sendable, Equatable {
    /// A second table joined to the events table (Eventuous keeps stream names in `streams`).
    public struct Join: Sendable, Equatable {
        public var schema: String
        public var table: String
        /// Pairs of (events table column, joined table column) that must be equal.
        public var on: [(events: String, joined: String)]
        public init(schema: String, table: String, on: [(events: String, joined: String)]) {
            self.schema = schema
            self.table = table
            self.on = on
        }
        public static func == (a: Join, b: Join) -> Bool {
            a.schema == b.schema && a.table == b.table && a.on.map(\.events) == b.on.map(\.events) && a.on.map(\.joined) == b.on.map(\.joined)
        }
    }

    /// A column of the events table, or of the joined table when `joined` is true.
    public struct Column: Sendable, Hashable, CustomStringConvertible {
        public var name: String
        public var joined: Bool
        public init(_ name: String, joined: Bool = false) {
            self.name = name
            self.joined = joined
        }
        public var description: String { name }
    }

    /// One part of an event: a column, a path into a JSON column, or not recorded by the store.
    public enum Source: Sendable, Equatable, CustomStringConvertible {
        case column(Column)
        case json(Column, path: [String])
        case absent

        public var column: Column? {
            switch self {
            case .column(let c), .json(let c, _): return c
            case .absent: return nil
            }
        }

        public var description: String {
            switch self {
            case .column(let c): return c.name
            case .json(let c, let path): return ([c.name] + path).joined(separator: "->")
            case .absent: return "absent"
            }
        }
    }

    /// The parts of an event a store may record.
    public enum Field: String, Sendable, CaseIterable {
        case eventId = "event_id"
        case eventType = "event_type"
        case stream
        case streamVersion = "stream_version"
        case causation
        case correlation
        case actor
        case time
        case payload
        case metadata

        /// Parts every event must have; the others may be `absent`.
        public var required: Bool { self == .eventType || self == .stream || self == .streamVersion || self == .time || self == .payload }
    }

    /// How a JSON column is typed in the database.
    public enum JSONColumnType: String, Sendable, CaseIterable {
        case jsonb, json, text
        /// UTF-8 JSON in a bytea (the Python `eventsourcing` library's `state`).
        case bytea
    }

    /// What a causation value names.
    public enum CausationNames: String, Sendable {
        /// The id of the causing event (the event_id field).
        case eventId = "event_id"
        /// The causing event's value of the first order column (Message DB's
        /// `causationMessageGlobalPosition`).
        case position
    }

    public var join: Join?
    /// Columns of the global order, ascending (a sequence; or a transaction id, then a sequence).
    public var order: [Column]
    public var fields: [Field: Source]
    /// JSON columns and how each is typed (default jsonb).
    public var jsonColumns: [String: JSONColumnType]
    /// The first stream version: 0 (Message DB, Eventuous) or 1.
    public var streamVersionBase: Int64
    /// The time column is a `timestamp` without zone: read as UTC, and the report says so.
    public var timeWithoutZone: Bool
    /// The time is an integer count since the Unix epoch in this unit, not a timestamp.
    public var timeEpochUnit: EpochUnit?

    public enum EpochUnit: String, Sendable, CaseIterable {
        case s, ms, us
        public var microseconds: Int64 {
            switch self {
            case .s: return 1_000_000
            case .ms: return 1000
            case .us: return 1
            }
        }
    }
    /// The event type is a topic (`bank.domain:Account.Credited`): the part after the last ':'.
    public var eventTypeFromTopic: Bool
    public var causationNames: CausationNames
    /// The payload path that, in a stream's opening event, names the stream's currency.
    public var streamCurrencyPath: [String]?
    /// JSON values may be type-tagged as the Python `eventsourcing` library writes them
    /// (`{"_type_": "decimal_str", "_data_": "12.50"}`): read through the tag.
    public var typeTaggedValues: Bool

    public init(join: Join? = nil, order: [Column], fields: [Field: Source], jsonColumns: [String: JSONColumnType] = [:],
                streamVersionBase: Int64 = 1, timeWithoutZone: Bool = false, eventTypeFromTopic: Bool = false,
                causationNames: CausationNames = .eventId, streamCurrencyPath: [String]? = nil, typeTaggedValues: Bool = false,
                timeEpochUnit: EpochUnit? = nil) {
        self.timeEpochUnit = timeEpochUnit
        self.typeTaggedValues = typeTaggedValues
        self.join = join
        self.order = order
        self.fields = fields
        self.jsonColumns = jsonColumns
        self.streamVersionBase = streamVersionBase
        self.timeWithoutZone = timeWithoutZone
        self.eventTypeFromTopic = eventTypeFromTopic
        self.causationNames = causationNames
        self.streamCurrencyPath = streamCurrencyPath
    }

    public func source(_ field: Field) -> Source { fields[field] ?? .absent }

    public func records(_ field: Field) -> Bool { source(field) != .absent }

    public func jsonType(_ column: Column) -> JSONColumnType? {
        jsonColumns[column.name]
    }

    /// How the store's global order is stated in report headers.
    public var orderDescription: String {
        order.map(\.name).joined(separator: ", ") + " ascending (the store's sequence; gaps are not findings)"
    }
}

extension StoreLocation {
    /// What a report header says of where events came from and in which order.
    public var orderDescription: String {
        mapping?.orderDescription ?? "hlc_physical, hlc_logical, event_id ascending (the HLC order)"
    }

    /// Whether the store records this part of an event (the reference store records all).
    public func records(_ field: StoreMapping.Field) -> Bool { mapping?.records(field) ?? true }

    /// Why a check cannot run on this store, naming what the store does not record, or nil.
    public func notRecorded(_ fields: [StoreMapping.Field]) -> String? {
        let missing = fields.filter { !records($0) }
        guard !missing.isEmpty else { return nil }
        return "not applicable: the store records no " + missing.map(\.rawValue).joined(separator: " and ")
    }
}
