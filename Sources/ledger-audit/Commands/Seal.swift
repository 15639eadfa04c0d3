import ArgumentParser
import Foundation
import LedgerAuditCore
import LedgerAuditEvidence
import LedgerAuditReports

struct Seal: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Seal the store's history up to T: an RFC 6962 Merkle root over the events in global order, appended to a chained seal file."
    )

    @OptionGroup var sourceOptions: SourceOptions

    @Option(name: .customLong("as-of"), help: "Seal the events up to this instant (hlc_physical, inclusive). Default: all events.")
    var asOf: String?

    @Option(help: ArgumentHelp("The seal file (JSON lines, appended to; FILE.leaves is kept beside it).", valueName: "FILE"))
    var seals: String

    @Option(name: .customLong("sign-key"), help: ArgumentHelp("Sign the seal record with this Ed25519 private key (from keygen); checks then take --seals-public-key.", valueName: "FILE"))
    var signKey: String?

    @Option(name: .customLong("seals-public-key"), help: ArgumentHelp("Before extending, require every earlier seal to be signed by this key.", valueName: "FILE"))
    var sealsPublicKey: String?

    @Flag(name: [.customShort("q"), .long], help: "No progress line and no summary on stdout.")
    var quiet = false

    func run() throws {
        let signingKey = try signKey.map(loadSigningKey)
        let sealKey = try sealsPublicKey.map(loadPublicKey)
        guard sourceOptions.timeBasis == "hlc" else {
            throw ToolFailure(status: .usage, message: "seals follow global (HLC) order: --time-basis recorded does not apply")
        }
        let asOfUs = try parseInstant(asOf, option: "--as-of")
        let loaded = try loadCatalog(sourceOptions.config)
        let existing: (records: [SealRecord], chainProblems: [String])
        do { existing = try SealFile.read(seals) } catch { throw ToolFailure(status: .usage, message: error.description) }
        if let problem = existing.chainProblems.first {
            throw ToolFailure(status: .findings, message: "SEAL_BROKEN: \(seals): \(problem); not appending to a broken chain")
        }
        let run = ReportRun(loaded: loaded, opened: try openSource(sourceOptions.source, catalog: loaded.catalog))
        // Only the leaves: no report, so no events digest.
        let leaves = SealLeafCollector()
        let result = try replay(run, scope: .asOf(asOfUs, basis: .hlc), observers: [leaves], quiet: quiet)
        let size = leaves.leaves.count
        let tree = MerkleTree(leaves.leaves)
        if let last = existing.records.last {
            if size < last.treeSize || (asOfUs.map { Instant.floorDivMod($0, 1000).0 < last.asOfMs } ?? false) {
                throw ToolFailure(status: .usage, message: "seal \(last.number) already covers \(last.treeSize) events as of \(Instant.iso8601(ms: last.asOfMs)); seal as of that instant or later")
            }
            // The store must still hold every sealed event, unchanged, before a new seal extends it.
            let v = SealVerification.check(records: existing.records, chainProblems: [], sealsPath: seals, current: leaves, tree: tree, sealKey: sealKey)
            if let broken = v.findings.first {
                FileHandle.standardError.write(Data("SEAL_BROKEN: \(broken.message)\n".utf8))
                throw ToolFailure(status: .findings, message: "the store no longer extends the sealed history; no new seal was appended")
            }
        }
        let leafBytes = SealFile.leavesBytes(ids: leaves.eventIds, leaves: leaves.leaves, count: size)
        let asOfMs = asOfUs.map { Instant.floorDivMod($0, 1000).0 } ?? (leaves.lastEvent?.hlcPhysicalMs ?? 0)
        var record = SealRecord(
            number: existing.records.count + 1, treeSize: size, rootHex: Hex.encode(tree.root(size: size)), asOfMs: asOfMs,
            lastEventId: leaves.lastEvent?.eventId, sealedAtUs: wallClockUs(),
            previousSealSHA256: existing.records.last.map { SHA256Hex.of($0.rawLine ?? $0.line) },
            leavesSHA256: SHA256Hex.of(leafBytes), toolVersion: LedgerAudit.version
        )
        do {
            if let signingKey { try record.sign(with: signingKey) }
            try AtomicFile.writeWholeBytes(SealFile.leavesPath(seals), leafBytes)
            try SealFile.append(record, to: seals)
        } catch {
            throw ToolFailure(status: .usage, message: "\(error)")
        }
        if !quiet {
            print("sealed \(size) events as of \(Instant.iso8601(ms: asOfMs)) (\(result.population.rowsMalformed) unreadable rows are not in the seal): root \(record.rootHex)")
            print("seal \(record.number) appended to \(seals)" + (signingKey.map { ", signed by \($0.publicKey.fingerprint)" } ?? "") + "; leaves in \(SealFile.leavesPath(seals))")
        }
    }
}

struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Make an Ed25519 key pair for signing evidence packs: FILE (private, mode 600) and FILE.pub.")

    @Option(help: ArgumentHelp("Where the private key goes; the public key goes to FILE.pub.", valueName: "FILE"))
    var out: String

    func run() throws {
        for path in [out, out + ".pub"] where FileManager.default.fileExists(atPath: path) {
            throw ToolFailure(status: .usage, message: "\(path) exists; keygen never overwrites a key")
        }
        let key = SigningKey()
        guard FileManager.default.createFile(atPath: out, contents: Data(key.fileText.utf8), attributes: [.posixPermissions: 0o600]),
              FileManager.default.createFile(atPath: out + ".pub", contents: Data(key.publicKey.fileText.utf8)) else {
            throw ToolFailure(status: .usage, message: "cannot write \(out)")
        }
        print("private key: \(out) (keep it secret)")
        print("public key:  \(out).pub, fingerprint \(key.publicKey.fingerprint)")
    }
}
