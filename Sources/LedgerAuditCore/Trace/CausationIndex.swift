/// Every event in scope, compactly, in global order: who caused it and which saga it belongs to.
/// Traces walk it up (causes, to the root) and down (effects). Memory: ~100 bytes an event.
public final class CausationIndex: ReplayObserver {
    public struct Node: Sendable {
        public var eventId: EventID
        public var causationId: EventID?
        public var correlationId: EventID
        public var aggregateId: EventID
        public var hlcPhysicalMs: Int64
        public var hlcLogical: Int32
        var typeIndex: Int32
    }

    public private(set) var nodes: [Node] = []
    var positionById: [EventID: Int32] = [:]
    var typeNames: [String] = []
    var typeIndexByName: [String: Int32] = [:]

    public init() {}

    public func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog) {
        guard positionById[event.eventId] == nil else { return }  // a repeated id: the first one counts
        let type: Int32
        if let t = typeIndexByName[event.eventType] {
            type = t
        } else {
            type = Int32(typeNames.count)
            typeNames.append(event.eventType)
            typeIndexByName[event.eventType] = type
        }
        positionById[event.eventId] = Int32(nodes.count)
        nodes.append(Node(eventId: event.eventId, causationId: event.causationId, correlationId: event.correlationId, aggregateId: event.aggregateId,
                          hlcPhysicalMs: event.hlcPhysicalMs, hlcLogical: event.hlcLogical, typeIndex: type))
    }

    public func node(_ id: EventID) -> Node? { positionById[id].map { nodes[Int($0)] } }
    public func eventType(_ node: Node) -> String { typeNames[Int(node.typeIndex)] }

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

    /// The events each event caused, in global order.
    public func effectsByCause() -> [EventID: [Int32]] {
        var out: [EventID: [Int32]] = [:]
        for (i, n) in nodes.enumerated() {
            if let c = n.causationId { out[c, default: []].append(Int32(i)) }
        }
        return out
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
