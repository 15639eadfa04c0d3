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

    @Option(name: .customLong("tsa-url"), help: ArgumentHelp("Ask this RFC 3161 time-stamping authority (http://…) to stamp the tag manifest; the token is kept as tagmanifest-sha512.txt.tsr. Unreachable: exit 3, no pack.", valueName: "URL"))
    var tsaURL: String?

    func validate() throws {
        _ = try instant(asOf, "--as-of")
        if let tsaURL, !tsaURL.hasPrefix("http://") { throw ValidationError("--tsa-url must be an http:// URL (the token is signed; https TSAs are not supported)") }
    }

    func run() throws {
        var request = EvidenceRequest(asOfUs: try instant(asOf, "--as-of") ?? 0, basis: sourceOptions.basis, out: out, accounts: account,
                                      sealsFile: sealsOptions.seals, sealsPublicKeyFile: sealsOptions.sealsPublicKey, signKeyFile: signKey,
                                      zip: zip, projectionFiles: projectionOptions.files, failOn: runOptions.severity)
        request.allowEmpty = sourceOptions.allowEmpty
        request.tsaURL = tsaURL
        request.sealsTSACAFile = sealsOptions.tsaCA
        let progress = ProgressLine(quiet: runOptions.quiet)
        let session = try sourceOptions.openSession()
        let outcome: EvidenceOutcome
        do {
            defer { progress.finish() }
            outcome = try EvidencePack.write(request, session: session, progress: progress.update)
        }
        if !runOptions.quiet {
            for r in outcome.run.reports { print("\(r.kind): \(r.failed ? "findings at or above \(runOptions.failOn)" : "clean")") }
            print("evidence pack: \(outcome.pack)" + (outcome.zip.map { " and \($0)" } ?? "") + (outcome.signedBy.map { ", signed by \($0)" } ?? "")
                  + (outcome.trustedTime.map { ", time-stamped \($0.time) by the TSA" } ?? ""))
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

    @Option(name: .customLong("tsa-ca"), help: ArgumentHelp("The time-stamping authority's CA certificates (PEM): the pack's RFC 3161 token must verify against them.", valueName: "FILE"))
    var tsaCA: String?

    func run() throws {
        let verdict = try PackVerification.verify(pack, publicKeyFile: publicKey, tsaCAFile: tsaCA)
        for line in verdict.lines { print(line) }
        if !verdict.ok { throw ExitCode(ExitStatus.findings.rawValue) }
    }
}
