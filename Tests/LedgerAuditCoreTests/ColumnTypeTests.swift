import LedgerAuditCore
@testable import LedgerAuditSources
import Testing

/// Each JSON type in each column of a JSONL row: what the reader accepts (and as what), and what
/// it quarantines as a malformed row naming the column. The hostile suite runs the same rows
/// through every command; this pins the outcome of each one.
@Suite("hostile input: each JSON type in each column", .removesTemporaryFolders)
struct ColumnTypeTests {
    static let good: [(String, String)] = [
        ("event_id", "\"0f0f0f0f-0000-4000-8000-0000000000aa\""), ("event_type", "\"FUNDS_DEPOSITED\""),
        ("aggregate_id", "\"0f0f0f0f-0000-4000-8000-0000000000bb\""), ("stream_version", "1"), ("causation_id", "null"),
        ("correlation_id", "\"0f0f0f0f-0000-4000-8000-0000000000cc\""), ("hlc_physical", "1778000000000"), ("hlc_logical", "0"),
        ("vector_clock", "{}"), ("payload", "{\"amount\": 100}"), ("metadata", "{}"), ("user_id", "null"),
        ("recorded_at", "\"2026-05-05T17:33:20Z\""),
    ]
    static let types = ["null", "true", "12", "1.5", "-0", "1e3", "\"x\"", "\"\"", "[]", "{}", "[1,2]", "{\"a\": 1}", "9223372036854775808"]

    static func row(_ column: String, _ value: String) -> [UInt8] {
        Array(("{" + good.map { "\"\($0.0)\": \($0.0 == column ? value : $0.1)" }.joined(separator: ", ") + "}").utf8)
    }

    /// The JSON types a column takes; every other type is a malformed row.
    static func accepted(_ column: String, _ value: String) -> Bool {
        switch column {
        case "causation_id", "user_id": return value == "null"
        case "stream_version", "hlc_physical", "hlc_logical": return value == "12" || value == "-0"
        // A JSON column may also arrive as a string holding JSON text (exporters that stringify);
        // "x" and "" hold none.
        case "vector_clock", "payload", "metadata": return value != "null" && !value.hasPrefix("\"")
        case "event_type": return value == "\"x\""
        default: return false  // ids and recorded_at need a well-formed string; none of these is one
        }
    }

    @Test(arguments: good.map(\.0))
    func column(_ column: String) {
        for value in Self.types {
            let outcome = Self.row(column, value).withUnsafeBufferPointer { JSONLFormat().decode($0, location: "line 1") }
            switch outcome {
            case .event(let e):
                #expect(Self.accepted(column, value), "\(column) = \(value) was accepted")
                if column == "stream_version" { #expect(e.streamVersion == (value == "12" ? 12 : 0)) }
            case .malformed(let m):
                #expect(!Self.accepted(column, value), "\(column) = \(value) was refused: \(m.reason)")
                #expect(m.reason.contains(column), "\(column) = \(value): \(m.reason)")
            }
        }
    }
}
