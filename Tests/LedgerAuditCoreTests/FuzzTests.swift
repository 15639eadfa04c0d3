import Foundation
import LedgerAuditConfig
import LedgerAuditCore
@testable import LedgerAuditEvidence
import LedgerAuditGenerator
@testable import LedgerAuditSources
import LedgerAuditTestSupport
import Testing

/// Seeded mutation fuzzing of every reader of outside bytes: the JSONL line reader, the COPY-CSV
/// reader, the binary COPY decoder, the JSON parser, the amount parser, the catalog loader and
/// the seal-file reader. A crash or a trap fails the run; anything else (an error, a malformed
/// row) is the promised behaviour. `LEDGER_AUDIT_FUZZ_SECONDS` sets the time per target (CI: 2 s;
/// `scripts/fuzz` runs longer) and `LEDGER_AUDIT_FUZZ_SEED` the seed, so a failure replays.
/// Every crasher found becomes a case in `regressions`.
@Suite("fuzz: seeded mutations of every input reader")
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

    static var sampleLines: [[UInt8]] { TestPaths.read(TestPaths.sample + "/events.jsonl").split(separator: "\n").prefix(200).map { Array($0.utf8) } }
    static var csvRecords: [[UInt8]] { TestPaths.read(TestPaths.sample + "/events.csv").split(separator: "\n").prefix(200).map { Array($0.utf8) } }

    @Test func jsonlLineReader() {
        let n = Self.fuzz(Self.sampleLines) { bytes in
            bytes.withUnsafeBufferPointer { b in
                _ = JSONLFormat().orderKey(b)
                _ = JSONLFormat().decode(b, location: "line 1")
            }
        }
        #expect(n > 0)
    }

    @Test func copyCSVReader() throws {
        var header = CopyCSVFormat()
        let records = Self.csvRecords
        _ = try records[0].withUnsafeBufferPointer { try header.readHeader($0) }
        Self.fuzz(Array(records.dropFirst())) { bytes in
            bytes.withUnsafeBufferPointer { b in
                _ = CopyCSVFormat.fields(b)
                _ = header.orderKey(b)
                _ = header.decode(b, location: "record 2")
                var h = CopyCSVFormat()
                _ = try? h.readHeader(b)
            }
        }
        // Whole files through the record reader (quotes spanning lines, EOF inside quotes).
        let folder = TestPaths.temporaryDirectory("fuzz-csv")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = records.prefix(20).map { String(decoding: $0, as: UTF8.self) }.joined(separator: "\n")
        var rng = SplitMix64(seed: Self.seed)
        let end = Date().addingTimeInterval(Self.seconds)
        var i = 0
        while Date() < end && i < 2000 {
            let mutant = Self.mutate(Array(file.utf8), &rng)
            let path = folder + "/f\(i % 4).csv"
            FileManager.default.createFile(atPath: path, contents: Data(mutant))
            _ = try? FileExtractSource(path: path).stream(scope: ReplayScope()) { _ in }
            i += 1
        }
    }

    /// A binary COPY row as PostgreSQL sends it, for seeds.
    static func binaryRow(header: Bool) -> [UInt8] {
        var out: [UInt8] = header ? BinaryCopyDecoder.signature + [0, 0, 0, 0, 0, 0, 0, 0] : []
        func int16(_ v: Int16) { out += withUnsafeBytes(of: v.bigEndian, Array.init) }
        func field(_ bytes: [UInt8]?) {
            guard let bytes else { out += withUnsafeBytes(of: Int32(-1).bigEndian, Array.init); return }
            out += withUnsafeBytes(of: Int32(bytes.count).bigEndian, Array.init) + bytes
        }
        let uuid = [UInt8](repeating: 0x11, count: 16)
        int16(13)
        for f: [UInt8]? in [uuid, Array("FUNDS_DEPOSITED".utf8), uuid, withUnsafeBytes(of: Int64(1).bigEndian, Array.init), nil, uuid,
                            withUnsafeBytes(of: Int64(1_777_594_319_597).bigEndian, Array.init), withUnsafeBytes(of: Int32(0).bigEndian, Array.init),
                            [1] + Array("{}".utf8), [1] + Array("{\"amount\": 100}".utf8), [1] + Array("{}".utf8), uuid,
                            withUnsafeBytes(of: Int64(830_000_000_000_000).bigEndian, Array.init)] {
            field(f)
        }
        return out
    }

    @Test func binaryCopyDecoder() {
        Self.fuzz([Self.binaryRow(header: true), Self.binaryRow(header: false), [0xFF, 0xFF]]) { bytes in
            bytes.withUnsafeBytes { raw in
                var first = BinaryCopyDecoder()
                var later = BinaryCopyDecoder(headerSeen: true)
                for decoder in [0, 1] {
                    if let f = try? (decoder == 0 ? first.fields(of: raw) : later.fields(of: raw)) { _ = BinaryCopyDecoder.row(f, rowNumber: 1) }
                }
            }
        }
    }

    @Test func jsonParser() {
        Self.fuzz(Self.sampleLines + [Array("[[[[[[1]]]]]]".utf8), Array("{\"a\":\"\\ud83d\\ude00\"}".utf8)]) { bytes in
            _ = try? JSONParser.parse(bytes)
            if let text = String(validating: bytes, as: UTF8.self) { _ = try? JSONText.validating(text).parse() }
        }
    }

    @Test func amountParser() {
        let seeds = ["1200", "\"12.50\"", "-1", "9223372036854775807", "\"007\"", "1e3", "0", "\" 1\"", "12.5"].map { Array($0.utf8) }
        Self.fuzz(seeds) { bytes in
            guard let value = try? JSONParser.parse(bytes) else { return }
            _ = AmountParser.parse(value)
            if case .number(let t) = value { _ = AmountParser.parseNumberText(t) }
            if case .string(let t) = value { _ = AmountParser.parseDigitString(t) }
        }
    }

    @Test func catalogLoader() {
        let yaml = TestPaths.read(TestPaths.sample + "/ledger-audit.yml")
        Self.fuzz([Array(yaml.utf8), Array("events: {}\n".utf8), Array("a: &x [*x]\n".utf8)]) { bytes in
            guard let text = String(validating: bytes, as: UTF8.self) else { return }
            _ = try? CatalogLoader.load(yaml: text, file: "fuzz.yml")
        }
    }

    @Test func sealFileReader() {
        let line = #"{"seal":1,"tree_size":3039,"root_sha256":"8c2c2d7e3b1f6d0a0e5d9b3c7a1f2e4d6c8b0a9f7e5d3c1b2a4f6e8d0c2b4a69","leaf":"SHA-256(0x00 || ledger-audit-canonical-v1)","as_of":"2026-05-22T00:00:00.000Z","as_of_ms":1779408000000,"last_event_id":"5dd617e6-788c-4648-a25b-3228857ce635","sealed_at":"2026-12-01T00:00:00.000000Z","previous_seal_sha256":null,"leaves_sha256":"00","tool_version":"0.1.0"}"#
        Self.fuzz([Array(line.utf8)]) { bytes in
            guard let text = String(validating: bytes, as: UTF8.self) else { return }
            _ = try? SealRecord.parse(text, lineNumber: 1)
        }
    }

    /// Inputs that crashed a reader once, kept so they never do again.
    @Test("regressions: crashers found by fuzzing and by the hostile review")
    func regressions() {
        // A binary COPY header whose extension length is negative indexed before the buffer.
        var header = Self.binaryRow(header: true)
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
