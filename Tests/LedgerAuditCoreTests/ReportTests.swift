import Foundation
import LedgerAuditConfig
import LedgerAuditCore
import LedgerAuditReports
import LedgerAuditSources
import LedgerAuditTestSupport
import Testing

/// Builds the balances report of a replay with a fixed header (no clock, user or git revision),
/// so renderings can be compared byte for byte.
func fixedBalancesReport(_ events: [EventRecord]? = nil, path: String? = nil, asOfUs: Int64?, catalog: Catalog = CatalogLoader.reference(), source: String = "file:samples/auction/events.jsonl (jsonl extract)") throws -> Report {
    let digest = EventsDigest()
    let periodStart = PeriodStart(fromUs: nil, basis: .hlc)
    let replay = Replay(catalog: catalog, observers: [digest, periodStart])
    let result: ReplayResult
    if let events {
        result = try replay.run(source: ArraySource(events), scope: .asOf(asOfUs, basis: .hlc), eventIdsMayRepeat: true)
    } else {
        result = try replay.run(source: try FileExtractSource(path: path!), scope: .asOf(asOfUs, basis: .hlc), eventIdsMayRepeat: true)
    }
    let header = ReportHeader(
        reportKind: "balances", asOfUs: asOfUs, timeBasis: .hlc, source: source, catalogFile: "(built-in reference catalog)",
        catalogSHA256: SHA256Hex.of(ReferenceCatalog.yaml), population: result.population, controlTotals: result.controlTotals,
        conservation: result.conservation, eventsDigestSHA256: digest.hexDigest(), toolVersion: "0.1.0", gitRevision: "golden",
        generatedAtUs: 1_780_000_000_000_000, runBy: "auditor", notes: result.source.notes
    )
    return Report(kind: "balances", title: "Balances and trial balance", header: header, sections: [
        BalancesReport.section(result, catalog: catalog, filters: []),
        BalancesReport.trialBalanceSection(result, start: periodStart, catalog: catalog, filters: []),
        FindingsTable.section(result.findings),
    ])
}

/// Compares with a golden file; `LEDGER_AUDIT_UPDATE_GOLDEN=1 scripts/test` rewrites them (review the diff).
func expectGolden(_ text: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let path = ReportGoldenTests.golden + name
    if ProcessInfo.processInfo.environment["LEDGER_AUDIT_UPDATE_GOLDEN"] == "1" {
        try? FileManager.default.createDirectory(atPath: ReportGoldenTests.golden, withIntermediateDirectories: true)
        try? text.write(toFile: path, atomically: true, encoding: .utf8)
    }
    #expect(text == TestPaths.read(path), "\(name) differs from its golden file", sourceLocation: sourceLocation)
}

@Suite("Reports: golden renderings of the sample", .removesTemporaryFolders)
struct ReportGoldenTests {
    static let golden = TestPaths.packageRoot + "/Tests/Golden/report/"
    let exponent: (String) -> Int = { CatalogLoader.reference().currencies.exponent(of: $0) ?? 2 }

    /// Pins the HTML page (header facts, control totals, trial balance by kind with the
    /// conservation line, balances capped with a pointer to the CSV, print CSS). Reviewed by eye
    /// in headless Chromium, screen and print.
    @Test func html() throws {
        let report = try fixedBalancesReport(path: TestPaths.sample + "/events.jsonl", asOfUs: 1_777_818_180_000_000)
        let html = try HTMLRenderer.load(directory: nil).render(report, exponentOf: exponent)
        expectGolden(html, "balances.html")
    }

    /// A table of one row, and one finding, say so in the singular under the table
    /// ("1 rows" and "1 findings" before stop 51).
    @Test("one row and one finding are counted in the singular")
    func singular() throws {
        let base = try fixedBalancesReport(path: TestPaths.sample + "/events.jsonl", asOfUs: 1_777_818_180_000_000)
        var log = FindingLog()
        log.append(Finding(code: .moneyInLimbo, message: "one"))
        func page(rows: Int) throws -> String {
            let table = ReportTable(csvName: "x.csv", title: "T", columns: ["a"], rows: (0..<rows).map { [.number(String($0))] })
            let report = Report(kind: "balances", title: "T", header: base.header, sections: [ReportSection(id: "t", title: "T", tables: [table]), FindingsTable.section(log)])
            return try HTMLRenderer.load(directory: nil).render(report, exponentOf: exponent)
        }
        let one = try page(rows: 1)
        #expect(one.contains("1 row; also in"))
        #expect(one.contains("1 finding; also in"))
        #expect(try page(rows: 2).contains("2 rows; also in"))
    }

