import Foundation
import LedgerAuditChecks
import LedgerAuditCore
import LedgerAuditEvidence
import LedgerAuditReports
import ZIPFoundation

/// What an evidence pack is about and where it goes.
public struct EvidenceRequest: Sendable {
    public var asOfUs: Int64
    public var basis: TimeBasis
    /// The bag folder to create (it must not exist).
    public var out: String
    /// Also a statement for these accounts.
    public var accounts: [String]
    public var sealsFile: String?
    public var sealsPublicKeyFile: String?
    /// `--tsa-ca`: the seals' RFC 3161 tokens are verified against this CA file.
    public var sealsTSACAFile: String?
    public var signKeyFile: String?
    public var zip: Bool
    public var projectionFiles: [String]
    public var failOn: Severity
    public var allowEmpty = false
    /// An RFC 3161 time-stamping authority to stamp the tag manifest (`--tsa-url`).
    public var tsaURL: String?

    public init(asOfUs: Int64, basis: TimeBasis, out: String, accounts: [String] = [], sealsFile: String? = nil, sealsPublicKeyFile: String? = nil,
                signKeyFile: String? = nil, zip: Bool = false, projectionFiles: [String] = [], failOn: Severity = .high) {
        self.asOfUs = asOfUs
        self.basis = basis
        self.out = out
        self.accounts = accounts
        self.sealsFile = sealsFile
        self.sealsPublicKeyFile = sealsPublicKeyFile
        self.signKeyFile = signKeyFile
        self.zip = zip
        self.projectionFiles = projectionFiles
        self.failOn = failOn
    }
}

public struct EvidenceOutcome: Sendable {
    public var run: AuditOutcome
    public var pack: String
    public var zip: String?
    public var signedBy: String?
    /// The TSA's time, when the pack was time-stamped.
    public var trustedTime: TrustedTime.Stamp?
}

/// An evidence pack is a plan like any other: balances with the journal, verify, reconcile when
/// projections are configured, statements and the population extract, all from one pass over
/// one snapshot; then the BagIt bag around them, signed and zipped on request.
public enum EvidencePack {
    public static func plan(_ r: EvidenceRequest, data: String, catalog: Catalog, sourceIsDatabase: Bool) -> AuditPlan {
        let asOf = ReportScope(asOfUs: r.asOfUs, basis: r.basis)
        let hasProjections = !catalog.projections.isEmpty && (sourceIsDatabase || !r.projectionFiles.isEmpty)
        // Seals cover the whole store: with projections, reconcile reads it all anyway.
        let verifyChecks = CheckSelection(sealsFile: hasProjections ? nil : r.sealsFile, sealsPublicKeyFile: hasProjections ? nil : r.sealsPublicKeyFile,
                                          sealsTSACAFile: hasProjections ? nil : r.sealsTSACAFile)
        var reports = [
            ReportRequest(.balances(filters: [], fromUs: nil, journal: true, ads: data + "/ads"), scope: asOf, output: ReportOutput(folder: data + "/balances")),
            ReportRequest(.verify(verifyChecks), scope: asOf, output: ReportOutput(folder: data + "/verify")),
        ]
        if hasProjections {
            // A projection holds today's balances, not T's: it is reconciled against every event of
            // the same snapshot (or its checkpoint), never against the replay as of T. The
            // integrity checks run once, as of T, in verify/.
            let checks = CheckSelection(names: r.sealsFile == nil ? [] : [SealCheck.name], sealsFile: r.sealsFile, sealsPublicKeyFile: r.sealsPublicKeyFile,
                                        sealsTSACAFile: r.sealsTSACAFile)
            var reconcile = ReportRequest(.reconcile(ReconcileOptions(projectionFiles: r.projectionFiles, checks: checks)), scope: .wholeSnapshot,
                                          output: ReportOutput(folder: data + "/reconcile"))
            reconcile.notes = ["In an evidence pack the integrity checks run once, as of the pack's instant, in verify/; this report reconciles the projections against every event of the same snapshot."]
            reports.append(reconcile)
        }
        if !r.accounts.isEmpty {
            reports.append(ReportRequest(.statement(accounts: r.accounts, fromUs: nil, readOnlyStreams: false), scope: asOf, output: ReportOutput(folder: data + "/statements")))
        }
        var plan = AuditPlan(reports: reports, populationExtract: ExtractRequest(path: data + "/events.jsonl", scope: asOf), failOn: r.failOn, allowEmpty: r.allowEmpty)
        plan.digestsStreamedFiles = true
        return plan
    }

