import Foundation
import LedgerAuditCore
import Mustache

/// HTML from mustache templates: `report.mustache` for the page, `section.mustache` for any
/// section, or `section-<id>.mustache` when a team wants one section drawn its own way.
/// Values are escaped by mustache's `{{…}}`; ledger text is masked before it gets there.
public struct HTMLRenderer {
    let library: MustacheLibrary
    public let origin: String

    /// Templates from `directory`, or the defaults built into the tool (the repository's `templates/`).
    public static func load(directory: String?) throws(OutputError) -> HTMLRenderer {
        var library = MustacheLibrary()
        var sources: [String: String] = [:]
        if let directory {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
                throw OutputError("cannot read the templates folder \(directory)")
            }
            for name in names where name.hasSuffix(".mustache") {
                switch TextFile.contents(directory + "/" + name, bytesMax: Limits.templateBytesMax) {
                case .success(let text): sources[String(name.dropLast(".mustache".count))] = text
                case .failure(let why): throw OutputError("cannot read template \(directory)/\(name): \(why)")
                }
            }
        } else {
            for (name, text) in EmbeddedTemplates.files where name.hasSuffix(".mustache") {
                sources[String(name.dropLast(".mustache".count))] = text
            }
        }
        for required in ["report", "section"] where sources[required] == nil {
            throw OutputError("the templates folder \(directory ?? "(built in)") has no \(required).mustache")
        }
        try TemplateRules.check(sources, folder: directory ?? "(built in)")
        for (name, text) in sources {
            do {
                try library.register(text, named: name)
            } catch {
                throw OutputError("template \(name).mustache does not parse: \(error)")
            }
        }
        return HTMLRenderer(library: library, origin: directory ?? "built-in")
    }

    public func render(_ report: Report, exponentOf: (String) -> Int) -> String {
        let sections: [[String: Any]] = report.sections.map { section in
            let name = library.getTemplate(named: "section-\(section.id)") != nil ? "section-\(section.id)" : "section"
            return ["html": library.render(sectionContext(section), withTemplate: name) ?? ""]
        }
        let h = report.header
        let monoKeys: Set<String> = ["catalogSHA256", "eventsDigestSHA256", "gitRevision", "source", "catalogFile"]
        let context: [String: Any] = [
            "title": report.title,
            "subtitle": "As of " + (h.asOfUs.map { Instant.iso8601(us: $0) } ?? "all events") + (h.knownAtUs.map { " as known at " + Instant.iso8601(us: $0) } ?? "")
                + " · time basis \(h.timeBasis.rawValue) · \(h.population.eventsInScope) events in scope",
            "facts": HeaderFacts.facts(h).map { ["label": $0.label, "value": CardMask.masked($0.value), "mono": monoKeys.contains($0.key)] as [String: Any] },
            "controlTotals": h.controlTotals.sorted { $0.key < $1.key }.map { code, t -> [String: Any] in
                let e = exponentOf(code)
                return [
                    "currency": code, "entries": String(t.postingCount),
                    "debit": MoneyFormat.decimal(t.totalDebitMinor, exponent: e),
                    "credit": MoneyFormat.decimal(t.totalCreditMinor, exponent: e),
                    "net": MoneyFormat.decimal(h.conservation.netByCurrency[code] ?? 0, exponent: e),
                ]
            },
            "notes": h.notes.map { CardMask.masked($0) },
            "sections": sections,
            "toolVersion": h.toolVersion,
            "gitRevision": h.gitRevision,
            "generatedAt": Instant.iso8601(us: h.generatedAtUs),
        ]
        return library.render(context, withTemplate: "report") ?? ""
    }

    func sectionContext(_ section: ReportSection) -> [String: Any] {
        [
            "id": section.id,
            "title": section.title,
            "hasFigures": !section.figures.isEmpty,
            "figures": section.figures.map { ["label": $0.label, "value": CardMask.masked($0.value)] },
            "tables": section.tables.map(tableContext),
            "charts": section.charts.map { ["caption": CardMask.masked($0.caption), "svg": $0.svg] },
        ]
    }

    func tableContext(_ full: ReportTable) -> [String: Any] {
        var table = full
        if let names = full.htmlColumns {
            let keep = names.compactMap { full.columns.firstIndex(of: $0) }
            table.columns = keep.map { full.columns[$0] }
            table.rows = full.rows.selectingColumns(keep)
        }
        let shown = Array(table.rows.prefix(Limits.htmlTableRowsMax))
        // A column is numeric when every non-empty cell is a number the tool formatted; rows
        // made on demand say so themselves (making every row to look would undo their point).
        let numeric: [Bool] = table.rows.numericColumns ?? {
            var sawNumber = Array(repeating: false, count: table.columns.count)
            var sawText = Array(repeating: false, count: table.columns.count)
            for row in table.rows {
                for i in row.indices where i < table.columns.count {
                    switch row[i] {
                    case .number: sawNumber[i] = true
                    case .empty: continue
                    case .ledgerText, .toolText: sawText[i] = true
                    }
                }
            }
            return table.columns.indices.map { sawNumber[$0] && !sawText[$0] }
        }()
        let firstTotal = table.rows.count - table.totalRows
        var context: [String: Any] = [
            "title": table.title,
            "columns": table.columns.enumerated().map { ["name": $0.element, "numeric": numeric[$0.offset]] as [String: Any] },
            "columnCount": table.columns.count,
            "rows": shown.enumerated().map { index, row -> [String: Any] in
                // `fields` lets a section template name cells by column (`{{fields.code}}`).
                var fields: [String: Any] = [:]
                for (i, name) in table.columns.enumerated() where i < row.count {
                    let text = row[i].displayText
                    if !text.isEmpty { fields[name] = text }
                }
                return [
                    "total": index >= firstTotal,
                    "fields": fields,
                    "cells": row.enumerated().map { ["text": $0.element.displayText, "numeric": $0.offset < numeric.count && numeric[$0.offset],
                                                  "tree": $0.offset < table.columns.count && table.columns[$0.offset] == "tree"] as [String: Any] },
                ]
            },
            "truncated": table.totalRowCount > shown.count,
            "shownCount": shown.count,
            "totalCount": table.totalRowCount,
            // "1 row", "1 finding": the templates say the noun in the singular for one.
            "single": table.totalRowCount == 1,
        ]
        // Absent, not nil: mustache would print an Optional.
        if let csv = table.csvName { context["csvName"] = csv }
        if full.htmlColumns != nil { context["narrowed"] = true }
        return context
    }
}

