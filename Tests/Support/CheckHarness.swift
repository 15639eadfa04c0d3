import LedgerAuditChecks
import LedgerAuditCore

/// Drives checks over a replay as the engine's watchers do, for tests: each check sees every
/// event, then returns its result; its findings are merged into the replay's.
public final class CheckHarness: ReplayObserver {
    public let checks: [any Check]
    var logs: [FindingLog]
    public private(set) var results: [CheckResult] = []

    public init(checks: [any Check]) {
        self.checks = checks
        logs = Array(repeating: FindingLog(), count: checks.count)
    }

    /// Every event check of the registry (or those named), made from one context.
    public convenience init(_ types: [any Check.Type] = Checks.all, context: CheckContext) {
        self.init(checks: types.filter { $0.input == .events }.map { $0.init(context: context) })
    }

    public func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog) {
        for i in checks.indices { checks[i].observe(event, outcome: outcome, applied: applied, findings: &logs[i]) }
    }

    public func finish(book: BalanceBook, findings: inout FindingLog) {
        results = checks.indices.map { try! checks[$0].result(CheckEnd(book: book), findings: logs[$0]) }
        for r in results { findings.merge(r.findings) }
    }
}