    public static func write(_ r: EvidenceRequest, session: AuditSession, progress: ((Int) -> Void)? = nil) throws(AuditFailure) -> EvidenceOutcome {
        let signingKey = try r.signKeyFile.map(KeyFiles.signingKey)
        let fm = FileManager.default
        guard !fm.fileExists(atPath: r.out) else { throw .usage("\(r.out) exists; an evidence pack is never written over") }
        if r.zip, fm.fileExists(atPath: r.out + ".zip") { throw .usage("\(r.out).zip exists") }
        var trustedTime: TrustedTime.Stamp?
        let temporary = r.out + ".incomplete-\(getpid())"
        try? fm.removeItem(atPath: temporary)
        do {
            let data = temporary + "/data"
            do { try fm.createDirectory(atPath: data, withIntermediateDirectories: true) } catch { throw AuditFailure.output("cannot create \(data): \(error.localizedDescription)") }
            let catalog = session.catalog
            let plan = plan(r, data: data, catalog: catalog.catalog, sourceIsDatabase: session.database != nil)
            let run = try AuditEngine.run(plan, in: session, progress: progress)
            let sealsFolder = run.reports.contains { $0.kind == "reconcile" } ? "reconcile" : "verify"
            do {
                try AtomicFile.writeWhole(data + "/run.json", runJSON(r, run: run, session: session))
                try AtomicFile.writeWhole(data + "/catalog.yml", catalog.text)
                if let seals = r.sealsFile {
                    try fm.createDirectory(atPath: data + "/seals", withIntermediateDirectories: true)
                    // Each seal's RFC 3161 token keeps its name beside seals.jsonl, so `verify --seals data/seals/seals.jsonl --tsa-ca` works inside the pack.
                    let sealCount = (try? SealFile.read(seals))?.records.count ?? 0
                    let tokens = (0..<sealCount).map { i in (SealFile.timestampPath(seals, number: i + 1), SealFile.timestampPath("seals.jsonl", number: i + 1)) }
                    for (from, name) in [(seals, "seals.jsonl"), (SealFile.leavesPath(seals), "seals.leaves")] + tokens where fm.fileExists(atPath: from) {
                        try fm.copyItem(atPath: from, toPath: data + "/seals/" + name)
                    }
                    if fm.fileExists(atPath: data + "/\(sealsFolder)/seal-proof.json") {
                        try fm.moveItem(atPath: data + "/\(sealsFolder)/seal-proof.json", toPath: data + "/seals/consistency-proof.json")
                    }
                }
                let info = bagInfo(r, run: run, session: session)
                try Bag.finish(temporary, info: info, signingKey: signingKey, knownDigests: run.streamedFileDigests, tagFiles: [
                    (EvidenceProfile.fileName, EvidenceProfile.json + "\n"),
                    ("index.html", PackIndex.html(r, run: run, session: session, info: info, signedBy: signingKey?.publicKey.fingerprint, bag: temporary)),
                ])
                if let url = r.tsaURL {
                    // Over the tag manifest, which covers every file: the token dates the whole pack.
                    let manifest = Array(try Data(contentsOf: URL(fileURLWithPath: temporary + "/tagmanifest-sha512.txt")))
                    do {
                        let (token, stamp) = try TrustedTime.stamp(manifest, url: url)
                        try Data(token).write(to: URL(fileURLWithPath: temporary + "/" + Bag.timestampFile))
                        trustedTime = stamp
                    } catch let f as TrustedTime.Failure {
                        throw AuditFailure.source("trusted time: \(f.description); no pack was written")
                    }
                }
                try fm.moveItem(atPath: temporary, toPath: r.out)
            } catch let failure as AuditFailure {
                throw failure
            } catch {
                throw AuditFailure.output("writing the evidence pack failed: \(error)")
            }
            var zipPath: String?
            if r.zip {
                let partial = r.out + ".zip.incomplete-\(getpid())"
                do {
                    try fm.zipItem(at: URL(fileURLWithPath: r.out), to: URL(fileURLWithPath: partial), shouldKeepParent: true, compressionMethod: .deflate)
                    try fm.moveItem(atPath: partial, toPath: r.out + ".zip")
                } catch {
                    try? fm.removeItem(atPath: partial)
                    throw AuditFailure.output("writing \(r.out).zip failed: \(error)")
                }
                zipPath = r.out + ".zip"
            }
            return EvidenceOutcome(run: run, pack: r.out, zip: zipPath, signedBy: signingKey?.publicKey.fingerprint, trustedTime: trustedTime)
        } catch let failure as AuditFailure {
            try? fm.removeItem(atPath: temporary)
            throw failure
        } catch {
            try? fm.removeItem(atPath: temporary)
            throw .output("writing the evidence pack failed: \(error)")
        }
    }

