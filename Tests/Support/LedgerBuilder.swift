import LedgerAuditConfig
import LedgerAuditCore

/// Builds tiny ledgers inline in a test: stable ids from names, versions counted per aggregate.
public struct LedgerBuilder {
    public private(set) var events: [EventRecord] = []
    var versions: [EventID: Int64] = [:]
    public var clockMs: Int64 = 1_777_593_600_000  // 2026-05-01T00:00:00Z

    public init() {}

    /// A deterministic UUID from a short name ("alice" → the same id every time).
    public static func id(_ name: String) -> EventID {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in name.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        var l: UInt64 = h ^ 0x9E37_79B9_7F4A_7C15
        for b in name.utf8.reversed() { l = (l ^ UInt64(b)) &* 0x100_0000_01b3 }
        return EventID(high: (h & 0xFFFF_FFFF_FFFF_0FFF) | 0x4000, low: (l & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000)
    }

    /// Appends an event; `payload` is JSON text so tests can write hostile amounts exactly.
    @discardableResult
    public mutating func add(
        _ type: String, aggregate: String, payload: String = "{}", at ms: Int64? = nil, logical: Int32 = 0,
        name: String? = nil, causation: String? = nil, correlation: String = "cmd", user: String? = "actor",
        version: Int64? = nil, recordedAtUs: Int64? = nil, metadata: String = "{}"
    ) -> EventRecord {
        let aggregateId = aggregate.count == 36 ? EventID(aggregate)! : LedgerBuilder.id(aggregate)
        let v = version ?? (versions[aggregateId] ?? 0) + 1
        versions[aggregateId] = max(v, versions[aggregateId] ?? 0)
        if let ms { clockMs = ms } else { clockMs += 1000 }
        let eventName = name ?? "event-\(events.count + 1)"
        let record = EventRecord(
            eventId: LedgerBuilder.id(eventName), eventType: type, aggregateId: aggregateId, streamVersion: v,
            causationId: causation.map(LedgerBuilder.id), correlationId: LedgerBuilder.id(correlation),
            hlcPhysicalMs: clockMs, hlcLogical: logical, vectorClock: .emptyObject,
            payload: try! JSONText.validating(payload), metadata: try! JSONText.validating(metadata),
            userId: user.map(LedgerBuilder.id), recordedAtUs: recordedAtUs ?? clockMs * 1000
        )
        events.append(record)
        return record
    }

    /// The account of a user bucket: `user:<id of name>:available`.
    public static func user(_ name: String, _ bucket: String) -> String { "user:\(id(name)):\(bucket)" }
}

/// Events from memory, put in global order like every real source does.
public struct ArraySource: EventSource {
    public var rows: [SourceRow]
    public init(_ events: [EventRecord], malformed: [MalformedRow] = []) {
        rows = malformed.map(SourceRow.malformed) + events.sorted { $0.globalOrderKey < $1.globalOrderKey }.map(SourceRow.event)
    }
    public var redactedDescription: String { "memory" }
    public func stream(scope: ReplayScope, _ body: (SourceRow) throws -> Void) throws -> SourceReport {
        var report = SourceReport()
        for row in rows {
            report.rowsRead += 1
            if case .event(let e) = row, !scope.includes(e) { continue }
            try body(row)
        }
        return report
    }
}

/// Replays a builder's events with the reference catalog.
public func replayReference(_ events: [EventRecord], scope: ReplayScope = ReplayScope(), catalog: Catalog = CatalogLoader.reference()) throws -> ReplayResult {
    try Replay(catalog: catalog).run(source: ArraySource(events), scope: scope, eventIdsMayRepeat: true)
}

/// Wraps a source and counts what it delivered: how many passes, and rows in each.
public final class CountingSource: EventSource {
    let inner: any EventSource
    public private(set) var rowsPerPass: [Int] = []

    public init(_ inner: any EventSource) { self.inner = inner }

    public var passes: Int { rowsPerPass.count }
    public var redactedDescription: String { inner.redactedDescription }

    public func stream(scope: ReplayScope, _ body: (SourceRow) throws -> Void) throws -> SourceReport {
        rowsPerPass.append(0)
        let pass = rowsPerPass.count - 1
        return try inner.stream(scope: scope) { row in
            rowsPerPass[pass] += 1
            try body(row)
        }
    }
}
