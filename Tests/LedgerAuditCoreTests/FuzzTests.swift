import Foundation
import LedgerAuditConfig
import LedgerAuditCore
@testable import LedgerAuditEvidence
import LedgerAuditFuzzTargets
import LedgerAuditGenerator
@testable import LedgerAuditSources
import LedgerAuditTestSupport
import Testing

/// Seeded mutation fuzzing of every reader of outside bytes (`FuzzTarget`: the JSONL line reader,
/// the COPY-CSV reader, whole extract files, the binary COPY decoder, the JSON parser, the amount
/// parser, the catalog loader and the seal-file reader), the same targets libFuzzer runs in
/// scripts/fuzz. A crash or a trap fails the run; anything else (an error, a malformed
/// row) is the promised behaviour. `LEDGER_AUDIT_FUZZ_SECONDS` sets the time per target (CI: 2 s;
/// `scripts/fuzz` runs longer) and `LEDGER_AUDIT_FUZZ_SEED` the seed, so a failure replays.
/// Every crasher found becomes a case in `regressions`.
@Suite("fuzz: seeded mutations of every input reader", .removesTemporaryFolders)
struct FuzzTests {
    static let seconds = Double(ProcessInfo.processInfo.environment["LEDGER_AUDIT_FUZZ_SECONDS"] ?? "") ?? 2
    static let seed = UInt64(ProcessInfo.processInfo.environment["LEDGER_AUDIT_FUZZ_SEED"] ?? "") ?? 20261201

    static let tokens: [[UInt8]] = ["\"", "\\", "{", "}", "[", "]", ",", ":", "\n", "\r\n", "\u{0}", "\u{1B}[31m", "9223372036854775807", "9223372036854775808",
                                    "-9223372036854775808", "1e999", "-0", "0.5", "null", "true", "\"\"", "\\u0000", "\\ud800", "\u{FEFF}", "\u{FF}",
                                    "4111111111111111", "{{> section}}", "&", "*a", "!!binary", "-1"].map { Array($0.utf8) }

    /// One mutation of `input`: flip, insert, delete, duplicate, splice a token, truncate.
    static func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var b = input
        for _ in 0..<(1 + Int(rng.next() % 4)) {
            let at = b.isEmpty ? 0 : Int(rng.next() % UInt64(b.count))
            switch rng.next() % 7 {
            case 0 where !b.isEmpty: b[at] ^= UInt8(1 << (rng.next() % 8))
            case 1: b.insert(UInt8(truncatingIfNeeded: rng.next()), at: at)
            case 2 where !b.isEmpty: b.removeSubrange(at..<min(b.count, at + 1 + Int(rng.next() % 16)))
            case 3 where !b.isEmpty: b.insert(contentsOf: b[at..<min(b.count, at + 1 + Int(rng.next() % 32))], at: at)
            case 4: b.insert(contentsOf: tokens[Int(rng.next() % UInt64(tokens.count))], at: at)
            case 5: b = Array(b.prefix(at))
            default: if !b.isEmpty { b[at] = tokens[Int(rng.next() % UInt64(tokens.count))].first ?? 0 }
            }
        }
        return b
    }

    /// Runs `body` on mutants of the seeds until the time is up; returns how many ran.
    @discardableResult
    static func fuzz(_ seeds: [[UInt8]], _ body: ([UInt8]) -> Void) -> Int {
        var rng = SplitMix64(seed: seed)
        let end = Date().addingTimeInterval(seconds)
        var n = 0
        for s in seeds { body(s) }
        while Date() < end {
            var input = seeds[Int(rng.next() % UInt64(seeds.count))]
            for _ in 0..<(1 + Int(rng.next() % 3)) { input = mutate(input, &rng) }
            body(input)
            n += 1
        }
        return n
    }

    /// Each target on its seeds and their mutants; the targets are the ones libFuzzer runs.
    @Test(arguments: FuzzTarget.allCases)
    func target(_ target: FuzzTarget) {
        let folder = TestPaths.temporaryDirectory("fuzz-\(target.rawValue)")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let seeds = target.seeds(sample: TestPaths.sample)
        #expect(!seeds.isEmpty)
        let n = Self.fuzz(seeds) { target.run($0, scratch: folder + "/scratch") }
        #expect(n > 0)
    }

    /// Inputs that crashed a reader once, kept so they never do again.
    @Test("regressions: crashers found by fuzzing and by the hostile review")
    func regressions() {
        // A binary COPY header whose extension length is negative indexed before the buffer.
        var header = FuzzTarget.binaryRow(header: true)
        header[15] = 0xFF; header[16] = 0xFF; header[17] = 0xFF; header[18] = 0x80
        header.withUnsafeBytes { raw in
            var d = BinaryCopyDecoder()
            #expect(throws: SourceError.self) { _ = try d.fields(of: raw) }
        }
        // Dates at the far edge of the calendar are not card numbers (9-2-2 digits with dashes).
        for text in ["as of -292275055-05-16T16:47:04.192Z", "from 2026-05-03 2026-05-04 1234", "2026-05-03 14:23:00"] {
            #expect(CardMask.masked(text) == text, "\(text)")
        }
        #expect(CardMask.masked("card 4111 1111 1111 1111 and 3782 822463 10005") == "card ************1111 and ***********0005")
        // A seal record's tree_size past any store, and negative.
        for size in ["99999999999999999", "-5"] {
            #expect(throws: SealError.self) { _ = try SealRecord.parse(#"{"seal":1,"tree_size":\#(size),"root_sha256":"\#(String(repeating: "0", count: 64))","as_of_ms":1,"sealed_at":"2026-12-01T00:00:00Z","leaves_sha256":"0"}"#, lineNumber: 1) }
        }
    }
}
