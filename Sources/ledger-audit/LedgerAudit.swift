import ArgumentParser
import LedgerAuditCore
#if canImport(Glibc)
import Glibc
#endif

/// Exit status, as outputs.md promises it to schedulers.
enum ExitStatus: Int32 {
    case clean = 0
    case findings = 1
    case usage = 2
    case source = 3
}

/// A failure of the tool (not of the ledger) with the exit status it maps to.
struct ToolFailure: Error, CustomStringConvertible {
    var status: ExitStatus
    var message: String
    var description: String { message }
}

@main
struct LedgerAudit: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "ledger-audit",
        abstract: "Audit an event-sourced money ledger: replay, balances, checks, reconciliation, evidence.",
        version: version,
        subcommands: [Balances.self, Statement.self, Trace.self, Verify.self, Reconcile.self, Seal.self, Evidence.self, VerifyPack.self, Keygen.self, Generate.self]
    )

    /// ArgumentParser exits 64 on bad usage; our contract says 2.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
            Glibc.exit(ExitStatus.clean.rawValue)
        } catch let failure as ToolFailure {
            writeStderr("ledger-audit: \(failure.message)\n")
            Glibc.exit(failure.status.rawValue)
        } catch let code as ExitCode {
            Glibc.exit(code.rawValue)
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                print(message)
                Glibc.exit(0)
            }
            writeStderr(message + "\n")
            Glibc.exit(ExitStatus.usage.rawValue)
        }
    }
}

func writeStderr(_ s: String) {
    var s = s
    s.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}
