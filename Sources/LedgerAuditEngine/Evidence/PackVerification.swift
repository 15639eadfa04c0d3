import Foundation
import LedgerAuditEvidence
import LedgerAuditReports
import ZIPFoundation

/// `verify-pack`: whether a pack (folder or zip) is complete, unaltered and signed.
public enum PackVerification {
    public struct Verdict: Sendable {
        public var ok: Bool
        public var lines: [String]

        /// The problems, a note on what was not read, and the count of problems.
        static func notOK(_ problems: [String], note: String? = nil) -> Verdict {
            Verdict(ok: false, lines: problems + (note.map { [$0] } ?? []) + ["pack NOT OK: \(problems.count) problem\(problems.count == 1 ? "" : "s")"])
        }
    }

    public static func verify(_ pack: String, publicKeyFile: String?, tsaCAFile: String? = nil) throws(AuditFailure) -> Verdict {
        let key = try publicKeyFile.map(KeyFiles.publicKey)
        let fm = FileManager.default
        var bag = pack
        var unpacked: String?
        defer { if let unpacked { try? fm.removeItem(atPath: unpacked) } }
        if pack.hasSuffix(".zip") {
            let folder = NSTemporaryDirectory() + "ledger-audit-verify-pack-\(getpid())-\(UUID().uuidString.prefix(8))"
            unpacked = folder
            let links: [String]
            do {
                try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
                links = try unzip(pack, into: folder)
            } catch {
                throw .usage("\(pack) is not a readable zip: \(error)")
            }
            guard links.isEmpty else {
                return .notOK(links.map { "altered: \($0) is a symbolic link in the zip, not a file (not unpacked)" },
                              note: "nothing else in the pack was read: a pack from evidence holds only files and folders")
            }
            let top = (try? fm.contentsOfDirectory(atPath: folder)) ?? []
            guard top.count == 1 else { return .notOK(["\(pack) should hold one bag folder, holds \(top.count) entries"]) }
            bag = folder + "/" + top[0]
        }
        // A link or pipe in the bag: named, and nothing more of the bag is read.
        let irregular = Bag.irregularEntries(bag)
        guard irregular.isEmpty else { return .notOK(irregular, note: Bag.nothingElseRead) }
        var problems = Bag.verify(bag, publicKey: key)
        let declared = Bag.parseInfo(TextFile.read(bag + "/bag-info.txt") ?? "").first { $0.0 == "BagIt-Profile-Identifier" }?.1
        // A pack that declares our profile must meet it; one that declares another is not ours to judge.
        if declared == EvidenceProfile.identifier { problems += EvidenceProfile.check(bag) }
        else if let declared { problems.append("profile: the pack declares BagIt profile \(declared), not \(EvidenceProfile.identifier)") }
        // Trusted time: the token must be over this tag manifest and chain to the TSA's CA.
        var timeLine: String?
        let tokenPath = bag + "/" + Bag.timestampFile
        if let token = try? TextFile.bytes(tokenPath).get() {
            if let tsaCAFile {
                let manifest = (try? TextFile.bytes(bag + "/tagmanifest-sha512.txt").get()) ?? []
                switch TrustedTime.verify(response: Array(token), data: Array(manifest), caFile: tsaCAFile) {
                case .success(let stamp): timeLine = "trusted time: the tag manifest existed at \(stamp.time) (RFC 3161 token, serial \(stamp.serial), verified against \(tsaCAFile))"
                case .failure(let f): problems.append("timestamp: \(Bag.timestampFile): \(f.description)")
                }
            } else {
                timeLine = "trusted time: an RFC 3161 token is in the pack, not checked (give --tsa-ca with the TSA's CA certificates)"
            }
        } else if tsaCAFile != nil {
            problems.append("timestamp: the pack holds no RFC 3161 token (\(Bag.timestampFile)), but --tsa-ca asks for one")
        }
        guard problems.isEmpty else { return .notOK(problems) }
        let info = Bag.parseInfo(TextFile.read(bag + "/bag-info.txt") ?? "")
        let oxum = info.first { $0.0 == "Payload-Oxum" }?.1 ?? "?"
        let signer = info.first { $0.0 == "Ledger-Audit-Signing-Key-Fingerprint" }?.1
        let profileNote = declared == nil ? "; declares no BagIt profile (written before profiles)" : "; meets BagIt profile \(EvidenceProfile.identifier)"
        return Verdict(ok: true, lines: ["pack OK: \(pack) is complete and unaltered (Payload-Oxum \(oxum))" + profileNote
            + (signer.map { "; signed by \($0)" + (key == nil ? " (checked with the key inside the pack: give --public-key to check who signed)" : "") } ?? "; not signed")]
            + (timeLine.map { [$0] } ?? []))
    }
}

