import Foundation
import LedgerAuditConfig
import LedgerAuditCore
import LedgerAuditEvidence
import LedgerAuditSources

/// Every reader of outside bytes as one fuzz target: libFuzzer drives them through
/// `ledger-audit-fuzz` (scripts/fuzz), the test suite through its seeded mutation loop.
/// `run` never throws: a crash or a trap is the only failure a fuzzer can find.
public enum FuzzTarget: String, CaseIterable, Sendable {
    case jsonlLine = "jsonl-line"
    case copyCSVRecord = "copy-csv-record"
    case extractFile = "extract-file"
    case binaryCopy = "binary-copy"
    case jsonParser = "json-parser"
    case amountParser = "amount-parser"
    case catalogLoader = "catalog-loader"
    case sealLine = "seal-line"

    /// Feeds one input. `scratch` is a file path the extract-file target may overwrite.
    public func run(_ bytes: [UInt8], scratch: String) {
        switch self {
        case .jsonlLine: ReaderFuzzing.jsonlLine(bytes)
        case .copyCSVRecord: ReaderFuzzing.copyCSVRecord(bytes)
        case .extractFile:
            // The first byte picks the format, so one corpus exercises every reader.
            let ending = [".jsonl", ".csv", ".pgcopy"][Int(bytes.first ?? 0) % 3]
            ReaderFuzzing.extractFile(Array(bytes.dropFirst()), scratchPath: scratch + ending)
        case .binaryCopy: ReaderFuzzing.binaryCopyMessage(bytes)
        case .jsonParser:
            _ = try? JSONParser.parse(bytes)
            if let text = String(validating: bytes, as: UTF8.self) { _ = try? JSONText.validating(text).parse() }
        case .amountParser:
            guard let value = try? JSONParser.parse(bytes) else { return }
            _ = AmountParser.parse(value)
            if case .number(let t) = value { _ = AmountParser.parseNumberText(t) }
            if case .string(let t) = value { _ = AmountParser.parseDigitString(t) }
        case .catalogLoader:
            guard let text = String(validating: bytes, as: UTF8.self) else { return }
            _ = try? CatalogLoader.load(yaml: text, file: "fuzz.yml")
        case .sealLine:
            guard let text = String(validating: bytes, as: UTF8.self) else { return }
            _ = try? SealRecord.parse(text, lineNumber: 1)
        }
    }

    /// The files the extract-file target writes for `scratch`.
    public static func scratchFiles(_ scratch: String) -> [String] { [scratch + ".csv", scratch + ".jsonl", scratch + ".pgcopy"] }

    /// Seed inputs made from the sample ledger folder (events.jsonl, events.csv, ledger-audit.yml).
    public func seeds(sample folder: String) -> [[UInt8]] {
        func lines(_ name: String, _ n: Int) -> [[UInt8]] {
            guard let text = try? String(contentsOfFile: folder + "/" + name, encoding: .utf8) else { return [] }
            return text.split(separator: "\n").prefix(n).map { Array($0.utf8) }
        }
        switch self {
        case .jsonlLine: return lines("events.jsonl", 200)
        case .copyCSVRecord: return Array(lines("events.csv", 200).dropFirst())
        case .extractFile:
            let jsonl = lines("events.jsonl", 20).map { String(decoding: $0, as: UTF8.self) }.joined(separator: "\n")
            let csv = lines("events.csv", 20).map { String(decoding: $0, as: UTF8.self) }.joined(separator: "\n")
            return [[0] + Array(jsonl.utf8), [1] + Array(csv.utf8)]
        case .binaryCopy: return [FuzzTarget.binaryRow(header: true), FuzzTarget.binaryRow(header: false), [0xFF, 0xFF]]
        case .jsonParser: return lines("events.jsonl", 50) + ["[[[[[[1]]]]]]", "{\"a\":\"\\ud83d\\ude00\"}", "1e999", "-0.0"].map { Array($0.utf8) }
        case .amountParser:
            return ["1200", "\"12.50\"", "-1", "9223372036854775807", "\"007\"", "1e3", "0", "\" 1\"", "12.5", "-9223372036854775808"].map { Array($0.utf8) }
        case .catalogLoader:
            let yaml = (try? String(contentsOfFile: folder + "/ledger-audit.yml", encoding: .utf8)) ?? "events: {}\n"
            return [Array(yaml.utf8), Array("events: {}\n".utf8), Array("a: &x [*x]\n".utf8)]
        case .sealLine:
            let line = #"{"seal":1,"tree_size":3039,"root_sha256":"8c2c2d7e3b1f6d0a0e5d9b3c7a1f2e4d6c8b0a9f7e5d3c1b2a4f6e8d0c2b4a69","leaf":"SHA-256(0x00 || ledger-audit-canonical-v1)","as_of":"2026-05-22T00:00:00.000Z","as_of_ms":1779408000000,"last_event_id":"5dd617e6-788c-4648-a25b-3228857ce635","sealed_at":"2026-12-01T00:00:00.000000Z","previous_seal_sha256":null,"leaves_sha256":"00","tool_version":"0.1.0"}"#
            return [Array(line.utf8)]
        }
    }

    /// A binary COPY row of the reference table as PostgreSQL sends it (optionally with the file header).
    public static func binaryRow(header: Bool) -> [UInt8] {
        var out: [UInt8] = header ? ReaderFuzzing.binaryCopySignature + [0, 0, 0, 0, 0, 0, 0, 0] : []
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
}