    /// Pins the XML layout: namespace, header with SAF-T control totals, one element per row.
    @Test func xml() throws {
        let report = try fixedBalancesReport(path: TestPaths.sample + "/events.jsonl", asOfUs: 1_777_818_180_000_000)
        let xml = String(decoding: try XMLRenderer.render(report, exponentOf: exponent), as: UTF8.self)
        expectGolden(xml, "balances.xml")
    }

    /// The validator reads the document while it is written (on Linux): a document it rejects
    /// early, far larger than the pieces queued between them, still ends (no writer left waiting), is
    /// an error and leaves no file; the same rows under a name the schema knows are written and
    /// validate from the file too.
    @Test("XML validated while written: an invalid document of megabytes is an error and leaves no file; a valid one is written whole")
    func xmlValidatedWhileWritten() throws {
        let dir = TestPaths.temporaryDirectory("xml-validate")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var report = try fixedBalancesReport(path: TestPaths.sample + "/events.jsonl", asOfUs: 1_777_818_180_000_000)
        let rows = ReportRows(count: 200_000, numericColumns: [false, false, false]) { i in
            [.ledgerText("user:\(i):available"), .ledgerText("USD"), .ledgerText(String(repeating: "x", count: 40))]
        }
        let valid = report.sections[0].tables.first { $0.xmlRow != nil }!
        report.sections[0].tables.insert(ReportTable(csvName: nil, xmlRow: "notInTheSchema", title: "t", columns: ["account", "currency", "note"], rows: rows), at: 0)
        #expect(throws: OutputError.self) { try XMLRenderer.write(report, to: dir + "/bad.xml", exponentOf: exponent) }
        #expect((try FileManager.default.contentsOfDirectory(atPath: dir)).isEmpty)
        report.sections[0].tables[0] = ReportTable(csvName: nil, xmlRow: valid.xmlRow, title: "t", columns: valid.columns, rows: ReportRows(count: 200_000, numericColumns: valid.columns.map { _ in false }) { i in
            valid.columns.indices.map { $0 == 0 ? .ledgerText("user:\(i):available") : (valid.rows.first?[$0] ?? .empty) }
        })
        try XMLRenderer.write(report, to: dir + "/good.xml", exponentOf: exponent)
        #expect(LibXML.validateFile(dir + "/good.xml") == nil)
        #expect((try FileManager.default.attributesOfItem(atPath: dir + "/good.xml")[.size] as? Int ?? 0) > 10_000_000)
        #expect((try FileManager.default.contentsOfDirectory(atPath: dir)) == ["good.xml"])
    }

    /// libxml2 (2.9) runs a repeated choice (`<xs:choice maxOccurs="unbounded">`) as a
    /// non-deterministic automaton that saves a rollback point for each row, at most 10,000,000
    /// in one element (`MAX_PUSH`): a trial balance of ~5M accounts (the generator's ledger at
    /// 50M events) failed validation, exit 4, and the points cost ~55 bytes a row until then. A
    /// choice of repeated elements runs deterministically, in constant memory (measured by hand:
    /// 5.2M accounts' balances.xml, 2.0 GB, validates). A table's rows are of one kind.
    @Test("the schema's tables are one kind of row repeated, never a repeated choice")
    func tableRowsAreOneKindRepeated() throws {
        let schema = try #require(EmbeddedTemplates.files[XMLRenderer.schemaName])
        let start = try #require(schema.range(of: "<xs:complexType name=\"Table\">"))
        let end = try #require(schema.range(of: "</xs:complexType>", range: start.upperBound..<schema.endIndex))
        let table = schema[start.upperBound..<end.lowerBound]
        #expect(table.contains("<xs:choice minOccurs=\"0\">"))
        #expect(!table.contains("maxOccurs=\"unbounded\">"))
        let rows = table.split(separator: "\n").filter { $0.contains("<xs:element ") }
        #expect(rows.count >= 18)
        #expect(rows.allSatisfy { $0.contains("maxOccurs=\"unbounded\"") })
    }

    /// Pins the CSV contracts of outputs.md and the trial balance columns.
    @Test func csv() throws {
        let report = try fixedBalancesReport(path: TestPaths.sample + "/events.jsonl", asOfUs: 1_777_818_180_000_000)
        let dir = TestPaths.temporaryDirectory("golden-csv")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try CSVRenderer.write(report, to: dir)
        expectGolden(TestPaths.read(dir + "/balances.csv"), "../balances-may03-1423.csv")
        for name in ["trial_balance.csv", "findings.csv"] {
            expectGolden(TestPaths.read(dir + "/" + name), name)
        }
    }

