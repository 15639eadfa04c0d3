import LedgerAuditConfig
import LedgerAuditCore
import LedgerAuditTestSupport
import Testing

/// The money rules and store layouts of real payloads, without a database: decimals in major
/// units converted exactly, type-tagged values, the currency named once per stream, and the
/// catalog's `store:` layout checked as it loads.
@Suite("any store: money rules and layouts", .removesTemporaryFolders)
struct StoreMappingTests {
    @Test("a decimal in major units becomes minor units exactly, with the currency's exponent", arguments: [
        ("\"12.50\"", "USD", 2, Int64(1250)), ("12.5", "USD", 2, 1250), ("\"12\"", "USD", 2, 1200), ("\"12.500\"", "USD", 2, 1250),
        ("\"1500\"", "JPY", 0, 1500), ("\"0.001\"", "BHD", 3, 1), ("\"92233720368547758.07\"", "USD", 2, Int64.max),
    ])
    func majorUnits(json: String, currency: String, exponent: Int, expected: Int64) throws {
        #expect(AmountParser.parseMajorUnits(try JSONParser.parse(json), currency: currency, exponent: exponent) == .success(expected))
    }

    @Test("more decimals than the currency has, signs, exponents and overflow are refused, never rounded", arguments: [
        "\"12.505\"", "\"1500.5\"", "\"-1.00\"", "\"1e3\"", "\"12.\"", "\".5\"", "\"92233720368547758.08\"", "true", "{}", "\"1,00\"",
    ])
    func majorUnitsRefused(json: String) throws {
        let currency = json.contains("1500") ? "JPY" : "USD"
        guard case .failure = AmountParser.parseMajorUnits(try JSONParser.parse(json), currency: currency, exponent: currency == "JPY" ? 0 : 2) else {
            Issue.record("\(json) was accepted")
            return
        }
    }

    @Test("type-tagged values (the Python eventsourcing library) read through their tag; other objects stay objects")
    func typeTags() throws {
        let tagged = try JSONParser.parse(#"{"amount": {"_type_": "decimal_str", "_data_": "12.50"}, "to": {"_type_": "uuid_hex", "_data_": "0f0f0f0f00004000800000000000000a"}, "n": [{"_type_": "decimal_str", "_data_": "1"}]}"#)
        let plain = tagged.deepUntagged
        #expect(plain.member("amount") == .string("12.50"))
        #expect(plain.member("to") == .string("0f0f0f0f-0000-4000-8000-00000000000a"))
        #expect(plain.member("n") == .array([.string("1")]))
        let notATag = try JSONParser.parse(#"{"_type_": "x", "_data_": 1, "more": 2}"#)
        #expect(notATag.untagged == notATag)
    }

    static let layout = """
        name: t
        store:
          table: bank_events
          order: [notification_id]
          fields:
            event_id: absent
            event_type: topic
            stream: originator_id
            stream_version: originator_version
            time: state->timestamp
            payload: state
            metadata: absent
            causation: absent
            correlation: absent
            actor: absent
          json_columns: {state: bytea}
          stream_currency: currency
        events:
          Deposited:
            from: "external:deposits"
            to: "account:{stream}"
            amount_unit: major
            currency_from: stream
        """

    @Test("a store layout loads with every field placed; the checks it cannot support say why")
    func layoutLoads() throws {
        let catalog = try CatalogLoader.load(yaml: Self.layout, file: "t.yml")
        let mapping = try #require(catalog.store.mapping)
        #expect(mapping.order.map(\.name) == ["notification_id"])
        #expect(mapping.source(.time) == .json(.init("state"), path: ["timestamp"]))
        #expect(mapping.jsonType(.init("state")) == .bytea)
        #expect(catalog.store.notRecorded([.causation]) == "not applicable: the store records no causation")
        #expect(catalog.events["Deposited"]?.postings.first?.amountUnit == .major)
    }

    @Test("layout mistakes are exit-2 errors naming the key", arguments: [
        ("    time: state->timestamp\n", "", "store.fields.time"),
        ("  order: [notification_id]\n", "", "store.order"),
        ("    stream: originator_id", "    stream: absent", "store.fields.stream"),
        ("    time: state->timestamp", "    time: data->timestamp", "json_columns does not name"),
        ("  stream_currency: currency\n", "", "currency_from"),
        ("    payload: state", "    payload: state\n    colour: red", "unknown key"),
    ])
    func layoutErrors(remove: String, insert: String, named: String) {
        #expect(Self.layout.contains(remove))
        let yaml = Self.layout.replacingOccurrences(of: remove, with: insert)
        do {
            _ = try CatalogLoader.load(yaml: yaml, file: "t.yml")
            Issue.record("accepted without \(remove)")
        } catch {
            #expect(error.description.contains(named), "\(error)")
        }
    }

    @Test("the currency comes from the stream's opening event; without one the event is BAD_AMOUNT")
    func streamCurrency() throws {
        let catalog = try CatalogLoader.load(yaml: Self.layout, file: "t.yml")
        var l = LedgerBuilder()
        l.add("Deposited", aggregate: "a", payload: #"{"amount": "12.50"}"#)
        var events = l.events
        events[0].streamCurrency = "JPY"
        let rules = PostingRules(catalog: catalog)
        // JPY has no minor unit: "12.50" has more decimals than it allows.
        guard case .quarantined(let f) = rules.post(events[0]) else { Issue.record("posted"); return }
        #expect(f.message.contains("more decimals than JPY allows"))
        events[0].streamCurrency = "EUR"
        guard case .moves(let p) = rules.post(events[0]) else { Issue.record("not posted"); return }
        #expect(p.first?.amountMinor == 1250 && p.first?.currency == "EUR")
        events[0].streamCurrency = nil
        guard case .quarantined(let g) = rules.post(events[0]) else { Issue.record("posted"); return }
        #expect(g.code == .badAmount && g.message.contains("names no currency"))
    }

    static let formance = """
        name: f
        accounts:
          - {pattern: "world", kind: external, may_go_negative: true}
        events:
          TRANSACTION_CREATED:
            postings_from: transaction.postings
        """

    @Test("postings the payload carries (Formance-style): every leg checked, the event applied whole or quarantined whole")
    func payloadPostings() throws {
        let rules = PostingRules(catalog: try CatalogLoader.load(yaml: Self.formance, file: "f.yml"))
        func post(_ postings: String) -> PostingOutcome {
            var l = LedgerBuilder()
            return rules.post(l.add("TRANSACTION_CREATED", aggregate: "t", payload: #"{"transaction": {"postings": \#(postings)}}"#))
        }
        guard case .moves(let p) = post(#"[{"source": "world", "destination": "users:001", "amount": 1250, "asset": "USD/2"}, {"source": "users:001", "destination": "fees", "amount": 3, "asset": "EUR"}]"#) else {
            Issue.record("not posted")
            return
        }
        #expect(p.map(\.amountMinor) == [1250, 3] && p.map(\.currency) == ["USD", "EUR"] && p[0].toAccount == "users:001" && p[1].index == 1)
        for bad in [#"[{"source": "world", "destination": "a", "amount": 1, "asset": "USD/3"}]"#, #"[{"source": "world", "destination": "a", "amount": 1}, {"source": "a", "amount": 1}]"#,
                    #"[{"source": "world", "destination": "a", "amount": 1.5}]"#, "[]", "{}", #"[{"source": "world", "destination": "a", "amount": 1, "asset": "usd"}]"#, "[1]"] {
            guard case .quarantined(let f) = post(bad) else { Issue.record("\(bad) was posted"); continue }
            #expect(f.code == .badAmount, "\(bad)")
        }
    }
}
