public enum Severity: String, CaseIterable, Sendable, Comparable {
    case critical, high, medium, low, info

    /// Larger is more severe.
    public var rank: Int {
        switch self {
        case .critical: return 4
        case .high: return 3
        case .medium: return 2
        case .low: return 1
        case .info: return 0
        }
    }

    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

/// The finding codes of `outputs.md`, each with its default severity and the controls it bears on.
public enum FindingCode: String, CaseIterable, Sendable {
    case streamGap = "STREAM_GAP"
    case streamOrder = "STREAM_ORDER"
    case duplicateEvent = "DUPLICATE_EVENT"
    case duplicateCommand = "DUPLICATE_COMMAND"
    case orphanCausation = "ORPHAN_CAUSATION"
    case causationCycle = "CAUSATION_CYCLE"
    case causeAfterEffect = "CAUSE_AFTER_EFFECT"
    case clockSkew = "CLOCK_SKEW"
    case badAmount = "BAD_AMOUNT"
    case malformedEvent = "MALFORMED_EVENT"
    case unknownEventType = "UNKNOWN_EVENT_TYPE"
    case negativeBalance = "NEGATIVE_BALANCE"
    case moneyInLimbo = "MONEY_IN_LIMBO"
    case missingActor = "MISSING_ACTOR"
    case cardNumberExposed = "CARD_NUMBER_EXPOSED"
    case projectionMismatch = "PROJECTION_MISMATCH"
    case appendOnlyGap = "APPEND_ONLY_GAP"
    case sealBroken = "SEAL_BROKEN"
    /// With `--tsa-ca`: a seal without an RFC 3161 token, or whose token does not verify.
    case sealTimestampInvalid = "SEAL_TIMESTAMP_INVALID"
    /// An extract with no event at all, read with `--allow-empty`.
    case emptySource = "EMPTY_SOURCE"

    public var defaultSeverity: Severity {
        switch self {
        case .sealBroken, .cardNumberExposed, .streamGap: return .critical
        case .duplicateEvent, .duplicateCommand, .badAmount, .malformedEvent, .negativeBalance,
             .projectionMismatch, .appendOnlyGap, .causationCycle, .streamOrder, .emptySource, .sealTimestampInvalid:
            return .high
        case .orphanCausation, .causeAfterEffect, .unknownEventType, .moneyInLimbo, .missingActor:
            return .medium
        case .clockSkew: return .low
        }
    }

    /// SOX (ITGC / ICFR assertions) and PCI DSS v4.0 requirements the finding bears on.
    public var controls: [String] {
        switch self {
        case .streamGap: return ["SOX ICFR completeness", "SOX ITGC data integrity", "PCI DSS 10.3.2"]
        case .streamOrder: return ["SOX ICFR accuracy", "SOX ITGC data integrity"]
        case .duplicateEvent: return ["SOX ICFR occurrence", "SOX ITGC data integrity"]
        case .duplicateCommand: return ["SOX ICFR occurrence", "SOX ICFR accuracy"]
        case .orphanCausation: return ["SOX ICFR completeness", "PCI DSS 10.2.1"]
        case .causationCycle: return ["SOX ITGC data integrity"]
        case .causeAfterEffect: return ["SOX ITGC data integrity", "PCI DSS 10.6.1"]
        case .clockSkew: return ["PCI DSS 10.6.1", "PCI DSS 10.6.2", "SOX ITGC data integrity"]
        case .badAmount: return ["SOX ICFR accuracy", "SOX ITGC data integrity"]
        case .malformedEvent: return ["SOX ICFR completeness", "SOX ITGC data integrity"]
        case .unknownEventType: return ["SOX ICFR completeness", "SOX ITGC change management"]
        case .negativeBalance: return ["SOX ICFR existence", "SOX ICFR accuracy"]
        case .moneyInLimbo: return ["SOX ICFR cut-off", "SOX ICFR existence"]
        case .missingActor: return ["SOX ITGC access control", "PCI DSS 10.2.1", "PCI DSS 10.2.2"]
        case .cardNumberExposed: return ["PCI DSS 3.4.1", "PCI DSS 3.5.1", "PCI DSS 12.10.7"]
        case .projectionMismatch: return ["SOX ICFR accuracy", "SOX ICFR reconciliation"]
        case .appendOnlyGap: return ["PCI DSS 10.3.2", "SOX ITGC change management", "SOX ITGC access control"]
        case .sealBroken: return ["PCI DSS 10.3.4", "SOX ITGC data integrity", "SOX ICFR completeness"]
        case .emptySource: return ["SOX ICFR completeness"]
        case .sealTimestampInvalid: return ["PCI DSS 10.3.4", "PCI DSS 10.6.1", "SOX ITGC data integrity"]
        }
    }
}

/// A problem in the ledger, as a value: code, severity, where, how much, what to do, evidence.
public struct Finding: Sendable, Error {
    public var code: FindingCode
    public var severity: Severity
    public var eventId: EventID?
    public var aggregateId: EventID?
    public var account: String?
    public var streamVersion: Int64?
    public var amountMinor: Int64?
    public var currency: String?
    public var message: String
    /// Ordered name → value pairs: the causation path, neighbouring versions, balance before/after.
    public var evidence: [(String, String)]
    /// Where the event sits in global order, for sorting findings deterministically.
    public var orderKey: GlobalOrderKey?
    /// For rows without an order key (malformed): where in the source.
    public var location: String?

