/// Text from the ledger on its way to a terminal (stdout, stderr): card numbers masked, and
/// control characters shown as `\xNN` so an escape sequence in an event can neither recolour
/// nor rewrite the operator's screen. Tab and newline stay.
public enum TerminalText {
    public static func safe(_ text: String) -> String {
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

    static func isControl(_ s: Unicode.Scalar) -> Bool {
        if s == "\n" || s == "\t" { return false }
        return s.value < 0x20 || (0x7F...0x9F).contains(s.value) || s == "\u{2028}" || s == "\u{2029}"
    }
}
