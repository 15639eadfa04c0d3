import ArgumentParser
import LedgerAuditCore
import LedgerAuditEngine

struct Seal: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Seal the store's history up to T: an RFC 6962 Merkle root over the events in global order, appended to a chained seal file (after checking the earlier seals)."
    )

    @OptionGroup var sourceOptions: SourceOptions
    @OptionGroup var outputOptions: OutputOptions
    @OptionGroup var runOptions: RunOptions
    @OptionGroup var sealsOptions: SealsOptions

    @Option(name: .customLong("as-of"), help: "Seal the events up to this instant (hlc_physical, inclusive). Default: all events.")
    var asOf: String?

    @Option(name: .customLong("sign-key"), help: ArgumentHelp("Sign the seal record with this Ed25519 private key (from keygen); checks then take --seals-public-key.", valueName: "FILE"))
    var signKey: String?

    @Option(name: .customLong("tsa-url"), help: ArgumentHelp("Ask this RFC 3161 time-stamping authority (http://…) to stamp the new seal's line; the token is kept as FILE.seal-N.tsr. Unreachable: exit 3, nothing appended.", valueName: "URL"))
    var tsaURL: String?

    func validate() throws {
        if let tsaURL, !tsaURL.hasPrefix("http://") { throw ValidationError("--tsa-url must be an http:// URL (the token is signed; https TSAs are not supported)") }
        guard sealsOptions.seals != nil else { throw ValidationError("seal needs --seals FILE: the seal file to append to") }
        guard sourceOptions.timeBasis == "hlc" else { throw ValidationError("seals follow global (HLC) order: --time-basis recorded does not apply") }
        _ = try instant(asOf, "--as-of")
    }

    func run() throws {
        let kind = ReportKind.seal(sealsFile: sealsOptions.seals ?? "", signKeyFile: signKey, publicKeyFile: sealsOptions.sealsPublicKey,
                                   tsaURL: tsaURL, tsaCAFile: sealsOptions.tsaCA)
        let plan = AuditPlan(reports: [ReportRequest(kind, scope: ReportScope(asOfUs: try instant(asOf, "--as-of")), output: outputOptions.output)],
                             failOn: runOptions.severity)
        try execute(plan, in: try sourceOptions.openSession(), source: sourceOptions, quiet: runOptions.quiet)
    }
}

struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Make an Ed25519 key pair for signing evidence packs: FILE (private, mode 600) and FILE.pub.")

    @Option(help: ArgumentHelp("Where the private key goes; the public key goes to FILE.pub.", valueName: "FILE"))
    var out: String

    func run() throws {
        let fingerprint = try KeyFiles.generate(out)
        print("private key: \(out) (keep it secret)")
        print("public key:  \(out).pub, fingerprint \(fingerprint)")
    }
}
