import ArgumentParser
import Foundation
import LedgerAuditCore
import LedgerAuditReports
import LedgerAuditSources

struct Reconcile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The nightly job: replay against the projections in one snapshot, plus every integrity check."
    )

    @OptionGroup var sourceOptions: SourceOptions
    @OptionGroup var outputOptions: OutputOptions
    @OptionGroup var checkOptions: CheckOptions

    @Option(name: .customLong("as-of"), help: "Replay events up to this instant (inclusive).")
    var asOf: String?

    @Option(name: .customLong("projection"), help: ArgumentHelp("With a file source: a COPY-CSV of a projection table, as FILE or TABLE=FILE (repeatable).", valueName: "[TABLE=]FILE"))
    var projectionFiles: [String] = []

    @Option(help: ArgumentHelp("With a file source: the last event the projections applied; the comparison stops there.", valueName: "EVENT_ID"))
    var checkpoint: String?

    @Option(name: .customLong("metrics-file"), help: ArgumentHelp("Write Prometheus text exposition here (node_exporter textfile collector).", valueName: "PATH"))
    var metricsFile: String?

    @Option(name: .customLong("summary-json"), help: ArgumentHelp("Write the run's summary as JSON here.", valueName: "PATH"))
    var summaryJSON: String?

    func run() throws {
        let startedMs = monotonicMs()
        if checkOptions.listChecks {
            print(CheckOptions.listing())
            return
        }
        let basis = try sourceOptions.validateTimeBasis()
        let failOn = try outputOptions.failOnSeverity()
        let asOfUs = try parseInstant(asOf, option: "--as-of")
        let loaded = try loadCatalog(sourceOptions.config)
        let catalog = loaded.catalog
        guard !catalog.projections.isEmpty else {
            throw ToolFailure(status: .usage, message: "the catalog maps no projection: add projections: to it (see the README)")
        }
        let selected = try checkOptions.selected()
        let run = ReportRun(loaded: loaded, opened: try openSource(sourceOptions.source, catalog: catalog))

        // Projections and checkpoints first: from PostgreSQL, in the snapshot the events come from.
        var projected: [(mapping: ProjectionMapping, balances: [ProjectedBalance], problems: [ProjectionReader.Problem], checkpoint: GlobalOrderKey?)] = []
        do {
            if let session = run.opened.session {
                guard projectionFiles.isEmpty else { throw ToolFailure(status: .usage, message: "--projection is for file sources; with PostgreSQL the projections are read from the catalog's tables") }
                for m in catalog.projections {
                    let (balances, problems) = try ProjectionReader.read(session: session, mapping: m, defaultCurrency: catalog.defaultCurrency)
                    projected.append((m, balances, problems, try ProjectionReader.checkpoint(session: session, mapping: m, store: catalog.store)))
                }
            } else {
                let files = try projectionFileMap(catalog)
                let position = try checkpoint.map { try filePosition($0, source: run.opened.source) }
                for m in catalog.projections {
                    guard let path = files[m.table] else { continue }
                    let (balances, problems) = try ProjectionReader.read(csvPath: path, mapping: m, defaultCurrency: catalog.defaultCurrency)
                    projected.append((m, balances, problems, position))
                }
                guard !projected.isEmpty else {
                    throw ToolFailure(status: .usage, message: "with a file source, give each projection as --projection FILE.csv (a COPY-CSV of \(catalog.projections.map(\.table).joined(separator: ", ")))")
                }
            }
        } catch let failure as ToolFailure {
            throw failure
        } catch {
            throw ToolFailure(status: .source, message: "reading the projections failed: \(error)")
        }

        let snapshots = projected.map { CheckpointSnapshot(position: $0.checkpoint) }
        var outcome = try runChecks(run, selected: selected, commandsFile: checkOptions.commands, asOfUs: asOfUs, basis: basis,
                                    quiet: outputOptions.quiet, extraObservers: snapshots, sealsFile: checkOptions.seals, sealsPublicKey: checkOptions.sealsPublicKey)

        var rows: [ReconciliationRow] = []
        for (i, p) in projected.enumerated() {
            rows += Reconciliation.compare(projected: p.balances, book: snapshots[i].book, mapping: p.mapping, projectionName: ProjectionReader.name(p.mapping))
        }
        // A second, narrower pass explains each mismatch: the event that moved exactly the difference.
        let targets = Dictionary(rows.filter { $0.status != .match && $0.differenceMinor != 0 && $0.differenceMinor.magnitude <= UInt128(Int64.max) }
            .map { (AccountCurrency(account: $0.account, currency: $0.currency), Int64($0.differenceMinor.magnitude)) }, uniquingKeysWith: { a, _ in a })
        var finder: SuspectFinder?
        if !targets.isEmpty {
            let limit = projected.compactMap(\.checkpoint).max()
            let f = SuspectFinder(targets: targets, limit: limit)
            do {
                _ = try Replay(catalog: catalog, observers: [f]).run(source: run.opened.source, scope: .asOf(asOfUs, basis: basis), eventIdsMayRepeat: run.opened.eventIdsMayRepeat)
            } catch {
                throw ToolFailure(status: .source, message: "reading the source failed: \(error)")
            }
            for i in rows.indices { rows[i].suspectEventId = f.suspects[AccountCurrency(account: rows[i].account, currency: rows[i].currency)] }
            finder = f
        }
        for r in rows where r.status != .match { outcome.result.findings.append(Reconciliation.finding(r)) }
        for p in projected {
            for problem in p.problems {
                outcome.result.findings.append(Finding(code: .projectionMismatch, severity: .high, message: "\(problem.origin): \(problem.message)", location: ProjectionReader.name(p.mapping)))
            }
        }

        let section = reconciliationSection(rows, projected: projected.map { ($0.mapping, $0.checkpoint) }, snapshots: snapshots, finder: finder, catalog: catalog)
        let report = Report(
            kind: "reconcile", title: "Reconciliation of projections against the event store",
            header: run.header(kind: "reconcile", result: outcome.result, asOfUs: asOfUs, basis: basis),
            sections: [section] + outcome.sections(catalog: catalog)
        )
        let written = try writeReport(report, outputOptions: outputOptions, catalog: catalog)
        try outcome.writeSealProof(out: outputOptions.out)
        let mismatched = rows.filter { $0.status != .match }
        let failed = outcome.result.findings.count(atLeast: failOn) > 0 || !mismatched.isEmpty || !outcome.result.conservation.holds
        let summary = ReconcileSummary(rows: rows, findings: outcome.result.findings, eventsReplayed: outcome.result.population.eventsInScope,
                                       report: written.first { $0.hasSuffix(".html") } ?? written.first ?? outputOptions.out,
                                       durationMs: monotonicMs() - startedMs, success: !failed, catalog: catalog)
        if !outputOptions.quiet { print(summary.line()) }
        do {
            if let metricsFile { try AtomicFile.writeWhole(metricsFile, summary.prometheus(previous: readTextFile(metricsFile))) }
            if let summaryJSON { try AtomicFile.writeWhole(summaryJSON, summary.json()) }
        } catch {
            throw ToolFailure(status: .usage, message: "\(error)")
        }
        if failed { throw ExitCode(ExitStatus.findings.rawValue) }
    }

    /// `--projection FILE` or `TABLE=FILE`; a bare file is matched by name, or is the only projection.
    func projectionFileMap(_ catalog: Catalog) throws -> [String: String] {
        var map: [String: String] = [:]
        for arg in projectionFiles {
            if let eq = arg.firstIndex(of: "="), !arg[..<eq].contains("/") {
                map[String(arg[..<eq])] = String(arg[arg.index(after: eq)...])
                continue
            }
            let base = String(arg.split(separator: "/").last ?? "").replacingAll(".csv", with: "")
            if catalog.projections.contains(where: { $0.table == base }) {
                map[base] = arg
            } else if catalog.projections.count == 1 {
                map[catalog.projections[0].table] = arg
            } else {
                throw ToolFailure(status: .usage, message: "--projection \(arg): name its table, as TABLE=FILE (tables: \(catalog.projections.map(\.table).joined(separator: ", ")))")
            }
        }
        return map
    }

    /// Places a file source's checkpoint event in global order (one pass over the extract).
    func filePosition(_ text: String, source: any EventSource) throws -> GlobalOrderKey {
        guard let id = EventID(text) else { throw ToolFailure(status: .usage, message: "--checkpoint '\(text)' is not an event id") }
        var found: GlobalOrderKey?
        _ = try source.stream(scope: ReplayScope()) { row in
            if case .event(let e) = row, e.eventId == id { found = e.globalOrderKey }
        }
        guard let found else { throw ToolFailure(status: .usage, message: "--checkpoint \(id) is not an event of the source") }
        return found
    }

    func reconciliationSection(_ rows: [ReconciliationRow], projected: [(ProjectionMapping, GlobalOrderKey?)], snapshots: [CheckpointSnapshot], finder: SuspectFinder?, catalog: Catalog) -> ReportSection {
        var figures: [(label: String, value: String)] = [
            ("Accounts compared", String(rows.count)),
            ("Matched", String(rows.filter { $0.status == .match }.count)),
            ("Mismatched", String(rows.filter { $0.status != .match }.count)),
        ]
        for (currency, total) in ReconcileSummary.absoluteDifference(rows) {
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
                        rows: rows.filter { $0.status != .match }.map(Reconciliation.cells) + rows.filter { $0.status == .match }.map(Reconciliation.cells)),
            ReportTable(csvName: nil, xmlRow: "movement", title: "Last movements of mismatched accounts", columns: ["account", "currency", "event_id", "event_type", "hlc_physical", "amount_minor", "balance_after_minor", "note"], rows: movements),
        ])
    }
}

