import LedgerAuditCore
/// `ORPHAN_CAUSATION`, `CAUSATION_CYCLE`, `CAUSE_AFTER_EFFECT` over the causation graph.
/// Events arrive in global order, so a cause seen before its effect cannot be later than it:
/// only the graph's shape is kept — each id once in an `EventIdTable` and its cause as a 32-bit
/// index (~28–40 bytes an event in all; 4 where the fold's table indexes ids and causes for it,
/// `readFoldIndexes`). The HLC, aggregate and version are kept only for
/// effects still waiting for a cause not yet seen. Chains are followed iteratively, never
/// recursively, and at most `Limits.causationDepthMax` steps.
/// Every event id a check has seen, by a dense index: lets another check on the same events
/// keep a 4-byte index instead of a 16-byte id.
public protocol EventIdIndex: AnyObject {
    /// The index of an event this check has observed.
    func eventIndex(of event: EventRecord) -> Int?
    func eventId(at index: Int) -> EventID
}

public final class CausationCheck: Check, EventIdIndex {
    public static let name = "causation"
    public static let summary = "causes exist (or are known commands), precede their effects, and never loop"
    public static let codes: [FindingCode] = [.orphanCausation, .causationCycle, .causeAfterEffect]

    /// An effect whose cause has not been seen (yet): what its finding must name.
    struct Effect {
        var index: UInt32
        /// The next effect waiting for the same cause (a position in `waitingEffects`), or `endOfList`.
        var next: UInt32 = CausationCheck.endOfList
        var aggregateId: EventID
        var streamVersion: Int64
        var hlcPhysicalMs: Int64
        var hlcLogical: Int32
    }

    /// `causeOf` values that are not indexes.
    static let noCause = UInt32.max
    static let notAnEvent = UInt32.max - 1

    let catalog: Catalog
    let registry: Set<EventID>?
    /// The graph's state, in one stored property: an event is then one access to the object
    /// (a run-time exclusivity check), not one for each table it touches.
    var graph = Graph()
    static let endOfList = UInt32.max

    struct Graph {
        /// Every event id and every cause id named, indexed: this check's own table, or none
        /// when the fold's indexes both (`foldIndexes`; the events carry the indexes).
        var table = EventIdTable(capacity: 1 << 16)
        /// The ids by index: `table`'s, or the fold's.
        var ids: EventIdLog
        var foldIndexes = false
        /// Per index: the index of the event's cause, `noCause`, or `notAnEvent` for an id only named as a cause so far.
        var causeOf = ChunkedArray<UInt32>()
        /// Cause index not seen as an event yet → the effects naming it.
        /// As lists through `waitingEffects`: first and last position, packed (high, low). One
        /// array of effects instead of an array per cause: ~60 bytes a waiting effect, not ~120
        /// (most commands' first events wait for good, their cause being a command id).
        var waiting: [UInt32: UInt64] = [:]
        var waitingEffects = ChunkedArray<Effect>()
        /// Effects whose cause came later in global order: the only places a cycle can close.
        var forwardEdges: [Effect] = []
        var tableFull = false

        mutating func appendWaiting(_ effect: Effect, cause: UInt32) {
            let position = UInt32(waitingEffects.count)
            waitingEffects.append(effect)
            if let ends = waiting[cause] {
                waitingEffects[Int(UInt32(truncatingIfNeeded: ends))].next = position
                waiting[cause] = ends & 0xFFFF_FFFF_0000_0000 | UInt64(position)
            } else {
                waiting[cause] = UInt64(position) << 32 | UInt64(position)
            }
        }

        /// The effects waiting for one cause, in the order they arrived.
        func waitingList(_ ends: UInt64) -> [Effect] {
            var out: [Effect] = []
            var position = UInt32(truncatingIfNeeded: ends >> 32)
            while position != CausationCheck.endOfList {
                let effect = waitingEffects[Int(position)]
                out.append(effect)
                position = effect.next
            }
            return out
        }

        init() { ids = table.log }

        /// The fold's table indexes every id and cause (`DuplicateEventGuard`), in the order
        /// `observe` would: this check's own goes, ~22 bytes an event.
        mutating func readFoldIndexes(_ log: EventIdLog) {
            // Made on the checks' worker, perhaps after the fold began: the log may hold ids already.
            precondition(table.count == 0, "the causation check reads the fold's indexes from the first event")
            table = EventIdTable(capacity: 0)
            ids = log
            foldIndexes = true
        }

