import LedgerAuditCore
import Yams

/// A configuration problem, naming the file, the line and the key, for a person to fix.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var line: Int?
    public var key: String
    public var message: String

    public var description: String {
        let at = line.map { "\(file):\($0)" } ?? file
        return key.isEmpty ? "\(at): \(message)" : "\(at): \(key): \(message)"
    }
}

/// Reads the YAML event catalog. Unknown keys are refused: a typo must not silently disable a rule.
public enum CatalogLoader {
    /// The reference catalog of auction-ledger.md, built in.
    public static func reference() -> Catalog {
        do {
            return try load(yaml: ReferenceCatalog.yaml, file: "<built-in reference catalog>")
        } catch {
            fatalError("the built-in catalog is invalid: \(error)")
        }
    }

    public static func load(yaml: String, file: String) throws(ConfigError) -> Catalog {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                throw ConfigError(file: file, line: nil, key: "", message: "the catalog is empty")
            }
            root = node
        } catch let e as ConfigError {
            throw e
        } catch let e as YamlError {
            throw ConfigError(file: file, line: yamlErrorLine(e), key: "", message: "not valid YAML: \(yamlProblem(e))")
        } catch {
            throw ConfigError(file: file, line: nil, key: "", message: "not valid YAML: \(error)")
        }
        var reader = NodeReader(file: file)
        return try reader.catalog(root)
    }

    static func yamlErrorLine(_ e: YamlError) -> Int? {
        switch e {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): return mark.line
        default: return nil
        }
    }

    static func yamlProblem(_ e: YamlError) -> String {
        switch e {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _): return problem
        default: return String(describing: e)
        }
    }
}

struct NodeReader {
    let file: String

    func fail(_ node: Node?, _ key: String, _ message: String) -> ConfigError {
        ConfigError(file: file, line: node?.mark?.line, key: key, message: message)
    }

    func mapping(_ node: Node, _ key: String, allowed: Set<String>) throws(ConfigError) -> [(String, Node, Node)] {
        guard let m = node.mapping else { throw fail(node, key, "expected a mapping (key: value lines)") }
        var out: [(String, Node, Node)] = []
        var seen = Set<String>()
        for (k, v) in m {
            guard let name = k.string else { throw fail(k, key, "keys must be text") }
            let path = key.isEmpty ? name : key + "." + name
            if !allowed.isEmpty && !allowed.contains(name) {
                throw fail(k, path, "unknown key; expected one of " + allowed.sorted().joined(separator: ", "))
            }
            guard seen.insert(name).inserted else { throw fail(k, path, "appears twice") }
            out.append((name, k, v))
        }
        return out
    }

    func string(_ node: Node, _ key: String) throws(ConfigError) -> String {
        guard let s = node.scalar?.string else { throw fail(node, key, "expected text") }
        return s
    }

