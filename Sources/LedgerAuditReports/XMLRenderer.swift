import CLibXML2
import Foundation
import LedgerAuditCore

#if canImport(Glibc)
import Glibc
#endif

/// XML in the `urn:ledger-audit:report:1` namespace, streamed with libxml2's text writer to a
/// temporary file (memory does not grow with rows), validated against
/// `ledger-audit-report.xsd` by libxml2's streaming validator, and only then renamed into place:
/// an invalid document is a bug in the tool and an error, never a silent output. On Linux the
/// validator reads the same bytes as they are written, on a thread of its own, instead of
/// reading the file back afterwards: a 91 MB balances.xml (237k accounts) took ~1 s to write
/// and ~0.8 s more to validate, on one core, after the pass, with the other core idle.
public enum XMLRenderer {
    public static let namespace = "urn:ledger-audit:report:1"
    public static let schemaName = "ledger-audit-report.xsd"
    public static let schemaVersion = "1"

    public static func write(_ report: Report, to path: String, exponentOf: (String) -> Int) throws(OutputError) {
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let temporary = dir + "/." + name + ".partial-" + String(getpid())
        do {
            #if os(Linux)
            try streamValidating(report, to: temporary, exponentOf: exponentOf)
            #else
            try stream(report, to: temporary, exponentOf: exponentOf)
            try validate(file: temporary)
            #endif
        } catch {
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw OutputError("cannot rename into \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// The validated document's bytes (tests and previews).
    public static func render(_ report: Report, exponentOf: (String) -> Int) throws(OutputError) -> [UInt8] {
        let path = "/tmp/ledger-audit-render-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).xml"
        try write(report, to: path, exponentOf: exponentOf)
        defer { unlink(path) }
        guard let fd = Optional(open(path, O_RDONLY)), fd >= 0 else { throw OutputError("cannot read back \(path)") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return bytes
    }

    static func stream(_ report: Report, to path: String, exponentOf: (String) -> Int) throws(OutputError) {
        LibXML.initialise()
        guard let writer = xmlNewTextWriterFilename(path, 0) else { throw OutputError("cannot write \(path): \(LibXML.lastError())") }
        try stream(report, with: writer, path: path, exponentOf: exponentOf)
    }

    #if os(Linux)
    /// `stream` and `validate` at once: libxml2's writer hands each piece of the document to
    /// the file and to a socket the validator reads on its own thread. The same writer settings
    /// and the same validation as the file read back (`xmlSchemaValidateFile` is this stream
    /// validation over the file's bytes).
    static func streamValidating(_ report: Report, to path: String, exponentOf: (String) -> Int) throws(OutputError) {
        LibXML.initialise()
        let fileFD = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fileFD >= 0 else { throw OutputError("cannot write \(path): \(String(cString: strerror(errno)))") }
        let pieces = XMLPieceQueue()
        let validation = SchemaValidation(reading: pieces)
        let tee = XMLTee(fileFD: fileFD, validator: pieces)
        var outcome: Result<Void, OutputError> = .success(())
        if let out = xmlOutputBufferCreateIO(XMLTee.write, XMLTee.close, Unmanaged.passUnretained(tee).toOpaque(), nil),
           let writer = xmlNewTextWriter(out) {
            // The writer owns its output buffer and flushes it when freed (in `stream`).
            do { try withExtendedLifetime(tee) { () throws(OutputError) in try stream(report, with: writer, path: path, exponentOf: exponentOf) } } catch { outcome = .failure(error) }
        } else {
            outcome = .failure(OutputError("cannot write \(path): \(LibXML.lastError())"))
        }
        // The end of the document for the validator, whatever happened (what libxml2 did not
        // flush when the writer was freed goes first).
        _ = tee.flush()
        pieces.end()
        let problem = validation.wait()
        let closed = close(fileFD) == 0
        try outcome.get()
        if let failure = tee.failure { throw OutputError("cannot write \(path): \(failure)") }
        guard closed else { throw OutputError("cannot write \(path): \(String(cString: strerror(errno)))") }
        if let problem { throw invalid(problem) }
    }
    #endif

    static func stream(_ report: Report, with writer: xmlTextWriterPtr, path: String, exponentOf: (String) -> Int) throws(OutputError) {
        var w = XMLStream(writer: writer)
        defer { xmlFreeTextWriter(writer) }
        xmlTextWriterSetIndent(writer, 1)
        xmlTextWriterSetIndentString(writer, "  ")
        w.check(xmlTextWriterStartDocument(writer, "1.0", "UTF-8", nil))
        w.start("ledgerAuditReport")
        w.attribute("xmlns", namespace)
        w.attribute("kind", report.kind)
        w.attribute("schemaVersion", schemaVersion)
        header(report.header, &w, exponentOf: exponentOf)
        for section in report.sections {
            w.start("section")
            w.attribute("id", section.id)
            w.attribute("title", section.title)
            for f in section.figures {
                w.start("figure")
                w.attribute("label", f.label)
                w.text(CardMask.masked(f.value))
                w.end()
            }
            for table in section.tables {
                guard let rowName = table.xmlRow else { continue }
                w.start("table")
                w.attribute("title", table.title)
                if let csv = table.csvName { w.attribute("csv", csv) }
                w.attribute("rows", String(table.rows.count))
                let names = table.columns.map { Array(lowerCamelCase($0).utf8) + [0] }
                names.withUnsafeBufferPointer { names in
                    for row in table.rows {
                        w.start(rowName)
                        for (i, cell) in row.enumerated() where i < names.count {
                            if case .empty = cell { continue }
                            names[i].withUnsafeBufferPointer { w.attribute($0.baseAddress!, cell.displayText) }
                        }
                        w.end()
                    }
                }
                w.end()
            }
            w.end()
        }
        w.end()
        w.check(xmlTextWriterEndDocument(writer))
        if w.failed { throw OutputError("libxml2 could not write \(path): \(LibXML.lastError())") }
    }

    static func header(_ h: ReportHeader, _ w: inout XMLStream, exponentOf: (String) -> Int) {
        w.start("header")
        w.element("reportKind", h.reportKind)
        w.start("asOf")
        w.attribute("basis", h.timeBasis.rawValue)
        w.attribute("allEvents", h.asOfUs == nil ? "true" : "false")
        w.text(h.asOfUs.map { Instant.iso8601(us: $0) } ?? "")
        w.end()
        if let from = h.fromUs { w.element("from", Instant.iso8601(us: from)) }
        if let known = h.knownAtUs { w.element("knownAt", Instant.iso8601(us: known)) }
        w.element("source", h.source)
        w.start("catalog")
        w.attribute("file", h.catalogFile)
        w.attribute("sha256", h.catalogSHA256)
        w.end()
        let p = h.population
        w.start("population")
        for (name, value) in [("eventsRead", p.eventsRead), ("eventsInScope", p.eventsInScope), ("eventsQuarantined", p.eventsQuarantined),
                              ("rowsMalformed", p.rowsMalformed), ("eventsUnknownType", p.eventsUnknownType),
                              ("moneyEvents", p.moneyEvents), ("postings", p.postings)] {
            w.attribute(name, String(value))
        }
        w.end()
        w.start("controlTotals")
        for (code, t) in h.controlTotals.sorted(by: { $0.key < $1.key }) {
            let e = exponentOf(code)
            w.start("currency")
            w.attribute("code", code)
            w.attribute("numberOfEntries", String(t.postingCount))
            w.attribute("totalDebitMinor", String(t.totalDebitMinor))
            w.attribute("totalCreditMinor", String(t.totalCreditMinor))
            w.attribute("totalDebit", MoneyFormat.decimal(t.totalDebitMinor, exponent: e))
            w.attribute("totalCredit", MoneyFormat.decimal(t.totalCreditMinor, exponent: e))
            w.end()
        }
        w.end()
        w.start("conservation")
        w.attribute("holds", h.conservation.holds ? "true" : "false")
        for (code, net) in h.conservation.netByCurrency.sorted(by: { $0.key < $1.key }) {
            w.start("net")
            w.attribute("currency", code)
            w.text(String(net))
            w.end()
        }
        w.end()
        if let digest = h.eventsDigestSHA256 {
            w.start("eventsDigest")
            w.attribute("algorithm", "SHA-256")
            w.attribute("encoding", CanonicalEvent.name)
            w.text(digest)
            w.end()
        }
        w.start("tool")
        w.attribute("name", "ledger-audit")
        w.attribute("version", h.toolVersion)
        w.attribute("gitRevision", h.gitRevision)
        w.end()
        w.element("generatedAt", Instant.iso8601(us: h.generatedAtUs))
        w.element("runBy", h.runBy)
        for note in h.notes { w.element("note", CardMask.masked(note)) }
        w.end()
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

    /// Streaming (SAX) validation of a written file against the built-in schema.
    public static func validate(file path: String) throws(OutputError) {
        if let problem = schemaProblem({ xmlSchemaValidateFile($0, path, 0) }) { throw invalid(problem) }
    }

    /// An invalid document is the tool's bug, never an output.
    static func invalid(_ problem: String) -> OutputError {
        OutputError("BUG: the XML report does not validate against \(schemaName): \(problem). No XML file was written.")
    }

    /// What is wrong with the document `validate` reads with the built-in schema's context; nil
    /// when it is valid.
    static func schemaProblem(_ validate: (xmlSchemaValidCtxtPtr) -> Int32) -> String? {
        guard let xsd = EmbeddedTemplates.files[schemaName] else { return "the XML schema is not built in" }
        LibXML.initialise()
        return xsd.utf8CString.withUnsafeBufferPointer { buffer -> String? in
            guard let parserContext = xmlSchemaNewMemParserCtxt(buffer.baseAddress, Int32(buffer.count - 1)) else { return "cannot read the schema" }
            defer { xmlSchemaFreeParserCtxt(parserContext) }
            guard let schema = xmlSchemaParse(parserContext) else { return "the schema does not parse: \(LibXML.lastError())" }
            defer { xmlSchemaFree(schema) }
            guard let validContext = xmlSchemaNewValidCtxt(schema) else { return "cannot validate" }
            defer { xmlSchemaFreeValidCtxt(validContext) }
            xmlSchemaSetValidStructuredErrors(validContext, LibXML.quietHandler, nil)
            return validate(validContext) == 0 ? nil : LibXML.lastError()
        }
    }
}

#if os(Linux)
/// Where libxml2's writer sends the document: every byte to the file, and each piece to the
/// validator while it reads (it stops early only on a document it already rejects).
/// libxml2 hands out ~4 KB at a time; gathered here into larger pieces, the system calls a
/// piece were ~half the writer's time on a 91 MB balances.xml.
final class XMLTee: @unchecked Sendable {
    static let pieceBytes = 1 << 18
    let fileFD: Int32
    let validator: XMLPieceQueue
    private var pending: [UInt8] = []
    /// The file's write error; libxml2 also stops writing.
    var failure: String?

    init(fileFD: Int32, validator: XMLPieceQueue) {
        self.fileFD = fileFD
        self.validator = validator
        pending.reserveCapacity(XMLTee.pieceBytes)
    }

    /// Hands what is gathered to the file and the validator; false when the file refused it.
    func flush() -> Bool {
        guard failure == nil else { return false }
        guard !pending.isEmpty else { return true }
        let written = pending.withUnsafeBytes { bytes -> Bool in
            guard let base = bytes.baseAddress else { return true }
            var done = 0
            while done < bytes.count {
                let n = Glibc.write(fileFD, base + done, bytes.count - done)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    failure = String(cString: strerror(errno))
                    return false
                }
                done += n
            }
            return true
        }
        // The piece itself goes to the validator (no copy); the next is gathered in a new one.
        validator.put(pending)
        pending = []
        pending.reserveCapacity(XMLTee.pieceBytes)
        return written
    }

    static let write: xmlOutputWriteCallback = { context, bytes, length in
        guard let context, let bytes, length > 0 else { return 0 }
        let tee = Unmanaged<XMLTee>.fromOpaque(context).takeUnretainedValue()
        tee.pending.append(contentsOf: UnsafeRawBufferPointer(start: bytes, count: Int(length)))
        if tee.pending.count >= XMLTee.pieceBytes && !tee.flush() { return -1 }
        return tee.failure == nil ? length : -1
    }

    /// libxml2 closes its output when the writer is freed: the last piece goes then.
    static let close: xmlOutputCloseCallback = { context in
        guard let context else { return 0 }
        return Unmanaged<XMLTee>.fromOpaque(context).takeUnretainedValue().flush() ? 0 : -1
    }
}

/// The document's pieces on their way from the writer to the validator's thread. A socket
/// between them held ~200 KB (the kernel's default), less than one piece: writer and validator
/// took turns, each idle about half the time (a 91 MB balances.xml: ~1.45 s, the writer ~65 %
/// busy and the validator ~50 %; with pieces queued in memory ahead, ~1.0 s, the writer busy
/// throughout).
final class XMLPieceQueue: @unchecked Sendable {
    /// How far the writer may run ahead of the validator (memory: this many pieces).
    static let piecesAhead = 16
    private let changed = NSCondition()
    private var pieces: [[UInt8]] = []
    private var head = 0
    private var ended = false
    private var readerGone = false
    /// The validator's piece being read, and how far.
    private var reading: [UInt8] = []
    private var readingAt = 0

    /// Waits while the validator is `piecesAhead` behind; drops the piece once it has let go.
    func put(_ piece: [UInt8]) {
        changed.lock()
        defer { changed.unlock() }
        while !readerGone && pieces.count - head >= XMLPieceQueue.piecesAhead { changed.wait() }
        guard !readerGone else { return }
        pieces.append(piece)
        changed.broadcast()
    }

    /// No more pieces: the validator reads the end of the document.
    func end() {
        changed.lock()
        ended = true
        changed.broadcast()
        changed.unlock()
    }

    /// The validator has what it needs (the whole document, or a reason to reject it): the
    /// writer never waits for it again.
    func readerFinished() {
        changed.lock()
        readerGone = true
        pieces = []
        head = 0
        changed.broadcast()
        changed.unlock()
    }

    /// Up to `capacity` bytes of the document into `buffer`; 0 at its end.
    func read(into buffer: UnsafeMutableRawPointer, capacity: Int) -> Int {
        if readingAt == reading.count {
            changed.lock()
            while head == pieces.count && !ended { changed.wait() }
            if head == pieces.count {
                changed.unlock()
                return 0
            }
            reading = pieces[head]
            pieces[head] = []
            head += 1
            if head == pieces.count {
                pieces.removeAll(keepingCapacity: true)
                head = 0
            }
            changed.broadcast()
            changed.unlock()
            readingAt = 0
        }
        let n = min(capacity, reading.count - readingAt)
        reading.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress! + readingAt, byteCount: n) }
        readingAt += n
        return n
    }

    static let readCallback: xmlInputReadCallback = { context, buffer, length in
        guard let context, let buffer, length > 0 else { return 0 }
        let queue = Unmanaged<XMLPieceQueue>.fromOpaque(context).takeUnretainedValue()
        return Int32(queue.read(into: buffer, capacity: Int(length)))
    }

    static let closeCallback: xmlInputCloseCallback = { _ in 0 }
}

/// The schema validation of a document handed over in pieces, on a thread of its own.
final class SchemaValidation: @unchecked Sendable {
    private let finished = DispatchSemaphore(value: 0)
    /// Set by the thread before it signals.
    private var problem: String?

    init(reading pieces: XMLPieceQueue) {
        let thread = Thread { [self] in
            problem = withExtendedLifetime(pieces) {
                XMLRenderer.schemaProblem { context in
                    guard let input = xmlParserInputBufferCreateIO(XMLPieceQueue.readCallback, XMLPieceQueue.closeCallback,
                                                                   Unmanaged.passUnretained(pieces).toOpaque(), XML_CHAR_ENCODING_NONE) else {
                        return -1
                    }
                    return xmlSchemaValidateStream(context, input, XML_CHAR_ENCODING_NONE, nil, nil)
                }
            }
            // Whatever it left unread (the rest of a document it rejected early) is dropped, so
            // the writer never waits on it.
            pieces.readerFinished()
            finished.signal()
        }
        thread.name = "ledger-audit XML validation"
        thread.start()
    }

    /// Waits for the end of the document; nil when it is valid.
    func wait() -> String? {
        finished.wait()
        return problem
    }
}
#endif

/// A thin wrapper over xmlTextWriter that remembers whether any call failed.
struct XMLStream {
    let writer: xmlTextWriterPtr
    var failed = false

    mutating func check(_ result: Int32) { if result < 0 { failed = true } }
    mutating func start(_ name: String) { check(xmlTextWriterStartElement(writer, name)) }
    mutating func end() { check(xmlTextWriterEndElement(writer)) }
    mutating func attribute(_ name: String, _ value: String) { check(xmlTextWriterWriteAttribute(writer, name, XMLRenderer.xmlSafe(value))) }
    /// A table cell's attribute: the name made into C text once a table, the value read in
    /// place (no copy of either a cell; 237k rows of nine cells in balances.xml).
    mutating func attribute(_ name: UnsafePointer<xmlChar>, _ value: String) {
        let writer = writer
        check(XMLRenderer.xmlSafe(value).withCString { xmlTextWriterWriteAttribute(writer, name, UnsafeRawPointer($0).assumingMemoryBound(to: xmlChar.self)) })
    }
    mutating func text(_ value: String) { check(xmlTextWriterWriteString(writer, XMLRenderer.xmlSafe(value))) }
    mutating func element(_ name: String, _ value: String) {
        start(name)
        text(value)
        end()
    }
}

/// libxml2 set-up and error text, without printing to stderr.
public enum LibXML {
    /// Once per process, thread-safe: a lazily initialised static, not a flag.
    static let initialisation: Void = xmlInitParser()

    /// libxml2 keeps its error handler per thread: set on the thread that writes or validates.
    static func initialise() {
        _ = initialisation
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
        do {
            try XMLRenderer.validate(file: path)
            return nil
        } catch {
            return error.description
        }
    }
}