    static func folder(_ report: ProducedReport) -> String { report.kind == "statement" ? "statements" : report.kind }

    static func runJSON(_ r: EvidenceRequest, run: AuditOutcome, session: AuditSession) -> String {
        JSONWriter.write(.object([
            ("pack", .string("ledger-audit evidence pack")), ("tool_version", .string(session.facts.toolVersion)), ("git_revision", .string(session.facts.gitRevision)),
            ("as_of", .string(Instant.iso8601(us: r.asOfUs))), ("time_basis", .string(r.basis.rawValue)),
            ("source", .string(session.source.redactedDescription)),
            ("one_snapshot", .bool(session.database != nil)),
            ("one_pass", .bool(true)),
            ("runs", .array(run.reports.map { .object([("report", .string($0.kind)), ("folder", .string(folder($0))), ("exit_status", .number($0.failed ? "1" : "0"))]) })),
            ("population_extract", .string("events.jsonl: the events in scope in global order, card numbers masked")),
            ("catalog", .string("catalog.yml")),
            ("reconciliation", .string("projections hold current balances, so reconcile/ compares them with every event of the same snapshot (up to their checkpoint when configured), not with the replay as of the pack's instant; the integrity checks are in verify/, as of the pack's instant")),
        ])) + "\n"
    }

    static func bagInfo(_ r: EvidenceRequest, run: AuditOutcome, session: AuditSession) -> [(String, String)] {
        let catalog = session.catalog.catalog
        var info: [(String, String)] = [
            ("BagIt-Profile-Identifier", EvidenceProfile.identifier),
            ("Source-Organization", catalog.organization ?? catalog.name),
            ("External-Description", catalog.externalDescription ?? "ledger-audit evidence pack: balances, trial balance, journal, findings, limbo, reconciliation and statements as of \(Instant.iso8601(us: r.asOfUs)), with the population extract"),
            ("Bagging-Date", String(Instant.iso8601(us: session.facts.clockUs()).prefix(10))),
            ("Bag-Software-Agent", "ledger-audit \(session.facts.toolVersion)"),
            ("Ledger-Audit-As-Of", Instant.iso8601(us: r.asOfUs)),
            ("Ledger-Audit-Time-Basis", r.basis.rawValue),
            ("Ledger-Audit-Source", session.source.redactedDescription),
            ("Ledger-Audit-Git-Revision", session.facts.gitRevision),
            ("Ledger-Audit-Runs", run.reports.map { "\($0.kind)=\($0.failed ? "findings" : "clean")" }.joined(separator: " ")),
        ]
        if let seals = r.sealsFile { info.append(("Ledger-Audit-Seals", seals)) }
        return info
    }
}
