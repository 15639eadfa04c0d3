import LedgerAuditCore

/// How one extract format finds records, their global-order key, and the events in them.
protocol ExtractFormat {
    /// How records are delimited.
    var framing: RecordFraming { get }
    /// Called with the first record; true if it is a header to skip (CSV).
    mutating func readHeader(_ record: UnsafeBufferPointer<UInt8>) throws(SourceError) -> Bool
    /// The global-order key, read cheaply, or nil if the record is unreadable.
    func orderKey(_ record: UnsafeBufferPointer<UInt8>) -> GlobalOrderKey?
    /// `location` is made only for a row that cannot be read (most rows need none).
    mutating func decode(_ record: UnsafeBufferPointer<UInt8>, location: @autoclosure () -> String) -> SourceRow
}

/// Lines (JSONL), CSV records (a quoted field may hold line ends, the first is a header), or
/// binary COPY rows (length-prefixed fields after a signature).
enum RecordFraming {
    case lines, csv, binaryCopy

    var unit: String {
        switch self {
        case .lines: return "line"
        case .csv: return "record"
        case .binaryCopy: return "row"
        }
    }

    var hasHeaderRecord: Bool { self == .csv }
}

/// A file extract: `.jsonl` (one event per line), `.csv` (COPY … WITH (FORMAT csv, HEADER)) or
/// `.pgcopy` (COPY … WITH (FORMAT binary)).
/// A first pass checks global order in constant memory. An extract in order streams on the
/// second pass; one out of order is sorted by an index of 40 bytes an event (key, offset,
/// length) and replayed from the file mapped read-only where it fits in memory (`MappedExtract`:
/// the page cache's own pages, where copying the whole file into memory first was measured
/// slower than reading each record, 200k events 1.27 s against 1.12 s, the fresh pages'
/// faults), else by positioned reads.
public struct FileExtractSource: EventSource, Sendable {
    public enum Kind: String, Sendable { case jsonl, csv, pgcopy = "binary COPY" }
    public let path: String
    public let kind: Kind
    /// A JSONL file at least this long has its order checked in two halves at once (where
    /// there is a second core); tests lower it.
    var orderCheckSplitBytesMin = ReadAheadSource.pays(cores: ReadAheadSource.coresOnline) ? Limits.orderCheckSplitBytesMin : .max

    public init(path: String) throws(SourceError) {
        self.path = path
        guard let kind = FileExtractSource.kind(of: path) else {
            throw SourceError("cannot tell the format of \(path): an extract ends in .jsonl, .csv or .pgcopy")
        }
        self.kind = kind
    }

    /// The format an extract's name says, or nil.
    /// The names an extract may end in, for messages that must say so.
    public static let formatsNamed = ".jsonl (one event per line), .csv (COPY … WITH (FORMAT csv, HEADER)) or .pgcopy (COPY … WITH (FORMAT binary))"

    public static func kind(of path: String) -> Kind? {
        if path.hasSuffix(".jsonl") || path.hasSuffix(".ndjson") { return .jsonl }
        if path.hasSuffix(".csv") { return .csv }
        if path.hasSuffix(".pgcopy") { return .pgcopy }
        return nil
    }

    public var redactedDescription: String { "file:\(path) (\(kind.rawValue) extract)" }

    public func stream(scope: ReplayScope, _ body: (SourceRow) throws -> Void) throws -> SourceReport {
        switch kind {
        case .jsonl: return try stream(format: JSONLFormat(), scope: scope, body)
        case .csv: return try stream(format: CopyCSVFormat(), scope: scope, body)
        case .pgcopy: return try stream(format: BinaryCopyFormat(), scope: scope, body)
        }
    }

    struct IndexEntry {
        var key: GlobalOrderKey
        var offset: Int
        var length: Int32
        /// The record's number, and the line it starts on.
        var lineNumber: Int32
        var line: Int32

