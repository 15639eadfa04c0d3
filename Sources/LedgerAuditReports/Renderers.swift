import LedgerAuditCore

/// What every renderer is set up with.
public struct RenderOptions {
    /// HTML templates folder (`--templates`); nil: the built-in ones.
    public var templatesDirectory: String?
    /// Digits after the point for a currency (the catalog's, else ISO 4217's).
    public var exponentOf: (String) -> Int

    public init(templatesDirectory: String?, exponentOf: @escaping (String) -> Int) {
        self.templatesDirectory = templatesDirectory
        self.exponentOf = exponentOf
    }
}

/// A renderer could not be set up (a template that does not parse): bad configuration, exit 2.
public struct RenderSetupError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// One output format. `--format` names formats from `Renderers.all`; a new format is one file
/// holding a type like these, and one line in that list.
public protocol ReportRenderer {
    /// The name `--format` takes.
    static var format: String { get }
    init(options: RenderOptions) throws(RenderSetupError)
    /// Writes the report into `folder` (which exists); returns the paths written.
    func write(_ report: Report, to folder: String) throws(OutputError) -> [String]
}

public enum Renderers {
    /// In the order the files are written.
    public static var all: [any ReportRenderer.Type] { [CSVFormat.self, HTMLFormat.self, XMLFormat.self] }

    public static var formats: [String] { all.map { $0.format } }

    /// The renderers for `--format`, in registry order; unknown names are the caller's to refuse.
    public static func make(_ formats: Set<String>, options: RenderOptions) throws(RenderSetupError) -> [any ReportRenderer] {
        var out: [any ReportRenderer] = []
        for type in all where formats.contains(type.format) { out.append(try type.init(options: options)) }
        return out
    }
}

/// Every table that names a CSV file (RFC 4180; see `CSVRenderer`).
public struct CSVFormat: ReportRenderer {
    public static let format = "csv"
    public init(options: RenderOptions) {}
    public func write(_ report: Report, to folder: String) throws(OutputError) -> [String] {
        try CSVRenderer.write(report, to: folder)
    }
}

/// `KIND.html` from the mustache templates.
public struct HTMLFormat: ReportRenderer {
    public static let format = "html"
    let renderer: HTMLRenderer
    let exponentOf: (String) -> Int

    public init(options: RenderOptions) throws(RenderSetupError) {
        do { renderer = try HTMLRenderer.load(directory: options.templatesDirectory) } catch { throw RenderSetupError(error.description) }
        exponentOf = options.exponentOf
    }

    public func write(_ report: Report, to folder: String) throws(OutputError) -> [String] {
        let path = folder + "/" + report.kind + ".html"
        try AtomicFile.writeWhole(path, renderer.render(report, exponentOf: exponentOf))
        return [path]
    }
}

/// `KIND.xml`, streamed by libxml2 and validated against the XSD before it is renamed into place.
public struct XMLFormat: ReportRenderer {
    public static let format = "xml"
    let exponentOf: (String) -> Int
    public init(options: RenderOptions) { exponentOf = options.exponentOf }
    public func write(_ report: Report, to folder: String) throws(OutputError) -> [String] {
        let path = folder + "/" + report.kind + ".xml"
        try XMLRenderer.write(report, to: path, exponentOf: exponentOf)
        return [path]
    }
}
