import LedgerAuditCore
/// `ORPHAN_CAUSATION`, `CAUSATION_CYCLE`, `CAUSE_AFTER_EFFECT` over the causation graph.
/// Memory is one node per event (~100 bytes with the dictionary: id, cause, aggregate, HLC),
/// plus the effects still waiting for a cause not yet seen. Chains are followed iteratively,
/// never recursively, and at most `Limits.causationDepthMax` steps.
public final class CausationCheck: Check {
    public static let name = "causation"
    public static let summary = "causes exist (or are known commands), precede their effects, and never loop"
    public static let codes: [FindingCode] = [.orphanCausation, .causationCycle, .causeAfterEffect]

    struct Node {
        var causationId: EventID?
        var aggregateId: EventID
        var hlcPhysicalMs: Int64
        var hlcLogical: Int32
        var streamVersion: Int64
    }

    let catalog: Catalog
    let registry: Set<EventID>?
    var nodes: [EventID: Node] = [:]
    /// Cause id not seen yet → the effects naming it.
    var waiting: [EventID: [EventID]] = [:]
    /// Effects whose cause came later in global order: the only places a cycle can close.
    var forwardEdges: [EventID] = []

    public static func notApplicable(_ context: CheckContext) -> String? { context.catalog.store.notRecorded([.causation]) }

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
        if case .quarantined(let f) = outcome, f.code == .duplicateEvent { return }
        // Global order, not time: for the reference store the HLC pair, for others the sequence.
        let order = event.globalOrderKey
        let node = Node(causationId: event.causationId, aggregateId: event.aggregateId, hlcPhysicalMs: order.hlcPhysicalMs,
                        hlcLogical: order.hlcLogical, streamVersion: event.streamVersion)
        nodes[event.eventId] = node
        if let cause = event.causationId {
            if cause == event.eventId {
                findings.append(.about(event, .causationCycle, message: "event \(event.eventId) names itself as its cause",
                                       evidence: [("causation path", "\(event.eventId) → \(event.eventId)")]))
            } else if nodes[cause] == nil {
                waiting[cause, default: []].append(event.eventId)
            }
        }
        // Effects that were waiting for this event: their cause came later in global order.
        if let effects = waiting.removeValue(forKey: event.eventId) {
            for effectId in effects {
                guard let effect = nodes[effectId] else { continue }
                forwardEdges.append(effectId)
                let causeLater = (order.hlcPhysicalMs, order.hlcLogical) > (effect.hlcPhysicalMs, effect.hlcLogical)
                // Equal HLC values are not an order violation.
                guard causeLater else { continue }
                findings.append(Finding(code: .causeAfterEffect, eventId: effectId, aggregateId: effect.aggregateId, streamVersion: effect.streamVersion,
                                        message: "event \(effectId) names as its cause event \(event.eventId), which is later in HLC order (\(order.hlcPhysicalMs).\(order.hlcLogical) > \(effect.hlcPhysicalMs).\(effect.hlcLogical)): a clock is wrong or the causation id is",
                                        evidence: [("cause", event.eventId.description), ("cause hlc", "\(order.hlcPhysicalMs).\(order.hlcLogical)"), ("effect hlc", "\(effect.hlcPhysicalMs).\(effect.hlcLogical)")],
                                        orderKey: GlobalOrderKey(hlcPhysicalMs: effect.hlcPhysicalMs, hlcLogical: effect.hlcLogical, eventId: effectId)))
            }
        }
    }

    public func finish(_ end: CheckEnd, findings: inout FindingLog) -> CheckReport {
        for (cause, effects) in waiting {
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
            for effectId in effects {
                guard let effect = nodes[effectId] else { continue }
                findings.append(Finding(code: .orphanCausation, eventId: effectId, aggregateId: effect.aggregateId, streamVersion: effect.streamVersion,
                                        message: "causation_id \(cause) names no event: \(why). The cause was deleted, never written, or the id is wrong",
                                        evidence: [("causation_id", cause.description)],
                                        orderKey: GlobalOrderKey(hlcPhysicalMs: effect.hlcPhysicalMs, hlcLogical: effect.hlcLogical, eventId: effectId)))
            }
        }
        var reported = Set<EventID>()
        for start in forwardEdges where !reported.contains(start) {
            var path = [start]
            var current = nodes[start]?.causationId
            var seen: Set<EventID> = [start]
            while let c = current, path.count <= Limits.causationDepthMax {
                path.append(c)
                if c == start {
                    guard let node = nodes[start] else { break }
                    reported.formUnion(path)
                    findings.append(Finding(code: .causationCycle, eventId: start, aggregateId: node.aggregateId, streamVersion: node.streamVersion,
                                            message: "following causation ids from event \(start) returns to it after \(path.count - 1) steps: the causation chain has no root",
                                            evidence: [("causation path", path.map(\.description).joined(separator: " → "))],
                                            orderKey: GlobalOrderKey(hlcPhysicalMs: node.hlcPhysicalMs, hlcLogical: node.hlcLogical, eventId: start)))
                    break
                }
                guard seen.insert(c).inserted else { break }  // a loop not through `start`: reported from its own members
                current = nodes[c]?.causationId
            }
        }
        return CheckReport()
    }
}
