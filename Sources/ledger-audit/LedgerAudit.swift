import ArgumentParser
import LedgerAuditCore
import LedgerAuditEngine
#if canImport(Glibc)
import Glibc
#endif
#if canImport(CMimalloc)
import CMimalloc
#endif

@main
struct LedgerAudit: ParsableCommand {
    static let version = AuditEngine.toolVersion

    static let configuration = CommandConfiguration(
        commandName: "ledger-audit",
        abstract: "Audit an event-sourced money ledger: replay, balances, checks, reconciliation, evidence.",
        version: version,
        subcommands: [Balances.self, Statement.self, Trace.self, Verify.self, Reconcile.self, Seal.self, Evidence.self, VerifyPack.self, Keygen.self, Generate.self]
    )

    /// ArgumentParser exits 64 on bad usage; our contract says 2. Tool failures carry their own
    /// status (3 source, 4 output).
    static func main() {
        #if canImport(CMimalloc)
        // The process's malloc is mimalloc's (Package.swift says why); a call into it keeps a
        // linker that drops unused libraries from dropping it.
        _ = mi_version()
        #endif
        do {
            var command = try parseAsRoot()
            try command.run()
            Glibc.exit(ExitStatus.clean.rawValue)
        } catch let failure as AuditFailure {
            writeStderr("ledger-audit: \(TerminalText.safe(failure.message))\n")
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
            writeStderr(TerminalText.safe(message) + "\n")
            Glibc.exit(ExitStatus.usage.rawValue)
        }
    }
}

func writeStderr(_ s: String) {
    var s = s
    s.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}