    @Test("CSV headers keep the outputs.md contract: listed columns first, in order")
    func contracts() {
        #expect(BalancesReport.columns == ["account", "currency", "balance_minor", "balance"])
        #expect(Array(FindingsTable.columns.prefix(8)) == ["code", "severity", "event_id", "aggregate_id", "account", "amount_minor", "message", "controls"])
    }

    @Test("the built-in templates and schema are byte for byte templates/")
    func embeddedTemplates() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: TestPaths.packageRoot + "/templates").filter { !$0.hasPrefix(".") }
        #expect(Set(names) == Set(EmbeddedTemplates.files.keys))
        for name in names {
            #expect(EmbeddedTemplates.files[name] == TestPaths.read(TestPaths.packageRoot + "/templates/" + name), "\(name)")
        }
    }
}

@Suite("Reports: hostile ledger data never survives into an output", .removesTemporaryFolders)
struct HostileReportTests {
    static let card = "4111 1111 1111 1111"
    static let hostileStrings = ["<script>alert(1)</script>", "=HYPERLINK(\"http://evil\",\"x\")", "+1+1", "@SUM(A1)", "-2+3", "a \"quoted\", comma\nnew line", "Zürich ☃ 東京", "tab\there", "ctl\u{01}char"]

    /// A catalog whose accounts take payload and metadata text, so hostile text reaches every table.
    static let catalog = try! CatalogLoader.load(yaml: """
        default_currency: USD
        accounts:
          - {pattern: "external:*", kind: external, may_go_negative: true}
        events:
          DEPOSIT:
            from: "external:{payload.from}"
            to: "box:{payload.box}:{metadata.ref}"
        """, file: "hostile.yml")

