import Foundation
import LedgerAuditCore
@testable import LedgerAuditSources
import LedgerAuditTestSupport
import Testing

/// COPY-CSV is read a word at a time: framing counts quotes in words without a newline, and
/// fields are split by a two-byte scan. Both must find exactly what a byte-at-a-time reader
/// finds, on random records dense with quotes, doubled quotes, commas, CRs and newlines inside
/// quotes, at every alignment.
@Suite("COPY-CSV read by words", .removesTemporaryFolders)
struct CSVScanTests {
    typealias Random = CanonicalJSONTests.SplitMix

    /// The byte-at-a-time split the word scans replaced: fields as text (nil for NULL), or nil.
    static func referenceFields(_ record: [UInt8]) -> [String?]? {
        guard String(validating: record, as: UTF8.self) != nil else { return nil }
        var end = record.count
        if end > 0 && record[end - 1] == 0x0D { end -= 1 }
        var out: [String?] = []
        var i = 0
        while true {
            if i < end && record[i] == 0x22 {
                i += 1
                var bytes: [UInt8] = []
                var closed = false
                while i < end {
                    if record[i] == 0x22 {
                        if i + 1 < end && record[i + 1] == 0x22 { bytes.append(0x22); i += 2; continue }
                        i += 1
                        closed = true
                        break
                    }
                    bytes.append(record[i])
                    i += 1
                }
                guard closed else { return nil }
                out.append(String(decoding: bytes, as: UTF8.self))
                guard i == end || record[i] == 0x2C else { return nil }
            } else {
                let start = i
                while i < end && record[i] != 0x2C {
                    if record[i] == 0x22 { return nil }
                    i += 1
                }
                out.append(i == start ? nil : String(decoding: record[start..<i], as: UTF8.self))
            }
            if i >= end { return out }
            i += 1
            if i == end { out.append(nil); return out }
        }
    }

    static func randomRecord(_ rng: inout Random) -> [UInt8] {
        let pieces: [[UInt8]] = [[0x22], [0x22, 0x22], [0x2C], [0x0A], [0x0D], [0x61], [0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A],
                                 Array("é".utf8), [0xC3], [0x23], [0x21], [0x0B]]
        var out: [UInt8] = []
        for _ in 0..<rng.next(40) { out += pieces[rng.next(pieces.count)] }
        return out
    }

    @Test("fields split by words equal the byte-at-a-time split")
    func fieldsAgree() {
        var rng = Random(seed: 5)
        var valid = 0
        for n in 0..<20_000 {
            var record = CSVScanTests.randomRecord(&rng)
            if n % 3 == 0 {  // well-formed records too: every field quoted, quotes doubled
                let fields = (0..<rng.next(5)).map { _ in CSVScanTests.randomRecord(&rng) }
                record = Array(fields.map { [0x22] + $0.flatMap { $0 == 0x22 ? [0x22, 0x22] : [$0] } + [0x22] }.joined(separator: [0x2C]))
            }
            let expected = CSVScanTests.referenceFields(record)
            let got = record.withUnsafeBufferPointer { CopyCSVFormat.fields($0) }.map { $0.map(\.text) }
            #expect(got == expected, "\(record)")
            if expected != nil { valid += 1 }
        }
        #expect(valid > 2_500)
    }

    @Test("byte scans flag exactly the bytes a byte-at-a-time loop finds, at every alignment")
    func scansAgree() {
        var rng = Random(seed: 9)
        for _ in 0..<5_000 {
            let bytes = (0..<(1 + rng.next(40))).map { _ in UInt8([0x22, 0x23, 0x21, 0x0A, 0x0B, 0x09, 0x2C, 0x2D, 0x00, 0x80, 0xA2, 0xFF][rng.next(12)]) }
            bytes.withUnsafeBufferPointer { b in
                for from in 0...b.count {
                    let found = ByteScan.firstOf(0x22, 0x0A, in: b.baseAddress!, from: from, to: b.count)
                    #expect(found == (b[from...].firstIndex { $0 == 0x22 || $0 == 0x0A } ?? b.count))
                }
                for at in stride(from: 0, through: b.count - 8, by: 1) {
                    let w = ByteScan.word(b.baseAddress!, at)
                    #expect(ByteScan.flaggedCount(ByteScan.matches(0x22, in: w)) == b[at..<(at + 8)].filter { $0 == 0x22 }.count)
                    #expect((ByteScan.matches(0x0A, in: w) == 0) == !b[at..<(at + 8)].contains(0x0A))
                }
            }
        }
    }

    @Test("records framed by words equal byte-at-a-time framing, across read-buffer refills")
    func framingAgrees() throws {
        var rng = Random(seed: 13)
        var file: [UInt8] = []
        while file.count < 3 * Limits.extractReadBufferBytes {
            file += CSVScanTests.randomRecord(&rng).filter { $0 != 0x22 } + [0x0A]
            var quoted = CSVScanTests.randomRecord(&rng)
            quoted = quoted.flatMap { $0 == 0x22 ? [0x22, 0x22] : [$0] }
            file += [0x61, 0x2C, 0x22] + quoted + [0x22, 0x0A]
        }
        // Byte at a time: a newline outside quotes ends a record.
        var expected: [[UInt8]] = []
        var current: [UInt8] = [], inQuotes = false
        for c in file {
            if c == 0x22 { inQuotes.toggle() }
            if c == 0x0A && !inQuotes { expected.append(current); current = [] } else { current.append(c) }
        }
        let folder = ScratchFolder("csv-framing")
        let path = folder.path + "/events.csv"
        FileManager.default.createFile(atPath: path, contents: Data(file))
        var got: [[UInt8]] = []
        try ExtractFile(path: path).forEachRecord(quoted: true) { piece in
            if case .record(_, _, let bytes) = piece { got.append(Array(bytes)) }
        }
        #expect(got.count == expected.count)
        #expect(got == expected)
    }
}
