@testable import LedgerAuditSources
import Testing

/// `EXPLAIN`'s text as PostgreSQL 15 prints it; the integration test asks a real server.
@Suite("The server's sort before the first row, read off its plan")
struct ServerSortNoteTests {
    @Test("a full Sort anywhere in the plan gives the rows the top node returns; an index scan or an incremental sort gives nil")
    func planLines() {
        #expect(ServerSortNote.sortedRowsEstimate(planLines: [
            "Sort  (cost=386046.41..391118.29 rows=2028752 width=650)",
            "  Sort Key: hlc_physical, hlc_logical, event_id",
            "  ->  Seq Scan on event_store  (cost=0.00..93000.52 rows=2028752 width=650)",
        ]) == 2_028_752)
        // Parallel: each worker sorts its share; the read returns the Gather Merge's rows.
        #expect(ServerSortNote.sortedRowsEstimate(planLines: [
            "Gather Merge  (cost=19574.02..39296.97 rows=169042 width=393)",
            "  Workers Planned: 2",
            "  ->  Sort  (cost=18574.00..18785.30 rows=84521 width=393)",
            "        Sort Key: hlc_physical, hlc_logical, event_id",
            "        ->  Parallel Seq Scan on event_store  (cost=0.00..11657.21 rows=84521 width=393)",
        ]) == 169_042)
        #expect(ServerSortNote.sortedRowsEstimate(planLines: [
            "Index Scan using event_store_order on event_store  (cost=0.42..32967.70 rows=202851 width=393)",
        ]) == nil)
        #expect(ServerSortNote.sortedRowsEstimate(planLines: [
            "Incremental Sort  (cost=0.47..91234.00 rows=202851 width=393)",
            "  Sort Key: hlc_physical, hlc_logical, event_id",
            "  Presorted Key: hlc_physical",
            "  ->  Index Scan using by_physical on event_store  (cost=0.42..32967.70 rows=202851 width=393)",
        ]) == nil)
        #expect(ServerSortNote.sortedRowsEstimate(planLines: []) == nil)
        // A sort key that names a column called "Sort  (" is not a node.
        #expect(ServerSortNote.sortedRowsEstimate(planLines: [
            "Index Scan using i on t  (cost=0.42..1.00 rows=5 width=8)",
            "  Filter: (note = 'Sort  (rows=9')",
        ]) == nil)
    }

    @Test("the planner's count is shown to two significant digits")
    func roughly() {
        #expect(ServerSortNote.roughly(169_042) == 170_000)
        #expect(ServerSortNote.roughly(2_028_752) == 2_000_000)
        #expect(ServerSortNote.roughly(99) == 99)
        #expect(ServerSortNote.roughly(100_000) == 100_000)
        #expect(ServerSortNote.roughly(995) == 1_000)
        #expect(ServerSortNote.roughly(0) == 0)
        // Near 2^63: adding half a step first (as rounding is often written) would trap.
        #expect(ServerSortNote.roughly(Int64.max) == 9_200_000_000_000_000_000)
        #expect(ServerSortNote.roughly(9_199_999_999_999_999_999) == 9_200_000_000_000_000_000)
        // A plan's count past 64 bits is no estimate at all.
        #expect(ServerSortNote.sortedRowsEstimate(planLines: ["Sort  (cost=1.00..2.00 rows=99999999999999999999 width=8)"]) == nil)
    }
}
