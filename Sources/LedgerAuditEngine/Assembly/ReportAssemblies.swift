import LedgerAuditChecks
import LedgerAuditCore
import LedgerAuditReports

/// `balances`: every account as of T, the trial balance from `--from`, the ADS journal.
enum BalancesAssembly {
    static func assemble(_ f: ReportFacts, filters: [String], fromUs: Int64?, start: PeriodStart, journal: JournalWriter?, adsFiles: [String]) -> Assembled {
        let findings = f.findings()
        // Taken, not kept: the report's rows go before the next report is built.
        let sorted = f.work.sortedAccounts ?? SortedAccounts(book: f.result.book, catalog: f.catalog)
        f.work.sortedAccounts = nil
        var trialBalance = BalancesReport.trialBalanceSection(f.result, start: start, catalog: f.catalog, filters: filters, sorted: sorted)
        if let journal { trialBalance.tables.append(journal.table()) }
        let report = Report(kind: "balances", title: "Balances and trial balance", header: f.header("balances", findings: findings, fromUs: fromUs), sections: [
            BalancesReport.section(f.result, catalog: f.catalog, filters: filters, sorted: sorted),
            trialBalance,
            FindingsTable.section(findings),
        ])
        let adsLine = adsFiles.isEmpty ? [] : ["ADS general ledger: " + adsFiles.joined(separator: ", ")]
        return Assembled(report: report, findings: findings, summaryLines: f.summaryLines(findings) + adsLine, failed: f.failed(findings),
                         streamedFiles: journal.map { [$0.file.finalPath] } ?? [])
    }
}

/// `verify`: the findings, and the sections of the checks that ran.
enum VerifyAssembly {
    static func assemble(_ f: ReportFacts) -> Assembled {
        let findings = f.findings()
        let checks = f.checkSections()
        let report = Report(kind: "verify", title: "Integrity checks", header: f.header("verify", findings: findings),
                            sections: [FindingsTable.section(findings)] + checks.sections)
        return Assembled(report: report, findings: findings, summaryLines: f.summaryLines(findings), failed: f.failed(findings), extraFiles: checks.files)
    }
}

/// `statement`: opening, movements with running balances, closing.
enum StatementAssembly {
    static func assemble(_ f: ReportFacts, accounts: [String], fromUs: Int64?, collector: StatementCollector, streams: [EventID]?) -> Assembled {
        let findings = f.findings()
        var notes: [String] = []
        if let streams {
            notes.append("Read only the stream\(streams.count == 1 ? "" : "s") of aggregate \(streams.map(\.description).joined(separator: ", ")): the catalog names these accounts by aggregate_id alone, so no other event can post to them. Population, control totals and digest cover those streams.")
        }
        let report = Report(kind: "statement", title: "Statement of " + accounts.joined(separator: ", "),
                            header: f.header("statement", findings: findings, fromUs: fromUs, notes: notes),
                            sections: [StatementReport.section(collector, catalog: f.catalog, toUs: f.scope.asOfUs), FindingsTable.section(findings)])
        var lines: [String] = []
        let summaries = collector.summaries()
        for s in summaries {
            let e = f.catalog.currencies.exponent(of: s.currency) ?? 2
            lines.append("\(s.account) \(s.currency): opening \(MoneyFormat.decimal(s.openingMinor, exponent: e)), \(s.movements) movements, closing \(MoneyFormat.decimal(s.closingMinor, exponent: e))")
        }
        if summaries.isEmpty { lines.append("no posting touched \(accounts.joined(separator: ", ")) up to the end of the period") }
        return Assembled(report: report, findings: findings, summaryLines: lines, failed: f.failed(findings))
    }
}

/// `trace --account` and `trace --event`.
enum TraceAssembly {
    static func accounts(_ f: ReportFacts, accounts: [String], statement: StatementCollector, index: CausationIndex, lots: LotBook) -> Assembled {
        let sections = TraceReport.accountSections(statement: statement, index: index, lots: lots, book: f.result.book, catalog: f.catalog)
        return build(f, title: "Trace of " + accounts.joined(separator: ", "), sections: sections)
    }

    static func event(_ f: ReportFacts, id: EventID, index: CausationIndex, second: SecondPassResults) -> Assembled {
        let sections = second.trace.map { TraceReport.eventSections($0, index: index, details: second.traceDetails, catalog: f.catalog) } ?? []
        return build(f, title: "Trace of event \(id)", sections: sections)
    }

    static func build(_ f: ReportFacts, title: String, sections: [ReportSection]) -> Assembled {
        let findings = f.findings()
        let report = Report(kind: "trace", title: title, header: f.header("trace", findings: findings), sections: sections + [FindingsTable.section(findings)])
        let lines = sections.flatMap(\.figures).map { "\($0.label): \(CardMask.masked($0.value))" }
        return Assembled(report: report, findings: findings, summaryLines: lines, failed: f.failed(findings))
    }
}
