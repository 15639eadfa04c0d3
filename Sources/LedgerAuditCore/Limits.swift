/// Every limit the tool applies, in one place, named with its unit.
public enum Limits {
    /// Account templates whose shape one line writer remembers (by number; templates are
    /// numbered from 0 as catalogs name them): past this, names are written the general way.
    public static let accountTemplatesRememberedMax = 4_096
    /// Findings kept with full detail in memory; past this they are counted per code only.
    public static let findingsKeptMax = 1_000_000
    /// Default clock-skew bound between `hlc_physical` and `recorded_at`.
    public static let clockSkewDefaultMs: Int64 = 5 * 60 * 1000
    /// Default age after which money held in a transit account is in limbo.
    public static let limboAfterDefaultMs: Int64 = 72 * 3_600_000
    /// Longest causation chain followed before giving up (guards against corrupt data, not recursion).
    public static let causationDepthMax = 100_000
    /// One extract line (JSONL) or record (CSV) longer than this is malformed.
    public static let extractRecordBytesMax = 16 * 1024 * 1024
    /// Depth of nested JSON accepted in payload / metadata.
    public static let jsonDepthMax = 512
    /// Rows shown in an HTML table before pointing the reader at the CSV.
    public static let htmlTableRowsMax = 500
    /// Progress line on stderr is shown for runs longer than this.
    public static let progressAfterMs: Int64 = 1000
    /// The instants an event may carry: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z.
    /// Outside them a time is not a time (a legal BIGINT, or PostgreSQL's `infinity`): the row is
    /// MALFORMED_EVENT, so every later `ms × 1000` and date is in range by construction.
    public static let instantMinUs: Int64 = -62_135_596_800_000_000
    public static let instantMaxUs: Int64 = 253_402_300_799_999_999
    public static var hlcPhysicalMinMs: Int64 { instantMinUs / 1000 }
    public static var hlcPhysicalMaxMs: Int64 { instantMaxUs / 1000 }
    /// Catalog bounds: a clock-skew bound of at most ten years, limbo after at most ten years.
    public static let clockSkewMaxMsMax: Int64 = 10 * 366 * 86_400_000
    /// Events a seal may claim to cover (a seal file's tree_size beyond it is an edited file).
    public static let sealTreeSizeMax = 1 << 40
    /// Nesting of mustache partials before a templates folder is refused (a partial that
    /// includes itself would render for ever).
    public static let templatePartialDepthMax = 8
    /// Postings one event may carry in a payload array (`postings_from`): past it, BAD_AMOUNT.
    public static let payloadPostingsMax = 1000
    /// A catalog, command registry, key or seal file is read whole: past this many bytes it is
    /// refused (a device such as /dev/zero named by mistake would otherwise fill memory). A
    /// registry of ten million command ids is 370 MB.
    public static let textFileBytesMax = 1 << 30
    /// One template of `--templates`: the built-in ones are a few KB.
    public static let templateBytesMax = 1 << 20
    /// Read buffer for file extracts.
    public static let extractReadBufferBytes = 1 << 20
    /// A JSONL extract at least this long has its order checked in two halves at once.
    public static let orderCheckSplitBytesMin = 32 << 20
    /// The stretch of an out-of-order extract read at once during its sorted replay, where the
    /// next records in order lie close together in the file (an extract in write order is
    /// nearly in global order); elsewhere each record is read by itself.
    public static let sortedReplayWindowBytes = 1 << 20
    /// How far before the record that starts a window the window begins: records a few places
    /// out of order then fall inside it.
    public static let sortedReplayWindowBackBytes = 64 * 1024
    /// The next records in sorted order looked at to decide whether a window pays, and how
    /// many of them must fall inside it.
    public static let sortedReplayLookahead = 16
    public static let sortedReplayLookaheadHitsMin = 8
    /// An out-of-order extract up to this share of the memory the process may fill (1/N: the
    /// machine's, or its control group's cap, `MemoryLimit`) is mapped for its
    /// sorted replay (`MappedExtract`): its pages then stay in the page cache while they are
    /// read in shuffled order. A larger one is read record by record (or window by window).
    public static let sortedReplayMappedMemoryDivisor = 2
    /// Extracts mapped at once, which the SIGBUS guard watches (a fixed table its handler can
    /// read): the sources of one run stay far below it (one a cell); past it, positioned reads.
    public static let mappedExtractsMax = 64
    /// Batches a file extract's reader has decoded that wait for the fold: this many show the
    /// fold is the slower side, and the reader then also makes the canonical encoding the
    /// digest hashes.
    public static let readAheadBacklogToEncode = 2
    /// Rows a PostgreSQL source decodes before it lends them to the fold together
    /// (`BatchLendingEventSource`), which posts them ahead and asks for the memory their fold
    /// touches: enough to overlap the cache misses, few enough that the rows stay in cache.
    public static let databaseRowsLentPerBatch = 128
    /// Cells `generate --cells` splits a ledger into.
    public static let generatorCellsMax = 64
    /// Sources merged into one run (`--source` repeated, or the catalog's `sources:`): each is a reader thread.
    public static let mergedSourcesMax = 256
    /// A catalog source's name: it appears in findings, journal lines and headers.
    public static let catalogSourceNameBytesMax = 64
    /// `--jobs`: at most this many readers, each range about this many rows, at most this many ranges.
    public static let parallelReadersMax = 64
    public static let parallelRangeRows = 8192
    public static let parallelRangesMax = 65_536
    /// A CSV file with at least this many lines, most of a report's, is written on two cores.
    public static let csvLinesToSplit = 100_000
    /// The lines of a CSV file made into bytes at a time, on one core (~1.5 MB of reconciliation.csv).
    public static let csvLinesPerRun = 16_384
    /// A PostgreSQL read whose plan sorts at least this many rows before the first (no index in
    /// the order) says so in its notes, with the index to create; smaller sorts take moments.
    public static let serverSortNoteRowsMin: Int64 = 100_000
    /// Ids an `EventIdTable` indexes (32-bit slots; 0 marks an empty slot, two values are sentinels).
    public static let eventIdTableMax = Int(UInt32.max) - 2
}
