#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LedgerAuditCore

/// An open extract file, read in large chunks, handing out records without copying them twice.
final class ExtractFile {
    let path: String
    /// What the file is, in messages ("extract", "projection file").
    let role: String
    let fd: Int32
    /// A pipe read once from start to end (a projection from `<(psql …)`): read with `read`,
    /// never by position.
    let isPipe: Bool

    /// `role` names the file in messages; `readOnce` (a projection, read once in order) lets a
    /// pipe through, which an extract is not: the order check and a sorted replay read an
    /// extract by position, more than once.
    init(path: String, role: String = "extract", readOnce: Bool = false) throws(SourceError) {
        self.path = path
        self.role = role
        var status = stat()
        if readOnce, stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFIFO {
            // Opened without O_NONBLOCK: a named pipe's reader waits for its writer, as `cat`
            // does. (A first open with O_NONBLOCK, closed and opened again, would pair with a
            // writer and leave it writing into a pipe with no reader.)
            fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw SourceError("cannot open \(role) \(path): \(String(cString: strerror(errno)))") }
            isPipe = true
            return
        }
        // O_NONBLOCK: opening a pipe with no writer would wait for one; it is refused below instead.
        fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw SourceError("cannot open \(role) \(path): \(String(cString: strerror(errno)))") }
        isPipe = false
        let kind = fstat(fd, &status) == 0 ? status.st_mode & S_IFMT : 0
        // A pipe (a named FIFO) or a device cannot be read twice or by position,
        // which the order check and a sorted replay need: said here, not as "Illegal seek" later.
        guard kind == S_IFREG else {
            // fd is closed by deinit (it runs when a full init throws)
            if kind == S_IFDIR { throw SourceError("cannot read \(role) \(path): it is a directory, not a file") }
            throw SourceError("cannot read \(role) \(path): it is \(kind == S_IFIFO ? "a pipe" : "not a regular file"); an extract is read by position, more than once (the order check, a sorted replay): save it to a file first (say, zcat events.jsonl.gz > events.jsonl)")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
    }

    deinit { close(fd) }

    /// Reads from `offset` into the start of `out` (one buffer serves a whole sorted replay; it
    /// grows to `atMost` and never shrinks, so alternating long and short reads zero nothing
    /// again) at least `atLeast` bytes and as many as `atMost` or the end of the file allows;
    /// returns how many. Fewer than `atLeast` (the file shrank since it was indexed) is an error.
    func read(offset: Int, atLeast: Int, atMost: Int, into out: inout [UInt8]) throws(SourceError) -> Int {
        if out.count < atMost { out.append(contentsOf: repeatElement(0, count: atMost - out.count)) }
        var done = 0
        while done < atMost {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, atMost - done, off_t(offset + done)) }
            if n < 0 && errno == EINTR { continue }
            if n == 0 && done >= atLeast { break }  // the end of the file, past what was needed
            guard n > 0 else { throw SourceError("cannot read \(role) \(path) at byte \(offset + done)") }
            done += n
        }
        return done
    }

    /// One record as the reader finds it.
    enum Piece {
        /// `bytes` without its terminating `\n`; `line` is the line it starts on (1-based).
        case record(offset: Int, line: Int, bytes: UnsafeBufferPointer<UInt8>)
        /// A record longer than `Limits.extractRecordBytesMax`: skipped whole, never held.
        case tooLong(offset: Int, line: Int, length: Int)
    }

    /// Whether the file starts with a UTF-8 byte-order mark (spreadsheet exports carry one).
    private(set) var hadByteOrderMark = false

    /// The file's size in bytes, or nil when it cannot be told.
    var size: Int? {
        var st = stat()
        return fstat(fd, &st) == 0 ? Int(st.st_size) : nil
    }

    /// The offset just past the first `\n` at or after `offset`, or nil when none follows.
    func lineStart(after offset: Int) throws(SourceError) -> Int? {
        var chunk: [UInt8] = []
        var at = offset
        while true {
            let n = try read(offset: at, atLeast: 0, atMost: 64 * 1024, into: &chunk)
            if n == 0 { return nil }
            if let i = chunk[0..<n].firstIndex(of: 0x0A) { return at + i + 1 }
            at += n
        }
    }

    func forEachRecord(_ framing: RecordFraming, _ body: (Piece) throws -> Void) throws {
        switch framing {
        case .lines: try forEachRecord(quoted: false, body)
        case .csv: try forEachRecord(quoted: true, body)
        case .binaryCopy: try forEachCopyRow(body)
        }
    }

    /// Calls `body` for every row of a binary COPY file (the bytes from its field count to its
    /// last field; `line` is the row's number). The framing itself must hold: a file without the
    /// signature, cut inside a row, or going on past the trailer is refused, since no later row
    /// could be found with certainty.
    func forEachCopyRow(_ body: (Piece) throws -> Void) throws {
        guard lseek(fd, 0, SEEK_SET) == 0 else { throw SourceError("cannot rewind extract \(path)") }
        var buffer = [UInt8](repeating: 0, count: Limits.extractReadBufferBytes)
        var filled = 0, start = 0, bufferOffset = 0, eof = false
        // Makes `count` bytes from `start` available; false when the file ends first.
        func have(_ count: Int) throws -> Bool {
            while filled - start < count {
                if eof { return false }
                if start > 0 {
                    buffer.withUnsafeMutableBufferPointer { b in _ = memmove(b.baseAddress!, b.baseAddress! + start, filled - start) }
                    filled -= start
                    bufferOffset += start
                    start = 0
                }
                if count > buffer.count { buffer.append(contentsOf: [UInt8](repeating: 0, count: max(count - buffer.count, buffer.count))) }
                let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + filled, $0.count - filled) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw SourceError("cannot read \(role) \(path): \(String(cString: strerror(errno)))")
                }
                if n == 0 { eof = true } else { filled += n }
            }
            return true
        }
        func int32(_ at: Int) -> Int { buffer.withUnsafeBytes { Int(BinaryCopyDecoder.int32($0, at)) } }
        guard try have(19), Array(buffer[0..<11]) == BinaryCopyDecoder.signature else {
            throw SourceError("extract \(path) is not a PostgreSQL binary COPY file (it lacks the PGCOPY signature); write it with COPY … TO … (FORMAT binary)")
        }
        let extensionLength = int32(15)
        guard extensionLength >= 0, extensionLength <= Limits.extractRecordBytesMax, try have(19 + extensionLength) else {
            throw SourceError("extract \(path): the binary COPY header is cut short or malformed")
        }
        start = 19 + extensionLength
        var row = 0
        while true {
            guard try have(2) else { throw SourceError("extract \(path) ends after row \(row) without the COPY trailer: the file is cut short") }
            let count = Int(Int16(bitPattern: UInt16(buffer[start]) << 8 | UInt16(buffer[start + 1])))
            if count == -1 {
                start += 2
                if try have(1) { throw SourceError("extract \(path) goes on after the COPY trailer (after row \(row))") }
                return
            }
            guard count >= 0 else { throw SourceError("extract \(path): row \(row + 1) has a field count of \(count)") }
            var length = 2
            for _ in 0..<count {
                guard try have(length + 4) else { throw SourceError("extract \(path) ends inside row \(row + 1): the file is cut short") }
                let field = int32(start + length)
                guard field >= -1 else { throw SourceError("extract \(path): row \(row + 1) has a field of length \(field)") }
                length += 4 + max(field, 0)
                guard length <= Limits.extractRecordBytesMax else {
                    throw SourceError("extract \(path): row \(row + 1) is over the limit of \(Limits.extractRecordBytesMax) bytes a record")
                }
            }
            guard try have(length) else { throw SourceError("extract \(path) ends inside row \(row + 1): the file is cut short") }
            row += 1
            try buffer.withUnsafeBufferPointer { try body(.record(offset: bufferOffset + start, line: row, bytes: UnsafeBufferPointer(rebasing: $0[start..<(start + length)]))) }
            start += length
        }
    }

    /// Calls `body` for every record. With `quoted` (CSV), a `\n` inside double quotes does not
    /// end a record, and a file that ends inside quotes is an error (as PostgreSQL's COPY says:
    /// unterminated CSV quoted field), never a silent swallow of what follows. Scanning state
    /// survives buffer refills, so a record is scanned once. `from` and `to` bound the bytes
    /// read (`from` at a record's start); the file is read by positioned reads, so two threads
    /// may scan two stretches of one file at once (the byte-order mark is looked for only at 0).
    func forEachRecord(quoted: Bool, from: Int = 0, to: Int = .max, _ body: (Piece) throws -> Void) throws {
        var buffer = [UInt8](repeating: 0, count: Limits.extractReadBufferBytes)
        var filled = 0, start = 0, scan = 0, fileOffsetOfBuffer = from
        var inQuotes = false, eof = false, first = from == 0
        var line = 1, linesInRecord = 0
        // Skipping an over-long record: where it began, how long it is so far.
        var skipping: (offset: Int, line: Int, length: Int)?
        while true {
            var end: Int?
            buffer.withUnsafeBufferPointer { b in
                if quoted {
                    let base = b.baseAddress!
                    var i = scan
                    scanning: while i < filled {
                        // A word without a newline only flips the quoting by its count of quotes
                        // (JSON columns in CSV are dense with doubled quotes).
                        if i &+ 8 <= filled {
                            let w = ByteScan.word(base, i)
                            if ByteScan.matches(0x0A, in: w) == 0 {
                                if ByteScan.flaggedCount(ByteScan.matches(0x22, in: w)) & 1 == 1 { inQuotes.toggle() }
                                i &+= 8
                                continue
                            }
                        }
                        let stop = Swift.min(i &+ 8, filled)
                        while i < stop {
                            let c = base[i]
                            if c == 0x22 { inQuotes.toggle() } else if c == 0x0A { if inQuotes { linesInRecord += 1 } else { end = i; break scanning } }
                            i &+= 1
                        }
                    }
                    scan = i
                } else if scan < filled, let p = memchr(b.baseAddress! + scan, 0x0A, filled - scan) {
                    end = b.baseAddress!.distance(to: p.assumingMemoryBound(to: UInt8.self))
                } else {
                    scan = filled
                }
            }
            if let end {
                if let s = skipping {
                    try body(.tooLong(offset: s.offset, line: s.line, length: s.length + end - start))
                    skipping = nil
                } else {
                    try buffer.withUnsafeBufferPointer { try body(.record(offset: fileOffsetOfBuffer + start, line: line, bytes: UnsafeBufferPointer(rebasing: $0[start..<end]))) }
                }
                line += 1 + linesInRecord
                linesInRecord = 0
                start = end + 1
                scan = start
                continue
            }
            if eof {
                if quoted && inQuotes {
                    throw SourceError("\(role) \(path): unterminated CSV quoted field in the record starting on line \(skipping?.line ?? line) (a double quote opens a quoted field that never closes); the file is refused, as PostgreSQL's COPY refuses it")
                }
                if let s = skipping {
                    try body(.tooLong(offset: s.offset, line: s.line, length: s.length + filled - start))
                } else if start < filled {
                    try buffer.withUnsafeBufferPointer { try body(.record(offset: fileOffsetOfBuffer + start, line: line, bytes: UnsafeBufferPointer(rebasing: $0[start..<filled]))) }
                }
                return
            }
            // A record past the limit is skipped from here on: its bytes are counted, not kept.
            if skipping == nil && filled - start > Limits.extractRecordBytesMax {
                skipping = (fileOffsetOfBuffer + start, line, 0)
            }
            if skipping != nil {
                skipping!.length += filled - start
                fileOffsetOfBuffer += filled
                filled = 0
                start = 0
                scan = 0
            } else if start > 0 {
                // Compact, then read more.
                buffer.withUnsafeMutableBufferPointer { b in _ = memmove(b.baseAddress!, b.baseAddress! + start, filled - start) }
                filled -= start
                scan -= start
                fileOffsetOfBuffer += start
                start = 0
            }
            if filled == buffer.count { buffer.append(contentsOf: [UInt8](repeating: 0, count: buffer.count)) }
            let position = fileOffsetOfBuffer + filled
            let wanted = Swift.min(buffer.count - filled, to - position)
            let n = wanted <= 0 ? 0 : buffer.withUnsafeMutableBytes {
                // A pipe is read once, from the start, so `position` is where it stands.
                isPipe ? Glibc.read(fd, $0.baseAddress! + filled, wanted) : Glibc.pread(fd, $0.baseAddress! + filled, wanted, off_t(position))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw SourceError("cannot read \(role) \(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { eof = true } else { filled += n }
            if first && filled >= 3 || first && eof {
                first = false
                if filled >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF {
                    hadByteOrderMark = true
                    start = 3
                    scan = 3
                }
            }
        }
    }
}