    public init(
        code: FindingCode, severity: Severity? = nil, eventId: EventID? = nil, aggregateId: EventID? = nil,
        account: String? = nil, streamVersion: Int64? = nil, amountMinor: Int64? = nil, currency: String? = nil,
        message: String, evidence: [(String, String)] = [], orderKey: GlobalOrderKey? = nil, location: String? = nil
    ) {
        self.code = code
        self.severity = severity ?? code.defaultSeverity
        self.eventId = eventId
        self.aggregateId = aggregateId
        self.account = account
        self.streamVersion = streamVersion
        self.amountMinor = amountMinor
        self.currency = currency
        self.message = message
        self.evidence = evidence
        self.orderKey = orderKey
        self.location = location
    }

    public var controls: [String] { code.controls }

    /// Findings about one event: code, where and when taken from the event.
    public static func about(
        _ event: EventRecord, _ code: FindingCode, account: String? = nil, amountMinor: Int64? = nil,
        currency: String? = nil, message: String, evidence: [(String, String)] = []
    ) -> Finding {
        Finding(
            code: code, eventId: event.eventId, aggregateId: event.aggregateId, account: account,
            streamVersion: event.streamVersion, amountMinor: amountMinor, currency: currency,
            message: message, evidence: evidence, orderKey: event.globalOrderKey
        )
    }

    /// Deterministic order for reports: most severe first, then code, then global order.
    public static func reportOrder(_ a: Finding, _ b: Finding) -> Bool {
        if a.severity != b.severity { return a.severity > b.severity }
        if a.code != b.code { return a.code.rawValue < b.code.rawValue }
        switch (a.orderKey, b.orderKey) {
        case let (x?, y?) where x != y: return x < y
        case (nil, _?): return true
        case (_?, nil): return false
        default: break
        }
        if (a.location ?? "") != (b.location ?? "") { return (a.location ?? "").utf8.lexicographicallyPrecedes((b.location ?? "").utf8) }
        if (a.account ?? "") != (b.account ?? "") { return (a.account ?? "").utf8.lexicographicallyPrecedes((b.account ?? "").utf8) }
        return a.message.utf8.lexicographicallyPrecedes(b.message.utf8)
    }
}

/// Findings collected during a run, bounded: past `Limits.findingsKeptMax` only counts are kept,
/// and the report says how many were not listed.
public struct FindingLog: Sendable {
    public private(set) var kept: [Finding] = []
    public private(set) var countByCode: [FindingCode: Int] = [:]
    public private(set) var countBySeverity: [Severity: Int] = [:]
    public private(set) var droppedCount = 0
    let keptMax: Int

    public init(keptMax: Int = Limits.findingsKeptMax) { self.keptMax = keptMax }

    public mutating func append(_ finding: Finding) {
        countByCode[finding.code, default: 0] += 1
        countBySeverity[finding.severity, default: 0] += 1
        if kept.count < keptMax { kept.append(finding) } else { droppedCount += 1 }
    }

    public var total: Int { kept.count + droppedCount }

    /// Counts the findings another log could not list (when merging a worker's log).
    public mutating func addUnlisted(_ other: FindingLog) {
        guard other.droppedCount > 0 else { return }
        droppedCount += other.droppedCount
        // Their codes and severities were counted by the other log; add those not yet counted here.
        for (code, n) in other.countByCode { countByCode[code, default: 0] += n - other.kept.filter { $0.code == code }.count }
        for (severity, n) in other.countBySeverity { countBySeverity[severity, default: 0] += n - other.kept.filter { $0.severity == severity }.count }
    }

    /// Takes in another log's findings (a check's, a worker's): listed ones appended, unlisted counted.
    public mutating func merge(_ other: FindingLog) {
        for f in other.kept { append(f) }
        addUnlisted(other)
    }

    public func sorted() -> [Finding] { kept.sorted(by: Finding.reportOrder) }

    /// The same log with each listed finding changed by `transform` (codes and severities kept).
    public func mapping(_ transform: (Finding) -> Finding) -> FindingLog {
        var out = self
        out.kept = kept.map(transform)
        return out
    }

    public func count(atLeast severity: Severity) -> Int {
        countBySeverity.filter { $0.key >= severity }.reduce(0) { $0 + $1.value }
    }
}
