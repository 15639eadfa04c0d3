import Foundation
import LedgerAuditConfig
import LedgerAuditCore
import LedgerAuditTestSupport
import Testing

@Suite("The YAML catalog", .removesTemporaryFolders)
struct CatalogLoaderTests {
    @Test("the built-in catalog is byte for byte samples/auction/ledger-audit.yml")
    func builtInMatchesSample() {
        #expect(ReferenceCatalog.yaml == TestPaths.read(TestPaths.sample + "/ledger-audit.yml"))
    }

    @Test func referenceCatalog() {
        let c = CatalogLoader.reference()
        #expect(c.defaultCurrency == "USD")
        #expect(c.limboAfterMs == 72 * 3_600_000)
        #expect(c.clockSkewMaxMs == 300_000)
        #expect(c.events.values.filter(\.movesMoney).count == 10)
        #expect(c.events["BID_PLACED"]?.movesMoney == false)
        #expect(c.mayGoNegative("external:deposits"))
        #expect(!c.mayGoNegative("user:x:available"))
        #expect(!c.mayGoNegative("something:else"))
        #expect(c.accountRule(for: "user:x:pending")?.holdKeyFromArrival == true)
        #expect(c.accountRule(for: "escrow:e")?.holdKeyField == "escrow_id")
        #expect(c.projections.first?.columns.count == 3)
    }

    @Test("config errors name the file, the line and the key", arguments: [
        ("events:\n  X:\n    from: a\n", "f.yml:3: events.X: a money event needs both from and to"),
        ("name: x\nevents: {}\nlimbo_after_hours: soon\n", "f.yml:3: limbo_after_hours: expected a whole number"),
        ("events: {}\ndefault_currency: usd\n", "f.yml:2: default_currency"),
        ("events: {}\nunknown_key: 1\n", "f.yml:2: unknown_key: unknown key"),
        ("events:\n  X:\n    from: \"a:{oops}\"\n    to: b\n", "f.yml:3: events.X.from: unknown placeholder {oops}"),
        ("accounts:\n  - kind: x\nevents: {}\n", "f.yml:2: accounts[0].pattern: is required"),
        ("events: [\n", "f.yml:2: not valid YAML"),
        ("name: x\n", "f.yml:1: events: the catalog names no events"),
    ])
    func errors(yaml: String, expected: String) {
        do {
            _ = try CatalogLoader.load(yaml: yaml, file: "f.yml")
            Issue.record("accepted")
        } catch {
            #expect(error.description.hasPrefix(expected), "\(error.description)")
        }
    }

    @Test("sources: named cells, a relative file taken from the catalog's folder; bad entries name their key", arguments: [
        ("  - name: a b\n    file: x.jsonl", "sources[0].name: a source name is 1 to"),
        ("  - name: a\n    file: x.jsonl\n    connection: host=x", "sources[0]: needs exactly one of connection, connection_env or file"),
        ("  - name: a", "sources[0]: needs exactly one of"),
        ("  - name: a\n    file: x.jsonl\n    table: t", "sources[0]: schema and table name a PostgreSQL table"),
        ("  - file: x.jsonl", "sources[0].name: is required"),
        ("  - name: a\n    file: x.jsonl\n  - name: a\n    file: y.jsonl", "sources[1].name: the name a is given to two sources"),
        ("  - name: a\n    connection_env: \"X Y\"", "sources[0].connection_env: expected the name of an environment variable"),
        ("  - name: a\n    flie: x.jsonl", "sources[0].flie: unknown key"),
        ("  []", "sources: expected a list of sources"),
    ])
    func sources(entries: String, expected: String) throws {
        let good = ReferenceCatalog.yaml + "\nsources:\n  - name: us-east\n    connection: host=db1 dbname=ledger\n    schema: cells\n    table: east_events\n"
            + "  - name: eu-west\n    connection_env: EU_WEST_PG\n  - name: archive.2025\n    file: extracts/2025.jsonl\n  - name: abs\n    file: /data/x.csv\n"
        let catalog = try CatalogLoader.load(yaml: good, file: "conf/ledger-audit.yml")
        #expect(catalog.sources == [
            CatalogSource(name: "us-east", location: .connection("host=db1 dbname=ledger"), schema: "cells", table: "east_events"),
            CatalogSource(name: "eu-west", location: .connectionFromEnvironment("EU_WEST_PG")),
            CatalogSource(name: "archive.2025", location: .file("conf/extracts/2025.jsonl")),
            CatalogSource(name: "abs", location: .file("/data/x.csv")),
        ])
        #expect(throws: ConfigError.self) { try CatalogLoader.load(yaml: ReferenceCatalog.yaml + "\nsources:\n" + entries + "\n", file: "f.yml") }
        do {
            _ = try CatalogLoader.load(yaml: ReferenceCatalog.yaml + "\nsources:\n" + entries + "\n", file: "f.yml")
        } catch {
            #expect(error.description.contains(expected), "\(error.description)")
        }
    }

    @Test("a custom catalog: other names, several postings, own currency")
    func customCatalog() throws {
        let yaml = """
            default_currency: XTS
            currencies: {XTS: 1}
            store: {schema: ledger, table: events}
            events:
              SALE:
                postings:
                  - {from: "customer:{aggregate_id}", to: "revenue", amount_field: net}
                  - {from: "customer:{aggregate_id}", to: "tax:{payload.region}", amount_field: tax}
            """
        let c = try CatalogLoader.load(yaml: yaml, file: "c.yml")
        #expect(c.store == StoreLocation(schema: "ledger", table: "events"))
        var l = LedgerBuilder()
        l.add("SALE", aggregate: "bob", payload: #"{"net": 100, "tax": 20, "region": "EU"}"#)
        let r = try replayReference(l.events, catalog: c)
        #expect(r.book.balance("customer:\(LedgerBuilder.id("bob"))", "XTS") == -120)
        #expect(r.book.balance("revenue", "XTS") == 100)
        #expect(r.book.balance("tax:EU", "XTS") == 20)
        #expect(r.population.postings == 2)
    }
}
