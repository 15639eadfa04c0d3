import Foundation
import LedgerAuditTestSupport
import Testing

/// Real event stores, written by their own code, audited with the catalogs shipped under
/// samples/stores/: the Python `eventsourcing` library (its Application and PostgreSQL
/// persistence module), Message DB (installed by its own install.sh, written through
/// write_message), Marten and Eventuous (their DDL, rows by plain SQL).
@Suite("any PostgreSQL store: shipped layouts on stores written by their own code", .removesTemporaryFolders)
struct StoreLayoutTests {
    static func catalog(_ store: String) -> String { TestPaths.packageRoot + "/samples/stores/\(store)/ledger-audit.yml" }

    /// libpq key=value pairs of a conninfo (host, port, user, dbname).
    static func parts(_ conninfo: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in conninfo.split(separator: " ") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { out[String(kv[0])] = String(kv[1]) }
        }
        return out
    }

    /// balances.csv as account → (currency, balance_minor).
    static func balances(_ folder: String) -> [String: (String, Int64)] {
        var out: [String: (String, Int64)] = [:]
        for line in TestPaths.read(folder + "/balances.csv").split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            out[f[0]] = (f[1], Int64(f[2])!)
        }
        return out
    }

    static func run(_ command: String, _ db: ScratchDatabase, _ store: String, _ more: [String] = []) throws -> (RunResult, String) {
        let out = TestPaths.temporaryDirectory("store-\(store)")
        let r = try runTool([command, "--source", db.conninfo, "--config", catalog(store), "--out", out, "--format", "csv", "-q"] + more)
        return (r, out)
    }

    /// A decimal string in major units to minor units (exact; the test's own arithmetic).
    static func minor(_ decimal: String, exponent: Int) -> Int64 {
        let parts = decimal.split(separator: ".", omittingEmptySubsequences: false)
        var fraction = parts.count > 1 ? String(parts[1]) : ""
        while fraction.count < exponent { fraction += "0" }
        return Int64(String(parts[0]) + fraction.prefix(exponent))!
    }

    @Test("eventsourcing (Python): balances equal the application's own aggregates, account by account; the over-precise amount is BAD_AMOUNT")
    func pythonEventsourcing() throws {
        let db = try ScratchDatabase("eventsourcing")
        let pg = Self.parts(db.conninfo)
        let app = Process()
        app.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        app.arguments = ["python3", TestPaths.packageRoot + "/samples/stores/eventsourcing/bank.py"]
        app.environment = ProcessInfo.processInfo.environment.merging([
            "PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_DBNAME": db.name, "POSTGRES_HOST": pg["host"] ?? "",
            "POSTGRES_PORT": pg["port"] ?? "5432", "POSTGRES_USER": pg["user"] ?? "postgres", "POSTGRES_PASSWORD": "unused",
        ]) { $1 }
        let output = Pipe(), errors = Pipe()
        app.standardOutput = output
        app.standardError = errors
        try app.run()
        let printed = output.fileHandleForReading.readDataToEndOfFile()
        app.waitUntilExit()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        try #require(app.terminationStatus == 0, "bank.py failed (pip install 'eventsourcing[postgres]==9.5.6'; .ci/run does): \(stderr)")
        let report = try JSONSerialization.jsonObject(with: printed) as! [String: Any]
        let accounts = report["accounts"] as! [String: [String: String]]
        let badAccount = report["bad_amount_account"] as! String

        let (r, out) = try Self.run("balances", db, "eventsourcing")
        defer { try? FileManager.default.removeItem(atPath: out) }
        #expect(r.status == 1, "\(r.stderr)")  // the bad amount is a finding
        let ours = Self.balances(out)
        let exponents = ["USD": 2, "EUR": 2, "JPY": 0]
        for (id, account) in accounts {
            let currency = account["currency"]!
            var expected = Self.minor(account["balance"]!, exponent: exponents[currency]!)
            if id == badAccount {
                // The application took 10.505 USD; the audit never rounds it and moves nothing:
                // the account is the application's balance without it (in thousandths, exactly).
                let thousandths = Self.minor(account["balance"]!, exponent: 3) - Self.minor(report["bad_amount"] as! String, exponent: 3)
                #expect(thousandths % 10 == 0)
                expected = thousandths / 10
            }
            let got = ours["account:\(id)"]
            #expect(got?.0 == currency, "\(id)")
            #expect(got?.1 == expected, "\(id): \(String(describing: got)) vs \(expected)")
        }
        let findings = TestPaths.read(out + "/findings.csv")
        #expect(findings.contains("BAD_AMOUNT") && findings.contains("'10.505' has more decimals than USD allows"))
        #expect(findings.split(separator: "\n").count == 2, "\(findings)")

        // verify: the checks the store cannot support say so; stream checks pass.
        let (v, vout) = try Self.run("verify", db, "eventsourcing", ["--skip", "append-only", "--format", "csv,html"])
        defer { try? FileManager.default.removeItem(atPath: vout) }
        #expect(v.status == 1, "\(v.stderr)")
        let html = TestPaths.read(vout + "/verify.html")
        #expect(html.contains("not applicable: the store records no causation"))
        #expect(html.contains("not applicable: the store records no correlation"))
        #expect(!TestPaths.read(vout + "/findings.csv").contains("STREAM_"))

        // Seals and an evidence pack over the same store: the seal checks out, the pack verifies.
        let seals = TestPaths.temporaryDirectory("store-seals")
        defer { try? FileManager.default.removeItem(atPath: seals) }
        let sealed = try runTool(["seal", "--source", db.conninfo, "--config", Self.catalog("eventsourcing"), "--seals", seals + "/seals.jsonl", "--out", seals + "/report", "-q"])
        #expect(sealed.status == 0 || sealed.status == 1, "\(sealed.stderr)")
        let (checked, cout) = try Self.run("verify", db, "eventsourcing", ["--skip", "append-only", "--seals", seals + "/seals.jsonl"])
        defer { try? FileManager.default.removeItem(atPath: cout) }
        #expect(checked.status == 1 && !TestPaths.read(cout + "/findings.csv").contains("SEAL_BROKEN"), "\(checked.stderr)")
        let pack = seals + "/pack"
        let made = try runTool(["evidence", "--source", db.conninfo, "--config", Self.catalog("eventsourcing"), "--as-of", "2100-01-01T00:00:00Z", "--out", pack, "-q"])
        #expect(made.status == 1, "\(made.stderr)")
        let verified = try runTool(["verify-pack", pack])
        #expect(verified.status == 0, "\(verified.stdout) \(verified.stderr)")
    }

    @Test("Message DB: installed by its install.sh, written by write_message; balances, streams from 0, causation by position, statements")
    func messageDB() throws {
        let db = try ScratchDatabase("messagedb")
        let pg = Self.parts(db.conninfo)
        let install = Process()
        install.executableURL = URL(fileURLWithPath: "/bin/bash")
        let folder = TestPaths.packageRoot + "/Tests/ThirdParty/message-db/database"
        install.arguments = [folder + "/install.sh"]
        install.environment = ProcessInfo.processInfo.environment.merging([
            "PGHOST": pg["host"] ?? "", "PGPORT": pg["port"] ?? "5432", "PGUSER": pg["user"] ?? "postgres",
            "DATABASE_NAME": db.name, "CREATE_DATABASE": "off",
        ]) { $1 }
        install.standardOutput = FileHandle.nullDevice
        let installErrors = Pipe()
        install.standardError = installErrors
        try install.run()
        install.waitUntilExit()
        let installLog = String(decoding: installErrors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        try #require(install.terminationStatus == 0, "install.sh failed: \(installLog)")

        let path = "SET search_path = message_store, public; "
        func write(_ stream: String, _ type: String, _ data: String, metadata: String = "NULL", expected: String = "NULL") throws {
            try db.exec(path + "SELECT write_message(gen_random_uuid()::varchar, '\(stream)', '\(type)', '\(data)'::jsonb, \(metadata), \(expected))")
        }
        func causedBy(_ commandStream: String) -> String {
            "jsonb_build_object('causationMessageGlobalPosition', (SELECT max(global_position) FROM message_store.messages WHERE stream_name = '\(commandStream)'), 'correlationStreamName', '\(commandStream)')"
        }
        try write("account:command-a1", "Open", #"{"currency": "USD"}"#)
        try write("account-a1", "Opened", #"{"currency": "USD"}"#, metadata: causedBy("account:command-a1"), expected: "-1")
        try write("account:command-a1", "Deposit", #"{"amount": 10000}"#)
        try write("account-a1", "Deposited", #"{"amount": 10000, "currency": "USD"}"#, metadata: causedBy("account:command-a1"), expected: "0")
        try write("account-b2", "Opened", #"{"currency": "USD"}"#, expected: "-1")
        try write("account:command-a1", "Transfer", #"{"amount": 2500}"#)
        try write("account-a1", "Transferred", #"{"amount": 2500, "fee": 25, "toStream": "account-b2"}"#, metadata: causedBy("account:command-a1"), expected: "1")
        try write("account-b2", "TransferReceived", #"{"amount": 2500}"#, expected: "0")
        try write("account-b2", "Withdrawn", #"{"amount": 1000}"#, expected: "1")
        try write("account-e3", "Opened", #"{"currency": "EUR"}"#, expected: "-1")
        // A cause that names no message: the causation check must say so.
        try write("account-e3", "Deposited", #"{"amount": 5000, "currency": "EUR"}"#, metadata: #"'{"causationMessageGlobalPosition": 9999}'"#, expected: "0")
        let before = try db.scalar("SELECT count(*) FROM message_store.messages")
        // An expected-version conflict writes nothing.
        #expect(throws: ScratchDatabase.SQLFailure.self) { try write("account-b2", "Withdrawn", #"{"amount": 1}"#, expected: "0") }
        #expect(try db.scalar("SELECT count(*) FROM message_store.messages") == before)

        let (r, out) = try Self.run("balances", db, "message-db")
        defer { try? FileManager.default.removeItem(atPath: out) }
        #expect(r.status == 0, "\(r.stderr)")
        let b = Self.balances(out)
        #expect(b["account:account-a1"]! == ("USD", 7475))
        #expect(b["account:account-b2"]! == ("USD", 1500))
        #expect(b["account:account-e3"]! == ("EUR", 5000))
        #expect(b["platform:fees"]! == ("USD", 25))
        #expect(b["external:withdrawals"]! == ("USD", 1000))

        let (v, vout) = try Self.run("verify", db, "message-db", ["--skip", "append-only", "--fail-on", "medium"])
        defer { try? FileManager.default.removeItem(atPath: vout) }
        #expect(v.status == 1, "\(v.stderr)")
        let findings = TestPaths.read(vout + "/findings.csv").split(separator: "\n").dropFirst()
        #expect(findings.count == 1 && findings.first!.hasPrefix("ORPHAN_CAUSATION"), "\(findings)")  // streams from 0: no STREAM_GAP

        // The statement of one account, and the trace of an event back to its command.
        let (s, sout) = try Self.run("statement", db, "message-db", ["--account", "account:account-a1"])
        defer { try? FileManager.default.removeItem(atPath: sout) }
        #expect(s.status == 0, "\(s.stderr)")
        let statement = try FileManager.default.contentsOfDirectory(atPath: sout).filter { $0.hasSuffix(".csv") }.map { TestPaths.read(sout + "/" + $0) }.joined()
        #expect(statement.contains("Deposited") && statement.contains("Transferred"), "\(statement)")
        let deposited = try db.scalar("SELECT id FROM message_store.messages WHERE type = 'Deposited' AND stream_name = 'account-a1'")
        let command = try db.scalar("SELECT id FROM message_store.messages WHERE type = 'Deposit'")
        let (t, tout) = try Self.run("trace", db, "message-db", ["--event", deposited])
        defer { try? FileManager.default.removeItem(atPath: tout) }
        #expect(t.status == 0, "\(t.stderr)")
        let trace = try FileManager.default.contentsOfDirectory(atPath: tout).filter { $0.hasSuffix(".csv") }.map { TestPaths.read(tout + "/" + $0) }.joined()
        #expect(trace.contains(command), "the trace names the command that caused the deposit: \(trace)")
    }

    @Test("Marten and Eventuous: tables from the shipped DDL, rows by plain SQL; balances exact in major-unit decimals")
    func martenAndEventuous() throws {
        let marten = try ScratchDatabase("marten")
        try marten.exec(TestPaths.read(TestPaths.packageRoot + "/samples/stores/marten/schema.sql"))
        try marten.exec("""
            INSERT INTO mt_streams (id, type, version) VALUES ('11111111-1111-4111-8111-111111111111', 'Account', 3), ('22222222-2222-4222-8222-222222222222', 'Account', 2);
            INSERT INTO mt_events (seq_id, id, stream_id, version, data, type, timestamp, correlation_id, causation_id, user_name) VALUES
             (nextval('mt_events_sequence'), gen_random_uuid(), '11111111-1111-4111-8111-111111111111', 1, '{"Owner": "alice", "Currency": "EUR"}', 'account_opened', now(), 'c1', NULL, 'alice'),
             (nextval('mt_events_sequence'), gen_random_uuid(), '11111111-1111-4111-8111-111111111111', 2, '{"Amount": 125.50}', 'account_credited', now(), 'c2', 'cmd-2', 'alice'),
             (nextval('mt_events_sequence'), gen_random_uuid(), '22222222-2222-4222-8222-222222222222', 1, '{"Owner": "bob", "Currency": "JPY"}', 'account_opened', now(), 'c3', NULL, 'bob'),
             (nextval('mt_events_sequence'), gen_random_uuid(), '22222222-2222-4222-8222-222222222222', 2, '{"Amount": 3000}', 'account_credited', now(), 'c4', 'cmd-4', 'bob'),
             (nextval('mt_events_sequence'), gen_random_uuid(), '11111111-1111-4111-8111-111111111111', 3, '{"Amount": 25.5}', 'account_debited', now(), 'c5', 'cmd-5', 'alice'),
             (nextval('mt_events_sequence'), gen_random_uuid(), '22222222-2222-4222-8222-222222222222', 3, '{"Amount": 0.5}', 'account_credited', now(), 'c6', 'cmd-6', 'bob');
            """)
        let (m, mout) = try Self.run("balances", marten, "marten")
        defer { try? FileManager.default.removeItem(atPath: mout) }
        #expect(m.status == 1, "\(m.stderr)")  // 0.5 JPY has more decimals than JPY allows
        let mb = Self.balances(mout)
        #expect(mb["account:11111111-1111-4111-8111-111111111111"]! == ("EUR", 10000))
        #expect(mb["account:22222222-2222-4222-8222-222222222222"]! == ("JPY", 3000))
        #expect(TestPaths.read(mout + "/findings.csv").contains("'0.5' has more decimals than JPY allows (0)"))

        let eventuous = try ScratchDatabase("eventuous")
        try eventuous.exec(TestPaths.read(TestPaths.packageRoot + "/samples/stores/eventuous/schema.sql"))
        try eventuous.exec("""
            INSERT INTO eventuous.streams (stream_name, version) VALUES ('Account-a', 2), ('Account-b', 1);
            INSERT INTO eventuous.messages (message_id, message_type, stream_id, stream_position, json_data, json_metadata, created) VALUES
             (gen_random_uuid(), 'V1.AccountOpened', 1, 0, '{"currency": "USD"}', '{"eventuous.correlation-id": "k1"}', now() at time zone 'utc'),
             (gen_random_uuid(), 'V1.FundsDeposited', 1, 1, '{"amount": "100.00", "currency": "USD"}', '{"eventuous.correlation-id": "k2", "eventuous.causation-id": "cmd-k2"}', now() at time zone 'utc'),
             (gen_random_uuid(), 'V1.AccountOpened', 2, 0, '{"currency": "USD"}', '{}', now() at time zone 'utc'),
             (gen_random_uuid(), 'V1.TransferSent', 1, 2, '{"amount": "40.10", "fee": "0.40", "currency": "USD", "toAccount": "Account-b"}', '{}', now() at time zone 'utc'),
             (gen_random_uuid(), 'V1.TransferReceived', 2, 1, '{"amount": "40.10", "currency": "USD"}', '{}', now() at time zone 'utc');
            """)
        let (e, eout) = try Self.run("balances", eventuous, "eventuous")
        defer { try? FileManager.default.removeItem(atPath: eout) }
        #expect(e.status == 0, "\(e.stderr)")
        let eb = Self.balances(eout)
        #expect(eb["account:Account-a"]! == ("USD", 5950))
        #expect(eb["account:Account-b"]! == ("USD", 4010))
        #expect(eb["platform:fees"]! == ("USD", 40))
        let (v, vout) = try Self.run("verify", eventuous, "eventuous", ["--skip", "append-only"])
        defer { try? FileManager.default.removeItem(atPath: vout) }
        #expect(v.status == 0, "\(v.stderr) \(TestPaths.read(vout + "/findings.csv"))")
    }

    @Test("a store of no known project: text ids, int4 versions, epoch-ms time, json and text columns; back-dated rows and gaps are found")
    func unknownStore() throws {
        let db = try ScratchDatabase("ownstore")
        try db.exec("""
            CREATE SCHEMA ledger;
            CREATE TABLE ledger.journal (seq bigint PRIMARY KEY, entry_id text NOT NULL, kind text NOT NULL, account_ref text NOT NULL,
              rev int NOT NULL, at_ms bigint NOT NULL, body json, meta text);
            INSERT INTO ledger.journal VALUES
              (10, 'e-1', 'credit', 'acct/7', 1, 1780000000000, '{"amount": "5.25", "ccy": "GBP"}', '{"by": "clerk-1"}'),
              (11, 'e-2', 'credit', 'acct/8', 1, 1780000001000, '{"amount": "1.00", "ccy": "GBP"}', '{"by": "clerk-1", "cause": "e-1"}'),
              (13, 'e-3', 'debit',  'acct/7', 2, 1780000002000, '{"amount": "0.25", "ccy": "GBP"}', '{"by": "clerk-2", "cause": "e-9"}'),
              (14, 'e-4', 'credit', 'acct/8', 3, 1779990000000, '{"amount": "2", "ccy": "GBP"}', '{"by": "clerk-2"}');
            """)
        let folder = TestPaths.temporaryDirectory("ownstore")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let catalog = """
            name: own
            default_currency: GBP
            store:
              schema: ledger
              table: journal
              order: [seq]
              fields: {event_id: entry_id, event_type: kind, stream: account_ref, stream_version: rev, time: at_ms,
                       payload: body, metadata: meta, causation: meta->cause, correlation: absent, actor: meta->by}
              json_columns: {body: json, meta: text}
              time_epoch: ms
            clock_skew_max_ms: 60000
            causation: {dangling: defect}
            accounts:
              - {pattern: "bank:*", kind: external, may_go_negative: true}
            events:
              credit: {from: "bank:cash", to: "client:{stream}", amount_unit: major, currency_field: ccy, requires_actor: true}
              debit: {from: "client:{stream}", to: "bank:cash", amount_unit: major, currency_field: ccy, requires_actor: true}
            """
        FileManager.default.createFile(atPath: folder + "/own.yml", contents: Data(catalog.utf8))
        let out = folder + "/verify"
        let r = try runTool(["verify", "--source", db.conninfo, "--config", folder + "/own.yml", "--out", out, "--format", "csv", "-q", "--skip", "append-only", "--fail-on", "medium"])
        #expect(r.status == 1, "\(r.stderr)")
        let findings = TestPaths.read(out + "/findings.csv")
        #expect(findings.contains("CLOCK_SKEW") && findings.contains("time runs backwards"), "\(findings)")  // e-4 is 12,000 s before e-3
        #expect(findings.contains("STREAM_GAP"), "\(findings)")  // acct/8 skips rev 2
        #expect(findings.contains("ORPHAN_CAUSATION"), "\(findings)")  // e-9 names no entry
        #expect(!findings.contains("MALFORMED_EVENT"), "\(findings)")
        let b = try runTool(["balances", "--source", db.conninfo, "--config", folder + "/own.yml", "--out", folder + "/b", "--format", "csv", "-q"])
        #expect(b.status == 0, "\(b.stderr)")
        let bal = Self.balances(folder + "/b")
        #expect(bal["client:acct/7"]! == ("GBP", 500) && bal["client:acct/8"]! == ("GBP", 300))
    }

    @Test("a store layout is refused with a file source, and a layout missing a field names it (exit 2)")
    func layoutErrors() throws {
        let r = try runTool(["balances", "--source", TestPaths.sample + "/events.jsonl", "--config", Self.catalog("message-db"), "-q"])
        #expect(r.status == 2 && r.stderr.contains("store.fields"), "\(r.stderr)")
        let folder = TestPaths.temporaryDirectory("layout")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let broken = TestPaths.read(Self.catalog("message-db")).replacingOccurrences(of: "    time: time\n", with: "")
        FileManager.default.createFile(atPath: folder + "/c.yml", contents: Data(broken.utf8))
        let b = try runTool(["balances", "--source", "pg:dbname=none", "--config", folder + "/c.yml", "-q"])
        #expect(b.status == 2 && b.stderr.contains("store.fields.time"), "\(b.stderr)")
    }
}
