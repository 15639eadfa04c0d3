/// The event catalog: which events move money between which accounts, and the rules around them.
/// Loaded from YAML by LedgerAuditConfig; the reference ledger ships as the default.
public struct Catalog: Sendable {
    public var name: String
    public var defaultCurrency: String
    public var currencies: CurrencyTable
    public var store: StoreLocation
    public var events: [String: EventRule]
    public var accounts: [AccountRule]
    public var limboAfterMs: Int64
    public var clockSkewMaxMs: Int64
    public var danglingCausation: DanglingCausation
    public var projections: [ProjectionMapping]
    public var commandRegistry: CommandRegistrySource?
    public var organization: String?
    public var externalDescription: String?
    /// The first month of the fiscal year (1–12), for the ADS files' Fiscal_Year and Period.
    public var fiscalYearStartMonth: Int = 1
    /// The ADS Business_Unit_Code of this ledger (a cell or a legal entity), if any.
    public var businessUnit: String?
    /// Named sources (`sources:`), the cells of one ledger: read when no `--source` is given,
    /// or picked by name with `--source NAME`.
    public var sources: [CatalogSource] = []

    public init(
        name: String, defaultCurrency: String, currencies: CurrencyTable = CurrencyTable(),
        store: StoreLocation = StoreLocation(), events: [String: EventRule], accounts: [AccountRule],
        limboAfterMs: Int64 = Limits.limboAfterDefaultMs, clockSkewMaxMs: Int64 = Limits.clockSkewDefaultMs,
        danglingCausation: DanglingCausation = .command, projections: [ProjectionMapping] = [],
        commandRegistry: CommandRegistrySource? = nil, organization: String? = nil, externalDescription: String? = nil
    ) {
        self.name = name
        self.defaultCurrency = defaultCurrency
        self.currencies = currencies
        self.store = store
        self.events = events
        self.accounts = accounts
        self.limboAfterMs = limboAfterMs
        self.clockSkewMaxMs = clockSkewMaxMs
        self.danglingCausation = danglingCausation
        self.projections = projections
        self.commandRegistry = commandRegistry
        self.organization = organization
        self.externalDescription = externalDescription
    }

    /// The first account rule whose pattern matches, if any.
    public func accountRule(for account: String) -> AccountRule? {
        accountRuleIndex(for: account).map { accounts[$0] }
    }

    /// The position in `accounts` of `accountRule(for:)`.
    public func accountRuleIndex(for account: String) -> Int? {
        accounts.firstIndex { $0.pattern.matches(account) }
    }

    /// Accounts no rule names may not go negative: the safe default for money.
    public func mayGoNegative(_ account: String) -> Bool {
        accountRule(for: account)?.mayGoNegative ?? false
    }
}

/// One named source of the catalog's `sources:` list: a PostgreSQL store or a file extract.
public struct CatalogSource: Sendable, Equatable {
    public enum Location: Sendable, Equatable {
        /// A libpq connection string or URI, without a password (the catalog is copied into evidence packs).
        case connection(String)
        /// The name of an environment variable holding the connection string (it may hold a password).
        case connectionFromEnvironment(String)
        /// A file extract; a relative path is taken from the catalog's folder.
        case file(String)
    }
    public var name: String
    public var location: Location
    /// Where this store keeps the reference table, when not where `store:` says.
    public var schema: String?
    public var table: String?

    public init(name: String, location: Location, schema: String? = nil, table: String? = nil) {
        self.name = name
        self.location = location
        self.schema = schema
        self.table = table
    }
}

public struct StoreLocation: Sendable, Equatable {
    public var schema: String
    public var table: String
    /// The role the application writes with; it must not own the event table.
    public var applicationRole: String?
    /// Where each part of an event lives when the table is not the reference `event_store`.
    public var mapping: StoreMapping?
    public init(schema: String = "public", table: String = "event_store", applicationRole: String? = nil, mapping: StoreMapping? = nil) {
        self.schema = schema
        self.table = table
        self.applicationRole = applicationRole
        self.mapping = mapping
    }
}

public enum DanglingCausation: String, Sendable {
    /// A causation id that names no event is a command id (reported only against a registry).
    case command
    /// A causation id that names no event is always a defect.
    case defect
}

public enum CommandRegistrySource: Sendable, Equatable {
    case table(schema: String, table: String, column: String)
    case query(String)
}