/// What the scheduler gets: one line on stdout, Prometheus metrics, a JSON summary.
struct ReconcileSummary {
    var rows: [ReconciliationRow]
    var findings: FindingLog
    var eventsReplayed: Int
    var report: String
    var durationMs: Int64
    var success: Bool
    var catalog: Catalog

    static func absoluteDifference(_ rows: [ReconciliationRow]) -> [(String, Int128)] {
        var totals: [String: Int128] = [:]
        for r in rows where r.status != .match { totals[r.currency, default: 0] += Int128(r.differenceMinor.magnitude) }
        return totals.sorted { $0.key < $1.key }
    }

    var mismatched: Int { rows.filter { $0.status != .match }.count }

    func line() -> String {
        let diff = ReconcileSummary.absoluteDifference(rows).map { "\($0.0) \(MoneyFormat.decimal($0.1, exponent: catalog.currencies.exponent(of: $0.0) ?? 2))" }
        let severities = Severity.allCases.map { "\($0.rawValue) \(findings.countBySeverity[$0] ?? 0)" }.joined(separator: ", ")
        return "reconcile: \(success ? "OK" : "FAILED"); \(rows.count) accounts compared, \(rows.count - mismatched) matched, \(mismatched) mismatched"
            + (diff.isEmpty ? "" : " (total |difference| \(diff.joined(separator: ", ")))")
            + "; findings \(severities); report \(report)"
    }