        /// Stable on ties: equal keys keep write order, so the first written copy of an event comes first.
        static func replaysBefore(_ a: IndexEntry, _ b: IndexEntry) -> Bool {
            a.key != b.key ? a.key < b.key : a.offset < b.offset
        }
    }

    /// One half of a JSONL extract's lines, indexed and sorted on a thread of its own: its
    /// numbers and lines count from its own start (one piece a line), the second half's
    /// shifted by the first's pieces once both are done.
    struct IndexHalf {
        var entries: [IndexEntry] = []
        /// Records without an order key and records over the length limit, in file order.
        var unindexed: [(offset: Int, length: Int, number: Int, line: Int, tooLong: Bool)] = []
        var pieces = 0

        init<F: ExtractFormat>(_ file: ExtractFile, _ format: F, from: Int, to: Int) throws {
            try file.forEachRecord(quoted: false, from: from, to: to) { piece in
                pieces += 1
                switch piece {
                case .tooLong(let offset, let line, let length):
                    unindexed.append((offset, length, pieces, line, true))
                case .record(let offset, let line, let record):
                    guard !isBlank(record) else { return }
                    if let key = format.orderKey(record) {
                        entries.append(IndexEntry(key: key, offset: offset, length: Int32(record.count), lineNumber: Int32(clamping: pieces), line: Int32(clamping: line)))
                    } else {
                        unindexed.append((offset, record.count, pieces, line, false))
                    }
                }
            }
            entries.sort(by: IndexEntry.replaysBefore)
        }

        /// Two sorted halves as one sorted index: on equal keys the first half's entry (the
        /// smaller offset) comes first, as one sort of the whole would put it.
        static func merge(_ a: [IndexEntry], _ b: [IndexEntry], shiftingSecondBy shift: Int32) -> [IndexEntry] {
            var out: [IndexEntry] = []
            out.reserveCapacity(a.count + b.count)
            var i = 0, j = 0
            func shifted(_ e: IndexEntry) -> IndexEntry {
                var e = e
                e.lineNumber = e.lineNumber &+ shift
                e.line = e.line &+ shift
                return e
            }
            while i < a.count && j < b.count {
                if b[j].key < a[i].key { out.append(shifted(b[j])); j += 1 } else { out.append(a[i]); i += 1 }
            }
            out.append(contentsOf: a[i...])
            while j < b.count { out.append(shifted(b[j])); j += 1 }
            return out
        }
    }