/// What a templates folder may do, checked when it is loaded (exit 2 naming the template):
/// escaping stays on for everything but the markup the tool builds itself (a section's HTML,
/// a chart's SVG), and partials nest at most `Limits.templatePartialDepthMax` deep (a partial
/// that includes itself would render for ever).
enum TemplateRules {
    /// Values the tool renders itself, already escaped: the only ones `{{{…}}}` / `{{&…}}` may show.
    static let toolMarkup: Set<String> = ["html", "svg"]

    static func check(_ sources: [String: String], folder: String) throws(OutputError) {
        var partials: [String: [String]] = [:]
        for (name, text) in sources {
            for tag in tags(text) {
                if tag.hasPrefix("=") {
                    throw OutputError("template \(folder)/\(name).mustache changes the tag delimiters ({{=…=}}), so what it escapes cannot be checked; keep {{ }}")
                }
                if tag.hasPrefix("{") || tag.hasPrefix("&") {
                    let field = tag.drop { $0 == "{" || $0 == "&" }.trimmingCharacters(in: CharacterSet(charactersIn: " \t}"))
                    guard toolMarkup.contains(field) else {
                        throw OutputError("template \(folder)/\(name).mustache shows '\(field)' unescaped ({{{…}}} or {{&…}}): ledger text must stay escaped; use {{\(field)}}")
                    }
                } else if tag.hasPrefix(">") {
                    partials[name, default: []].append(tag.dropFirst().trimmingCharacters(in: CharacterSet(charactersIn: " \t")))
                }
            }
        }
        // Depth-first from every template: a cycle or a chain deeper than the limit is refused.
        func walk(_ name: String, _ path: [String]) throws(OutputError) {
            if path.contains(name) {
                throw OutputError("template \(folder)/\(path.first ?? name).mustache includes itself through partials (\((path + [name]).joined(separator: " → "))): it would render for ever")
            }
            guard path.count < Limits.templatePartialDepthMax else {
                throw OutputError("template \(folder)/\(path[0]).mustache nests partials deeper than \(Limits.templatePartialDepthMax) (\((path + [name]).joined(separator: " → ")))")
            }
            for next in partials[name] ?? [] { try walk(next, path + [name]) }
        }
        for name in sources.keys.sorted() { try walk(name, []) }
    }

    /// The text inside every `{{…}}` tag, with its sigil.
    static func tags(_ text: String) -> [String] {
        var out: [String] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            let after = rest[open.upperBound...]
            let closeToken = after.hasPrefix("{") ? "}}}" : "}}"
            guard let close = after.range(of: closeToken) else { break }
            out.append(String(after[..<close.lowerBound]))
            rest = after[close.upperBound...]
        }
        return out
    }
}
