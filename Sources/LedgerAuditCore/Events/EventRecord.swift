/// One row of the event store, read and typed, payload and metadata parsed (numbers kept as text).
public struct EventRecord: Sendable {
    public var eventId: EventID
    public var eventType: String
    public var aggregateId: EventID
    public var streamVersion: Int64
    public var causationId: EventID?
    public var correlationId: EventID
    public var hlcPhysicalMs: Int64
    public var hlcLogical: Int32
    public var vectorClock: JSONText
    public var payload: JSONText
    public var metadata: JSONText
    public var userId: EventID?
    public var recordedAtUs: Int64
    /// Stores ordered by a sequence (not the reference HLC): the event's place in that order,
    /// 1, 2, 3… as the snapshot returns it. nil for the reference store.
    public var orderPosition: Int64?
    /// The store's own stream key when it is not a UUID (`account-123`): `aggregateId` is then
    /// derived from it, and `{stream}` in account templates shows it.
    public var streamName: String?
    /// The currency named by the stream's opening event (`store.stream_currency`), when the
    /// store keeps the currency once per account.
    public var streamCurrency: String?
    /// Which of the run's sources (cells) delivered the event, when several are merged: an
    /// index into the run's source list, 0 for a run of one source.
    public var sourceIndex: UInt16 = 0

    public init(
        eventId: EventID, eventType: String, aggregateId: EventID, streamVersion: Int64,
        causationId: EventID?, correlationId: EventID, hlcPhysicalMs: Int64, hlcLogical: Int32,
        vectorClock: JSONText, payload: JSONText, metadata: JSONText, userId: EventID?, recordedAtUs: Int64,
        orderPosition: Int64? = nil, streamName: String? = nil, streamCurrency: String? = nil
    ) {
        self.orderPosition = orderPosition
        self.streamName = streamName
        self.streamCurrency = streamCurrency
        self.eventId = eventId
        self.eventType = eventType
        self.aggregateId = aggregateId
        self.streamVersion = streamVersion
        self.causationId = causationId
        self.correlationId = correlationId
        self.hlcPhysicalMs = hlcPhysicalMs
        self.hlcLogical = hlcLogical
        self.vectorClock = vectorClock
        self.payload = payload
        self.metadata = metadata
        self.userId = userId
        self.recordedAtUs = recordedAtUs
    }

    /// Why a field is outside what an event can carry, or nil. Checked once, where rows are
    /// decoded, so later arithmetic on times cannot overflow.
    public var outOfRange: String? {
        if hlcPhysicalMs < Limits.hlcPhysicalMinMs || hlcPhysicalMs > Limits.hlcPhysicalMaxMs {
            return "column hlc_physical is \(hlcPhysicalMs), outside the years 1 to 9999 in milliseconds"
        }
        if recordedAtUs < Limits.instantMinUs || recordedAtUs > Limits.instantMaxUs {
            return "column recorded_at is outside the years 1 to 9999"
        }
        return nil
    }

    public var globalOrderKey: GlobalOrderKey {
        if let orderPosition { return GlobalOrderKey(hlcPhysicalMs: orderPosition, hlcLogical: 0, eventId: eventId) }
        return GlobalOrderKey(hlcPhysicalMs: hlcPhysicalMs, hlcLogical: hlcLogical, eventId: eventId)
    }

    /// The stream as reports name it: the store's stream key, or the aggregate id.
    public var streamKey: String { streamName ?? aggregateId.description }
}

/// The spec's global order: `(hlc_physical, hlc_logical, event_id)` ascending. For stores
/// ordered by a sequence, `hlcPhysicalMs` holds the event's position in that order
/// (`EventRecord.orderPosition`) and `hlcLogical` 0: comparisons stay the store's own order.
public struct GlobalOrderKey: Comparable, Hashable, Sendable {
    public var hlcPhysicalMs: Int64
    public var hlcLogical: Int32
    public var eventId: EventID

    public init(hlcPhysicalMs: Int64, hlcLogical: Int32, eventId: EventID) {
        self.hlcPhysicalMs = hlcPhysicalMs
        self.hlcLogical = hlcLogical
        self.eventId = eventId
    }

    public static func < (a: GlobalOrderKey, b: GlobalOrderKey) -> Bool {
        if a.hlcPhysicalMs != b.hlcPhysicalMs { return a.hlcPhysicalMs < b.hlcPhysicalMs }
        if a.hlcLogical != b.hlcLogical { return a.hlcLogical < b.hlcLogical }
        return a.eventId < b.eventId
    }
}

/// A row that could not be read as an event: it becomes `MALFORMED_EVENT`, never a silent skip.
public struct MalformedRow: Sendable, Error {
    /// Where in the source: "line 17" of an extract, or "row 17" of a COPY stream.
    public var location: String
    public var reason: String
    /// Whatever could be read, to place the finding (often nothing).
    public var eventId: EventID?
    public var aggregateId: EventID?

    public init(location: String, reason: String, eventId: EventID? = nil, aggregateId: EventID? = nil) {
        self.location = location
        self.reason = reason
        self.eventId = eventId
        self.aggregateId = aggregateId
    }
}

/// What a source yields, in global order.
public enum SourceRow: Sendable {
    case event(EventRecord)
    case malformed(MalformedRow)
}
