import CLibXML2
import LedgerAuditCore

/// XML in the `urn:ledger-audit:report:1` namespace, built with libxml2 and validated against
/// `ledger-audit-report.xsd` before the file is renamed into place: an invalid document is a bug
/// in the tool and an error, never a silent output.
public enum XMLRenderer {
    public static let namespace = "urn:ledger-audit:report:1"
    public static let schemaName = "ledger-audit-report.xsd"
    public static let schemaVersion = "1"

    /// Builds the document, validates it, returns its bytes.
    public static func render(_ report: Report, exponentOf: (String) -> Int) throws(OutputError) -> [UInt8] {
        LibXML.initialise()
        guard let doc = xmlNewDoc("1.0") else { throw OutputError("libxml2 could not create a document") }
        defer { xmlFreeDoc(doc) }
        let root = xmlNewNode(nil, "ledgerAuditReport")
        let ns = xmlNewNs(root, namespace, nil)
        xmlSetNs(root, ns)
        xmlDocSetRootElement(doc, root)
        attribute(root, "kind", report.kind)
        attribute(root, "schemaVersion", schemaVersion)
        header(report.header, parent: root, ns: ns, exponentOf: exponentOf)
        for section in report.sections {
            let s = xmlNewChild(root, ns, "section", nil)
            attribute(s, "id", section.id)
            attribute(s, "title", section.title)
            for f in section.figures {
                attribute(text(s, ns, "figure", CardMask.masked(f.value)), "label", f.label)
            }
            for table in section.tables {
                guard let rowName = table.xmlRow else { continue }
                let t = xmlNewChild(s, ns, "table", nil)
                attribute(t, "title", table.title)
                if let csv = table.csvName { attribute(t, "csv", csv) }
                attribute(t, "rows", String(table.rows.count))
                let names = table.columns.map(lowerCamelCase)
                for row in table.rows {
                    let r = xmlNewChild(t, ns, rowName, nil)
                    for (i, cell) in row.enumerated() where i < names.count {
                        if case .empty = cell { continue }
                        attribute(r, names[i], cell.displayText)
                    }
                }
            }
        }
        try validate(doc)
        var memory: UnsafeMutablePointer<xmlChar>?
        var size: Int32 = 0
        xmlDocDumpFormatMemoryEnc(doc, &memory, &size, "UTF-8", 1)
        guard let memory else { throw OutputError("libxml2 could not serialise the XML report") }
        defer { ledger_audit_xml_free(memory) }
        return Array(UnsafeBufferPointer(start: memory, count: Int(size)))
    }

    public static func write(_ report: Report, to path: String, exponentOf: (String) -> Int) throws(OutputError) {
        let bytes = try render(report, exponentOf: exponentOf)
        let file = try AtomicFile(path: path)
        try file.write(bytes: bytes)
        try file.commit()
    }

    static func header(_ h: ReportHeader, parent: xmlNodePtr?, ns: xmlNsPtr?, exponentOf: (String) -> Int) {
        let x = xmlNewChild(parent, ns, "header", nil)
        text(x, ns, "reportKind", h.reportKind)
        let asOf = text(x, ns, "asOf", h.asOfUs.map { Instant.iso8601(us: $0) } ?? "")
        attribute(asOf, "basis", h.timeBasis.rawValue)
        attribute(asOf, "allEvents", h.asOfUs == nil ? "true" : "false")
        if let from = h.fromUs { text(x, ns, "from", Instant.iso8601(us: from)) }
        if let known = h.knownAtUs { text(x, ns, "knownAt", Instant.iso8601(us: known)) }
        text(x, ns, "source", h.source)
        let catalog = xmlNewChild(x, ns, "catalog", nil)
        attribute(catalog, "file", h.catalogFile)
        attribute(catalog, "sha256", h.catalogSHA256)
        let p = h.population
        let population = xmlNewChild(x, ns, "population", nil)
        for (name, value) in [("eventsRead", p.eventsRead), ("eventsInScope", p.eventsInScope), ("eventsQuarantined", p.eventsQuarantined),
                              ("rowsMalformed", p.rowsMalformed), ("eventsUnknownType", p.eventsUnknownType),
                              ("moneyEvents", p.moneyEvents), ("postings", p.postings)] {
            attribute(population, name, String(value))
        }
        let totals = xmlNewChild(x, ns, "controlTotals", nil)
        for (code, t) in h.controlTotals.sorted(by: { $0.key < $1.key }) {
            let c = xmlNewChild(totals, ns, "currency", nil)
            let e = exponentOf(code)
            attribute(c, "code", code)
            attribute(c, "numberOfEntries", String(t.postingCount))
            attribute(c, "totalDebitMinor", String(t.totalDebitMinor))
            attribute(c, "totalCreditMinor", String(t.totalCreditMinor))
            attribute(c, "totalDebit", MoneyFormat.decimal(t.totalDebitMinor, exponent: e))
            attribute(c, "totalCredit", MoneyFormat.decimal(t.totalCreditMinor, exponent: e))
        }
        let conservation = xmlNewChild(x, ns, "conservation", nil)
        attribute(conservation, "holds", h.conservation.holds ? "true" : "false")
        for (code, net) in h.conservation.netByCurrency.sorted(by: { $0.key < $1.key }) {
            attribute(text(conservation, ns, "net", String(net)), "currency", code)
        }
        if let digest = h.eventsDigestSHA256 {
            let d = text(x, ns, "eventsDigest", digest)
            attribute(d, "algorithm", "SHA-256")
            attribute(d, "encoding", CanonicalEvent.name)
        }
        let tool = xmlNewChild(x, ns, "tool", nil)
        attribute(tool, "name", "ledger-audit")
        attribute(tool, "version", h.toolVersion)
        attribute(tool, "gitRevision", h.gitRevision)
        text(x, ns, "generatedAt", Instant.iso8601(us: h.generatedAtUs))
        text(x, ns, "runBy", h.runBy)
        for note in h.notes { text(x, ns, "note", CardMask.masked(note)) }
    }

