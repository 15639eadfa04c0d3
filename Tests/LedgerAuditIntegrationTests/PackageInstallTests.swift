import Foundation
import LedgerAuditTestSupport
import Testing

/// The .deb that scripts/package builds (scripts/test builds it first and exports its path):
/// installed with dpkg, run with the Swift toolchain's libraries out of reach, removed again.
@Suite("install: the .deb on a machine without a Swift toolchain", .serialized, .removesTemporaryFolders)
struct PackageInstallTests {
    struct Missing: Error, CustomStringConvertible {
        var description = "LEDGER_AUDIT_DEB is not set: run the tests with scripts/test, which builds the package with scripts/package"
    }

    static func sh(_ command: String) throws -> (status: Int32, output: String) { try runProgram(["sh", "-c", command]) }

    @Test("dpkg -i, then --version and the sample reconcile with the toolchain hidden; man page and completions installed")
    func installAndRun() throws {
        guard let deb = ProcessInfo.processInfo.environment["LEDGER_AUDIT_DEB"] else { throw Missing() }
        let installed = try Self.sh("dpkg -i '\(deb)'")
        try #require(installed.status == 0, "\(installed.output)")
        defer { _ = try? Self.sh("dpkg -r ledger-audit") }
        let ldd = try Self.sh("ldd /usr/bin/ledger-audit")
        #expect(!ldd.output.contains("libswift") && !ldd.output.contains("libFoundation"), "\(ldd.output)")
        for file in ["/usr/share/man/man1/ledger-audit.1.gz", "/usr/share/bash-completion/completions/ledger-audit",
                     "/usr/share/zsh/vendor-completions/_ledger-audit", "/usr/share/fish/vendor_completions.d/ledger-audit.fish"] {
            #expect(FileManager.default.fileExists(atPath: file), "\(file)")
        }
        #expect(try Self.sh("zcat /usr/share/man/man1/ledger-audit.1.gz").output.contains("reconcile"))
        // The toolchain's libraries out of reach: a private mount namespace with an empty folder over them.
        let swift = try Self.sh("readlink -f \"$(command -v swift)\"").output.trimmingCharacters(in: .whitespacesAndNewlines)
        let lib = URL(fileURLWithPath: swift).deletingLastPathComponent().deletingLastPathComponent().path + "/lib"
        let out = TestPaths.temporaryDirectory("deb-reconcile")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let samples = "/usr/share/ledger-audit/samples/auction"
        let run = try Self.sh("""
            unshare -m --propagation private sh -c 'mount -t tmpfs none "\(lib)" && cd / && /usr/bin/ledger-audit --version && \
            /usr/bin/ledger-audit reconcile --source \(samples)/events.csv --projection \(samples)/user_balances.csv --out "\(out)" --skip append-only -q; echo "reconcile exit $?"'
            """)
        #expect(run.output.contains(try Self.sh("/usr/bin/ledger-audit --version").output.trimmingCharacters(in: .whitespacesAndNewlines)), "\(run.output)")
        #expect(run.output.contains("reconcile exit 1"), "the sample's one drift: \(run.output)")
        #expect(TestPaths.read(out + "/reconciliation.csv").contains(",match,"))
    }
}