    func stream<F: ExtractFormat>(format initial: F, scope: ReplayScope, _ body: (SourceRow) throws -> Void) throws -> SourceReport {
        let file = try ExtractFile(path: path)
        var format = initial
        var report = SourceReport()
        let unit = format.framing.unit
        func location(_ number: Int, _ line: Int) -> String { number == line ? "\(unit) \(number)" : "\(unit) \(number) (line \(line))" }
        func tooLong(_ number: Int, _ line: Int, _ length: Int) -> SourceRow {
            .malformed(MalformedRow(location: location(number, line), reason: "is \(length) bytes long, over the limit of \(Limits.extractRecordBytesMax) bytes a record; it was skipped unread"))
        }

        // Pass 1: is the extract in global order? Constant memory. Also: the header, and
        // whether the extract holds any record at all. Lines (JSONL) of a large file are
        // checked in two halves at once (`Concurrently`): the fold waits for this pass, and a
        // line cannot hold a raw line end, so the half-way line start is certain (a CSV record
        // can, and is checked in one piece).
        var check = OrderCheck()
        // Where pass 1 split the file: the index pass of an extract out of order splits there too.
        var split: Int?
        if case .lines = format.framing, let size = file.size, size >= orderCheckSplitBytesMin,
           let middle = try file.lineStart(after: size / 2), middle < size {
            split = middle
            // Lines have no header. The second half reads to the file's end, not to its size
            // when measured: a file that grows meanwhile is checked as far as in one piece.
            let lines = format
            let halves = Concurrently.map(2) { half in
                Result { () throws -> OrderCheck in
                    var part = OrderCheck()
                    try file.forEachRecord(quoted: false, from: half == 0 ? 0 : middle, to: half == 0 ? middle : .max) { piece in
                        guard case .record(_, _, let record) = piece else { part.records += 1; return }
                        part.add(record, lines)
                    }
                    return part
                }
            }
            check = try halves[0].get()
            check.append(try halves[1].get())
        } else {
            var headerDone = !format.framing.hasHeaderRecord
            try file.forEachRecord(format.framing) { piece in
                guard case .record(_, _, let record) = piece else { check.records += 1; return }
                if !headerDone {
                    headerDone = true
                    _ = try format.readHeader(record)
                    return
                }
                check.add(record, format)
            }
        }
        let inOrder = check.inOrder, records = check.records
        if file.hadByteOrderMark {
            report.byteOrderMarkSkipped = true
            report.notes.append("the extract began with a UTF-8 byte-order mark, which was skipped")
        }
        report.holdsNoRecords = records == 0

        func emit(_ row: SourceRow) throws {
            report.rowsRead += 1
            switch row {
            case .malformed: try body(row)
            case .event(let e): if scope.includes(e) { try body(row) }
            }
        }

        if inOrder {
            var number = 0
            try file.forEachRecord(format.framing) { piece in
                number += 1
                switch piece {
                case .tooLong(_, let line, let length):
                    try emit(tooLong(number, line, length))
                case .record(_, let line, let record):
                    if format.framing.hasHeaderRecord && number == 1 { return }
                    guard !isBlank(record) else { return }
                    try emit(format.decode(record, location: location(number, line)))
                }
            }
            return report
        }

        // Out of order: index, sort, replay in sorted order.
        report.reorderedFromWriteOrder = true
        report.notes.append("the extract was not in global order (hlc_physical, hlc_logical, event_id); it was sorted before replay")
        var index: [IndexEntry] = []
        if let split {
            // Lines split where pass 1 split them: each half indexed and sorted on a core of its
            // own, then merged (the fold waits for this pass too). Records without an order key
            // (malformed, or over the length limit) are emitted in file order first, as below.
            let lines = format
            let halves = Concurrently.both(
                { Result { try IndexHalf(file, lines, from: 0, to: split) } },
                { Result { try IndexHalf(file, lines, from: split, to: .max) } })
            let first = try halves.0.get(), second = try halves.1.get()
            var buffer: [UInt8] = []
            for (half, shift) in [(first, 0), (second, first.pieces)] {
                for u in half.unindexed {
                    // One piece is one line here: the second half's numbers and lines start after the first's.
                    let number = u.number + shift, line = u.line + shift
                    if u.tooLong {
                        try emit(tooLong(number, line, u.length))
                    } else {
                        let n = try file.read(offset: u.offset, atLeast: u.length, atMost: u.length, into: &buffer)
                        try buffer.withUnsafeBufferPointer { try emit(format.decode(UnsafeBufferPointer(rebasing: $0[0..<n]), location: location(number, line))) }
                    }
                }
            }
            index = IndexHalf.merge(first.entries, second.entries, shiftingSecondBy: Int32(clamping: first.pieces))
        } else {
            var number = 0
            try file.forEachRecord(format.framing) { piece in
                number += 1
                switch piece {
                case .tooLong(_, let line, let length):
                    try emit(tooLong(number, line, length))
                case .record(let offset, let line, let record):
                    if format.framing.hasHeaderRecord && number == 1 { return }
                    guard !isBlank(record) else { return }
                    if let key = format.orderKey(record) {
                        index.append(IndexEntry(key: key, offset: offset, length: Int32(record.count), lineNumber: Int32(clamping: number), line: Int32(clamping: line)))
                    } else {
                        try emit(format.decode(record, location: location(number, line)))
                    }
                }
            }
            index.sort(by: IndexEntry.replaysBefore)
        }
        // Mapped where it fits in memory: each record a slice, no read of its own.
        // A record past the size mapped (the file cut short since it was indexed) is an error.
        let size = file.size ?? 0
        if MappedExtract.pays(bytes: size), let mapped = MappedExtract(file, bytes: size) {
            for entry in index {
                let record = try mapped.record(offset: entry.offset, length: Int(entry.length))
                try emit(format.decode(record, location: location(Int(entry.lineNumber), Int(entry.line))))
            }
            return report
        }
        var reads = SortedReplayReads(fileBytes: file.size)
        for i in index.indices {
            let entry = index[i]
            try reads.withRecord(at: i, of: index, in: file) { try emit(format.decode($0, location: location(Int(entry.lineNumber), Int(entry.line)))) }
        }
        return report
    }

