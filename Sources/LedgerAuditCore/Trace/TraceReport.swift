/// Report sections for `trace`. Pure: built from the index, the lot book and the collectors.
public enum TraceReport {
    public static let eventColumns = ["relation", "depth", "tree", "event_id", "event_type", "aggregate_id", "hlc_physical", "hlc_logical", "recorded_at", "causation_id", "correlation_id", "user_id", "compensates", "moved"]
    public static let eventPostingColumns = ["event_id", "event_type", "posting_index", "from_account", "to_account", "currency", "amount_minor", "amount"]
    public static let postingColumns = ["account", "currency", "event_id", "event_type", "hlc_physical", "correlation_id", "amount_minor", "running_balance_minor", "root_event_id", "root_command_id", "causation_chain"]
    public static let checkColumns = ["account", "currency", "postings", "sum_minor", "balance_minor", "lots_minor", "deficit_minor", "agrees"]
    public static let originColumns = ["account", "currency", "origin_event_id", "origin_event_type", "origin_account", "origin_hlc_physical", "amount_minor", "amount", "lots"]
    public static let lotColumns = ["account", "currency", "lot", "origin_event_id", "origin_event_type", "origin_account", "origin_hlc_physical", "amount_minor", "path"]
    /// Accounts shown of a lot's path before it is abridged (a lot that went back and forth).
    public static let pathStepsMax = 40

    static func narrowed(_ table: ReportTable, _ columns: [String]) -> ReportTable {
        var t = table
        t.htmlColumns = columns
        return t
    }

    // MARK: trace --event

    public static func eventSections(_ trace: EventTrace, index: CausationIndex, details: [EventID: EventDetailCollector.Detail], catalog: Catalog) -> [ReportSection] {
        let exponent: (String) -> Int = { catalog.currencies.exponent(of: $0) ?? 2 }
        func compensates(_ node: CausationIndex.Node) -> String? { catalog.events[index.eventType(node)]?.compensates }
        var rows: [[ReportCell]] = []
        if let command = trace.chain.rootCommandId {
            rows.append([.ledgerText("command"), .empty, .ledgerText("command " + command.description), .ledgerText(command.description)] + Array(repeating: ReportCell.empty, count: eventColumns.count - 4))
        }
        for line in trace.lines {
            let n = line.node
            let type = index.eventType(n)
            let detail = details[n.eventId]
            let indent = line.depth.map { String(repeating: "   ", count: max(0, $0 - 1)) + ($0 > 0 ? "└─ " : "") } ?? ""
            let mark = compensates(n).map { " (compensates \($0))" } ?? ""
            let moved: String
            if let q = detail?.quarantine {
                moved = "nothing: quarantined (\(q.rawValue))"
            } else if let postings = detail?.postings, !postings.isEmpty {
                moved = postings.map { "\($0.fromAccount) → \($0.toAccount) \(MoneyFormat.decimal($0.amountMinor, exponent: exponent($0.currency))) \($0.currency)" }.joined(separator: "; ")
            } else {
                moved = ""
            }
            rows.append([
                .ledgerText(line.relation.rawValue), line.depth.map { .integer(Int64($0)) } ?? .empty, .ledgerText(indent + type + mark),
                .ledgerText(n.eventId.description), .ledgerText(type), .ledgerText(n.aggregateId.description), .integer(n.hlcPhysicalMs), .integer(Int64(n.hlcLogical)),
                .optional(detail.map { Instant.iso8601(us: $0.recordedAtUs) }), .optional(n.causationId?.description), .ledgerText(n.correlationId.description),
                .optional(detail?.userId?.description), .optional(compensates(n)), moved.isEmpty ? .empty : .ledgerText(moved),
            ])
        }
        var postingRows: [[ReportCell]] = []
        var listed: Set<EventID> = []
        for line in trace.lines where listed.insert(line.node.eventId).inserted {
            for p in details[line.node.eventId]?.postings ?? [] {
                postingRows.append([.ledgerText(line.node.eventId.description), .ledgerText(index.eventType(line.node)), .integer(Int64(p.index)),
                                    .ledgerText(p.fromAccount), .ledgerText(p.toAccount), .ledgerText(p.currency), .integer(p.amountMinor),
                                    .number(MoneyFormat.decimal(p.amountMinor, exponent: exponent(p.currency)))])
            }
        }
        let saga = trace.lines.filter { $0.relation == .saga }
        let root = trace.chain.causes.last ?? trace.target
        var figures: [(label: String, value: String)] = [
            ("Event", index.eventType(trace.target) + " " + trace.target.eventId.description),
            ("Root", trace.chain.cycle ? "none: the causation ids form a cycle" : trace.chain.truncated ? "not reached: the chain was cut"
                : trace.chain.rootCommandId.map { "command " + $0.description } ?? (index.eventType(root) + " " + root.eventId.description)),
            ("Causes", String(trace.chain.causes.count) + (trace.chain.cycle ? " (a cycle)" : "")),
            ("Effects", String(trace.lines.filter { $0.relation == .effect }.count) + (trace.effectsTruncated ? " (cut)" : "")),
            ("Saga", "\(saga.count) events, \(saga.filter { compensates($0.node) != nil }.count) compensations"),
            ("Correlation", trace.target.correlationId.description),
        ]
        if trace.chain.truncated { figures.append(("Note", "the causation chain was cut at \(trace.chain.causes.count) causes")) }
        return [ReportSection(id: "trace", title: "Trace of event " + trace.target.eventId.description, figures: figures, tables: [
            narrowed(ReportTable(csvName: "trace_events.csv", xmlRow: "traceEvent", title: "Causes (root first), the event, its effects, and its saga in global order", columns: eventColumns, rows: rows),
                     ["relation", "tree", "event_id", "hlc_physical", "moved"]),
            ReportTable(csvName: "trace_event_postings.csv", xmlRow: "eventPosting", title: "What each of these events moved", columns: eventPostingColumns, rows: postingRows),
        ])]
    }

