/// One row of the event store, read and typed, payload and metadata parsed (numbers kept as text).
///
/// A value, copied several times an event on its way through the pipeline (row, lanes, fold,
/// batches for other threads): the fixed-width columns the order and the scope read sit
/// inline, and the texts sit in one immutable box, so a copy is 72 bytes and one or two
/// retains rather than 260 bytes and seven. The canonical encoding sits beside the box, not in
/// it: a reader thread sets it on a record its source still holds, and in the box that copied
/// the whole box (an allocation and six retains an event, ~3% of the reader's thread).
public struct EventRecord: Sendable {
    // A column changed after the canonical encoding was made drops it (it would be stale).
    public var eventId: EventID { didSet { dropCanonicalEncoding() } }
    public var aggregateId: EventID { didSet { dropCanonicalEncoding() } }
    public var hlcPhysicalMs: Int64 { didSet { dropCanonicalEncoding() } }
    public var recordedAtUs: Int64 { didSet { dropCanonicalEncoding() } }
    public var hlcLogical: Int32 { didSet { dropCanonicalEncoding() } }
    /// Which of the run's sources (cells) delivered the event, when several are merged: an
    /// index into the run's source list, 0 for a run of one source.
    public var sourceIndex: UInt16 = 0
    /// Where the fold indexes every id and cause for the causation check (`DuplicateEventGuard`):
    /// the index of the event's id and of its cause's in that table; `notIndexed` otherwise
    /// (no such table, no cause, or the table full).
    public var idIndex = EventRecord.notIndexed
    public var causeIdIndex = EventRecord.notIndexed
    public static let notIndexed = UInt32.max
    @usableFromInline var texts: Texts

    /// The columns that are not read to order or scope an event, immutable: a setter puts a
    /// new box in place. Immutable fields are read in place through a borrowed record, without
    /// a retain: the checks' worker reads records the fold's thread made and lets go of, and a
    /// retain there moved each text's reference count between the cores twice (~10% of the
    /// worker's thread and of the fold's in a PostgreSQL `verify`).
    @usableFromInline final class Texts: Sendable {
        @usableFromInline let fields: TextFields
        @usableFromInline init(_ fields: TextFields) { self.fields = fields }
    }

    @usableFromInline struct TextFields: Sendable {
        @usableFromInline var eventType: String
        @usableFromInline var streamVersion: Int64
        @usableFromInline var causationId: EventID?
        @usableFromInline var correlationId: EventID
        @usableFromInline var vectorClock: JSONText
        @usableFromInline var payload: JSONText
        @usableFromInline var metadata: JSONText
        @usableFromInline var userId: EventID?
        @usableFromInline var orderPosition: Int64?
        @usableFromInline var streamName: String?
        @usableFromInline var streamCurrency: String?
    }

    /// Sets one of the texts in a new box (others may share the old one); a column the
    /// canonical encoding covers drops the encoding.
    private mutating func setText<Value>(_ field: WritableKeyPath<TextFields, Value>, _ value: Value, coveredByEncoding: Bool = true) {
        var fields = texts.fields
        fields[keyPath: field] = value
        texts = Texts(fields)
        if coveredByEncoding { dropCanonicalEncoding() }
    }

    private mutating func dropCanonicalEncoding() {
        canonicalEncoding = nil
    }

    public var eventType: String {
        @inlinable get { texts.fields.eventType }
        set { setText(\.eventType, newValue) }
    }
    public var streamVersion: Int64 {
        @inlinable get { texts.fields.streamVersion }
        set { setText(\.streamVersion, newValue) }
    }
    public var causationId: EventID? {
        @inlinable get { texts.fields.causationId }
        set { setText(\.causationId, newValue) }
    }
    public var correlationId: EventID {
        @inlinable get { texts.fields.correlationId }
        set { setText(\.correlationId, newValue) }
    }
    public var vectorClock: JSONText {
        @inlinable get { texts.fields.vectorClock }
        set { setText(\.vectorClock, newValue) }
    }
    public var payload: JSONText {
        @inlinable get { texts.fields.payload }
        set { setText(\.payload, newValue) }
    }
    public var metadata: JSONText {
        @inlinable get { texts.fields.metadata }
        set { setText(\.metadata, newValue) }
    }
    public var userId: EventID? {
        @inlinable get { texts.fields.userId }
        set { setText(\.userId, newValue) }
    }
    /// Stores ordered by a sequence (not the reference HLC): the event's place in that order,
    /// 1, 2, 3… as the snapshot returns it. nil for the reference store.
    public var orderPosition: Int64? {
        @inlinable get { texts.fields.orderPosition }
        set { setText(\.orderPosition, newValue, coveredByEncoding: false) }
    }
    /// The store's own stream key when it is not a UUID (`account-123`): `aggregateId` is then
    /// derived from it, and `{stream}` in account templates shows it.
    public var streamName: String? {
        @inlinable get { texts.fields.streamName }
        set { setText(\.streamName, newValue, coveredByEncoding: false) }
    }
    /// The currency named by the stream's opening event (`store.stream_currency`), when the
    /// store keeps the currency once per account.
    public var streamCurrency: String? {
        @inlinable get { texts.fields.streamCurrency }
        set { setText(\.streamCurrency, newValue, coveredByEncoding: false) }
    }
    /// The event's canonical encoding (`CanonicalEvent`), when the reader made it already: a
    /// file extract read ahead encodes on its own core, so the fold's digest only hashes. Any
    /// column it covers that changes afterwards drops it.
    public var canonicalEncoding: [UInt8]?

    public init(
        eventId: EventID, eventType: String, aggregateId: EventID, streamVersion: Int64,
        causationId: EventID?, correlationId: EventID, hlcPhysicalMs: Int64, hlcLogical: Int32,
        vectorClock: JSONText, payload: JSONText, metadata: JSONText, userId: EventID?, recordedAtUs: Int64,
        orderPosition: Int64? = nil, streamName: String? = nil, streamCurrency: String? = nil
    ) {
        self.eventId = eventId
        self.aggregateId = aggregateId
        self.hlcPhysicalMs = hlcPhysicalMs
        self.hlcLogical = hlcLogical
        self.recordedAtUs = recordedAtUs
        texts = Texts(TextFields(eventType: eventType, streamVersion: streamVersion, causationId: causationId, correlationId: correlationId,
                                 vectorClock: vectorClock, payload: payload, metadata: metadata, userId: userId, orderPosition: orderPosition,
                                 streamName: streamName, streamCurrency: streamCurrency))
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

    /// An event's place in the global order; nil for a row that could not be read.
    @inlinable public var globalOrderKey: GlobalOrderKey? {
        if case .event(let e) = self { return e.globalOrderKey }
        return nil
    }
}
