#if canImport(Glibc)
import Glibc
#endif
import LedgerAuditCore

/// The extract and COPY readers as fuzz targets see them: one input through the reader exactly
/// as a source feeds it, the result thrown away. A crash or a trap is the only failure; an error
/// or a malformed row is the promised behaviour. Used by the libFuzzer driver
/// (`Fuzz/Driver`) and the test suite's seeded mutation loop.
public enum ReaderFuzzing {
    /// One JSONL line: its order key, then the event in it.
    public static func jsonlLine(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { b in
            _ = JSONLFormat().orderKey(b)
            _ = JSONLFormat().decode(b, location: "line 1")
        }
    }

    /// One COPY-CSV record after the reference header; the record also tried as a header.
    public static func copyCSVRecord(_ bytes: [UInt8]) {
        var format = CopyCSVFormat()
        let header = Array((EventColumn.allCases.map(\.name).joined(separator: ",")).utf8)
        _ = header.withUnsafeBufferPointer { try? format.readHeader($0) }
        bytes.withUnsafeBufferPointer { b in
            _ = CopyCSVFormat.fields(b)
            _ = format.orderKey(b)
            _ = format.decode(b, location: "record 2")
            var other = CopyCSVFormat()
            _ = try? other.readHeader(b)
        }
    }

    /// A whole extract file through the record reader (quotes across lines, EOF inside a
    /// quote, long records, out-of-order sorting): `path` is a scratch file the caller owns.
    public static func extractFile(_ bytes: [UInt8], scratchPath path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { return }
        var written = 0
        bytes.withUnsafeBytes { raw in
            while written < raw.count {
                let n = write(fd, raw.baseAddress! + written, raw.count - written)
                if n <= 0 { break }
                written += n
            }
        }
        close(fd)
        _ = try? FileExtractSource(path: path).stream(scope: ReplayScope()) { _ in }
    }

    /// One CopyData message of a binary COPY stream, as the first message (with the file
    /// header) and as a later one.
    public static func binaryCopyMessage(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var first = BinaryCopyDecoder()
            if let f = try? first.fields(of: raw) { _ = BinaryCopyDecoder.row(f, rowNumber: 1) }
            var later = BinaryCopyDecoder(headerSeen: true)
            if let f = try? later.fields(of: raw) { _ = BinaryCopyDecoder.row(f, rowNumber: 2) }
        }
    }

    /// The binary COPY file signature, for seeds.
    public static var binaryCopySignature: [UInt8] { BinaryCopyDecoder.signature }
}
