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
        let (amountValue, amountCount) = event.payload.value(at: rule.amountPath)
        if amountCount > 1 {
            return .failure(badAmount(event, AmountProblem.duplicated.description))
        }
        // Minor units are read before the currency (a bad currency's finding still shows the
        // amount); major units need the currency's exponent first.
        var minor: Int64?
        if rule.amountUnit == .minor {
            switch AmountParser.parse(amountValue) {
            case .success(let v): minor = v
            case .failure(let problem): return .failure(badAmount(event, problem.description))
            }
        }
        let currency: String
        switch currencyOf(event, rule) {
        case .success(let c): currency = c
        case .failure(let why): return .failure(badAmount(event, why.message, amountMinor: minor))
        }
        let amountMinor: Int64
        if let minor {
            amountMinor = minor
        } else {
            // currencyOf passes only currencies with a known exponent.
            switch AmountParser.parseMajorUnits(amountValue, currency: currency, exponent: catalog.currencies.exponent(of: currency) ?? 2) {
            case .success(let v): amountMinor = v
            case .failure(let problem): return .failure(badAmount(event, problem.description))
            }
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

    /// The posting's currency: from the payload (else the catalog's default), or the stream's.
    func currencyOf(_ event: EventRecord, _ rule: PostingRule) -> Result<String, CurrencyProblem> {
        let value: JSONValue?
        switch rule.currencyFrom {
        case .payload: value = event.payload.value(at: rule.currencyPath).value
        case .stream:
            guard let c = event.streamCurrency else {
                return .failure(CurrencyProblem("the stream names no currency (no earlier event of stream \(event.streamKey) carries store.stream_currency)"))
            }
            value = .string(c)
        }
        switch value {
        case nil, .null?: return .success(catalog.defaultCurrency)
        case .string(let code)?:
            guard CurrencyTable.isWellFormed(code) else { return .failure(CurrencyProblem("currency \(AmountParser.echo(code)) is not an ISO 4217 code")) }
            guard catalog.currencies.exponent(of: code) != nil else {
                return .failure(CurrencyProblem("currency \(code) is not in ISO 4217; name its exponent under currencies: in the catalog"))
            }
            return .success(code)
        case let other?:
            return .failure(CurrencyProblem("currency is a JSON \(other.kindName), not an ISO 4217 code"))
        }
    }

    func badAmount(_ event: EventRecord, _ why: String, amountMinor: Int64? = nil) -> Finding {
        .about(event, .badAmount, amountMinor: amountMinor, message: "\(event.eventType): \(why); the event is quarantined and moves nothing")
    }
}

/// Why an event's currency cannot be read.
struct CurrencyProblem: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