        // `mutating` only so the check's call reaches the graph in place: a non-mutating call
        // on the stored struct copied it first (a retain of each of its arrays). Changes nothing.
        mutating func prefetch(_ events: UnsafeBufferPointer<PrefetchKeys>, stage: PrefetchStage) {
            if foldIndexes {
                // The cause's own cause is read (is it an event yet?); the slots are the fold's.
                if stage == .entries { for keys in events where keys.causeIdIndex != EventRecord.notIndexed { causeOf.prefetch(at: Int(keys.causeIdIndex)) } }
                return
            }
            switch stage {
            case .slots:
                for keys in events {
                    table.prefetchSlot(keys.eventId)
                    if let cause = keys.causationId { table.prefetchSlot(cause) }
                }
            case .entries:
                // A cause is usually an earlier event: its id is compared and its own cause read.
                for keys in events {
                    if let cause = keys.causationId, let n = table.likelyIndex(cause) {
                        table.prefetchId(at: n)
                        causeOf.prefetch(at: n)
                    }
                    if let n = table.likelyIndex(keys.eventId) { table.prefetchId(at: n) }
                }
            }
        }

        /// An id's index, and whether it is new here (indexes are dense, in the order ids are first met).
        @inline(__always)
        mutating func insert(_ id: EventID, foldIndex: UInt32) -> (index: Int, inserted: Bool)? {
            guard foldIndexes else { return table.insert(id) }
            guard foldIndex != EventRecord.notIndexed else { return nil }
            return (Int(foldIndex), Int(foldIndex) == causeOf.count)
        }

        mutating func observe(_ event: EventRecord, outcome: PostingOutcome, findings: inout FindingLog) {
            if case .quarantined(let f) = outcome, f.code == .duplicateEvent { return }
            guard let (index, inserted) = insert(event.eventId, foldIndex: event.idIndex) else { tableFull = true; return }
            if inserted { causeOf.append(CausationCheck.notAnEvent) }
            let wasNamedAsCause = !inserted && causeOf[index] == CausationCheck.notAnEvent
            // Global order, not time: for the reference store the HLC pair, for others the sequence.
            let order = event.globalOrderKey
            var cause = CausationCheck.noCause
            if let causationId = event.causationId {
                if causationId == event.eventId {
                    cause = UInt32(index)
                    findings.append(.about(event, .causationCycle, message: "event \(event.eventId) names itself as its cause",
                                           evidence: [("causation path", "\(event.eventId) → \(event.eventId)")]))
                } else {
                    guard let (causeIndex, causeInserted) = insert(causationId, foldIndex: event.causeIdIndex) else { tableFull = true; return }
                    if causeInserted { causeOf.append(CausationCheck.notAnEvent) }
                    cause = UInt32(causeIndex)
                    if causeOf[causeIndex] == CausationCheck.notAnEvent {
                        appendWaiting(Effect(index: UInt32(index), aggregateId: event.aggregateId, streamVersion: event.streamVersion,
                                             hlcPhysicalMs: order.hlcPhysicalMs, hlcLogical: order.hlcLogical), cause: cause)
                    }
                }
            }
            causeOf[index] = cause
            // Effects that were waiting for this event: their cause came later in global order.
            guard wasNamedAsCause, let ends = waiting.removeValue(forKey: UInt32(index)) else { return }
            for effect in waitingList(ends) {
                forwardEdges.append(effect)
                let causeLater = (order.hlcPhysicalMs, order.hlcLogical) > (effect.hlcPhysicalMs, effect.hlcLogical)
                // Equal HLC values are not an order violation.
                guard causeLater else { continue }
                let effectId = ids[Int(effect.index)]
                findings.append(Finding(code: .causeAfterEffect, eventId: effectId, aggregateId: effect.aggregateId, streamVersion: effect.streamVersion,
                                        message: "event \(effectId) names as its cause event \(event.eventId), which is later in HLC order (\(order.hlcPhysicalMs).\(order.hlcLogical) > \(effect.hlcPhysicalMs).\(effect.hlcLogical)): a clock is wrong or the causation id is",
                                        evidence: [("cause", event.eventId.description), ("cause hlc", "\(order.hlcPhysicalMs).\(order.hlcLogical)"), ("effect hlc", "\(effect.hlcPhysicalMs).\(effect.hlcLogical)")],
                                        orderKey: GlobalOrderKey(hlcPhysicalMs: effect.hlcPhysicalMs, hlcLogical: effect.hlcLogical, eventId: effectId)))
            }
        }
    }