    /// Prometheus text exposition. `last_success` carries over from the previous file on failure.
    func prometheus(previous: String?) -> String {
        let now = wallClockUs() / 1_000_000
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
        metric("ledger_audit_accounts_compared", "Accounts compared against projections in the last run.", [("", String(rows.count))])
        metric("ledger_audit_mismatches", "Accounts whose projection disagrees with the replay.", [("", String(mismatched))])
        metric("ledger_audit_findings", "Findings of the last run by severity.", Severity.allCases.map { ("{severity=\"\($0.rawValue)\"}", String(findings.countBySeverity[$0] ?? 0)) })
        return out
    }

    func json() -> String {
        let object: JSONValue = .object([
            ("success", .bool(success)),
            ("accountsCompared", .number(String(rows.count))),
            ("matched", .number(String(rows.count - mismatched))),
            ("mismatched", .number(String(mismatched))),
            ("totalAbsoluteDifferenceMinor", .object(ReconcileSummary.absoluteDifference(rows).map { ($0.0, .number(String($0.1))) })),
            ("findingsBySeverity", .object(Severity.allCases.map { ($0.rawValue, .number(String(findings.countBySeverity[$0] ?? 0))) })),
            ("eventsReplayed", .number(String(eventsReplayed))),
            ("durationMs", .number(String(durationMs))),
            ("report", .string(report)),
        ])
        return JSONWriter.write(object) + "\n"
    }
}
