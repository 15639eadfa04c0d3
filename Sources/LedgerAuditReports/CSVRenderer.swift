import LedgerAuditCore

/// RFC 4180 CSV, UTF-8 without BOM, header row, `\n` line ends. Cells from ledger data that a
/// spreadsheet would run as a formula are neutralised per OWASP: prefixed with `'` and quoted.
public enum CSVRenderer {
    public static func cell(_ c: ReportCell) -> String {
        c.isNumber ? c.displayText : field(neutralised(c.displayText))
    }

    /// OWASP CSV injection: `=`, `+`, `-`, `@`, tab, CR, LF or NUL first → prefix `'`.
    public static func neutralised(_ text: String) -> String {
        guard let first = text.unicodeScalars.first else { return text }
        switch first {
        case "=", "+", "-", "@", "\t", "\r", "\n", "\u{0}": return "'" + text
        default: return text
        }
    }

    /// Quotes a field when it holds a comma, quote, CR, LF, or starts with the neutralising `'`.
    public static func field(_ text: String) -> String {
        var needsQuotes = false
        for u in text.utf8 where u == 0x2C || u == 0x22 || u == 0x0A || u == 0x0D || u == 0x27 || u == 0x00 || u == 0x09 {
            needsQuotes = true
            break
        }
        guard needsQuotes else { return text }
        return "\"" + text.replacingAll("\"", with: "\"\"") + "\""
    }

    public static func line(_ cells: [ReportCell]) -> String {
        cells.map(cell).joined(separator: ",") + "\n"
    }

    public static func headerLine(_ columns: [String]) -> String {
        columns.map(field).joined(separator: ",") + "\n"
    }

    /// Writes every table of the report that names a CSV file. Returns the paths written.
    public static func write(_ report: Report, to directory: String) throws(OutputError) -> [String] {
        var written: [String] = []
        for section in report.sections {
            for table in section.tables where table.streamedRowCount == nil {
                guard let name = table.csvName else { continue }
                let path = directory + "/" + name
                let file = try AtomicFile(path: path)
                try file.write(headerLine(table.columns))
                for row in table.rows { try file.write(line(row)) }
                try file.commit()
                written.append(path)
            }
        }
        return written
    }
}
