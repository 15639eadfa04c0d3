/// The one path text from the ledger takes to any output (terminal, HTML, XML, CSV, JSON):
/// card numbers masked to their last four digits, and control characters shown as `\xNN`, so
/// an escape sequence in an event can neither recolour nor rewrite the operator's screen nor
/// hide in a file. Tab and newline stay. Each renderer then escapes for its own medium.
public enum LedgerText {
    public static func forOutput(_ text: String) -> String {
        if isPlain(text) { return text }
        let masked = CardMask.masked(text)
        guard masked.unicodeScalars.contains(where: isControl) else { return masked }
        var out = String.UnicodeScalarView()
        for s in masked.unicodeScalars {
            if isControl(s) {
                let hex = String(s.value, radix: 16, uppercase: true)
                out.append(contentsOf: ("\\x" + (hex.count < 2 ? "0" + hex : hex)).unicodeScalars)
            } else {
                out.append(s)
            }
        }
        return String(out)
    }

    /// Printable ASCII (tab and newline allowed) without the run of digits a card number needs:
    /// nothing to mask or escape. One pass over the bytes, for the cell of every report row.
    static func isPlain(_ text: String) -> Bool {
        var copy = text
        return copy.withUTF8 { isPlain(bytes: $0) }
    }

    /// `isPlain` on UTF-8 bytes: text assembled in a buffer is checked without a String.
    public static func isPlain(bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let printable = ByteScan.printableASCIIPrefix(bytes)
        for u in UnsafeBufferPointer(rebasing: bytes[printable...]) where !((u >= 0x20 && u < 0x7F) || u == 0x0A || u == 0x09) { return false }
        return !CardMask.mayHoldCardNumber(bytes: bytes)
    }

    static func isControl(_ s: Unicode.Scalar) -> Bool {
        if s == "\n" || s == "\t" { return false }
        return s.value < 0x20 || (0x7F...0x9F).contains(s.value) || s == "\u{2028}" || s == "\u{2029}"
    }
}

/// Text for stdout and stderr: the same path.
public enum TerminalText {
    public static func safe(_ text: String) -> String { LedgerText.forOutput(text) }
}

extension Report {
    /// Every string of the report through `LedgerText.forOutput`: what renderers are given, so
    /// no title, label, figure, note or caption can carry a card number or a control character.
    public func forOutput() -> Report {
        let t = LedgerText.forOutput
        var r = self
        r.title = t(title)
        r.header.source = t(header.source)
        r.header.catalogFile = t(header.catalogFile)
        r.header.notes = header.notes.map(t)
        r.sections = sections.map { section in
            var s = section
            s.title = t(section.title)
            s.figures = section.figures.map { (t($0.label), t($0.value)) }
            s.tables = section.tables.map { table in
                var tb = table
                tb.title = t(table.title)
                tb.columns = table.columns.map(t)
                return tb
            }
            s.charts = section.charts.map { ReportChart(caption: t($0.caption), svg: $0.svg) }
            return s
        }
        return r
    }
}

/// 1234567 → "1,234,567" for people (CSV keeps plain integers).
public func grouped<N: BinaryInteger>(_ n: N) -> String {
    let s = String(n.magnitude)
    var out = ""
    for (i, c) in s.enumerated() {
        if i > 0 && (s.count - i) % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return (n < 0 ? "-" : "") + out
}