    @discardableResult
    static func text(_ parent: xmlNodePtr?, _ ns: xmlNsPtr?, _ name: String, _ value: String) -> xmlNodePtr? {
        xmlNewTextChild(parent, ns, name, xmlSafe(value))
    }

    static func attribute(_ node: xmlNodePtr?, _ name: String, _ value: String) {
        xmlNewProp(node, name, xmlSafe(value))
    }

    /// XML 1.0 cannot carry most control characters, even escaped: they are shown as `\u00XX`.
    public static func xmlSafe(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: { !allowed($0) }) else { return s }
        var out = ""
        for scalar in s.unicodeScalars {
            if allowed(scalar) {
                out.unicodeScalars.append(scalar)
            } else {
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            }
        }
        return out
    }

    static func allowed(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x9, 0xA, 0xD, 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: return true
        default: return false
        }
    }

    /// `user_id` → `userId`: XML attributes in the ledger's words, lowerCamelCase.
    public static func lowerCamelCase(_ column: String) -> String {
        let parts = column.split(separator: "_")
        guard let first = parts.first else { return column }
        return String(first) + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    static func validate(_ doc: xmlDocPtr) throws(OutputError) {
        guard let xsd = EmbeddedTemplates.files[schemaName] else { throw OutputError("the XML schema is not built in") }
        let problem: String? = xsd.utf8CString.withUnsafeBufferPointer { buffer -> String? in
            guard let parserContext = xmlSchemaNewMemParserCtxt(buffer.baseAddress, Int32(buffer.count - 1)) else { return "cannot read the schema" }
            defer { xmlSchemaFreeParserCtxt(parserContext) }
            guard let schema = xmlSchemaParse(parserContext) else { return "the schema does not parse: \(LibXML.lastError())" }
            defer { xmlSchemaFree(schema) }
            guard let validContext = xmlSchemaNewValidCtxt(schema) else { return "cannot validate" }
            defer { xmlSchemaFreeValidCtxt(validContext) }
            xmlSchemaSetValidStructuredErrors(validContext, LibXML.quietHandler, nil)
            return xmlSchemaValidateDoc(validContext, doc) == 0 ? nil : LibXML.lastError()
        }
        if let problem {
            throw OutputError("BUG: the XML report does not validate against \(schemaName): \(problem). No XML file was written.")
        }
    }
}

/// libxml2 set-up and error text, without printing to stderr.
public enum LibXML {
    nonisolated(unsafe) static var initialised = false

    static func initialise() {
        guard !initialised else { return }
        initialised = true
        xmlInitParser()
        xmlSetStructuredErrorFunc(nil, quietHandler)
    }

    static let quietHandler: xmlStructuredErrorFunc = { _, _ in }

    static func lastError() -> String {
        guard let e = xmlGetLastError(), let m = e.pointee.message else { return "unknown libxml2 error" }
        var s = String(cString: m)
        while s.hasSuffix("\n") { s.removeLast() }
        return "line \(e.pointee.line): \(s)"
    }

    /// Validates a file against the built-in schema (for `xmllint`-style checks in tests).
    public static func validateFile(_ path: String) -> String? {
        initialise()
        guard let doc = xmlReadFile(path, nil, Int32(XML_PARSE_NONET.rawValue)) else { return "does not parse: \(lastError())" }
        defer { xmlFreeDoc(doc) }
        do {
            try XMLRenderer.validate(doc)
            return nil
        } catch {
            return error.description
        }
    }
}
