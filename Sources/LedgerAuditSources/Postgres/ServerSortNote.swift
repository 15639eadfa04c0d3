import LedgerAuditCore

/// Whether the server must sort the whole read before it sends the first row, asked of its own
/// plan (`EXPLAIN`, which runs nothing). Without an index in the read's order the server sorts
/// every row first and the client waits: 1.2 s of a 7 s `verify` at 2M events, 0.7 s of
/// `balances`. Users are told, with the index that lets rows stream, rather than left to guess.
enum ServerSortNote {
    /// The note for the report headers and the summary, or nil when the plan reads in order, the
    /// sort is small (`Limits.serverSortNoteRowsMin`), or the plan cannot be had (the note is
    /// advice: a refused `EXPLAIN` never stops the run).
    /// Adds the note, if any, to the report's notes and as the summary's (`SourceReport.serverSortNote`).
    static func add(to report: inout SourceReport, for sql: String, orderColumns: String, session: PostgresSession) {
        guard let note = note(for: sql, orderColumns: orderColumns, session: session) else { return }
        report.notes.append(note)
        report.serverSortNote = note
    }

    static func note(for sql: String, orderColumns: String, session: PostgresSession, rowsMin: Int64 = Limits.serverSortNoteRowsMin) -> String? {
        // Within a savepoint: an error would otherwise abort the run's one transaction.
        guard (try? session.query("SAVEPOINT ledger_audit_plan")) != nil else { return nil }
        let lines = try? session.query("EXPLAIN " + sql).compactMap { $0.first ?? nil }
        _ = try? session.query(lines == nil ? "ROLLBACK TO SAVEPOINT ledger_audit_plan" : "RELEASE SAVEPOINT ledger_audit_plan")
        guard let lines, let rows = sortedRowsEstimate(planLines: lines), rows >= rowsMin else { return nil }
        return "the server sorts every row (some \(grouped(roughly(rows))) by its planner's estimate) before it sends the first: its plan has no index in the order \(orderColumns); an index on (\(orderColumns)) lets rows stream from the start"
    }

    /// Two significant digits: the planner's count is an estimate (169,042 → 170,000). A count
    /// a server could print near 2^63 is kept as it is rather than rounded past it.
    static func roughly(_ n: Int64) -> Int64 {
        var scale: Int64 = 1
        while n / scale >= 100 { scale *= 10 }
        let (rounded, overflow) = (n / scale * scale).addingReportingOverflow(n % scale >= (scale + 1) / 2 ? scale : 0)
        return overflow ? n : rounded
    }

    /// The rows the planner expects the read to return, when its plan holds a full `Sort` node
    /// (an `Incremental Sort` follows an index and streams), or nil when it holds none.
    /// `planLines`: `EXPLAIN`'s text, one line a row: `Sort  (cost=1.00..2.00 rows=2028752
    /// width=650)`, or `Gather Merge  (… rows=…)` over `  ->  Sort  (…)` whose rows are a worker's share.
    static func sortedRowsEstimate(planLines: [String]) -> Int64? {
        func node(_ line: String) -> Substring {
            let node = Substring(line).drop { $0 == " " }
            return node.hasPrefix("->") ? node.dropFirst(2).drop { $0 == " " } : node
        }
        guard let top = planLines.first, planLines.contains(where: { node($0).hasPrefix("Sort  (") }),
              let r = top.range(of: " rows=") else { return nil }
        return Int64(top[r.upperBound...].prefix { $0.isASCII && $0.isNumber })
    }
}
