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
        var out: [UInt8] = []
        appendLine(cells, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// One row's bytes, as `line` gives them, appended without a String per cell: report files
    /// with a row per account are written through here.
    public static func appendLine(_ cells: [ReportCell], into out: inout [UInt8]) {
        for (i, c) in cells.enumerated() {
            if i > 0 { out.append(0x2C) }
            var text = c.displayText
            text.withUTF8 { bytes in
                if c.isNumber { out.append(contentsOf: bytes); return }
                appendField(bytes, into: &out)
            }
        }
        out.append(0x0A)
    }

    /// `field(neutralised(text))` on bytes. The neutralising characters are all ASCII, so the
    /// first byte decides as the first scalar does.
    static func appendField(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        guard let first = bytes.first else { return }
        let neutralise: Bool
        switch first {
        case 0x3D, 0x2B, 0x2D, 0x40, 0x09, 0x0D, 0x0A, 0x00: neutralise = true
        default: neutralise = false
        }
        var needsQuotes = neutralise
        if !needsQuotes {
            for u in bytes where u == 0x2C || u == 0x22 || u == 0x0A || u == 0x0D || u == 0x27 || u == 0x00 || u == 0x09 {
                needsQuotes = true
                break
            }
        }
        guard needsQuotes else { out.append(contentsOf: bytes); return }
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
        var written: [String] = []
        for section in report.sections {
            for table in section.tables where table.streamedRowCount == nil {
                guard let name = table.csvName else { continue }
                let path = directory + "/" + name
                let file = try AtomicFile(path: path)
                try file.write(headerLine(table.columns))
                for row in table.rows { try file.append { appendLine(row, into: &$0) } }
                try file.commit()
                written.append(path)
            }
        }
        return written
    }
}
