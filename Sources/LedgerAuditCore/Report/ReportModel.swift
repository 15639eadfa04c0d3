/// One report, as every renderer sees it: a header (what population, how produced) and sections
/// of tables, figures and findings. Commands build these; renderers (CSV, HTML, XML) consume them.
public struct Report: Sendable {
    public var kind: String
    public var title: String
    public var header: ReportHeader
    public var sections: [ReportSection]

    public init(kind: String, title: String, header: ReportHeader, sections: [ReportSection]) {
        self.kind = kind
        self.title = title
        self.header = header
        self.sections = sections
    }
}

public struct ReportHeader: Sendable {
    public var reportKind: String
    /// nil: all events in the source.
    public var asOfUs: Int64?
    public var timeBasis: TimeBasis
    public var source: String
    public var catalogFile: String
    public var catalogSHA256: String
    public var population: Population
    public var controlTotals: [String: ControlTotal]
    public var conservation: Conservation
    public var eventsDigestSHA256: String?
    public var toolVersion: String
    public var gitRevision: String
    public var generatedAtUs: Int64
    public var runBy: String
    public var notes: [String]
    /// Start of the period, for reports that have one (statement, trial balance).
    public var fromUs: Int64?
    /// Bitemporal bound: only what was recorded by then.
    public var knownAtUs: Int64?

    public init(reportKind: String, asOfUs: Int64?, timeBasis: TimeBasis, source: String, catalogFile: String, catalogSHA256: String, population: Population, controlTotals: [String: ControlTotal], conservation: Conservation, eventsDigestSHA256: String?, toolVersion: String, gitRevision: String, generatedAtUs: Int64, runBy: String, notes: [String], fromUs: Int64? = nil, knownAtUs: Int64? = nil) {
        self.fromUs = fromUs
        self.knownAtUs = knownAtUs
        self.reportKind = reportKind
        self.asOfUs = asOfUs
        self.timeBasis = timeBasis
        self.source = source
        self.catalogFile = catalogFile
        self.catalogSHA256 = catalogSHA256
        self.population = population
        self.controlTotals = controlTotals
        self.conservation = conservation
        self.eventsDigestSHA256 = eventsDigestSHA256
        self.toolVersion = toolVersion
        self.gitRevision = gitRevision
        self.generatedAtUs = generatedAtUs
        self.runBy = runBy
        self.notes = notes
    }
}

public struct ReportSection: Sendable {
    public var id: String
    public var title: String
    public var figures: [(label: String, value: String)]
    public var tables: [ReportTable]
    /// Inline SVG charts (HTML only), drawn by the tool from its own numbers.
    public var charts: [ReportChart] = []

    public init(id: String, title: String, figures: [(label: String, value: String)] = [], tables: [ReportTable] = [], charts: [ReportChart] = []) {
        self.charts = charts
        self.id = id
        self.title = title
        self.figures = figures
        self.tables = tables
    }
}

/// An SVG figure: `svg` is complete, escaped markup built by the tool (ledger text in it already masked).
public struct ReportChart: Sendable {
    public var caption: String
    public var svg: String
    public init(caption: String, svg: String) {
        self.caption = caption
        self.svg = svg
    }
}

/// A table; `csvName` names the CSV file that holds all of its rows (`balances.csv`).
/// `xmlRow` names the element each row becomes in XML (its columns become attributes, named in
/// lowerCamelCase); nil keeps the table out of the XML. A streamed table (the journal) was
/// written row by row during the replay: the model holds its count and first rows only.
public struct ReportTable: Sendable {
    public var csvName: String?
    public var xmlRow: String?
    public var title: String
    public var columns: [String]
    public var rows: ReportRows
    public var streamedRowCount: Int?
    /// How many of the last rows are totals (emphasised in HTML).
    public var totalRows: Int
    /// The columns HTML shows, when a wide table would not read on a page (CSV and XML keep all).
    public var htmlColumns: [String]?

    public init(csvName: String?, xmlRow: String? = nil, title: String, columns: [String], rows: ReportRows, streamedRowCount: Int? = nil, totalRows: Int = 0) {
        self.totalRows = totalRows
        self.csvName = csvName
        self.xmlRow = xmlRow
        self.title = title
        self.columns = columns
        self.rows = rows
        self.streamedRowCount = streamedRowCount
    }