    // MARK: trace --account

    public static func accountSections(statement: StatementCollector, index: CausationIndex, lots: LotBook, book: BalanceBook, catalog: Catalog) -> [ReportSection] {
        let exponent: (String) -> Int = { catalog.currencies.exponent(of: $0) ?? 2 }
        var postingRows: [[ReportCell]] = []
        var sums: [AccountCurrency: (count: Int, sum: Int128)] = [:]
        for m in statement.sortedMovements() {
            let key = AccountCurrency(account: m.account, currency: m.currency)
            let old = sums[key] ?? (0, 0)
            sums[key] = (old.count + 1, old.sum + Int128(m.amountMinor))
            let chain = index.chain(of: m.eventId)
            // A cycle has no root; a cut chain's root is unknown.
            let root = chain.cycle || chain.truncated ? nil : chain.causes.last
            postingRows.append([
                .ledgerText(m.account), .ledgerText(m.currency), .ledgerText(m.eventId.description), .ledgerText(m.eventType), .integer(m.hlcPhysicalMs),
                .ledgerText(m.correlationId.description), .integer(m.amountMinor), .integer(m.runningBalanceMinor),
                .optional(root?.eventId.description ?? (chain.rootCommandId == nil && chain.causes.isEmpty ? m.eventId.description : nil)), .optional(chain.rootCommandId?.description),
                chain.causes.isEmpty && chain.rootCommandId == nil ? .empty : .ledgerText(index.describe(chain)),
            ])
        }
        var checkRows: [[ReportCell]] = []
        var figures: [(label: String, value: String)] = []
        var allAgree = true
        for s in statement.summaries() {
            let key = AccountCurrency(account: s.account, currency: s.currency)
            let balance = book.balance(s.account, s.currency)
            let sum = sums[key] ?? (0, 0)
            let held = lots.lots(key).reduce(Int128(0)) { $0 + Int128($1.amountMinor) }
            let deficit = lots.deficit(key)
            let agrees = sum.sum == Int128(balance) && held - deficit == Int128(balance)
            allAgree = allAgree && agrees
            checkRows.append([.ledgerText(s.account), .ledgerText(s.currency), .integer(Int64(sum.count)), .number(String(sum.sum)), .integer(balance),
                              .number(String(held)), .number(String(deficit)), .ledgerText(agrees ? "yes" : "NO")])
            let e = exponent(s.currency)
            figures.append((s.account + " " + s.currency, "\(sum.count) postings sum to \(MoneyFormat.decimal(Int64(clamping: sum.sum), exponent: e)); balance \(MoneyFormat.decimal(balance, exponent: e))" + (agrees ? " ✓" : " ✗ MISMATCH")))
        }
        let postings = ReportSection(id: "postings", title: "Postings behind the balance", figures: figures + [("Check", allAgree ? "postings and lots sum exactly to every balance" : "A SUM DISAGREES: see the check table")], tables: [
            ReportTable(csvName: nil, xmlRow: "postingCheck", title: "Sum of postings and of lots against the balance", columns: checkColumns, rows: checkRows),
            narrowed(ReportTable(csvName: "trace_postings.csv", xmlRow: "tracePosting", title: "Every posting, with its causation chain up to the root", columns: postingColumns, rows: postingRows),
                     ["account", "currency", "event_id", "event_type", "amount_minor", "running_balance_minor", "causation_chain"]),
        ])

        var originRows: [[ReportCell]] = []
        var lotRows: [[ReportCell]] = []
        for s in statement.summaries() {
            let key = AccountCurrency(account: s.account, currency: s.currency)
            var byOrigin: [(EventID, String, Int128, Int)] = []
            var positionOf: [EventID: Int] = [:]
            for (n, lot) in lots.lots(key).enumerated() {
                let origin = index.node(lot.originEventId)
                let path = lots.path(lot)
                let originType = origin.map { index.eventType($0) }
                lotRows.append([.ledgerText(s.account), .ledgerText(s.currency), .integer(Int64(n + 1)), .ledgerText(lot.originEventId.description), .optional(originType),
                                .optional(path.first), origin.map { .integer($0.hlcPhysicalMs) } ?? .empty, .integer(lot.amountMinor), .ledgerText(abridged(path))])
                if let at = positionOf[lot.originEventId] {
                    byOrigin[at].2 += Int128(lot.amountMinor)
                    byOrigin[at].3 += 1
                } else {
                    positionOf[lot.originEventId] = byOrigin.count
                    byOrigin.append((lot.originEventId, path.first ?? "", Int128(lot.amountMinor), 1))
                }
            }
            for (id, account, amount, count) in byOrigin {
                let origin = index.node(id)
                originRows.append([.ledgerText(s.account), .ledgerText(s.currency), .ledgerText(id.description), .optional(origin.map { index.eventType($0) }), .ledgerText(account),
                                   origin.map { .integer($0.hlcPhysicalMs) } ?? .empty, .number(String(amount)),
                                   .number(MoneyFormat.decimal(Int64(clamping: amount), exponent: exponent(s.currency))), .integer(Int64(count))])
            }
        }
        let rule = lots.order == .fifo
            ? "FIFO: each account pays out its oldest lots first"
            : "LIFO: each account pays out its newest lots first"
        let conservation = lots.conservationBreaks.isEmpty
            ? "holds: in all \(lots.checkedAccounts) accounts, lots − deficit = balance"
            : "BROKEN in \(lots.conservationBreaks.count) accounts, first \(lots.conservationBreaks[0].0.account) \(lots.conservationBreaks[0].0.currency)"
        let provenance = ReportSection(id: "provenance", title: "Provenance: where the cents came from", figures: [
            ("Rule", rule), ("Conservation per lot", conservation), ("Lots outstanding (all accounts)", String(lots.lotCount)),
        ], tables: [
            ReportTable(csvName: nil, xmlRow: "provenanceOrigin", title: "By origin (the deposit the money entered the ledger with)", columns: originColumns, rows: originRows),
            narrowed(ReportTable(csvName: "provenance.csv", xmlRow: "provenanceLot", title: "Lots in the order they would leave, with the path each took", columns: lotColumns, rows: lotRows),
                     ["account", "currency", "lot", "origin_event_id", "amount_minor", "path"]),
        ])
        return [postings, provenance]
    }

    /// `a → b → c`, abridged in the middle past `pathStepsMax` accounts.
    public static func abridged(_ path: [String]) -> String {
        guard path.count > pathStepsMax else { return path.joined(separator: " → ") }
        let head = path.prefix(pathStepsMax / 4), tail = path.suffix(pathStepsMax - pathStepsMax / 4)
        return (head + ["… \(path.count - head.count - tail.count) more …"] + tail).joined(separator: " → ")
    }
}
