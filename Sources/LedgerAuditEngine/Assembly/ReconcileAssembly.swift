import LedgerAuditChecks
import LedgerAuditCore
import LedgerAuditReports
import LedgerAuditSources

/// `reconcile`: the replay against the projections, the checks, and what the scheduler reads.
enum ReconcileAssembly {
    static func assemble(_ f: ReportFacts, options: ReconcileOptions, projections: [ProjectionWatch], second: SecondPassResults, startedMs: Int64) -> Assembled {
        let comparisons = second.reconciliation
        let notMatching = Reconciliation.notMatching(comparisons)
        let compared = comparisons.reduce(0) { $0 + $1.count }
        var extra: [Finding] = notMatching.map(Reconciliation.finding)
        for p in projections {
            for problem in p.input.problems {
                extra.append(Finding(code: .projectionMismatch, severity: .high, message: "\(problem.origin): \(problem.message)", location: ProjectionReader.name(p.input.mapping)))
            }
        }
        let findings = f.findings(adding: extra)
        let checks = f.checkSections()
        let section = reconciliationSection(comparisons, compared: compared, notMatching: notMatching, projected: projections.map { ($0.input.mapping, $0.snapshot.position) }, snapshots: projections.map(\.snapshot),
                                            finder: second.suspects, catalog: f.catalog)
        let report = Report(kind: "reconcile", title: "Reconciliation of projections against the event store",
                            header: f.header("reconcile", findings: findings),
                            sections: [section, FindingsTable.section(findings)] + checks.sections)
        let mismatched = !notMatching.isEmpty
        // A cut not yet complete for T is not a clean night, unless the job says it expects that.
        let incomplete = !(f.cut?.incomplete.isEmpty ?? true) && !options.allowIncomplete
        let failed = f.failed(findings) || mismatched || incomplete
        let catalog = f.catalog
        let nowUs = f.session.facts.clockUs
        var assembled = Assembled(report: report, findings: findings, summaryLines: [], failed: failed, extraFiles: checks.files)
        let eventsInScope = f.result.population.eventsInScope
        let folder = f.work.request.output.folder
        // What the scheduler reads, naming the written report (HTML first).
        let summary = { (written: [String]) in
            ReconcileSummary(accountsCompared: compared, notMatching: notMatching, findings: findings, eventsReplayed: eventsInScope, report: written.first { $0.hasSuffix(".html") } ?? written.first ?? folder,
                             durationMs: monotonicMs() - startedMs, success: !failed, catalog: catalog)
        }
        assembled.afterWrite = { written throws(AuditFailure) in
            let summary = summary(written)
            do {
                if let m = options.metricsFile { try AtomicFile.writeWhole(m, summary.prometheus(previous: TextFile.read(m), nowUs: nowUs())) }
                if let j = options.summaryJSON { try AtomicFile.writeWhole(j, summary.json()) }
            } catch {
                throw .output("\(error)")
            }
            return []
        }
        let cutLine = f.cutSummaryLine
        assembled.summaryAfterWrite = { written in [summary(written).line()] + (cutLine.map { [$0] } ?? []) }
        return assembled
    }

    static func reconciliationSection(_ comparisons: [ReconciliationComparison], compared: Int, notMatching: [ReconciliationRow], projected: [(ProjectionMapping, GlobalOrderKey?)],
                                      snapshots: [CheckpointSnapshot], finder: SuspectFinder?, catalog: Catalog) -> ReportSection {
        var figures: [(label: String, value: String)] = [
            ("Accounts compared", String(compared)),
            ("Matched", String(compared - notMatching.count)),
            ("Mismatched", String(notMatching.count)),
        ]
        for (currency, total) in ReconcileSummary.absoluteDifference(notMatching) {
            figures.append(("Total |difference| \(currency)", MoneyFormat.decimal(total, exponent: catalog.currencies.exponent(of: currency) ?? 2)))
        }
        for (i, (m, position)) in projected.enumerated() {
            if let position {
                let behindMs = (snapshots[i].lastEventHlcMs ?? position.hlcPhysicalMs) - position.hlcPhysicalMs
                figures.append(("Checkpoint of \(ProjectionReader.name(m))", "event \(position.eventId) at \(Instant.iso8601(ms: position.hlcPhysicalMs)); the store is \(snapshots[i].eventsAfter) events and \(LimboCheck.hours(behindMs)) h ahead"))
            } else {
                figures.append(("Checkpoint of \(ProjectionReader.name(m))", "none: compared with every event in scope"))
            }
        }
        var movements: [[ReportCell]] = []
        if let finder {
            for (key, list) in finder.recent.sorted(by: { $0.key < $1.key }) {
                for m in list {
                    movements.append([.ledgerText(key.account), .ledgerText(key.currency), .ledgerText(m.eventId.description), .ledgerText(m.eventType),
                                      .integer(m.hlcPhysicalMs), .integer(m.amountMinor), .integer(m.balanceAfterMinor),
                                      .ledgerText(finder.suspects[key] == m.eventId ? "suspect" : "")])
                }
            }
        }
        return ReportSection(id: "reconciliation", title: "Reconciliation", figures: figures, tables: [
            ReportTable(csvName: "reconciliation.csv", xmlRow: "reconciliationLine", title: "Replay against projections", columns: Reconciliation.columns,
                        rows: Reconciliation.madeRows(comparisons)),
            ReportTable(csvName: nil, xmlRow: "movement", title: "Last movements of mismatched accounts", columns: ["account", "currency", "event_id", "event_type", "hlc_physical", "amount_minor", "balance_after_minor", "note"], rows: movements),
        ])
    }
}

