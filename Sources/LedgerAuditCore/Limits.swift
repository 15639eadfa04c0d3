/// Every limit the tool applies, in one place, named with its unit.
public enum Limits {
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
    /// Read buffer for file extracts.
    public static let extractReadBufferBytes = 1 << 20
}
