import LedgerAuditCore
/// `MISSING_ACTOR`: a money event with no `user_id` where the catalog requires one.
public final class MissingActorCheck: Check {
    public static let name = "missing-actor"
    public static let summary = "money events without the user_id the catalog requires"
    public static let codes: [FindingCode] = [.missingActor]

    let catalog: Catalog

    public static func notApplicable(_ context: CheckContext) -> String? { context.catalog.store.notRecorded([.actor]) }

    public init(context: CheckContext) { catalog = context.catalog }

    public func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog) {
        guard event.userId == nil, catalog.events[event.eventType]?.requiresActor == true, catalog.events[event.eventType]?.movesMoney == true else { return }
        if case .quarantined(let f) = outcome, f.code == .duplicateEvent { return }
        findings.append(.about(event, .missingActor, amountMinor: applied.first?.posting.amountMinor, currency: applied.first?.posting.currency,
                               message: "\(event.eventType) moved money with no user_id: nobody is accountable for it. Record the acting user (or the service account) on every money event"))
    }
}