    func bool(_ node: Node, _ key: String) throws(ConfigError) -> Bool {
        guard let s = node.scalar?.string else { throw fail(node, key, "expected true or false") }
        switch s.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw fail(node, key, "expected true or false, found '\(s)'")
        }
    }

    /// Every number of the catalog has a floor and a ceiling: none reaches arithmetic unbounded.
    func int64(_ node: Node, _ key: String, min: Int64, max: Int64) throws(ConfigError) -> Int64 {
        guard let s = node.scalar?.string, let v = Int64(s.replacingUnderscores()) else {
            throw fail(node, key, "expected a whole number")
        }
        guard v >= min else { throw fail(node, key, "must be at least \(min)") }
        guard v <= max else { throw fail(node, key, "must be at most \(max)") }
        return v
    }

    func identifier(_ node: Node, _ key: String) throws(ConfigError) -> String {
        let s = try string(node, key)
        guard !s.isEmpty, !s.utf8.contains(0) else { throw fail(node, key, "an identifier must be non-empty") }
        return s
    }

    func template(_ node: Node, _ key: String) throws(ConfigError) -> AccountTemplate {
        let s = try string(node, key)
        do {
            return try AccountTemplate(parsing: s)
        } catch {
            throw fail(node, key, error.description)
        }
    }

    mutating func catalog(_ root: Node) throws(ConfigError) -> Catalog {
        let entries = try mapping(root, "", allowed: [
            "name", "default_currency", "store", "limbo_after_hours", "limbo_after_ms", "clock_skew_max_ms",
            "causation", "currencies", "accounts", "events", "projections", "organization", "external_description",
            "fiscal_year_start_month", "business_unit", "sources",
        ])
        var name = "catalog"
        var defaultCurrency = "USD"
        var defaultCurrencyNode: Node?
        var store = StoreLocation()
        var limboAfterMs = Limits.limboAfterDefaultMs
        var clockSkewMaxMs = Limits.clockSkewDefaultMs
        var dangling = DanglingCausation.command
        var registry: CommandRegistrySource?
        var overrides: [String: Int] = [:]
        var accounts: [AccountRule] = []
        var events: [String: EventRule]?
        var projections: [ProjectionMapping] = []
        var organization: String?
        var externalDescription: String?
        var fiscalStart = 1
        var businessUnit: String?
        var sources: [CatalogSource] = []
        for (key, keyNode, value) in entries {
            switch key {
            case "name": name = try string(value, key)
            case "default_currency":
                defaultCurrency = try string(value, key)
                defaultCurrencyNode = keyNode
            case "store": store = try self.store(value)
            case "limbo_after_hours":
                limboAfterMs = try int64(value, key, min: 1, max: 1_000_000) * 3_600_000
            case "limbo_after_ms": limboAfterMs = try int64(value, key, min: 1, max: 1_000_000 * 3_600_000)
            case "clock_skew_max_ms": clockSkewMaxMs = try int64(value, key, min: 0, max: Limits.clockSkewMaxMsMax)
            case "causation":
                for (k, _, v) in try mapping(value, key, allowed: ["dangling", "commands_table", "commands_query"]) {
                    switch k {
                    case "dangling":
                        let s = try string(v, "causation.dangling")
                        guard let d = DanglingCausation(rawValue: s) else { throw fail(v, "causation.dangling", "expected command or defect, found '\(s)'") }
                        dangling = d
                    case "commands_table":
                        var schema = "public", table = "", column = ""
                        for (tk, _, tv) in try mapping(v, "causation.commands_table", allowed: ["schema", "table", "column"]) {
                            let id = try identifier(tv, "causation.commands_table.\(tk)")
                            if tk == "schema" { schema = id } else if tk == "table" { table = id } else { column = id }
                        }
                        guard !table.isEmpty, !column.isEmpty else { throw fail(v, "causation.commands_table", "needs table and column") }
                        registry = .table(schema: schema, table: table, column: column)
                    default:
                        registry = .query(try string(v, "causation.commands_query"))
                    }
                }
            case "currencies":
                for (code, codeNode, v) in try mapping(value, key, allowed: []) {
                    guard CurrencyTable.isWellFormed(code) else { throw fail(codeNode, "currencies.\(code)", "a currency code is three capital letters") }
                    // An exponent above 18 cannot be rendered from Int64.
                    overrides[code] = Int(try int64(v, "currencies.\(code)", min: 0, max: 18))
                }
            case "accounts":
                guard let seq = value.sequence else { throw fail(value, key, "expected a list of account rules") }
                for (i, item) in seq.enumerated() { accounts.append(try accountRule(item, "accounts[\(i)]")) }
            case "events":
                events = try eventRules(value)
            case "projections":
                guard let seq = value.sequence else { throw fail(value, key, "expected a list of projections") }
                for (i, item) in seq.enumerated() { projections.append(try projection(item, "projections[\(i)]")) }
            case "organization": organization = try string(value, key)
            case "fiscal_year_start_month": fiscalStart = Int(try int64(value, key, min: 1, max: 12))
            case "business_unit": businessUnit = try string(value, key)
            case "sources": sources = try self.sources(value)
            default: externalDescription = try string(value, key)
            }
        }
        guard let events else { throw fail(root, "events", "the catalog names no events") }
        if store.mapping?.streamCurrencyPath == nil,
           let type = events.values.first(where: { $0.postings.contains { $0.currencyFrom == .stream } })?.eventType {
            throw fail(root, "events.\(type).currency_from", "stream needs store.stream_currency (the opening event's payload field naming the currency)")
        }
        let currencies = CurrencyTable(overrides: overrides)
        guard CurrencyTable.isWellFormed(defaultCurrency), currencies.exponent(of: defaultCurrency) != nil else {
            throw fail(defaultCurrencyNode, "default_currency", "'\(defaultCurrency)' is not an ISO 4217 code (or one named under currencies:)")
        }
        var catalog = Catalog(
            name: name, defaultCurrency: defaultCurrency, currencies: currencies, store: store, events: events,
            accounts: accounts, limboAfterMs: limboAfterMs, clockSkewMaxMs: clockSkewMaxMs, danglingCausation: dangling,
            projections: projections, commandRegistry: registry, organization: organization, externalDescription: externalDescription
        )
        catalog.fiscalYearStartMonth = fiscalStart
        catalog.businessUnit = businessUnit
        catalog.sources = sources
        return catalog
    }

    /// `sources:`, the named cells of one ledger. A name is plain (it lands in CSV findings and
    /// headers); a connection holds no password here, which `AuditSession` checks with libpq's
    /// own parser (the catalog is copied into every evidence pack).
    func sources(_ node: Node) throws(ConfigError) -> [CatalogSource] {
        guard let seq = node.sequence, !seq.isEmpty else { throw fail(node, "sources", "expected a list of sources (name, and connection, connection_env or file)") }
        guard seq.count <= Limits.mergedSourcesMax else { throw fail(node, "sources", "lists \(seq.count) sources, more than \(Limits.mergedSourcesMax)") }
        var out: [CatalogSource] = []
        var names = Set<String>()
        for (i, item) in seq.enumerated() {
            let key = "sources[\(i)]"
            var name: String?
            var locations: [CatalogSource.Location] = []
            var schema: String?, table: String?
            for (k, _, v) in try mapping(item, key, allowed: ["name", "connection", "connection_env", "file", "schema", "table"]) {
                let path = "\(key).\(k)"
                switch k {
                case "name":
                    let n = try string(v, path)
                    guard !n.isEmpty, n.utf8.count <= Limits.catalogSourceNameBytesMax,
                          n.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || $0.properties.numericType != nil || "-_.".unicodeScalars.contains($0)) })
                    else { throw fail(v, path, "a source name is 1 to \(Limits.catalogSourceNameBytesMax) letters, digits, '-', '_' or '.'") }
                    guard names.insert(n).inserted else { throw fail(v, path, "the name \(n) is given to two sources") }
                    name = n
                case "connection":
                    let c = try string(v, path)
                    guard !c.isEmpty else { throw fail(v, path, "is empty") }
                    locations.append(.connection(c))
                case "connection_env":
                    let e = try string(v, path)
                    guard !e.isEmpty, e.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || $0.properties.numericType != nil || $0 == "_") }) else {
                        throw fail(v, path, "expected the name of an environment variable (letters, digits, '_')")
                    }
                    locations.append(.connectionFromEnvironment(e))
                case "file":
                    let f = try string(v, path)
                    guard !f.isEmpty, !f.utf8.contains(0) else { throw fail(v, path, "expected a path") }
                    locations.append(.file(f.hasPrefix("/") ? f : folder(of: file) + f))
                case "schema": schema = try identifier(v, path)
                default: table = try identifier(v, path)
                }
            }
            guard let name else { throw fail(item, "\(key).name", "is required") }
            guard locations.count == 1, let location = locations.first else {
                throw fail(item, key, "needs exactly one of connection, connection_env or file")
            }
            if case .file = location, schema != nil || table != nil {
                throw fail(item, key, "schema and table name a PostgreSQL table; an extract carries its rows itself")
            }
            out.append(CatalogSource(name: name, location: location, schema: schema, table: table))
        }
        return out
    }

    /// The folder a relative `file:` is taken from: the catalog's own, with its trailing '/'.
    func folder(of catalogFile: String) -> String {
        guard let slash = catalogFile.lastIndex(of: "/") else { return "" }
        return String(catalogFile[...slash])
    }

    func accountRule(_ node: Node, _ key: String) throws(ConfigError) -> AccountRule {
        var pattern: String?
        var kind: String?
        var mayGoNegative = false, transit = false
        var holdKey: String?
        var fromArrival = false
        for (k, _, v) in try mapping(node, key, allowed: ["pattern", "kind", "may_go_negative", "transit", "hold_key", "hold_key_from_arrival"]) {
            let path = "\(key).\(k)"
            switch k {
            case "pattern": pattern = try string(v, path)
            case "kind": kind = try string(v, path)
            case "may_go_negative": mayGoNegative = try bool(v, path)
            case "transit": transit = try bool(v, path)
            case "hold_key": holdKey = try string(v, path)
            default:
                holdKey = try string(v, path)
                fromArrival = true
                transit = true
            }
        }
        guard let pattern, !pattern.isEmpty else { throw fail(node, "\(key).pattern", "is required") }
        return AccountRule(pattern: AccountPattern(pattern), kind: kind ?? pattern, mayGoNegative: mayGoNegative, transit: transit, holdKeyField: holdKey, holdKeyFromArrival: fromArrival)
    }

    func eventRules(_ node: Node) throws(ConfigError) -> [String: EventRule] {
        var rules: [String: EventRule] = [:]
        for (type, _, v) in try mapping(node, "events", allowed: []) {
            let key = "events.\(type)"
            var postings: [PostingRule] = []
            var from: AccountTemplate?, to: AccountTemplate?
            var fromNode: Node?
            var amountField = "amount", currencyField = "currency"
            var unit = AmountUnit.minor, currencyFrom = CurrencySource.payload
            var postingsNode: Node?
            var postingsFrom: [String]?
            var requiresActor = false
            var compensates: String?
            let fields: [(String, Node, Node)] = v.scalar?.string == "" || v.scalar?.string == "~" ? [] : try mapping(v, key, allowed: [
                "from", "to", "amount_field", "currency_field", "amount_unit", "currency_from", "requires_actor", "compensates", "postings",
                "postings_from",
            ])
            for (k, kn, fv) in fields {
                let path = "\(key).\(k)"
                switch k {
                case "from": from = try template(fv, path); fromNode = kn
                case "to": to = try template(fv, path); fromNode = fromNode ?? kn
                case "amount_field": amountField = try string(fv, path)
                case "currency_field": currencyField = try string(fv, path)
                case "amount_unit": unit = try amountUnit(fv, path)
                case "currency_from": currencyFrom = try currencySource(fv, path)
                case "postings_from":
                    let p = try string(fv, path)
                    guard !p.isEmpty else { throw fail(fv, path, "expected the payload path of an array of postings") }
                    postingsFrom = p.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
                case "requires_actor": requiresActor = try bool(fv, path)
                case "compensates": compensates = try string(fv, path)
                default: postingsNode = fv
                }
            }
            // After the loop: legs take the event's amount_unit and currency_from wherever they stand.
            if let fv = postingsNode {
                guard let seq = fv.sequence else { throw fail(fv, "\(key).postings", "expected a list of postings") }
                for (i, item) in seq.enumerated() {
                    postings.append(try postingRule(item, "\(key).postings[\(i)]", unit: unit, currencyFrom: currencyFrom))
                }
            }
            switch (from, to) {
            case let (f?, t?): postings.insert(PostingRule(from: f, to: t, amountField: amountField, currencyField: currencyField, amountUnit: unit, currencyFrom: currencyFrom), at: 0)
            case (nil, nil): break
            default: throw fail(fromNode, key, "a money event needs both from and to")
            }
            rules[type] = EventRule(eventType: type, postings: postings, requiresActor: requiresActor, compensates: compensates,
                                    payloadPostings: postingsFrom.map { PayloadPostings(path: $0, amountUnit: unit) })
        }
        return rules
    }

    /// One leg of a several-posting event; unit and currency source default to the event's.
    func postingRule(_ node: Node, _ key: String, unit eventUnit: AmountUnit, currencyFrom eventCurrencyFrom: CurrencySource) throws(ConfigError) -> PostingRule {
        var from: AccountTemplate?, to: AccountTemplate?
        var amountField = "amount", currencyField = "currency"
        var unit = eventUnit, currencyFrom = eventCurrencyFrom
        for (k, _, v) in try mapping(node, key, allowed: ["from", "to", "amount_field", "currency_field", "amount_unit", "currency_from"]) {
            let path = "\(key).\(k)"
            switch k {
            case "from": from = try template(v, path)
            case "to": to = try template(v, path)
            case "amount_field": amountField = try string(v, path)
            case "amount_unit": unit = try amountUnit(v, path)
            case "currency_from": currencyFrom = try currencySource(v, path)
            default: currencyField = try string(v, path)
            }
        }
        guard let from, let to else { throw fail(node, key, "a posting needs both from and to") }
        return PostingRule(from: from, to: to, amountField: amountField, currencyField: currencyField, amountUnit: unit, currencyFrom: currencyFrom)
    }

    func amountUnit(_ node: Node, _ key: String) throws(ConfigError) -> AmountUnit {
        let s = try string(node, key)
        guard let u = AmountUnit(rawValue: s) else { throw fail(node, key, "expected minor (integer minor units) or major (a decimal in major units), found '\(s)'") }
        return u
    }

    func currencySource(_ node: Node, _ key: String) throws(ConfigError) -> CurrencySource {
        let s = try string(node, key)
        guard let c = CurrencySource(rawValue: s) else { throw fail(node, key, "expected payload or stream, found '\(s)'") }
        return c
    }

    func projection(_ node: Node, _ key: String) throws(ConfigError) -> ProjectionMapping {
        var schema = "public", table: String?, keyColumn: String?, currencyColumn: String?
        var columns: [(column: String, account: String)] = []
        var checkpoint: ProjectionCheckpoint?
        for (k, _, v) in try mapping(node, key, allowed: ["schema", "table", "key", "currency_column", "columns", "checkpoint_query"]) {
            let path = "\(key).\(k)"
            switch k {
            case "schema": schema = try identifier(v, path)
            case "table": table = try identifier(v, path)
            case "key": keyColumn = try identifier(v, path)
            case "currency_column": currencyColumn = try identifier(v, path)
            case "checkpoint_query": checkpoint = .query(try string(v, path))
            default:
                for (col, _, tv) in try mapping(v, path, allowed: []) {
                    let t = try string(tv, "\(path).\(col)")
                    guard t.contains("{key}") else { throw fail(tv, "\(path).\(col)", "the account template must contain {key}") }
                    columns.append((col, t))
                }
            }
        }
        guard let table else { throw fail(node, "\(key).table", "is required") }
        guard let keyColumn else { throw fail(node, "\(key).key", "is required") }
        guard !columns.isEmpty else { throw fail(node, "\(key).columns", "names no column") }
        return ProjectionMapping(schema: schema, table: table, keyColumn: keyColumn, currencyColumn: currencyColumn, columns: columns, checkpoint: checkpoint)
    }
}

extension String {
    func replacingUnderscores() -> String { String(filter { $0 != "_" }) }
}