/// How one event type moves money: one or more postings, each from one account to another.
public struct EventRule: Sendable {
    public var eventType: String
    public var postings: [PostingRule]
    public var requiresActor: Bool
    /// Marks compensating steps of a saga (for traces): they undo an earlier step.
    public var compensates: String?
    /// Postings the payload carries itself: a JSON array of `{source, destination, amount,
    /// asset}` (Formance-style ledgers), at this payload path.
    public var payloadPostings: PayloadPostings?

    public init(eventType: String, postings: [PostingRule], requiresActor: Bool = false, compensates: String? = nil, payloadPostings: PayloadPostings? = nil) {
        self.eventType = eventType
        self.postings = postings
        self.requiresActor = requiresActor
        self.compensates = compensates
        self.payloadPostings = payloadPostings
    }

    public var movesMoney: Bool { !postings.isEmpty || payloadPostings != nil }
}

public struct PostingRule: Sendable {
    public var from: AccountTemplate
    public var to: AccountTemplate
    /// Payload paths to the amount and the currency (`amount`, or `money.amount` nested).
    public var amountPath: [String]
    public var currencyPath: [String]
    public var amountUnit: AmountUnit
    public var currencyFrom: CurrencySource

    public init(from: AccountTemplate, to: AccountTemplate, amountField: String = "amount", currencyField: String = "currency",
                amountUnit: AmountUnit = .minor, currencyFrom: CurrencySource = .payload) {
        self.from = from
        self.to = to
        self.amountPath = amountField.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        self.currencyPath = currencyField.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        self.amountUnit = amountUnit
        self.currencyFrom = currencyFrom
    }

    public var amountField: String { amountPath.joined(separator: ".") }
    public var currencyField: String { currencyPath.joined(separator: ".") }
}

/// Where a payload's own postings are, and how their amounts are written.
public struct PayloadPostings: Sendable {
    public var path: [String]
    public var amountUnit: AmountUnit
    public init(path: [String], amountUnit: AmountUnit = .minor) {
        self.path = path
        self.amountUnit = amountUnit
    }
}

/// How an amount is written: integer minor units (cents), or a decimal in major units
/// (`"12.50"` dollars) converted exactly with the currency's exponent.
public enum AmountUnit: String, Sendable {
    case minor, major
}

/// Where an event's currency comes from: its own payload (else the default currency), or its
/// stream's opening event (`store.stream_currency`), as stores that keep it once per account do.
public enum CurrencySource: String, Sendable {
    case payload, stream
}

/// What the catalog says of accounts matching a pattern.
public struct AccountRule: Sendable {
    public var pattern: AccountPattern
    /// A label for the trial balance (e.g. "user available", "escrow", "external").
    public var kind: String
    public var mayGoNegative: Bool
    /// Transit accounts hold money between saga steps; money left there too long is in limbo.
    public var transit: Bool
    /// The payload field that names a hold in this account (`reservation_id`, `escrow_id`).
    public var holdKeyField: String?
    /// For accounts whose money leaves without naming a hold (seller pending): holds are taken
    /// first-in first-out, keyed by this field of the event that brought the money.
    public var holdKeyFromArrival: Bool

    public init(pattern: AccountPattern, kind: String, mayGoNegative: Bool = false, transit: Bool = false, holdKeyField: String? = nil, holdKeyFromArrival: Bool = false) {
        self.pattern = pattern
        self.kind = kind
        self.mayGoNegative = mayGoNegative
        self.transit = transit
        self.holdKeyField = holdKeyField
        self.holdKeyFromArrival = holdKeyFromArrival
    }
}

/// A projection table and which of its columns mirror which accounts.
public struct ProjectionMapping: Sendable {
    public var schema: String
    public var table: String
    public var keyColumn: String
    public var currencyColumn: String?
    /// column name → account template, placeholders `{key}` for the key column's value.
    public var columns: [(column: String, account: String)]
    public var checkpoint: ProjectionCheckpoint?

    public init(schema: String = "public", table: String, keyColumn: String, currencyColumn: String?, columns: [(column: String, account: String)], checkpoint: ProjectionCheckpoint? = nil) {
        self.schema = schema
        self.table = table
        self.keyColumn = keyColumn
        self.currencyColumn = currencyColumn
        self.columns = columns
        self.checkpoint = checkpoint
    }
}

public enum ProjectionCheckpoint: Sendable, Equatable {
    /// A query returning one row: the last applied event id, or (hlc_physical, hlc_logical, event_id).
    case query(String)
}
