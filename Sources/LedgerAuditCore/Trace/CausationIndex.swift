/// Every event in scope, compactly, in global order: who caused it and which saga it belongs to.
/// Traces walk it up (causes, to the root) and down (effects). Memory: ~60 bytes an event, in
/// columns rather than one struct an event: the id in an `EventIdTable` (position = index), the
/// cause as the position of an earlier event (else the id, aside: commands and forward causes),
/// correlation and aggregate as indexes into their own tables, the HLC, and the type index and
/// HLC logical counter in 16 bits each (a value that does not fit is kept aside, by position).
public final class CausationIndex: ReplayObserver {
    /// One event, as traces and reports read it (made on demand from the columns).
    public struct Node: Sendable {
        public var eventId: EventID
        public var causationId: EventID?
        public var correlationId: EventID
        public var aggregateId: EventID
        public var hlcPhysicalMs: Int64
        public var hlcLogical: Int32
        var typeIndex: Int32
    }

    /// Cause column values that are not positions.
    static let noCause = UInt32.max
    static let causeAside = UInt32.max - 1
    /// A type index or logical counter past 16 bits: the value is in the aside table.
    static let wide = UInt16.max

    var ids = EventIdTable(capacity: 1 << 16)
    var cause = ChunkedArray<UInt32>()
    /// Causes that are not earlier events (command ids, causes later in order): positions
    /// ascending (events are indexed in order) beside their ids, found by binary search.
    var causeAsidePositions = ChunkedArray<UInt32>()
    var causeAsideIds = ChunkedArray<EventID>()
    var correlations = EventIdTable(capacity: 1 << 14)
    var correlation = ChunkedArray<UInt32>()
    var aggregates = EventIdTable(capacity: 1 << 14)
    var aggregate = ChunkedArray<UInt32>()
    var hlcPhysicalMs = ChunkedArray<Int64>()
    // Logical counters are small (events within one millisecond) and catalogs name a few dozen
    // types: 16 bits each, 4 bytes an event less than two Int32 columns.
    var hlcLogical = ChunkedArray<UInt16>()
    var typeIndex = ChunkedArray<UInt16>()
    var wideValues: [UInt32: (hlcLogical: Int32, typeIndex: Int32)] = [:]
    var typeNames: [String] = []
    var typeIndexByName: [String: Int32] = [:]
    /// Events past what a table indexes (`Limits.eventIdTableMax`): a clear error at the end, never a silent gap.
    public private(set) var isFull = false

    public init() {}

    /// Events indexed, in global order: positions 0..<count.
    public var count: Int { ids.count }

