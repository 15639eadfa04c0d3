/// `trace --event ID`: the causes up to the root, the effects down the chain, the saga
/// (correlation group) in global order with compensations marked, and each event's postings.
public struct EventTrace: Sendable {
    public enum Relation: String, Sendable {
        case cause, target, effect, saga
    }

    public struct Line: Sendable {
        public var relation: Relation
        /// Depth in the causation tree (0 = the root); saga lines have none.
        public var depth: Int?
        public var node: CausationIndex.Node
    }

    public var target: CausationIndex.Node
    public var chain: CausationIndex.Chain
    /// Causes from the root down to the target, then the target's effects depth first, then the saga.
    public var lines: [Line]
    public var effectsTruncated = false

    /// nil when no event in scope has that id.
    public static func build(_ id: EventID, index: CausationIndex, effectsMax: Int = 100_000) -> EventTrace? {
        guard let targetPosition = index.position(of: id) else { return nil }
        let target = index.node(at: targetPosition)
        let chain = index.chain(of: id)
        var lines: [Line] = []
        let rootDepth = chain.causes.count
        for (i, cause) in chain.causes.enumerated().reversed() {
            lines.append(Line(relation: .cause, depth: rootDepth - 1 - i, node: cause))
        }
        lines.append(Line(relation: .target, depth: rootDepth, node: target))
        // Effects: depth first, children in global order; an event is shown once.
        let effects = index.effectsByCause()
        var seen: Set<EventID> = [id]
        var stack: [(UInt32, Int)] = effects.of(targetPosition).reversed().map { ($0, rootDepth + 1) }
        var truncated = false
        var effectCount = 0
        while let (position, depth) = stack.popLast() {
            let node = index.node(at: Int(position))
            guard seen.insert(node.eventId).inserted else { continue }
            guard effectCount < effectsMax else { truncated = true; break }
            effectCount += 1
            lines.append(Line(relation: .effect, depth: depth, node: node))
            for child in effects.of(Int(position)).reversed() { stack.append((child, depth + 1)) }
        }
        for position in index.sagaPositions(of: targetPosition) {
            lines.append(Line(relation: .saga, depth: nil, node: index.node(at: position)))
        }
        var trace = EventTrace(target: target, chain: chain, lines: lines)
        trace.effectsTruncated = truncated
        return trace
    }

    public var eventIds: Set<EventID> { Set(lines.map(\.node.eventId)) }
}

/// Second pass of `trace --event`: what the traced events moved, and their actors and times.
public final class EventDetailCollector: ReplayObserver {
    public struct Detail: Sendable {
        public var userId: EventID?
        public var recordedAtUs: Int64
        public var postings: [Posting]
        /// Why the event moved nothing although its type moves money (quarantined), if so.
        public var quarantine: FindingCode?
    }

    let wanted: Set<EventID>
    public private(set) var details: [EventID: Detail] = [:]

    public init(wanted: Set<EventID>) { self.wanted = wanted }

    public func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog) {
        guard wanted.contains(event.eventId), details[event.eventId] == nil else { return }
        var quarantine: FindingCode?
        if case .quarantined(let f) = outcome { quarantine = f.code }
        details[event.eventId] = Detail(userId: event.userId, recordedAtUs: event.recordedAtUs, postings: applied.map(\.posting), quarantine: quarantine)
    }
}
