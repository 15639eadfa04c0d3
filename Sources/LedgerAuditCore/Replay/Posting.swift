/// One leg-pair of double entry: `amountMinor` of `currency` moves from one account to another.
public struct Posting: Sendable, Equatable {
    /// The account names as made, nil when the posting carries the account's compact key
    /// instead: a name is then written only when something reads it (the book reads it only
    /// to open an account; `balances` would otherwise make two Strings a posting to drop them).
    private var fromName: String?
    private var toName: String?
    /// The accounts' compact keys, when their templates have one (see `AccountKey`): the
    /// balance book finds an account by its key without hashing or comparing its name.
    public private(set) var fromKey: AccountKey?
    public private(set) var toKey: AccountKey?
    public var currency: String
    public var amountMinor: Int64
    /// Position of the rule within its event's postings (an event may post several times).
    public var index: Int

    /// Made from the key when the posting has no name (each read writes it anew). A renamed
    /// account drops its key: a stale key would find the old account.
    public var fromAccount: String {
        get { fromName ?? fromKey.map(AccountTemplateNumbers.name) ?? "" }
        set { fromName = newValue; fromKey = nil }
    }
    public var toAccount: String {
        get { toName ?? toKey.map(AccountTemplateNumbers.name) ?? "" }
        set { toName = newValue; toKey = nil }
    }

    /// Keys are a way to find the accounts, not part of the posting.
    public static func == (a: Posting, b: Posting) -> Bool {
        a.fromAccount == b.fromAccount && a.toAccount == b.toAccount && a.currency == b.currency && a.amountMinor == b.amountMinor && a.index == b.index
    }

    public init(fromAccount: String, toAccount: String, currency: String, amountMinor: Int64, index: Int = 0) {
        fromName = fromAccount
        toName = toAccount
        self.currency = currency
        self.amountMinor = amountMinor
        self.index = index
    }

    /// Each side by its name or by its compact key (never neither: `AccountRef`).
    init(from: AccountRef, to: AccountRef, currency: String, amountMinor: Int64, index: Int) {
        (fromName, fromKey) = (from.name, from.key)
        (toName, toKey) = (to.name, to.key)
        self.currency = currency
        self.amountMinor = amountMinor
        self.index = index
    }
}

/// One side of a posting as the posting stage found it: the account's compact key, or its name
/// when its template has no key.
struct AccountRef {
    var name: String?
    var key: AccountKey?
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
    indirect case quarantined(Finding)
}

/// The post stage: catalog rules applied to one event. Pure.
public struct PostingRules: Sendable {
    public let catalog: Catalog
    /// The catalog's event rules, found by type through `ruleIndex`.
    private let rules: [CompiledRule]
    private let ruleIndex: EventTypeTable

    /// An event rule in a box, read in place through the reference: the struct read out of a
    /// dictionary was copied for every event (each of its arrays and strings retained and
    /// released, ~200 instructions an event).
    private final class CompiledRule: Sendable {
        let rule: EventRule
        init(_ rule: EventRule) { self.rule = rule }
    }

    public init(catalog: Catalog) {
        self.catalog = catalog
        let entries = catalog.events.sorted { $0.key < $1.key }
        rules = entries.map { CompiledRule($0.value) }
        ruleIndex = EventTypeTable(entries.map(\.key))
    }

    public func post(_ event: EventRecord) -> PostingOutcome {
        var fresh: [Posting] = []
        return post(event, reusing: &fresh)
    }

    /// The same verdict, its postings in `buffer`'s storage when no one else holds it (the
    /// fold hands back the array of the event before: one allocation a money event fewer).
    public func post(_ event: EventRecord, reusing buffer: inout [Posting]) -> PostingOutcome {
        guard let i = ruleIndex.index(of: event.eventType) ?? canonicallyEquivalentRule(event.eventType) else { return .unknownType }
        return post(event, rules[i], reusing: &buffer)
    }

    /// The catalog's types are matched as Swift matches String keys (canonical equivalence):
    /// a type that differs from the catalog's only in its Unicode normalization is still the
    /// catalog's. Bytes differ only outside ASCII, so only such a type takes this path.
    private func canonicallyEquivalentRule(_ type: String) -> Int? {
        guard !type.utf8.allSatisfy({ $0 < 0x80 }), let entry = catalog.events.index(forKey: type) else { return nil }
        return ruleIndex.index(of: catalog.events[entry].key)
    }

