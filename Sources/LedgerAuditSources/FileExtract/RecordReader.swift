#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LedgerAuditCore

/// An open extract file, read in large chunks, handing out records without copying them twice.
final class ExtractFile {
    let path: String
    let fd: Int32

    init(path: String) throws(SourceError) {
        self.path = path
        fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw SourceError("cannot open extract \(path): \(String(cString: strerror(errno)))") }
    }

    deinit { close(fd) }

    /// Reads `length` bytes at `offset` (for replay in sorted order).
    func read(offset: Int, length: Int) throws(SourceError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: length)
        var done = 0
        while done < length {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, length - done, off_t(offset + done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw SourceError("cannot read extract \(path) at byte \(offset + done)") }
            done += n
        }
        return out
    }

    /// Calls `body(offset, recordBytes)` for every record. `recordEnd` finds where a record that
    /// starts at the given index ends (index of its terminating '\n', or nil if not in the buffer).
    func forEachRecord(
        recordEnd: (UnsafeBufferPointer<UInt8>, Int) -> Int?,
        _ body: (Int, UnsafeBufferPointer<UInt8>) throws -> Void
    ) throws {
        guard lseek(fd, 0, SEEK_SET) == 0 else { throw SourceError("cannot rewind extract \(path)") }
        var buffer = [UInt8](repeating: 0, count: Limits.extractReadBufferBytes)
        var filled = 0
        var start = 0
        var fileOffsetOfBuffer = 0
        var eof = false
        while true {
            let end: Int? = buffer.withUnsafeBufferPointer { recordEnd(UnsafeBufferPointer(rebasing: $0[0..<filled]), start) }
            if let end {
                try buffer.withUnsafeBufferPointer { try body(fileOffsetOfBuffer + start, UnsafeBufferPointer(rebasing: $0[start..<end])) }
                start = end + 1
                continue
            }
            if eof {
                if start < filled {
                    try buffer.withUnsafeBufferPointer { try body(fileOffsetOfBuffer + start, UnsafeBufferPointer(rebasing: $0[start..<filled])) }
                }
                return
            }
            // Compact, grow if one record fills the buffer, then read more.
            if start > 0 {
                buffer.withUnsafeMutableBufferPointer { b in
                    _ = memmove(b.baseAddress!, b.baseAddress! + start, filled - start)
                }
                filled -= start
                fileOffsetOfBuffer += start
                start = 0
            }
            if filled == buffer.count {
                guard buffer.count < Limits.extractRecordBytesMax * 2 else {
                    throw SourceError("extract \(path): a record at byte \(fileOffsetOfBuffer) is longer than \(Limits.extractRecordBytesMax) bytes")
                }
                buffer.append(contentsOf: [UInt8](repeating: 0, count: buffer.count))
            }
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SourceError("cannot read extract \(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { eof = true } else { filled += n }
        }
    }
}