    struct TableFull: Error, CustomStringConvertible {
        var description: String { "the causation check indexes at most \(Limits.eventIdTableMax) event and cause ids; this run has more, so its causation findings would be incomplete" }
    }

    public static func notApplicable(_ context: CheckContext) -> String? { context.catalog.store.notRecorded([.causation]) }

    public static var prefetchesMemory: Bool { true }
    public func prefetch(_ events: UnsafeBufferPointer<PrefetchKeys>, stage: PrefetchStage) { graph.prefetch(events, stage: stage) }

    public func eventIndex(of event: EventRecord) -> Int? {
        guard graph.foldIndexes else { return graph.table.index(of: event.eventId) }
        return event.idIndex == EventRecord.notIndexed ? nil : Int(event.idIndex)
    }
    public func eventId(at index: Int) -> EventID { graph.ids[index] }

    /// Indexes from the fold's table instead of a table of its own (`Graph.readFoldIndexes`).
    public func readFoldIndexes(_ log: EventIdLog) { graph.readFoldIndexes(log) }

    public static func note(_ context: CheckContext) -> String {
        context.commandRegistry.map { "command registry of \($0.count) ids" } ?? (context.catalog.danglingCausation == .defect
            ? "no command registry; dangling causation ids are defects (catalog)"
            : "ran without a command registry: dangling causation ids are taken as command ids and not reported")
    }

    public init(context: CheckContext) {
        catalog = context.catalog
        registry = context.commandRegistry
    }

    public func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog) {
        graph.observe(event, outcome: outcome, findings: &findings)
    }

    public func finish(_ end: CheckEnd, findings: inout FindingLog) throws -> CheckReport {
        let graph = self.graph
        if graph.tableFull { throw TableFull() }
        for (causeIndex, ends) in graph.waiting {
            let effects = graph.waitingList(ends)
            let cause = graph.ids[Int(causeIndex)]
            let isDefect: Bool
            let why: String
            if let registry {
                isDefect = !registry.contains(cause)
                why = "it is neither an event in scope nor a command id in the command registry"
            } else {
                isDefect = catalog.danglingCausation == .defect
                why = "it is not an event in scope, and the catalog treats dangling causation ids as defects"
            }
            guard isDefect else { continue }
            for effect in effects {
                let effectId = graph.ids[Int(effect.index)]
                findings.append(Finding(code: .orphanCausation, eventId: effectId, aggregateId: effect.aggregateId, streamVersion: effect.streamVersion,
                                        message: "causation_id \(cause) names no event: \(why). The cause was deleted, never written, or the id is wrong",
                                        evidence: [("causation_id", cause.description)],
                                        orderKey: GlobalOrderKey(hlcPhysicalMs: effect.hlcPhysicalMs, hlcLogical: effect.hlcLogical, eventId: effectId)))
            }
        }
        var reported = Set<UInt32>()
        for start in graph.forwardEdges where !reported.contains(start.index) {
            var path = [start.index]
            var current = graph.causeOf[Int(start.index)]
            var seen: Set<UInt32> = [start.index]
            while current < Self.notAnEvent, path.count <= Limits.causationDepthMax {
                path.append(current)
                if current == start.index {
                    let startId = graph.ids[Int(start.index)]
                    reported.formUnion(path)
                    findings.append(Finding(code: .causationCycle, eventId: startId, aggregateId: start.aggregateId, streamVersion: start.streamVersion,
                                            message: "following causation ids from event \(startId) returns to it after \(path.count - 1) steps: the causation chain has no root",
                                            evidence: [("causation path", path.map { graph.ids[Int($0)].description }.joined(separator: " → "))],
                                            orderKey: GlobalOrderKey(hlcPhysicalMs: start.hlcPhysicalMs, hlcLogical: start.hlcLogical, eventId: startId)))
                    break
                }
                guard seen.insert(current).inserted else { break }  // a loop not through `start`: reported from its own members
                // An id only named as a cause ends the chain (`notAnEvent`), as does a root (`noCause`).
                current = graph.causeOf[Int(current)]
            }
        }
        return CheckReport()
    }
}