    private func post(_ event: EventRecord, _ compiled: CompiledRule, reusing buffer: inout [Posting]) -> PostingOutcome {
        guard compiled.rule.movesMoney else { return .movesNothing }
        // Taken out of `buffer`, so that the only reference is this one when no outcome of an
        // earlier event still holds it.
        var postings = buffer
        buffer = []
        postings.removeAll(keepingCapacity: true)
        postings.reserveCapacity(compiled.rule.postings.count)
        for index in compiled.rule.postings.indices {
            switch posting(event, compiled.rule.postings[index], index: index) {
            case .success(let p): postings.append(p)
            case .failure(let finding): return .quarantined(finding)
            }
        }
        if let carried = compiled.rule.payloadPostings {
            // Every leg checked; one bad leg quarantines the whole event.
            switch payloadPostings(event, carried, firstIndex: postings.count) {
            case .success(let p): postings += p
            case .failure(let finding): return .quarantined(finding)
            }
        }
        return .moves(postings)
    }

    /// `[{source, destination, amount, asset}]` from the payload: accounts as named, the amount
    /// in minor units (or major), the asset `USD` or `USD/2` (its precision must be the currency's).
    func payloadPostings(_ event: EventRecord, _ carried: PayloadPostings, firstIndex: Int) -> Result<[Posting], Finding> {
        let where_ = carried.path.joined(separator: ".")
        let (value, count) = event.payload.value(at: carried.path)
        guard count <= 1 else { return .failure(badAmount(event, "payload field \(where_) appears more than once")) }
        guard case .array(let legs)? = value else {
            return .failure(badAmount(event, "payload field \(where_) is \(value.map { "a JSON \($0.kindName)" } ?? "missing"), not an array of postings"))
        }
        guard !legs.isEmpty else { return .failure(badAmount(event, "payload field \(where_) holds no postings")) }
        guard legs.count <= Limits.payloadPostingsMax else {
            return .failure(badAmount(event, "payload field \(where_) holds \(legs.count) postings, more than \(Limits.payloadPostingsMax)"))
        }
        var out: [Posting] = []
        for (i, leg) in legs.enumerated() {
            let at = "\(where_)[\(i)]"
            guard case .object = leg else { return .failure(badAmount(event, "\(at) is a JSON \(leg.kindName), not a posting")) }
            for key in ["source", "destination", "amount", "asset"] where leg.memberCount(key) > 1 {
                return .failure(badAmount(event, "\(at).\(key) appears more than once"))
            }
            guard case .string(let source)? = leg.member("source"), !source.isEmpty,
                  case .string(let destination)? = leg.member("destination"), !destination.isEmpty else {
                return .failure(badAmount(event, "\(at) needs source and destination accounts as text"))
            }
            var currency = catalog.defaultCurrency
            var statedPrecision: Int?
            switch leg.member("asset") {
            case nil, .null?: break
            case .string(let asset)?:
                let parts = asset.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
                currency = String(parts[0])
                if parts.count == 2 {
                    guard let p = Int(parts[1]), p >= 0, p <= 18 else { return .failure(badAmount(event, "\(at).asset \(AmountParser.echo(asset)) has no precision after '/'")) }
                    statedPrecision = p
                }
            case let other?: return .failure(badAmount(event, "\(at).asset is a JSON \(other.kindName), not a currency"))
            }
            guard CurrencyTable.isWellFormed(currency), let exponent = catalog.currencies.exponent(of: currency) else {
                return .failure(badAmount(event, "\(at).asset \(AmountParser.echo(currency)) is not an ISO 4217 currency (or one named under currencies:)"))
            }
            if let p = statedPrecision, p != exponent {
                return .failure(badAmount(event, "\(at).asset says \(currency)/\(p), but \(currency) has \(exponent) decimals"))
            }
            let parsed = carried.amountUnit == .minor
                ? AmountParser.parse(leg.member("amount"))
                : AmountParser.parseMajorUnits(leg.member("amount"), currency: currency, exponent: exponent)
            switch parsed {
            case .success(let amount):
                out.append(Posting(fromAccount: source, toAccount: destination, currency: currency, amountMinor: amount, index: firstIndex + i))
            case .failure(let problem): return .failure(badAmount(event, "\(at): \(problem.description)"))
            }
        }
        return .success(out)
    }

