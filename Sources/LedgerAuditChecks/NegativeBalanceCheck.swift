import LedgerAuditCore
/// `NEGATIVE_BALANCE`: at the exact event where an account that may not go negative goes from
/// zero or more to below zero, with the balance before and after.
public final class NegativeBalanceCheck: Check {
    public static let name = "negative-balance"
    public static let summary = "accounts that may not go negative, at the event that takes them below zero"
    public static let codes: [FindingCode] = [.negativeBalance]

    let catalog: Catalog
    var mayGoNegativeCache: [AccountName: Bool] = [:]

    public init(context: CheckContext) { catalog = context.catalog }

    func mayGoNegative(_ account: String) -> Bool {
        if let v = mayGoNegativeCache[AccountName(account)] { return v }
        let v = catalog.mayGoNegative(account)
        if mayGoNegativeCache.count < 100_000 { mayGoNegativeCache[AccountName(account)] = v }
        return v
    }

    public func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog) {
        for a in applied where a.fromBalanceBeforeMinor >= 0 && a.fromBalanceAfterMinor < 0 {
            let account = a.posting.fromAccount
            guard !mayGoNegative(account) else { continue }
            findings.append(.about(event, .negativeBalance, account: account, amountMinor: a.posting.amountMinor, currency: a.posting.currency,
                                   message: "\(event.eventType) took \(account) from \(a.fromBalanceBeforeMinor) to \(a.fromBalanceAfterMinor) \(a.posting.currency) minor units; this account may not go negative",
                                   evidence: [("balance before", String(a.fromBalanceBeforeMinor)), ("balance after", String(a.fromBalanceAfterMinor))]))
        }
    }
}