    public func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog) {
        guard !ids.isFull, !correlations.isFull, !aggregates.isFull else { isFull = true; return }
        guard let (position, inserted) = ids.insert(event.eventId), inserted else { return }  // a repeated id: the first one counts
        let type: Int32
        if let t = typeIndexByName[event.eventType] {
            type = t
        } else {
            type = Int32(typeNames.count)
            typeNames.append(event.eventType)
            typeIndexByName[event.eventType] = type
        }
        if let causationId = event.causationId {
            if let earlier = ids.index(of: causationId), earlier != position {
                cause.append(UInt32(earlier))
            } else {
                cause.append(Self.causeAside)
                causeAsidePositions.append(UInt32(position))
                causeAsideIds.append(causationId)
            }
        } else {
            cause.append(Self.noCause)
        }
        correlation.append(UInt32(correlations.insert(event.correlationId)!.index))
        aggregate.append(UInt32(aggregates.insert(event.aggregateId)!.index))
        hlcPhysicalMs.append(event.hlcPhysicalMs)
        let logicalFits = event.hlcLogical >= 0 && event.hlcLogical < Int32(Self.wide)
        let typeFits = type < Int32(Self.wide)
        hlcLogical.append(logicalFits ? UInt16(event.hlcLogical) : Self.wide)
        typeIndex.append(typeFits ? UInt16(type) : Self.wide)
        if !logicalFits || !typeFits { wideValues[UInt32(position)] = (event.hlcLogical, type) }
    }

    /// The cause kept aside for the event at `position` (binary search: positions ascend).
    func causeIdAside(at position: Int) -> EventID? {
        var low = 0, high = causeAsidePositions.count
        let wanted = UInt32(position)
        while low < high {
            let mid = (low + high) / 2
            if causeAsidePositions[mid] < wanted { low = mid + 1 } else { high = mid }
        }
        return low < causeAsidePositions.count && causeAsidePositions[low] == wanted ? causeAsideIds[low] : nil
    }

    /// The event at a position in global order.
    public func node(at position: Int) -> Node {
        let c = cause[position]
        let causationId: EventID? = c == Self.noCause ? nil : c == Self.causeAside ? causeIdAside(at: position) : ids.id(at: Int(c))
        let logical = hlcLogical[position], type = typeIndex[position]
        let wide = logical == Self.wide || type == Self.wide ? wideValues[UInt32(position)] : nil
        return Node(eventId: ids.id(at: position), causationId: causationId, correlationId: correlations.id(at: Int(correlation[position])),
                    aggregateId: aggregates.id(at: Int(aggregate[position])), hlcPhysicalMs: hlcPhysicalMs[position],
                    hlcLogical: logical == Self.wide ? wide!.hlcLogical : Int32(logical), typeIndex: type == Self.wide ? wide!.typeIndex : Int32(type))
    }

    public func position(of id: EventID) -> Int? { ids.index(of: id) }
    public func node(_ id: EventID) -> Node? { ids.index(of: id).map(node(at:)) }
    public func eventType(_ node: Node) -> String { typeNames[Int(node.typeIndex)] }

    /// Positions of the events in the saga (correlation group) of the event at `position`, in global order.
    public func sagaPositions(of position: Int) -> [Int] {
        let group = correlation[position]
        return (0..<count).filter { correlation[$0] == group }
    }

    /// The causes of an event, nearest first, up to the root.
    public struct Chain: Sendable {
        public var causes: [Node] = []
        /// The root's causation id when it names no event: the command that started it all.
        public var rootCommandId: EventID?
        /// Following causation ids came back to an event already on the chain.
        public var cycle = false
        /// The chain was longer than the limit and was cut.
        public var truncated = false
    }

    public func chain(of id: EventID, limit: Int = 1_000) -> Chain {
        var chain = Chain()
        guard var current = node(id) else { return chain }
        var seen: Set<EventID> = [id]
        while let cause = current.causationId {
            guard let next = node(cause) else {
                chain.rootCommandId = cause
                break
            }
            guard seen.insert(cause).inserted else {
                chain.cycle = true
                break
            }
            guard chain.causes.count < limit else {
                chain.truncated = true
                break
            }
            chain.causes.append(next)
            current = next
        }
        return chain
    }

    /// The events each event caused, in global order: positions grouped by their cause's
    /// position (compressed rows: 8 bytes an event, built once at the end of the pass).
    public struct Effects: Sendable {
        var start: [UInt32]
        var children: [UInt32]
        public func of(_ position: Int) -> ArraySlice<UInt32> { children[Int(start[position])..<Int(start[position + 1])] }
    }

    public func effectsByCause() -> Effects {
        let n = count
        func causePosition(_ p: Int) -> Int? {
            let c = cause[p]
            if c == Self.noCause { return nil }
            if c == Self.causeAside { return causeIdAside(at: p).flatMap { ids.index(of: $0) } }
            return Int(c)
        }
        var start = [UInt32](repeating: 0, count: n + 1)
        for p in 0..<n { if let c = causePosition(p) { start[c + 1] += 1 } }
        for i in 0..<n { start[i + 1] += start[i] }
        var next = Array(start.dropLast())
        var children = [UInt32](repeating: 0, count: Int(start[n]))
        for p in 0..<n {
            guard let c = causePosition(p) else { continue }
            children[Int(next[c])] = UInt32(p)
            next[c] += 1
        }
        return Effects(start: start, children: children)
    }

    /// One line for a chain: `TYPE id ← TYPE id ← command id`.
    public func describe(_ chain: Chain) -> String {
        var parts = chain.causes.map { eventType($0) + " " + $0.eventId.description }
        if let command = chain.rootCommandId { parts.append("command " + command.description) }
        if chain.cycle { parts.append("(cycle)") }
        if chain.truncated { parts.append("(cut at \(chain.causes.count))") }
        return parts.joined(separator: " ← ")
    }
}
