import ArgumentParser
import LedgerAuditEngine

struct Evidence: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "An evidence pack for T: every report of the run, the population extract, the catalog and the seals, as a BagIt bag (optionally signed and zipped), from one pass over one snapshot."
    )

    @OptionGroup var sourceOptions: SourceOptions
    @OptionGroup var runOptions: RunOptions
    @OptionGroup var sealsOptions: SealsOptions
    @OptionGroup var projectionOptions: ProjectionOptions

    @Option(name: .customLong("as-of"), help: "The instant the pack is about (inclusive): ISO 8601 with offset, or epoch ms.")
    var asOf: String

    @Option(help: ArgumentHelp("The bag folder to create (it must not exist).", valueName: "PACK"))
    var out: String

    @Option(help: ArgumentHelp("Also a statement for this account or prefix* (repeatable).", valueName: "ACCOUNT"))
    var account: [String] = []

    @Option(name: .customLong("sign-key"), help: ArgumentHelp("Sign the tag manifest with this Ed25519 private key (from `ledger-audit keygen`).", valueName: "FILE"))
    var signKey: String?

    @Flag(help: "Also write PACK.zip.")
    var zip = false

    func validate() throws { _ = try instant(asOf, "--as-of") }

    func run() throws {
        var request = EvidenceRequest(asOfUs: try instant(asOf, "--as-of") ?? 0, basis: sourceOptions.basis, out: out, accounts: account,
                                      sealsFile: sealsOptions.seals, sealsPublicKeyFile: sealsOptions.sealsPublicKey, signKeyFile: signKey,
                                      zip: zip, projectionFiles: projectionOptions.files, failOn: runOptions.severity)
        request.allowEmpty = sourceOptions.allowEmpty
        let progress = ProgressLine(quiet: runOptions.quiet)
        let session = try sourceOptions.openSession()
        let outcome: EvidenceOutcome
        do {
            defer { progress.finish() }
            outcome = try EvidencePack.write(request, session: session, progress: progress.update)
        }
        if !runOptions.quiet {
            for r in outcome.run.reports { print("\(r.kind): \(r.failed ? "findings at or above \(runOptions.failOn)" : "clean")") }
            print("evidence pack: \(outcome.pack)" + (outcome.zip.map { " and \($0)" } ?? "") + (outcome.signedBy.map { ", signed by \($0)" } ?? ""))
        }
        if outcome.run.failed { throw ExitCode(ExitStatus.findings.rawValue) }
    }
}

struct VerifyPack: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-pack",
        abstract: "Check an evidence pack (folder or .zip): structure, every checksum, Payload-Oxum and the signature. Exit 0 when complete and unaltered, else 1 with what is missing, extra or altered."
    )

    @Argument(help: "The pack: the bag folder, or PACK.zip.")
    var pack: String

    @Option(name: .customLong("public-key"), help: ArgumentHelp("The signer's public key (FILE.pub from keygen): the pack must be signed by it.", valueName: "FILE"))
    var publicKey: String?

    func run() throws {
        let verdict = try PackVerification.verify(pack, publicKeyFile: publicKey)
        for line in verdict.lines { print(line) }
        if !verdict.ok { throw ExitCode(ExitStatus.findings.rawValue) }
    }
}