struct PackZipError: Error, CustomStringConvertible {
    var description: String
}

extension PackVerification {
    /// Unpacks a pack's zip into `folder`, reading what the zip declares before writing a byte:
    /// an entry that would land outside the folder is refused, links are returned (and not
    /// made), and the bytes written are bounded by the sizes the zip declares, which must fit in
    /// the folder's free space: a zip bomb, or a zip that says less than it inflates to, stops
    /// there instead of filling the disk.
    /// `freeBytes`: the folder's free space, when not asked of its file system (tests).
    static func unzip(_ pack: String, into folder: String, freeBytes: UInt64? = nil) throws -> [String] {
        let archive = try Archive(url: URL(fileURLWithPath: pack), accessMode: .read)
        var declared: UInt64 = 0
        var links: [String] = []
        for entry in archive {
            guard Bag.isInside(entry.path) else { throw PackZipError(description: "its entry \(entry.path) would land outside the folder it is unpacked into") }
            if entry.type == .symlink { links.append(entry.path) }
            let (sum, overflow) = declared.addingReportingOverflow(entry.uncompressedSize)
            guard !overflow else { throw PackZipError(description: "its entries declare more than 2^64 bytes") }
            declared = sum
        }
        guard links.isEmpty else { return links.sorted() }
        var space = statvfs()
        let asked = statvfs(folder, &space) == 0 ? UInt64(space.f_bavail).multipliedReportingOverflow(by: UInt64(space.f_frsize)) : (partialValue: UInt64.max, overflow: true)
        let free = freeBytes ?? (asked.overflow ? .max : asked.partialValue)
        guard declared <= free else {
            throw PackZipError(description: "it declares \(declared) bytes unpacked, more than the \(free) free where it is unpacked (TMPDIR)")
        }
        for entry in archive {
            let target = folder + "/" + entry.path
            if entry.type == .directory {
                try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
                continue
            }
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw PackZipError(description: "cannot unpack \(entry.path): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            var written: UInt64 = 0
            let limit = entry.uncompressedSize
            _ = try archive.extract(entry) { data in
                written += UInt64(data.count)
                guard written <= limit else { throw PackZipError(description: "its entry \(entry.path) inflates past the \(limit) bytes it declares") }
                try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                    var at = 0
                    while at < raw.count {
                        let n = write(fd, raw.baseAddress! + at, raw.count - at)
                        if n < 0 && errno == EINTR { continue }
                        guard n > 0 else { throw PackZipError(description: "cannot unpack \(entry.path): \(String(cString: strerror(errno)))") }
                        at += n
                    }
                }
            }
        }
        return []
    }
}

extension KeyFiles {
    /// `keygen`: a new Ed25519 pair, never over an existing file. Returns the fingerprint.
    public static func generate(_ out: String) throws(AuditFailure) -> String {
        let fm = FileManager.default
        for path in [out, out + ".pub"] where fm.fileExists(atPath: path) {
            throw .usage("\(path) exists; keygen never overwrites a key")
        }
        let key = SigningKey()
        guard fm.createFile(atPath: out, contents: Data(key.fileText.utf8), attributes: [.posixPermissions: 0o600]),
              fm.createFile(atPath: out + ".pub", contents: Data(key.publicKey.fileText.utf8)) else {
            throw .output("cannot write \(out)")
        }
        return key.publicKey.fingerprint
    }
}