/// What the scheduler gets: one line on stdout, Prometheus metrics, a JSON summary.
struct ReconcileSummary {
    var accountsCompared: Int
    /// The rows that do not match.
    var notMatching: [ReconciliationRow]
    var mismatched: Int { notMatching.count }
    var findings: FindingLog
    var eventsReplayed: Int
    var report: String
    var durationMs: Int64
    var success: Bool
    var catalog: Catalog

    /// Each currency's total |difference| over the rows that do not match.
    static func absoluteDifference(_ notMatching: [ReconciliationRow]) -> [(String, Int128)] {
        var totals: [String: Int128] = [:]
        for row in notMatching { totals[row.currency, default: 0] += Int128(row.differenceMinor.magnitude) }
        return totals.sorted { $0.key < $1.key }
    }

    func line() -> String {
        let diff = ReconcileSummary.absoluteDifference(notMatching).map { "\($0.0) \(MoneyFormat.decimal($0.1, exponent: catalog.currencies.exponent(of: $0.0) ?? 2))" }
        let severities = Severity.allCases.map { "\($0.rawValue) \(findings.countBySeverity[$0] ?? 0)" }.joined(separator: ", ")
        return "reconcile: \(success ? "OK" : "FAILED"); \(accountsCompared) accounts compared, \(accountsCompared - mismatched) matched, \(mismatched) mismatched"
            + (diff.isEmpty ? "" : " (total |difference| \(diff.joined(separator: ", ")))")
            + "; findings \(severities); report \(report)"
    }

    /// Prometheus text exposition. `last_success` carries over from the previous file on failure.
    func prometheus(previous: String?, nowUs: Int64) -> String {
        let now = nowUs / 1_000_000
        var lastSuccess = success ? String(now) : "0"
        if !success, let previous {
            for line in previous.split(separator: "\n") where line.hasPrefix("ledger_audit_last_success_timestamp_seconds ") {
                lastSuccess = String(line.split(separator: " ").last ?? "0")
            }
        }
        var out = ""
        func metric(_ name: String, _ help: String, _ samples: [(String, String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n"
            for (labels, value) in samples { out += name + labels + " " + value + "\n" }
        }
        metric("ledger_audit_last_run_timestamp_seconds", "When the last reconcile run finished (Unix seconds).", [("", String(now))])
        metric("ledger_audit_last_run_duration_seconds", "How long the last reconcile run took.", [("", MoneyFormat.decimal(durationMs, exponent: 3))])
        metric("ledger_audit_last_run_success", "1 when the last run found no mismatch and no finding at or above --fail-on.", [("", success ? "1" : "0")])
        metric("ledger_audit_last_success_timestamp_seconds", "When a reconcile run last succeeded (Unix seconds; 0 never).", [("", lastSuccess)])
        metric("ledger_audit_events_replayed", "Events in scope in the last run.", [("", String(eventsReplayed))])
        metric("ledger_audit_accounts_compared", "Accounts compared against projections in the last run.", [("", String(accountsCompared))])
        metric("ledger_audit_mismatches", "Accounts whose projection disagrees with the replay.", [("", String(mismatched))])
        metric("ledger_audit_findings", "Findings of the last run by severity.", Severity.allCases.map { ("{severity=\"\($0.rawValue)\"}", String(findings.countBySeverity[$0] ?? 0)) })
        return out
    }

    func json() -> String {
        let object: JSONValue = .object([
            ("success", .bool(success)),
            ("accountsCompared", .number(String(accountsCompared))),
            ("matched", .number(String(accountsCompared - mismatched))),
            ("mismatched", .number(String(mismatched))),
            ("totalAbsoluteDifferenceMinor", .object(ReconcileSummary.absoluteDifference(notMatching).map { ($0.0, .number(String($0.1))) })),
            ("findingsBySeverity", .object(Severity.allCases.map { ($0.rawValue, .number(String(findings.countBySeverity[$0] ?? 0))) })),
            ("eventsReplayed", .number(String(eventsReplayed))),
            ("durationMs", .number(String(durationMs))),
            ("report", .string(report)),
        ])
        return JSONWriter.write(object) + "\n"
    }
}
