/// An integrity check: a named observer of the replay that adds findings. One replay runs them all.
public protocol Check: ReplayObserver {
    /// The name users pass to `--check` / `--skip`.
    static var name: String { get }
    /// What it looks for, for `--list-checks`.
    static var summary: String { get }
    static var codes: [FindingCode] { get }
}

/// What the checks are given besides the catalog.
public struct CheckContext: Sendable {
    /// Limbo ages and other "as of" measures are taken at this instant (µs): `--as-of`, else now.
    public var measuredAtUs: Int64
    /// Known command ids (from `--commands FILE` or the catalog's registry), when one was given.
    public var commandRegistry: Set<EventID>?

    public init(measuredAtUs: Int64, commandRegistry: Set<EventID>? = nil) {
        self.measuredAtUs = measuredAtUs
        self.commandRegistry = commandRegistry
    }
}

/// Every check, by name, in report order.
public enum Checks {
    public static let all: [any Check.Type] = [
        StreamCheck.self, DuplicateCommandCheck.self, CausationCheck.self, ClockSkewCheck.self,
        NegativeBalanceCheck.self, LimboCheck.self, MissingActorCheck.self, CardNumberCheck.self,
    ]

    /// Checks the replay itself performs (always on): listed so users can see every code.
    public static let replayChecks: [(name: String, summary: String, codes: [FindingCode])] = [
        ("replay", "amounts, rows and event types the replay quarantines or cannot post; repeated event ids", [.badAmount, .malformedEvent, .unknownEventType, .duplicateEvent]),
    ]

    public static func make(_ type: any Check.Type, catalog: Catalog, context: CheckContext) -> any Check {
        switch type {
        case is StreamCheck.Type: return StreamCheck()
        case is DuplicateCommandCheck.Type: return DuplicateCommandCheck()
        case is CausationCheck.Type: return CausationCheck(catalog: catalog, context: context)
        case is ClockSkewCheck.Type: return ClockSkewCheck(boundMs: catalog.clockSkewMaxMs)
        case is NegativeBalanceCheck.Type: return NegativeBalanceCheck(catalog: catalog)
        case is LimboCheck.Type: return LimboCheck(catalog: catalog, measuredAtUs: context.measuredAtUs)
        case is MissingActorCheck.Type: return MissingActorCheck(catalog: catalog)
        default: return CardNumberCheck()
        }
    }
}
