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

    public init(reportKind: String, asOfUs: Int64?, timeBasis: TimeBasis, source: String, catalogFile: String, catalogSHA256: String, population: Population, controlTotals: [String: ControlTotal], conservation: Conservation, eventsDigestSHA256: String?, toolVersion: String, gitRevision: String, generatedAtUs: Int64, runBy: String, notes: [String]) {
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

    public init(id: String, title: String, figures: [(label: String, value: String)] = [], tables: [ReportTable] = []) {
        self.id = id
        self.title = title
        self.figures = figures
        self.tables = tables
    }
}

/// A table; `csvName` names the CSV file that holds all of its rows (`balances.csv`).
public struct ReportTable: Sendable {
    public var csvName: String?
    public var title: String
    public var columns: [String]
    public var rows: [[ReportCell]]

    public init(csvName: String?, title: String, columns: [String], rows: [[ReportCell]]) {
        self.csvName = csvName
        self.title = title
        self.columns = columns
        self.rows = rows
    }
}

/// A cell says where its text came from: ledger data is neutralised in CSV and escaped in HTML;
/// numbers the tool formats itself are left as numbers.
public enum ReportCell: Sendable, Equatable {
    case ledgerText(String)
    case number(String)
    case empty

    public static func integer(_ v: Int64) -> ReportCell { .number(String(v)) }
    public static func optional(_ s: String?) -> ReportCell { s.map { .ledgerText($0) } ?? .empty }
}
