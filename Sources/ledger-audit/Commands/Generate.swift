import ArgumentParser
import LedgerAuditCore
import LedgerAuditGenerator
import LedgerAuditEngine
import LedgerAuditReports

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a realistic auction ledger: events.jsonl, events.csv (COPY CSV), user_balances.csv and load.sql."
    )

    @Option(help: "How many events (at least; sagas are completed).")
    var events: Int = 3000

    @Option(help: "Seed: the same seed writes the same ledger.")
    var seed: UInt64 = 42

    @Option(name: .customLong("stuck-sagas"), help: "Sagas left stuck after ESCROW_FUNDED (money in limbo).")
    var stuckSagas: Int = 0

    @Option(name: .customLong("drift"), help: "A projection drift: \(ProjectionDrift.allCases.map(\.rawValue).joined(separator: ", ")) (repeatable).")
    var drift: [String] = []

    @Flag(name: .customLong("global-order"), help: "Write events in global order instead of write (recorded_at) order.")
    var globalOrder = false

    @Option(help: ArgumentHelp("Split the ledger into N cells by each user's home cell (streams stay in the cell of the user who started them; money crosses cells in auctions): DIR/cell-1 … DIR/cell-N, each with its own events.jsonl, events.csv, user_balances.csv and load.sql, and DIR/whole, the same ledger as one extract.", valueName: "N"))
    var cells: Int?

    @Option(help: ArgumentHelp("Folder to write into.", valueName: "DIR"))
    var out: String

    func validate() throws {
        if let cells, !(2...Limits.generatorCellsMax).contains(cells) { throw ValidationError("--cells takes 2 to \(Limits.generatorCellsMax)") }
    }

    func run() throws {
        guard events > 0 else { throw ValidationError("--events must be positive") }
        var options = GeneratorOptions()
        options.events = events
        options.seed = seed
        options.stuckSagas = stuckSagas
        options.writeInRecordedOrder = !globalOrder
        options.projectionDrifts = try drift.map { d in
            guard let v = ProjectionDrift(rawValue: d) else { throw ValidationError("unknown --drift '\(d)'") }
            return v
        }
        do {
            try AtomicFile.makeDirectory(out)
            if let cells {
                for folder in CellSink.folders(out, cells: cells) { try AtomicFile.makeDirectory(folder) }
                var sink = try CellSink(directory: out, cells: cells)
                var generator = AuctionLedgerGenerator(options: options)
                try generator.run(into: &sink)
                try sink.finish()
                let counts = sink.cellEventCounts.enumerated().map { "cell-\($0.offset + 1) \($0.element)" }.joined(separator: ", ")
                print("wrote \(sink.eventCount) events in \(cells) cells (\(counts)) to \(out)/cell-N/ and the whole ledger to \(out)/whole/ (events.jsonl, events.csv, user_balances.csv, load.sql in each)")
                return
            }
            var sink = try FileSink(directory: out)
            var generator = AuctionLedgerGenerator(options: options)
            try generator.run(into: &sink)
            try sink.finish()
            print("wrote \(sink.eventCount) events to \(out)/events.jsonl, events.csv, user_balances.csv, load.sql")
        } catch let e as ExitCode {
            throw e
        } catch {
            throw AuditFailure.output("\(error)")
        }
    }
}
