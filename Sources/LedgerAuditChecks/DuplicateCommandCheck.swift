import LedgerAuditCore
/// `DUPLICATE_COMMAND`: the same money movement (type, aggregate, correlation, amount by value)
/// recorded twice — the idempotency guard failed. Both events are recorded movements and both
/// move money; the finding sits on the later one. Memory: ~60 bytes per money event.
public final class DuplicateCommandCheck: Check {
    public static let name = "duplicate-command"
    public static let summary = "the same money movement (type, aggregate, correlation, amount) recorded twice"
    public static let codes: [FindingCode] = [.duplicateCommand]

    /// Compact for the common single posting; further postings only when there are some.
    struct Key: Hashable {
        var eventType: String
        var aggregateId: EventID
        var correlationId: EventID
        var amountMinor: Int64
        var currency: String
        var more: [MoreAmount]?
    }

    struct MoreAmount: Hashable {
        var amountMinor: Int64
        var currency: String
    }

    var firstSeen: [Key: EventID] = [:]

    /// Without a correlation id, one command's events cannot be told from another's.
    public static func notApplicable(_ context: CheckContext) -> String? { context.catalog.store.notRecorded([.correlation]) }

    public init(context: CheckContext) {}

    public func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog) {
        guard case .moves(let postings) = outcome else { return }
        guard let first = postings.first else { return }
        let key = Key(eventType: event.eventType, aggregateId: event.aggregateId, correlationId: event.correlationId,
                      amountMinor: first.amountMinor, currency: first.currency,
                      more: postings.count > 1 ? postings.dropFirst().map { MoreAmount(amountMinor: $0.amountMinor, currency: $0.currency) } : nil)
        if let first = firstSeen[key] {
            findings.append(.about(event, .duplicateCommand, account: postings.first?.toAccount, amountMinor: postings.first?.amountMinor, currency: postings.first?.currency,
                                   message: "\(event.eventType) of \(postings.first.map { String($0.amountMinor) } ?? "") minor units for aggregate \(event.aggregateId) in correlation \(event.correlationId) was already recorded by event \(first); the idempotency guard failed and both moved money",
                                   evidence: [("first event", first.description), ("correlation", event.correlationId.description)]))
        } else {
            firstSeen[key] = event.eventId
        }
    }
}