    func posting(_ event: EventRecord, _ rule: PostingRule, index: Int) -> Result<Posting, Finding> {
        var amountValue: JSONValue?, amountCount = 0
        var currencyValue: JSONValue??
        // Minor units are read before the currency (a bad currency's finding still shows the
        // amount); major units need the currency's exponent first.
        var minor: Int64?
        // The plain path's currency as read (nil inside: the field is absent or null): kept a
        // String, since a `JSONValue.string` is a heap box (the enum is indirect), one an event.
        var plainCurrency: String??
        let usual = rule.amountPath.count == 1 && rule.currencyFrom == .payload && rule.currencyPath.count == 1 && rule.amountPath != rule.currencyPath
        if usual, rule.amountUnit == .minor, let plain = event.payload.plainAmountAndCurrency(rule.amountPath[0], rule.currencyPath[0]) {
            // The plainest payloads, read from their bytes: the same values the general path
            // below finds, without JSON values made for them; anything else takes that path.
            minor = plain.amountMinor
            plainCurrency = .some(plain.currency)
        } else {
            if usual {
                // The usual rule: both fields at the payload's top level, read in one scan.
                let both = event.payload.membersAndCounts(rule.amountPath[0], rule.currencyPath[0])
                (amountValue, amountCount) = both.first
                currencyValue = .some(both.second.value)
            } else {
                (amountValue, amountCount) = event.payload.value(at: rule.amountPath)
            }
            if amountCount > 1 {
                return .failure(badAmount(event, AmountProblem.duplicated.description))
            }
            if rule.amountUnit == .minor {
                switch AmountParser.parse(amountValue) {
                case .success(let v): minor = v
                case .failure(let problem): return .failure(badAmount(event, problem.description))
                }
            }
        }
        let currency: String
        // Spelled out: `code.map(checkedCurrency)` made a closure holding a copy of the rules
        // (a retain and a release of each of its references, every money event).
        let currencyRead: Result<String, CurrencyProblem>
        switch plainCurrency {
        case .some(.some(let code)): currencyRead = checkedCurrency(code)
        case .some(.none): currencyRead = .success(catalog.defaultCurrency)
        case .none: currencyRead = currencyOf(event, rule, payloadValue: currencyValue)
        }
        switch currencyRead {
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
        // An account with a compact key is named by it (the name is written if read); any
        // other is named now, which also finds a missing field.
        func account(_ template: AccountTemplate) -> Result<AccountRef, MalformedRow> {
            if let key = template.compactKey(for: event) { return .success(AccountRef(key: key)) }
            return template.render(for: event).map { AccountRef(name: $0) }
        }
        switch (account(rule.from), account(rule.to)) {
        case (.success(let from), .success(let to)):
            return .success(Posting(from: from, to: to, currency: currency, amountMinor: amountMinor, index: index))
        case (.failure(let m), _), (_, .failure(let m)):
            return .failure(.about(event, .malformedEvent, amountMinor: amountMinor, currency: currency, message: m.reason + "; the event moves nothing"))
        }
    }

    /// The posting's currency: from the payload (else the catalog's default), or the stream's.
    /// `payloadValue`: the payload's currency field when the caller has read it already.
    func currencyOf(_ event: EventRecord, _ rule: PostingRule, payloadValue: JSONValue?? = nil) -> Result<String, CurrencyProblem> {
        let value: JSONValue?
        switch rule.currencyFrom {
        case .payload: value = payloadValue ?? event.payload.value(at: rule.currencyPath).value
        case .stream:
            guard let c = event.streamCurrency else {
                return .failure(CurrencyProblem("the stream names no currency (no earlier event of stream \(event.streamKey) carries store.stream_currency)"))
            }
            value = .string(c)
        }
        switch value {
        case nil, .null?: return .success(catalog.defaultCurrency)
        case .string(let code)?: return checkedCurrency(code)
        case let other?:
            return .failure(CurrencyProblem("currency is a JSON \(other.kindName), not an ISO 4217 code"))
        }
    }

    /// A currency code as written: well formed, and one the catalog knows the exponent of.
    func checkedCurrency(_ code: String) -> Result<String, CurrencyProblem> {
        guard CurrencyTable.isWellFormed(code) else { return .failure(CurrencyProblem("currency \(AmountParser.echo(code)) is not an ISO 4217 code")) }
        guard catalog.currencies.exponent(of: code) != nil else {
            return .failure(CurrencyProblem("currency \(code) is not in ISO 4217; name its exponent under currencies: in the catalog"))
        }
        return .success(code)
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
