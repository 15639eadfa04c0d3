import LedgerAuditCore

/// The header as labelled facts, in one order for every renderer (HTML, XML, run.json).
public enum HeaderFacts {
    public static func facts(_ h: ReportHeader) -> [(key: String, label: String, value: String)] {
        var out: [(String, String, String)] = [
            ("reportKind", "Report", h.reportKind),
            ("asOf", "As of", h.asOfUs.map { Instant.iso8601(us: $0) } ?? "all events"),
            ("timeBasis", "Time basis", h.timeBasis == .hlc ? "hlc (hlc_physical)" : "recorded (recorded_at)"),
        ]
        if let from = h.fromUs { out.append(("from", "From (exclusive)", Instant.iso8601(us: from))) }
        if let known = h.knownAtUs { out.append(("knownAt", "As known at (recorded_at)", Instant.iso8601(us: known))) }
        out += [
            ("source", "Source", h.source),
            ("catalogFile", "Catalog", h.catalogFile),
            ("catalogSHA256", "Catalog SHA-256", h.catalogSHA256),
            ("eventsRead", "Events read", String(h.population.eventsRead)),
            ("eventsInScope", "Events in scope", String(h.population.eventsInScope)),
            ("eventsQuarantined", "Events quarantined", String(h.population.eventsQuarantined)),
            ("rowsMalformed", "Rows malformed", String(h.population.rowsMalformed)),
            ("eventsUnknownType", "Events of unknown type", String(h.population.eventsUnknownType)),
            ("postings", "Postings", String(h.population.postings)),
            ("eventsDigestSHA256", "Events digest (SHA-256, \(CanonicalEvent.name))", h.eventsDigestSHA256 ?? "not computed"),
            ("conservation", "Conservation", h.conservation.holds ? "holds: every currency sums to zero" : "BROKEN"),
            ("toolVersion", "Tool version", h.toolVersion),
            ("gitRevision", "Git revision", h.gitRevision),
            ("generatedAt", "Generated at (UTC)", Instant.iso8601(us: h.generatedAtUs)),
            ("runBy", "Run by (OS user)", h.runBy),
        ]
        return out
    }
}

/// `run.json`: the header for machines.
public enum RunJSON {
    public static func render(_ h: ReportHeader, files: [String]) -> String {
        var members: [(String, JSONValue)] = HeaderFacts.facts(h).map { ($0.key, .string($0.value)) }
        let p = h.population
        members.append(("population", .object([
            ("eventsRead", .number(String(p.eventsRead))), ("eventsInScope", .number(String(p.eventsInScope))),
            ("eventsQuarantined", .number(String(p.eventsQuarantined))), ("rowsMalformed", .number(String(p.rowsMalformed))),
            ("eventsUnknownType", .number(String(p.eventsUnknownType))), ("moneyEvents", .number(String(p.moneyEvents))),
            ("postings", .number(String(p.postings))),
        ])))
        members.append(("controlTotals", .array(h.controlTotals.sorted { $0.key < $1.key }.map { code, t in
            .object([
                ("currency", .string(code)), ("numberOfEntries", .number(String(t.postingCount))),
                ("totalDebitMinor", .number(String(t.totalDebitMinor))), ("totalCreditMinor", .number(String(t.totalCreditMinor))),
            ])
        })))
        members.append(("conservationHolds", .bool(h.conservation.holds)))
        members.append(("netByCurrencyMinor", .object(h.conservation.netByCurrency.sorted { $0.key < $1.key }.map { ($0.key, .number(String($0.value))) })))
        members.append(("asOfUs", h.asOfUs.map { .number(String($0)) } ?? .null))
        members.append(("notes", .array(h.notes.map { .string(CardMask.masked($0)) })))
        members.append(("files", .array(files.map { .string($0) })))
        return JSONWriter.write(.object(members)) + "\n"
    }
}
