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

    @Option(help: ArgumentHelp("Folder to write into.", valueName: "DIR"))
    var out: String

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