    func events() -> [EventRecord] {
        var l = LedgerBuilder()
        for (i, s) in Self.hostileStrings.enumerated() {
            let text = JSONValue.string(s)
            l.add("DEPOSIT", aggregate: "h\(i)", payload: "{\"amount\": 100, \"from\": \(JSONWriter.write(text)), \"box\": \"card \(Self.card)\"}",
                  metadata: "{\"ref\": \(JSONWriter.write(text)), \"pan\": \"5500005555555559\"}")
        }
        l.add("<img src=x onerror=alert(2)>", aggregate: "h-unknown", payload: #"{"note": "card 4111111111111111"}"#)
        return l.events
    }

    @Test("HTML escapes, CSV neutralises, XML carries text only; no card number anywhere")
    func allFormats() throws {
        let report = try fixedBalancesReport(events(), asOfUs: nil, catalog: Self.catalog, source: ConnectionString.redacted("postgresql://auditor:Sup3rSecret@db/ledger"))
        let exponent: (String) -> Int = { _ in 2 }
        let html = try HTMLRenderer.load(directory: nil).render(report, exponentOf: exponent)
        let xmlBytes = try XMLRenderer.render(report, exponentOf: exponent)
        let xml = String(decoding: xmlBytes, as: UTF8.self)
        let dir = TestPaths.temporaryDirectory("hostile")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try CSVRenderer.write(report, to: dir)
        let csv = ["balances.csv", "trial_balance.csv", "findings.csv"].map { TestPaths.read(dir + "/" + $0) }.joined()
        let everything = [html, xml, csv]
        for out in everything {
            #expect(!out.contains("4111 1111 1111 1111") && !out.contains("4111111111111111") && !out.contains("5500005555555559"))
            #expect(!out.contains("Sup3rSecret"))
        }
        #expect(html.contains("************1111"))
        #expect(!html.contains("<script>alert(1)</script>") && html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!html.contains("<img src=x"))
        #expect(!xml.contains("<script>") && xml.contains("&lt;script&gt;"))
        // One output path for ledger text: a control character is shown as \xNN in every format.
        #expect(xml.contains("ctl\\x01char") && html.contains("ctl\\x01char") && csv.contains("ctl\\x01char"))
        for out in everything { #expect(!out.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" && $0 != "\t" }) }
        // Every CSV cell from ledger data that starts with a formula character is neutralised.
        for line in csv.split(separator: "\n") {
            for dangerous in ["=HYPERLINK", "+1+1", "@SUM", "-2+3"] {
                #expect(!line.hasPrefix(dangerous) && !line.contains("," + dangerous) && !line.contains(",\"" + dangerous), "\(line)")
            }
        }
        #expect(csv.contains("\"external:=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\""))  // inside an account name: not first, quoted
        #expect(csv.contains("Zürich ☃ 東京"))
        // The XML is valid against the schema (checked by the renderer, and again from the file).
        try xmlBytes.withUnsafeBufferPointer { try Data(buffer: $0).write(to: URL(fileURLWithPath: dir + "/h.xml")) }
        #expect(LibXML.validateFile(dir + "/h.xml") == nil)
    }

    @Test("a cell that starts with a formula character gets a leading quote")
    func leadingFormula() {
        for s in ["=1", "+1", "-1", "@1", "\t1", "\n1"] {
            #expect(CSVRenderer.cell(.ledgerText(s)).hasPrefix("\"'"), "\(s)")
        }
        // Other control characters never reach a file: they are shown as \xNN first.
        #expect(CSVRenderer.cell(.ledgerText("\r1")) == "\\x0D1")
        #expect(CSVRenderer.cell(.ledgerText("\u{0}1")) == "\\x001")
    }
}

@Suite("Report files are written atomically", .removesTemporaryFolders)
struct AtomicFileTests {
    @Test("a file abandoned mid-write leaves nothing under its final name")
    func abandoned() throws {
        let dir = TestPaths.temporaryDirectory("atomic")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            let f = try AtomicFile(path: dir + "/balances.csv")
            try f.write(String(repeating: "x", count: 200_000))
            #expect(!FileManager.default.fileExists(atPath: dir + "/balances.csv"))
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/balances.csv"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
        let g = try AtomicFile(path: dir + "/balances.csv")
        try g.write("done\n")
        try g.commit()
        #expect(TestPaths.read(dir + "/balances.csv") == "done\n")
    }
}

@Suite("The events digest can be recomputed from an extract", .removesTemporaryFolders)
struct EventsDigestTests {
    @Test("the README's Python recipe gives the tool's digest")
    func pythonRecipe() throws {
        let report = try fixedBalancesReport(path: TestPaths.sample + "/events.jsonl", asOfUs: 1_777_818_180_000_000)
        let script = TestPaths.packageRoot + "/scripts/events-digest.py"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", script, TestPaths.sample + "/events.jsonl", "--as-of-ms", "1777818180000"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == report.header.eventsDigestSHA256)
    }

    /// PostgreSQL 15 prints `E'{"e\\u0301": 2, "\\u00e9": 1, "a": 1, "a": 3}'::jsonb` as
    /// `{"a": 3, "é": 1, "é": 2}` with both spellings of é kept (checked on the server): keys
    /// are bytes to jsonb, so an extract's digest must treat them so to equal the server's.
    @Test("canonical encoding: keys that differ only in Unicode normalization stay two keys, as in jsonb")
    func canonicalKeepsBothNormalizations() throws {
        var l = LedgerBuilder()
        let e = l.add("FUNDS_DEPOSITED", aggregate: "a", payload: "{\"e\u{0301}\": 2, \"\u{00E9}\": 1, \"a\": 1, \"a\": 3}")
        var jsonb = e
        jsonb.payload = JSONText(validated: "{\"a\": 3, \"\u{00E9}\": 1, \"e\u{0301}\": 2}", isJSONBOutput: true)
        #expect(CanonicalEvent.encode(e) == CanonicalEvent.encode(jsonb))
    }

    @Test("canonical encoding: jsonb text and any other JSON text give the same bytes")
    func canonicalAgrees() throws {
        var l = LedgerBuilder()
        let e = l.add("FUNDS_DEPOSITED", aggregate: "a", payload: #"{ "currency":"USD" ,"amount" : 5, "note": "x\u00e9\/y", "aa": {"b": 1, "a": [1, 2]} }"#)
        var jsonb = e
        jsonb.payload = JSONText(validated: #"{"aa": {"a": [1, 2], "b": 1}, "note": "xé/y", "amount": 5, "currency": "USD"}"#, isJSONBOutput: true)
        #expect(CanonicalEvent.encode(e) == CanonicalEvent.encode(jsonb))
        let text = String(decoding: CanonicalEvent.encode(e), as: UTF8.self)
        #expect(text.contains(#",{"aa": {"a": [1, 2], "b": 1}, "note": "xé/y", "amount": 5, "currency": "USD"},"#))
        #expect(text.hasPrefix("[\"\(e.eventId)\",\"FUNDS_DEPOSITED\","))
        #expect(text.hasSuffix(",\(e.recordedAtUs)]"))
    }
}
