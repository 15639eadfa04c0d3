/// One leg-pair of double entry: `amountMinor` of `currency` moves from one account to another.
public struct Posting: Sendable, Equatable {
    public var fromAccount: String
    public var toAccount: String
    public var currency: String
    public var amountMinor: Int64
    /// Position of the rule within its event's postings (an event may post several times).
    public var index: Int

    public init(fromAccount: String, toAccount: String, currency: String, amountMinor: Int64, index: Int = 0) {
        self.fromAccount = fromAccount
        self.toAccount = toAccount
        self.currency = currency
        self.amountMinor = amountMinor
        self.index = index
    }
}

/// What the catalog makes of one event.
public enum PostingOutcome: Sendable {
    /// A money event: its postings (possibly of amount 0).
    case moves([Posting])
    /// A known event type that moves no money.
    case movesNothing
    /// The catalog does not know this type: it moves nothing and is reported.
    case unknownType
    /// Bad money or an unreadable field: the event moves nothing and is reported.
    case quarantined(Finding)
}

/// The post stage: catalog rules applied to one event. Pure.
public struct PostingRules: Sendable {
    public let catalog: Catalog

    public init(catalog: Catalog) { self.catalog = catalog }

    public func post(_ event: EventRecord) -> PostingOutcome {
        guard let rule = catalog.events[event.eventType] else { return .unknownType }
        guard rule.movesMoney else { return .movesNothing }
        var postings: [Posting] = []
        postings.reserveCapacity(rule.postings.count)
        for (index, postingRule) in rule.postings.enumerated() {
            switch posting(event, postingRule, index: index) {
            case .success(let p): postings.append(p)
            case .failure(let finding): return .quarantined(finding)
            }
        }
        return .moves(postings)
    }

    func posting(_ event: EventRecord, _ rule: PostingRule, index: Int) -> Result<Posting, Finding> {
        let amountMinor: Int64
        let (amountValue, amountCount) = event.payload.memberAndCount(rule.amountField)
        if amountCount > 1 {
            return .failure(badAmount(event, AmountProblem.duplicated.description))
        }
        switch AmountParser.parse(amountValue) {
        case .success(let v): amountMinor = v
        case .failure(let problem): return .failure(badAmount(event, problem.description))
        }
        let currency: String
        switch event.payload.member(rule.currencyField) {
        case nil, .null?: currency = catalog.defaultCurrency
        case .string(let code)?:
            guard CurrencyTable.isWellFormed(code) else {
                return .failure(badAmount(event, "currency \(AmountParser.echo(code)) is not an ISO 4217 code", amountMinor: amountMinor))
            }
            guard catalog.currencies.exponent(of: code) != nil else {
                return .failure(badAmount(event, "currency \(code) is not in ISO 4217; name its exponent under currencies: in the catalog", amountMinor: amountMinor))
            }
            currency = code
        case let other?:
            return .failure(badAmount(event, "currency is a JSON \(other.kindName), not an ISO 4217 code", amountMinor: amountMinor))
        }
        let from: String
        let to: String
        switch (rule.from.render(for: event), rule.to.render(for: event)) {
        case (.success(let f), .success(let t)):
            from = f
            to = t
        case (.failure(let m), _), (_, .failure(let m)):
            return .failure(.about(event, .malformedEvent, amountMinor: amountMinor, currency: currency, message: m.reason + "; the event moves nothing"))
        }
        return .success(Posting(fromAccount: from, toAccount: to, currency: currency, amountMinor: amountMinor, index: index))
    }

    func badAmount(_ event: EventRecord, _ why: String, amountMinor: Int64? = nil) -> Finding {
        .about(event, .badAmount, amountMinor: amountMinor, message: "\(event.eventType): \(why); the event is quarantined and moves nothing")
    }
}