    public init(csvName: String?, xmlRow: String? = nil, title: String, columns: [String], rows: [[ReportCell]], streamedRowCount: Int? = nil, totalRows: Int = 0) {
        self.init(csvName: csvName, xmlRow: xmlRow, title: title, columns: columns, rows: ReportRows(rows), streamedRowCount: streamedRowCount, totalRows: totalRows)
    }

    /// All rows of the table, including those only in a streamed CSV.
    public var totalRowCount: Int { streamedRowCount ?? rows.count }
}

/// A table's rows: held, or made one at a time when a renderer reads them. Balances and the
/// trial balance of every account are made from the sorted book as each format writes them:
/// holding their cells (9 for each of 237,387 accounts at 2M events) was most of the render's
/// peak (about 110 MB) and of its time (retain/release of every cell).
public struct ReportRows: RandomAccessCollection, ExpressibleByArrayLiteral, Sendable {
    private let held: [[ReportCell]]
    private let madeCount: Int
    private let make: (@Sendable (Int) -> [ReportCell])?
    /// For rows made on demand: whether each column is a number the tool formats, known from
    /// how the rows are made (a renderer need not make every row to find out).
    public private(set) var numericColumns: [Bool]?
    /// Rows said line by line: what a CSV renderer writes from, cell by cell into its bytes.
    public private(set) var lineSource: (any ReportLineSource)?

    public init(_ rows: [[ReportCell]]) {
        held = rows
        madeCount = 0
        make = nil
        numericColumns = nil
        lineSource = nil
    }

    public init(arrayLiteral rows: [ReportCell]...) { self.init(rows) }

    /// `count` rows, row `i` made by `row(i)` each time it is read.
    public init(count: Int, numericColumns: [Bool], row: @escaping @Sendable (Int) -> [ReportCell]) {
        held = []
        madeCount = count
        make = row
        lineSource = nil
        // As renderers decide from held cells: a column of no rows holds no number.
        self.numericColumns = count == 0 ? numericColumns.map { _ in false } : numericColumns
    }

    /// The rows of `lines`: cells made from a line when a renderer reads them, and the line
    /// itself for a CSV renderer.
    public init(lines: some ReportLineSource, numericColumns: [Bool]) {
        self.init(count: lines.count, numericColumns: numericColumns) { i in
            var row = ReportCellRow(capacity: lines.columnCount)
            lines.line(i, into: &row)
            return row.cells
        }
        lineSource = lines
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { make == nil ? held.count : madeCount }
    public subscript(index: Int) -> [ReportCell] { make?(index) ?? held[index] }

    /// The same rows with only the columns at `keep` (an index past a row's end gives `.empty`).
    public func selectingColumns(_ keep: [Int]) -> ReportRows {
        let source = self
        var selected = ReportRows(count: count, numericColumns: []) { i in
            let row = source[i]
            return keep.map { $0 < row.count ? row[$0] : .empty }
        }
        selected.numericColumns = numericColumns.map { known in keep.map { $0 < known.count && known[$0] } }
        return selected
    }
}

/// A cell says where its text came from: ledger data is neutralised in CSV and escaped in HTML;
/// numbers the tool formats itself are left as numbers.
public enum ReportCell: Sendable, Equatable {
    case ledgerText(String)
    case number(String)
    /// Text of a known shape that is never ledger data (a TSA's GeneralizedTime): not masked,
    /// since it can hold a Luhn-valid run of 13–19 digits by chance (`20261203103415Z` is one)
    /// and masking it would change the evidence.
    case toolText(String)
    case empty

    public static func integer(_ v: Int64) -> ReportCell { .number(String(v)) }
    public static func optional(_ s: String?) -> ReportCell { s.map { .ledgerText($0) } ?? .empty }

    /// What every renderer shows: ledger text with card numbers masked. The one place masking
    /// happens; renderers escape or neutralise this text for their own format.
    public var displayText: String {
        switch self {
        case .empty: return ""
        case .number(let n): return n
        case .ledgerText(let t): return LedgerText.forOutput(t)
        case .toolText(let t): return t
        }
    }

    public var isNumber: Bool { if case .number = self { return true } else { return false } }
}
