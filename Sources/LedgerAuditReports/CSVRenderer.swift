import LedgerAuditCore

/// RFC 4180 CSV, UTF-8 without BOM, header row, `\n` line ends. Cells from ledger data that a
/// spreadsheet would run as a formula are neutralised per OWASP: prefixed with `'` and quoted.
public enum CSVRenderer {
    public static func cell(_ c: ReportCell) -> String {
        var out: [UInt8] = []
        appendCell(c, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Quotes a field when it holds a comma, quote, CR, LF, tab, NUL or `'` (not neutralised:
    /// header names are the tool's own).
    public static func field(_ text: String) -> String {
        var copy = text
        var out: [UInt8] = []
        copy.withUTF8 { appendField($0, neutralising: false, into: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    public static func line(_ cells: [ReportCell]) -> String {
        var out: [UInt8] = []
        appendLine(cells, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// One row's bytes appended without a String per cell: report files with a row per
    /// account or per posting are written through here.
    public static func appendLine(_ cells: [ReportCell], into out: inout [UInt8]) {
        for (i, c) in cells.enumerated() {
            if i > 0 { out.append(0x2C) }
            appendCell(c, into: &out)
        }
        out.append(0x0A)
    }

    static func appendCell(_ c: ReportCell, into out: inout [UInt8]) {
        var text = c.displayText
        text.withUTF8 { bytes in
            if c.isNumber { out.appendBytes(bytes); return }
            appendField(bytes, neutralising: true, into: &out)
        }
    }

    /// OWASP CSV injection: with `neutralising`, a field starting with `=`, `+`, `-`, `@`, tab,
    /// CR, LF or NUL gets a `'` first (all ASCII, so the first byte decides as the first scalar
    /// would), and is then quoted like any field holding `'`.
    static func appendField(_ bytes: UnsafeBufferPointer<UInt8>, neutralising: Bool, into out: inout [UInt8]) {
        var neutralise = false
        if neutralising, let first = bytes.first {
            switch first {
            case 0x3D, 0x2B, 0x2D, 0x40, 0x09, 0x0D, 0x0A, 0x00: neutralise = true
            default: break
            }
        }
        var needsQuotes = neutralise
        if !needsQuotes {
            for u in UnsafeBufferPointer(rebasing: bytes[ByteScan.csvUnquotedPrefix(bytes)...])
            where u == 0x2C || u == 0x22 || u == 0x0A || u == 0x0D || u == 0x27 || u == 0x00 || u == 0x09 {
                needsQuotes = true
                break
            }
        }
        guard needsQuotes else { out.appendBytes(bytes); return }
        out.append(0x22)
        if neutralise { out.append(0x27) }
        for u in bytes {
            if u == 0x22 { out.append(0x22) }
            out.append(u)
        }
        out.append(0x22)
    }

    public static func headerLine(_ columns: [String]) -> String {
        columns.map(field).joined(separator: ",") + "\n"
    }

    /// Writes every table of the report that names a CSV file. Returns the paths written.
    public static func write(_ report: Report, to directory: String) throws(OutputError) -> [String] {
        var files: [(path: String, table: ReportTable)] = []
        for section in report.sections {
            for table in section.tables where table.streamedRowCount == nil {
                guard let name = table.csvName else { continue }
                files.append((directory + "/" + name, table))
            }
        }
        // Each file on its own core (balances.csv and trial_balance.csv: a row per account each).
        // A file with most of the lines (reconciliation.csv: a row per account, beside a few
        // findings) is written on both cores instead: alone, it kept one core busy while the
        // other waited.
        let lineCounts = files.map { $0.table.rows.lineSource?.count ?? 0 }
        let largest = lineCounts.indices.max { lineCounts[$0] < lineCounts[$1] }
        let split = largest.flatMap { i in
            lineCounts[i] >= Limits.csvLinesToSplit && lineCounts[i] > 2 * (lineCounts.reduce(0, +) - lineCounts[i]) ? i : nil
        }
        let results = Concurrently.map(files.count) { i -> OutputError? in
            do throws(OutputError) {
                try write(files[i].table, to: files[i].path, onTwoCores: i == split)
                return nil
            } catch {
                return error
            }
        }
        if let failure = results.lazy.compactMap({ $0 }).first { throw failure }
        return files.map(\.path)
    }

    static func write(_ table: ReportTable, to path: String, onTwoCores: Bool = false) throws(OutputError) {
        let file = try AtomicFile(path: path)
        try file.write(headerLine(table.columns))
        if let lines = table.rows.lineSource {
            // Straight into bytes, a run of lines at a time (the same cells `CSVLineWriter` writes
            // as `appendLine` would); on two cores two runs at once, one on each, written in order.
            var start = 0
            while start < lines.count {
                let middle = min(start + Limits.csvLinesPerRun, lines.count)
                guard onTwoCores else {
                    try file.write(bytes: bytes(of: lines, start..<middle))
                    start = middle
                    continue
                }
                let end = min(middle + Limits.csvLinesPerRun, lines.count)
                let (first, second) = Concurrently.both({ bytes(of: lines, start..<middle) }, { bytes(of: lines, middle..<end) })
                try file.write(bytes: first)
                try file.write(bytes: second)
                start = end
            }
        } else {
            for row in table.rows { try file.append { appendLine(row, into: &$0) } }
        }
        try file.commit()
    }

    /// The bytes of a run of lines, as the line-by-line writer writes them.
    static func bytes(of lines: some ReportLineSource, _ range: Range<Int>) -> [UInt8] {
        var out: [UInt8] = []
        var line = CSVLineWriter()
        for i in range {
            line.begin()
            lines.line(i, into: &line)
            line.end()
            out.append(contentsOf: line.bytes)
        }
        return out
    }
}
