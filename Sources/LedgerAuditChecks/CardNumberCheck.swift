import LedgerAuditCore
/// `CARD_NUMBER_EXPOSED`: a Luhn-valid 13–19 digit card number in any string, integer or key in
/// payload or metadata (escapes decoded), reported with the event, the JSON path and the
/// masked value only.
public final class CardNumberCheck: Check {
    public static let name = "card-number"
    public static let summary = "card numbers (PAN) stored in clear in payload or metadata"
    public static let codes: [FindingCode] = [.cardNumberExposed]

    public init(context: CheckContext) {}

    public func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog) {
        if case .quarantined(let f) = outcome, f.code == .duplicateEvent { return }
        scanColumn("payload", event.payload, event, &findings)
        scanColumn("metadata", event.metadata, event, &findings)
    }

    func scanColumn(_ column: String, _ text: JSONText, _ event: EventRecord, _ findings: inout FindingLog) {
        if CardMask.mayHoldCardNumber(text) {
            var found: [(path: String, masked: String)] = []
            CardNumberCheck.scan(text.parse(), path: "$.\(column)", into: &found)
            for f in found {
                findings.append(.about(event, .cardNumberExposed, message: "a card number (\(f.masked)) is stored in clear at \(f.path): PCI DSS requires a stored PAN to be unreadable. Tokenise or truncate it at the source, then purge the stored copies",
                                       evidence: [("json_path", f.path), ("masked", f.masked)]))
            }
        }
    }

    /// Walks every string and integer; iterative over a stack, so deep documents cannot overflow.
    static func scan(_ root: JSONValue, path rootPath: String, into found: inout [(path: String, masked: String)]) {
        var stack: [(JSONValue, String)] = [(root, rootPath)]
        while let (value, path) = stack.popLast() {
            switch value {
            case .string(let s):
                for m in CardMask.matches(in: s) { found.append((path, m.masked)) }
            case .number(let n):
                let digits = Array(n.utf8)
                if (13...19).contains(digits.count), digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
                    let d = digits.map { $0 - 0x30 }
                    if CardMask.luhnValid(d) { found.append((path, CardMask.Match(range: 0..<d.count, digits: d).masked)) }
                }
            case .array(let elements):
                for (i, e) in elements.enumerated().reversed() { stack.append((e, "\(path)[\(i)]")) }
            case .object(let members):
                // A key is stored text too; paths show keys masked. A key is searched in full
                // only when masking changed it (the mask's pre-check clears most keys).
                let paths = members.map { member -> String in
                    let maskedKey = CardMask.masked(member.0)
                    if maskedKey != member.0 { for m in CardMask.matches(in: member.0) { found.append((path + "." + maskedKey, m.masked)) } }
                    return path + "." + maskedKey
                }
                for i in members.indices.reversed() { stack.append((members[i].1, paths[i])) }
            default: break
            }
        }
    }
}
