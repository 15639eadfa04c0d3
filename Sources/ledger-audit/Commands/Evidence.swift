import ArgumentParser
import Foundation
import LedgerAuditCore
import LedgerAuditEvidence
import LedgerAuditReports
import LedgerAuditSources
import ZIPFoundation

struct Evidence: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "An evidence pack for T: every report of the run, the population extract, the catalog and the seals, as a BagIt bag (optionally signed and zipped)."
    )

    @OptionGroup var sourceOptions: SourceOptions

    @Option(name: .customLong("as-of"), help: "The instant the pack is about (inclusive): ISO 8601 with offset, or epoch ms.")
    var asOf: String

    @Option(help: ArgumentHelp("The bag folder to create (it must not exist).", valueName: "PACK"))
    var out: String

    @Option(help: ArgumentHelp("Also a statement for this account or prefix* (repeatable).", valueName: "ACCOUNT"))
    var account: [String] = []

    @Option(help: ArgumentHelp("Check these seals and put the seal file, its leaves and the consistency proofs in the pack.", valueName: "FILE"))
    var seals: String?

    @Option(name: .customLong("seals-public-key"), help: ArgumentHelp("The sealer's public key: every seal must be signed by it.", valueName: "FILE"))
    var sealsPublicKey: String?

    @Option(name: .customLong("sign-key"), help: ArgumentHelp("Sign the tag manifest with this Ed25519 private key (from `ledger-audit keygen`).", valueName: "FILE"))
    var signKey: String?

    @Flag(help: "Also write PACK.zip.")
    var zip = false

    @Option(name: .customLong("projection"), help: ArgumentHelp("With a file source: projection COPY-CSVs for the reconciliation, as for reconcile.", valueName: "[TABLE=]FILE"))
    var projectionFiles: [String] = []

    @Option(name: .customLong("fail-on"), help: "Exit 1 when a report has a finding at or above this severity (the pack is written either way).")
    var failOn: String = "high"

    @Flag(name: [.customShort("q"), .long], help: "No summary on stdout.")
    var quiet = false

    func run() throws {
        guard Severity(rawValue: failOn) != nil else { throw ToolFailure(status: .usage, message: "--fail-on must be one of critical, high, medium, low, info") }
        let asOfUs = try parseInstant(asOf, option: "--as-of")!
        let loaded = try loadCatalog(sourceOptions.config)
        let signingKey = try signKey.map(loadSigningKey)
        let fm = FileManager.default
        guard !fm.fileExists(atPath: out) else { throw ToolFailure(status: .usage, message: "\(out) exists; an evidence pack is never written over") }
        if zip, fm.fileExists(atPath: out + ".zip") { throw ToolFailure(status: .usage, message: "\(out).zip exists") }

        // One snapshot for every report of the pack: later sessions import the first one's.
        let holder = try openSource(sourceOptions.source, catalog: loaded.catalog)
        if let session = holder.session {
            do { PostgresSession.sharedSnapshot = try session.exportSnapshot() } catch { throw ToolFailure(status: .source, message: error.description) }
        }
        defer { PostgresSession.sharedSnapshot = nil }

        let temporary = out + ".incomplete-\(getpid())"
        try? fm.removeItem(atPath: temporary)
        do {
            try fm.createDirectory(atPath: temporary + "/data", withIntermediateDirectories: true)
            // The exporting session must outlive every import of its snapshot.
            let statuses = try withExtendedLifetime(holder) { try assemble(temporary + "/data", loaded: loaded, holder: holder, asOfUs: asOfUs) }
            try Bag.finish(temporary, info: bagInfo(loaded: loaded, source: holder.source.redactedDescription, asOfUs: asOfUs, statuses: statuses), signingKey: signingKey)
            try fm.moveItem(atPath: temporary, toPath: out)
            if zip {
                let partial = out + ".zip.incomplete-\(getpid())"
                try fm.zipItem(at: URL(fileURLWithPath: out), to: URL(fileURLWithPath: partial), shouldKeepParent: true, compressionMethod: .deflate)
                try fm.moveItem(atPath: partial, toPath: out + ".zip")
            }
            let failed = statuses.filter { $0.status != 0 }
            if !quiet {
                for s in statuses { print("\(s.name): \(s.status == 0 ? "clean" : "findings at or above \(failOn)")") }
                print("evidence pack: \(out)" + (zip ? " and \(out).zip" : "") + (signingKey.map { ", signed by \($0.publicKey.fingerprint)" } ?? ""))
            }
            if !failed.isEmpty { throw ExitCode(ExitStatus.findings.rawValue) }
        } catch let e as ExitCode {
            throw e
        } catch {
            try? fm.removeItem(atPath: temporary)
            if let failure = error as? ToolFailure { throw failure }
            throw ToolFailure(status: .usage, message: "writing the evidence pack failed: \(error)")
        }
    }

    /// Runs each report into data/, returns each run's exit status (0 or 1).
    func assemble(_ data: String, loaded: LoadedCatalog, holder: OpenedSource, asOfUs: Int64) throws -> [(name: String, status: Int32)] {
        var common = ["--time-basis", sourceOptions.timeBasis]
        if let s = sourceOptions.source { common += ["--source", s] }
        if let c = sourceOptions.config { common += ["--config", c] }
        let report = ["--as-of", asOf, "--fail-on", failOn, "-q"]
        var statuses: [(String, Int32)] = []
        statuses.append(("balances", try runSub(Balances.self, ["--out", data + "/balances", "--journal"] + common + report)))
        let sealArguments = (seals.map { ["--seals", $0] } ?? []) + (sealsPublicKey.map { ["--seals-public-key", $0] } ?? [])
        let hasProjections = !loaded.catalog.projections.isEmpty && (holder.session != nil || !projectionFiles.isEmpty)
        // Seals cover the whole store: reconcile reads it all anyway and checks them in the same
        // pass; without projections, verify checks them with one more pass.
        let sealsFolder = hasProjections ? "reconcile" : "verify"
        statuses.append(("verify", try runSub(Verify.self, ["--out", data + "/verify"] + common + report + (hasProjections ? [] : sealArguments))))
        if hasProjections {
            // A projection holds today's balances, not T's: it is reconciled against every event of
            // the same snapshot (or its checkpoint), never against the replay as of T.
            statuses.append(("reconcile", try runSub(Reconcile.self, ["--out", data + "/reconcile", "--fail-on", failOn, "-q"] + common + sealArguments
                                                     + projectionFiles.flatMap { ["--projection", $0] })))
        }
        if !account.isEmpty {
            statuses.append(("statement", try runSub(Statement.self, ["--out", data + "/statements", "--to", asOf, "--fail-on", failOn, "-q"] + common + account.flatMap { ["--account", $0] })))
        }
        try writePopulation(data + "/events.jsonl", loaded: loaded, source: holder, asOfUs: asOfUs)
        try AtomicFile.writeWhole(data + "/run.json", JSONWriter.write(.object([
            ("pack", .string("ledger-audit evidence pack")), ("tool_version", .string(LedgerAudit.version)), ("git_revision", .string(RunFacts.gitRevision)),
            ("as_of", .string(Instant.iso8601(us: asOfUs))), ("time_basis", .string(sourceOptions.timeBasis)),
            ("source", .string(holder.source.redactedDescription)),
            ("one_snapshot", holder.session != nil ? .bool(true) : .bool(false)),
            ("runs", .array(statuses.map { .object([("report", .string($0.0)), ("folder", .string($0.0 == "statement" ? "statements" : $0.0)), ("exit_status", .number(String($0.1)))]) })),
            ("population_extract", .string("events.jsonl: the events in scope in global order, card numbers masked")),
            ("catalog", .string("catalog.yml")),
            ("reconciliation", .string("projections hold current balances, so reconcile/ compares them with every event of the same snapshot (up to their checkpoint when configured), not with the replay as of the pack's instant")),
        ])) + "\n")
        try AtomicFile.writeWhole(data + "/catalog.yml", loaded.text)
        if let seals {
            try FileManager.default.createDirectory(atPath: data + "/seals", withIntermediateDirectories: true)
            for (from, name) in [(seals, "seals.jsonl"), (SealFile.leavesPath(seals), "seals.leaves")] where FileManager.default.fileExists(atPath: from) {
                try FileManager.default.copyItem(atPath: from, toPath: data + "/seals/" + name)
            }
            if FileManager.default.fileExists(atPath: data + "/\(sealsFolder)/seal-proof.json") {
                try FileManager.default.moveItem(atPath: data + "/\(sealsFolder)/seal-proof.json", toPath: data + "/seals/consistency-proof.json")
            }
        }
        return statuses
    }

    func runSub<C: ParsableCommand>(_ type: C.Type, _ arguments: [String]) throws -> Int32 {
        var command = try type.parse(arguments)
        do {
            try command.run()
            return 0
        } catch let e as ExitCode where e.rawValue == ExitStatus.findings.rawValue {
            return e.rawValue
        }
    }

    /// data/events.jsonl: the events in scope, in global order, card numbers masked.
    /// Read through the session that exported the snapshot: the same rows as every report.
    func writePopulation(_ path: String, loaded: LoadedCatalog, source opened: OpenedSource, asOfUs: Int64) throws {
        let basis = try sourceOptions.validateTimeBasis()
        let file = try AtomicFile(path: path)
        final class Writer: ReplayObserver {
            let file: AtomicFile
            var failure: Error?
            init(_ file: AtomicFile) { self.file = file }
            func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog) {
                guard failure == nil else { return }
                do { try file.write(EventJSONLine.encode(event)) } catch { failure = error }
            }
        }
        let writer = Writer(file)
        do {
            _ = try Replay(catalog: loaded.catalog, observers: [writer]).run(source: opened.source, scope: .asOf(asOfUs, basis: basis), eventIdsMayRepeat: opened.eventIdsMayRepeat)
        } catch {
            throw ToolFailure(status: .source, message: "reading the source failed: \(error)")
        }
        if let failure = writer.failure { throw failure }
        try file.commit()
    }

    func bagInfo(loaded: LoadedCatalog, source: String, asOfUs: Int64, statuses: [(name: String, status: Int32)]) -> [(String, String)] {
        var info: [(String, String)] = [
            ("Source-Organization", loaded.catalog.organization ?? loaded.catalog.name),
            ("External-Description", loaded.catalog.externalDescription ?? "ledger-audit evidence pack: balances, trial balance, journal, findings, limbo, reconciliation and statements as of \(Instant.iso8601(us: asOfUs)), with the population extract"),
            ("Bagging-Date", String(Instant.iso8601(us: wallClockUs()).prefix(10))),
            ("Bag-Software-Agent", "ledger-audit \(LedgerAudit.version)"),
            ("Ledger-Audit-As-Of", Instant.iso8601(us: asOfUs)),
            ("Ledger-Audit-Time-Basis", sourceOptions.timeBasis),
            ("Ledger-Audit-Source", source),
            ("Ledger-Audit-Git-Revision", RunFacts.gitRevision),
            ("Ledger-Audit-Runs", statuses.map { "\($0.name)=\($0.status == 0 ? "clean" : "findings")" }.joined(separator: " ")),
        ]
        if let seals { info.append(("Ledger-Audit-Seals", seals)) }
        return info
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
        let key = try publicKey.map(loadPublicKey)
        let fm = FileManager.default
        var bag = pack
        var unpacked: String?
        if pack.hasSuffix(".zip") {
            let folder = NSTemporaryDirectory() + "ledger-audit-verify-pack-\(getpid())"
            try? fm.removeItem(atPath: folder)
            do {
                try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
                try fm.unzipItem(at: URL(fileURLWithPath: pack), to: URL(fileURLWithPath: folder))
            } catch {
                throw ToolFailure(status: .usage, message: "\(pack) is not a readable zip: \(error)")
            }
            let top = (try? fm.contentsOfDirectory(atPath: folder)) ?? []
            guard top.count == 1 else { throw ToolFailure(status: .findings, message: "\(pack) should hold one bag folder, holds \(top.count) entries") }
            bag = folder + "/" + top[0]
            unpacked = folder
        }
        defer { if let unpacked { try? fm.removeItem(atPath: unpacked) } }
        let problems = Bag.verify(bag, publicKey: key)
        if problems.isEmpty {
            let info = Bag.parseInfo((try? String(contentsOfFile: bag + "/bag-info.txt", encoding: .utf8)) ?? "")
            let oxum = info.first { $0.0 == "Payload-Oxum" }?.1 ?? "?"
            let signer = info.first { $0.0 == "Ledger-Audit-Signing-Key-Fingerprint" }?.1
            print("pack OK: \(pack) is complete and unaltered (Payload-Oxum \(oxum))" + (signer.map { "; signed by \($0)" + (key == nil ? " (checked with the key inside the pack: give --public-key to check who signed)" : "") } ?? "; not signed"))
            return
        }
        for p in problems { print(p) }
        print("pack NOT OK: \(problems.count) problem\(problems.count == 1 ? "" : "s")")
        throw ExitCode(ExitStatus.findings.rawValue)
    }
}

func loadSigningKey(_ path: String) throws -> SigningKey {
    guard let text = readTextFile(path) else { throw ToolFailure(status: .usage, message: "cannot read the signing key \(path)") }
    do { return try SigningKey(fileText: text) } catch { throw ToolFailure(status: .usage, message: "\(path): \(error)") }
}

func loadPublicKey(_ path: String) throws -> PublicKey {
    guard let text = readTextFile(path) else { throw ToolFailure(status: .usage, message: "cannot read the public key \(path)") }
    do { return try PublicKey(fileText: text) } catch { throw ToolFailure(status: .usage, message: "\(path): \(error)") }
}