    /// Pass 1's findings over a stretch of records: the count, whether the keys ascend, and the
    /// first and last keys (so two stretches can be joined).
    struct OrderCheck {
        var records = 0
        var inOrder = true
        var first: GlobalOrderKey?
        var last: GlobalOrderKey?

        mutating func add<F: ExtractFormat>(_ record: UnsafeBufferPointer<UInt8>, _ format: F) {
            guard !isBlank(record) else { return }
            records += 1
            guard inOrder, let key = format.orderKey(record) else { return }
            if let p = last, key < p { inOrder = false }
            if first == nil { first = key }
            last = key
        }

        /// The stretch that follows this one.
        mutating func append(_ next: OrderCheck) {
            records += next.records
            if let l = last, let f = next.first, f < l { inOrder = false }
            inOrder = inOrder && next.inOrder
            if first == nil { first = next.first }
            last = next.last ?? last
        }
    }

    /// The sorted replay's reads. Where the next records in order lie close together in the
    /// file (an extract in write order is nearly in global order), a window of the file is read
    /// once and they are taken from it; elsewhere (a shuffled file) each record is read by
    /// itself, into one buffer. At 2M events in write order the run's system time fell from
    /// 1.7 s (a read an event) to 0.5 s.
    struct SortedReplayReads {
        private var window: [UInt8] = []
        /// The file offsets `window` holds: [windowStart, windowStart + windowCount).
        private var windowStart = 0
        private var windowCount = 0
        private(set) var reads = 0
        /// The file's size when the replay began: a window never reaches past it (a small
        /// file is read whole, not into a 1 MiB buffer zeroed for it).
        private let fileBytes: Int

        init(fileBytes: Int?) { self.fileBytes = fileBytes ?? .max }

        mutating func withRecord(at i: Int, of index: [IndexEntry], in file: ExtractFile, _ body: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
            let entry = index[i]
            let length = Int(entry.length)
            if entry.offset < windowStart || entry.offset + length > windowStart + windowCount {
                reads += 1
                let start = max(0, entry.offset - Limits.sortedReplayWindowBackBytes)
                let span = min(Limits.sortedReplayWindowBytes, max(fileBytes - start, entry.offset - start + length))
                if length <= span - (entry.offset - start), Self.windowPays(after: i, of: index, start: start, span: span) {
                    windowCount = try file.read(offset: start, atLeast: entry.offset - start + length, atMost: span, into: &window)
                    windowStart = start
                } else {
                    windowCount = try file.read(offset: entry.offset, atLeast: length, atMost: length, into: &window)
                    windowStart = entry.offset
                }
            }
            let from = entry.offset - windowStart
            try window.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[from..<from + length])) }
        }

        /// Whether enough of the records that come next in order lie in [start, start + span).
        static func windowPays(after i: Int, of index: [IndexEntry], start: Int, span: Int) -> Bool {
            var hits = 0
            for j in (i + 1)..<min(index.count, i + 1 + Limits.sortedReplayLookahead) {
                let e = index[j]
                if e.offset >= start && e.offset + Int(e.length) <= start + span { hits += 1 }
            }
            return hits >= min(Limits.sortedReplayLookaheadHitsMin, index.count - i - 1) && hits > 0
        }
    }
}

func isBlank(_ record: UnsafeBufferPointer<UInt8>) -> Bool {
    record.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
}

