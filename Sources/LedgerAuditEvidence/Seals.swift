import Crypto
import Foundation
import LedgerAuditCore
import LedgerAuditReports

/// Collects the Merkle leaves of the events in scope, in global order, with their ids. Fed by
/// the events digest when a report needs both (one encoding per event), or observing the
/// replay itself when only the leaves are wanted (sealing, a pass for the seals alone).
public final class SealLeafCollector: CanonicalEventSink, ReplayObserver {
    public private(set) var leaves = MerkleLeaves()
    public private(set) var eventIds: [EventID] = []
    public private(set) var lastEvent: EventRecord?
    var line: [UInt8] = []

    public init() {}

    public func canonical(_ bytes: UnsafeRawBufferPointer, event: EventRecord) {
        append(leafHash: Merkle.leafHash(bytes), eventId: event.eventId)
        lastEvent = event
    }

    public func append(leafHash: [UInt8], eventId: EventID) {
        leaves.append(leafHash)
        eventIds.append(eventId)
    }

    public func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog) {
        line.removeAll(keepingCapacity: true)
        CanonicalEvent.encode(event, into: &line)
        line.withUnsafeBytes { canonical($0, event: event) }
    }
}

/// One line of the seal file: a signed-off size and root of the store's history, chained to
/// the line before it by the SHA-256 of that line's bytes.
public struct SealRecord: Sendable, Equatable {
    public var number: Int
    public var treeSize: Int
    public var rootHex: String
    public var asOfMs: Int64
    public var lastEventId: EventID?
    public var sealedAtUs: Int64
    public var previousSealSHA256: String?
    /// SHA-256 of the first `treeSize` entries of the leaves file (event id ‖ leaf hash).
    public var leavesSHA256: String
    public var toolVersion: String
    /// Who signed the record (`SHA256:` fingerprint of an Ed25519 key), when it is signed.
    public var keyFingerprint: String?
    /// Ed25519 signature (base64) over the line without its last member, `signature`.
    public var signature: String?
    /// The line as read from the file (what the chain and the signature cover).
    public var rawLine: String?

    public init(number: Int, treeSize: Int, rootHex: String, asOfMs: Int64, lastEventId: EventID?, sealedAtUs: Int64, previousSealSHA256: String?, leavesSHA256: String, toolVersion: String) {
        self.number = number
        self.treeSize = treeSize
        self.rootHex = rootHex
        self.asOfMs = asOfMs
        self.lastEventId = lastEventId
        self.sealedAtUs = sealedAtUs
        self.previousSealSHA256 = previousSealSHA256
        self.leavesSHA256 = leavesSHA256
        self.toolVersion = toolVersion
    }

    /// The record as one JSON line (no newline), keys in a fixed order.
    public var line: String {
        var members: [(String, JSONValue)] = [
            ("seal", .number(String(number))), ("tree_size", .number(String(treeSize))), ("root_sha256", .string(rootHex)),
            ("leaf", .string("SHA-256(0x00 || \(CanonicalEvent.name))")),
            ("as_of", .string(Instant.iso8601(ms: asOfMs))), ("as_of_ms", .number(String(asOfMs))),
        ]
        members.append(("last_event_id", lastEventId.map { .string($0.description) } ?? .null))
        members.append(("sealed_at", .string(Instant.iso8601(us: sealedAtUs))))
        members.append(("previous_seal_sha256", previousSealSHA256.map { .string($0) } ?? .null))
        members.append(("leaves_sha256", .string(leavesSHA256)))
        members.append(("tool_version", .string(toolVersion)))
        if let keyFingerprint { members.append(("key_fingerprint", .string(keyFingerprint))) }
        let unsigned = JSONWriter.write(.object(members))
        guard let signature else { return unsigned }
        return String(unsigned.dropLast()) + ",\"signature\":\"" + signature + "\"}"
    }

    /// Signs the record: its line then ends with the signature over everything before it.
    public mutating func sign(with key: SigningKey) throws {
        keyFingerprint = key.publicKey.fingerprint
        signature = nil
        signature = try key.sign(Array(line.utf8))
    }

    /// The signed bytes of a line as read: the line with its final `"signature"` member removed.
    static func signedText(_ line: String) -> String? {
        guard line.hasSuffix("\"}"), let r = line.range(of: ",\"signature\":\"", options: .backwards) else { return nil }
        return String(line[..<r.lowerBound]) + "}"
    }

    /// Whether the record, as read, carries a valid signature by `key`.
    public func isSigned(by key: PublicKey) -> Bool {
        guard let signature, keyFingerprint == key.fingerprint, let raw = rawLine, let signed = SealRecord.signedText(raw) else { return false }
        return key.verify(signature, over: Array(signed.utf8))
    }

    /// One line of a seal file, every field validated before use (a fuzz target reads it directly).
    public static func parse(_ line: String, lineNumber: Int) throws(SealError) -> SealRecord {
        let bad = { (why: String) in SealError("the seal file, line \(lineNumber): \(why)") }
        guard let value = try? JSONParser.parse(line), case .object = value else { throw bad("not a JSON object") }
        func int(_ k: String) throws(SealError) -> Int64 {
            guard case .number(let t)? = value.member(k), let v = Int64(t) else { throw bad("\(k) is missing or not an integer") }
            return v
        }
        func str(_ k: String) throws(SealError) -> String {
            guard case .string(let t)? = value.member(k) else { throw bad("\(k) is missing") }
            return t
        }
        var lastEvent: EventID?
        if case .string(let t)? = value.member("last_event_id") { lastEvent = EventID(t) }
        var previous: String?
        if case .string(let t)? = value.member("previous_seal_sha256") { previous = t }
        let sealedAt = try str("sealed_at")
        guard let sealedAtUs = Instant.parseTimestampUs(sealedAt) else { throw bad("sealed_at is not an instant") }
        let root = try str("root_sha256")
        guard Hex.decode(root)?.count == 32 else { throw bad("root_sha256 is not a SHA-256") }
        // An edited seal file is what seals exist to catch: every number is checked before use.
        let number = try int("seal"), treeSize = try int("tree_size"), asOfMs = try int("as_of_ms")
        guard number >= 1, number <= Int64(Limits.sealTreeSizeMax) else { throw bad("seal \(number) is not a seal number") }
        guard treeSize >= 0, treeSize <= Int64(Limits.sealTreeSizeMax) else { throw bad("tree_size \(treeSize) is not a number of events") }
        guard asOfMs >= Limits.hlcPhysicalMinMs, asOfMs <= Limits.hlcPhysicalMaxMs else { throw bad("as_of_ms \(asOfMs) is not an instant") }
        guard sealedAtUs >= Limits.instantMinUs, sealedAtUs <= Limits.instantMaxUs else { throw bad("sealed_at is not an instant") }
        var record = SealRecord(number: Int(number), treeSize: Int(treeSize), rootHex: root, asOfMs: asOfMs,
                                lastEventId: lastEvent, sealedAtUs: sealedAtUs, previousSealSHA256: previous, leavesSHA256: try str("leaves_sha256"),
                                toolVersion: (try? str("tool_version")) ?? "")
        record.keyFingerprint = try? str("key_fingerprint")
        record.signature = try? str("signature")
        record.rawLine = line
        return record
    }
}

public struct SealError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

/// The seal file (JSON lines, append only) and its leaves file beside it (`FILE.leaves`: per
/// sealed event, its 16-byte id and 32-byte leaf hash, in global order): the leaves let a
/// broken seal name the first event that differs.
public enum SealFile {
    public static func leavesPath(_ sealsPath: String) -> String { sealsPath + ".leaves" }
    /// The RFC 3161 token of seal `number` (`seal --tsa-url`): a TimeStampResp over the SHA-256
    /// of the seal's line as written (its bytes without the newline), kept beside the seal file.
    public static func timestampPath(_ sealsPath: String, number: Int) -> String { sealsPath + ".seal-\(number).tsr" }
    static let leafEntrySize = 48

    /// The records, and what is wrong with the chain (a line edited, removed or reordered).
    public static func read(_ path: String) throws(SealError) -> (records: [SealRecord], chainProblems: [String]) {
        guard FileManager.default.fileExists(atPath: path) else { return ([], []) }
        let data: [UInt8]
        switch TextFile.bytes(path) {
        case .success(let bytes): data = bytes
        case .failure(let why): throw SealError("cannot read the seal file \(path): \(why)")
        }
        let text = String(decoding: data, as: UTF8.self)
        var records: [SealRecord] = []
        var problems: [String] = []
        var previousLine: String?
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            let line = String(raw)
            let record: SealRecord
            do {
                record = try SealRecord.parse(line, lineNumber: i + 1)
            } catch {
                // Not a record: SEAL_BROKEN naming the line, and the lines after it still checked.
                problems.append("\(error.description): the seal file was edited")
                previousLine = line
                continue
            }
            let expected = previousLine.map { SHA256Hex.of($0) }
            if record.previousSealSHA256 != expected {
                problems.append("seal \(record.number) (line \(i + 1)) does not chain to the line before it: the seal file was edited")
            }
            if record.number != i + 1 { problems.append("seal \(record.number) is on line \(i + 1): seals were removed or reordered") }
            if let last = records.last, record.treeSize < last.treeSize {
                problems.append("seal \(record.number) covers fewer events (\(record.treeSize)) than seal \(last.number) (\(last.treeSize))")
            }
            records.append(record)
            previousLine = line
        }
        return (records, problems)
    }

    /// Appends one record; the file is opened for appending only and synced before returning.
    public static func append(_ record: SealRecord, to path: String) throws(SealError) {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard fd >= 0 else { throw SealError("cannot open the seal file \(path) for appending: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = Array((record.line + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else { throw SealError("writing the seal file \(path) failed") }
    }

    public static func leavesBytes(ids: [EventID], leaves: MerkleLeaves, count: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count * leafEntrySize)
        for i in 0..<count {
            withUnsafeBytes(of: ids[i].high.bigEndian) { out.append(contentsOf: $0) }
            withUnsafeBytes(of: ids[i].low.bigEndian) { out.append(contentsOf: $0) }
            out.append(contentsOf: leaves.hashes[i * 32 ..< (i + 1) * 32])
        }
        return out
    }

    /// The stored leaves: ids and hashes, or nil when the file is missing or short.
    public static func readLeaves(_ sealsPath: String, count: Int) -> (ids: [EventID], leaves: MerkleLeaves, sha256: String)? {
        guard let data = FileManager.default.contents(atPath: leavesPath(sealsPath)), data.count >= count * leafEntrySize else { return nil }
        let bytes = [UInt8](data.prefix(count * leafEntrySize))
        var ids: [EventID] = []
        var hashes: [UInt8] = []
        ids.reserveCapacity(count)
        hashes.reserveCapacity(count * 32)
        for i in 0..<count {
            let (id, leaf) = entry(bytes[i * leafEntrySize ..< (i + 1) * leafEntrySize])
            ids.append(id)
            hashes.append(contentsOf: leaf)
        }
        return (ids, MerkleLeaves(hashes: hashes), SHA256Hex.of(bytes))
    }

    /// One entry of the leaves file: the event id (16 bytes, network order), then its leaf hash.
    static func entry(_ bytes: ArraySlice<UInt8>) -> (id: EventID, leaf: [UInt8]) {
        let id = bytes.withUnsafeBytes { EventID(bytes: UnsafeRawBufferPointer(rebasing: $0[0..<16])) }
        return (id, Array(bytes[(bytes.startIndex + 16)..<(bytes.startIndex + leafEntrySize)]))
    }
}

/// Checks every seal against the store as it is now: the root of the first `tree_size` events
/// must equal the sealed root, and the current tree must extend it (RFC 6962 consistency proof).
public struct SealVerification: Sendable {
    public struct Outcome: Sendable {
        public var record: SealRecord
        public var holds: Bool
        public var proof: [[UInt8]]
        /// With `--tsa-ca`: the TSA's time for this seal's token, or why it does not verify.
        public var trustedTime: String?
    }

    public var outcomes: [Outcome] = []
    public var findings: [Finding] = []
    public var currentSize: Int
    public var currentRootHex: String
    /// `--tsa-ca`: the CA file every seal's RFC 3161 token was verified against.
    public var tsaCAFile: String?

    /// `tree` is `MerkleTree(current.leaves)` when the caller has built it already.
    public static func check(records: [SealRecord], chainProblems: [String], sealsPath: String, current: SealLeafCollector, tree prebuilt: MerkleTree? = nil, sealKey: PublicKey? = nil, tsaCAFile: String? = nil) -> SealVerification {
        let n = current.leaves.count
        let tree = prebuilt ?? MerkleTree(current.leaves)
        let currentRoot = tree.root(size: n)
        var v = SealVerification(currentSize: n, currentRootHex: Hex.encode(currentRoot), tsaCAFile: tsaCAFile)
        v.findings = fileFindings(records: records, chainProblems: chainProblems, sealsPath: sealsPath, sealKey: sealKey)
        judge(records, into: &v, sealsPath: sealsPath, currentRoot: currentRoot,
              prefixRoot: { tree.root(size: $0) }, proof: { tree.consistencyProof($0, n) },
              locate: { locate($0, sealedRoot: $1, sealsPath: sealsPath, current: current) })
        return v
    }

    /// Each seal against the store as read: its prefix root and consistency proof (from the
    /// whole tree or from a stream's kept subtrees), its RFC 3161 token, and the first broken
    /// seal located.
    static func judge(_ records: [SealRecord], into v: inout SealVerification, sealsPath: String, currentRoot: [UInt8],
                      prefixRoot: (Int) -> [UInt8]?, proof: (Int) -> [[UInt8]], locate: (SealRecord, [UInt8]) -> Finding) {
        let n = v.currentSize
        var reportedDifference = false
        for record in records {
            let m = record.treeSize
            let sealedRoot = Hex.decode(record.rootHex) ?? []
            var holds = false
            var proofHashes: [[UInt8]] = []
            if m <= n, prefixRoot(m) == sealedRoot {
                proofHashes = proof(m)
                holds = Merkle.verifyConsistency(first: m, second: n, firstRoot: sealedRoot, secondRoot: currentRoot, proof: proofHashes)
            }
            var trustedTime: String?
            if let tsaCAFile = v.tsaCAFile {
                let (text, problem) = timestamp(of: record, sealsPath: sealsPath, caFile: tsaCAFile)
                trustedTime = text
                if let problem { v.findings.append(problem) }
            }
            v.outcomes.append(Outcome(record: record, holds: holds, proof: proofHashes, trustedTime: trustedTime))
            guard !holds, !reportedDifference else { continue }
            reportedDifference = true
            v.findings.append(locate(record, sealedRoot))
        }
    }

    /// What the seal file itself shows: its chain, and with the sealer's public key every signature.
    static func fileFindings(records: [SealRecord], chainProblems: [String], sealsPath: String, sealKey: PublicKey?) -> [Finding] {
        var findings: [Finding] = []
        for problem in chainProblems {
            findings.append(Finding(code: .sealBroken, message: "\(sealsPath): \(problem)", evidence: [("seal file", sealsPath)]))
        }
        // With the sealer's public key, a seal file rewritten consistently (roots, chain) is caught too.
        if let sealKey {
            for record in records where !record.isSigned(by: sealKey) {
                let why = record.signature == nil ? "is not signed" : record.keyFingerprint != sealKey.fingerprint
                    ? "is signed by \(record.keyFingerprint ?? "another key"), not by \(sealKey.fingerprint)" : "does not match its signature: the record was altered"
                findings.append(Finding(code: .sealBroken, message: "\(sealsPath): seal \(record.number) \(why)", evidence: [("seal file", sealsPath)]))
            }
        }
        return findings
    }

    /// How a finding names a seal.
    static func head(_ record: SealRecord) -> String {
        "seal \(record.number) (\(record.treeSize) events as of \(Instant.iso8601(ms: record.asOfMs)), sealed \(Instant.iso8601(us: record.sealedAtUs)))"
    }

    /// The seal's RFC 3161 token checked against the TSA's CA: the time it states, or the
    /// SEAL_TIMESTAMP_INVALID finding (no token, a token for other bytes, not from that TSA).
    static func timestamp(of record: SealRecord, sealsPath: String, caFile: String) -> (String, Finding?) {
        let path = SealFile.timestampPath(sealsPath, number: record.number)
        let evidence: [(String, String)] = [("seal file", sealsPath), ("token", path), ("TSA CA", caFile)]
        guard let token = try? TextFile.bytes(path).get() else {
            return ("no token", Finding(code: .sealTimestampInvalid, message: "\(sealsPath): seal \(record.number) has no RFC 3161 token (\(path)), so when it was sealed is not proven", evidence: evidence))
        }
        switch TrustedTime.verify(response: Array(token), data: Array((record.rawLine ?? record.line).utf8), caFile: caFile) {
        case .success(let stamp):
            return (stamp.time, nil)
        case .failure(let why):
            return ("INVALID", Finding(code: .sealTimestampInvalid, message: "\(sealsPath): seal \(record.number)'s RFC 3161 token \(path): \(why.description)", evidence: evidence))
        }
    }

    /// Names the first sealed position whose event differs, using the leaves file when it is
    /// intact (its entries rebuild the sealed root).
    static func locate(_ record: SealRecord, sealedRoot: [UInt8], sealsPath: String, current: SealLeafCollector) -> Finding {
        let m = record.treeSize, n = current.leaves.count
        let head = Self.head(record)
        let evidence: [(String, String)] = [("seal file", sealsPath), ("sealed root", record.rootHex), ("sealed size", String(m)), ("current size", String(n))]
        guard let stored = SealFile.readLeaves(sealsPath, count: m), stored.leaves.root(size: m) == sealedRoot else {
            return Finding(code: .sealBroken, message: "\(head): the store's first \(m) events no longer hash to the sealed root. The leaves file is missing or altered, so the first differing event cannot be named", evidence: evidence)
        }
        let currentIds = current.eventIds
        let currentSet = Set(currentIds)
        let sealedSet = Set(stored.ids)
        for i in 0..<m {
            let sealedId = stored.ids[i]
            if i >= n {
                return Finding(code: .sealBroken, eventId: sealedId, message: "\(head): the store now holds only \(n) events; sealed event \(sealedId) at position \(i + 1) and those after it were removed", evidence: evidence)
            }
            if stored.leaves.leaf(i) == current.leaves.leaf(i) { continue }
            let currentId = currentIds[i]
            let position = "position \(i + 1) in global order"
            if sealedId == currentId {
                return Finding(code: .sealBroken, eventId: sealedId, message: "\(head): sealed event \(sealedId) at \(position) was changed (its canonical encoding differs)", evidence: evidence)
            }
            if !currentSet.contains(sealedId) {
                return Finding(code: .sealBroken, eventId: sealedId, message: "\(head): sealed event \(sealedId) at \(position) was removed", evidence: evidence)
            }
            if !sealedSet.contains(currentId) {
                return Finding(code: .sealBroken, eventId: currentId, message: "\(head): event \(currentId) was inserted at \(position), before the sealed position \(m)", evidence: evidence)
            }
            return Finding(code: .sealBroken, eventId: sealedId, message: "\(head): sealed event \(sealedId) at \(position) has moved (the events were reordered or its time changed); \(currentId) is there now", evidence: evidence)
        }
        return Finding(code: .sealBroken, message: "\(head): the first \(m) events no longer hash to the sealed root", evidence: evidence)
    }

    /// The proof file of an evidence pack: every seal, whether it holds, and its consistency proof.
    public var proofJSON: String {
        let seals: [JSONValue] = outcomes.map { o in
            .object([
                ("seal", .number(String(o.record.number))), ("tree_size", .number(String(o.record.treeSize))), ("root_sha256", .string(o.record.rootHex)),
                ("holds", o.holds ? .bool(true) : .bool(false)),
                ("consistency_proof", .array(o.proof.map { .string(Hex.encode($0)) })),
            ])
        }
        return JSONWriter.write(.object([
            ("proof", .string("RFC 6962 consistency proofs from each seal to the store as read now; leaf = SHA-256(0x00 || \(CanonicalEvent.name))")),
            ("tree_size", .number(String(currentSize))), ("root_sha256", .string(currentRootHex)), ("seals", .array(seals)),
        ])) + "\n"
    }
}

extension SealVerification {
    /// A TSA's GeneralizedTime (`20261203103415Z`) is the tool's, not ledger text: shown as
    /// stated even when its 14 digits happen to pass Luhn. Anything else the token says is
    /// masked like ledger text.
    static func trustedTimeCell(_ time: String?) -> ReportCell {
        guard let time else { return .ledgerText("") }
        let digits = time.utf8.prefix { $0 >= 0x30 && $0 <= 0x39 }.count
        let rest = time.utf8.dropFirst(digits)
        let isGeneralizedTime = digits == 14 && rest.last == UInt8(ascii: "Z")
            && rest.dropLast().allSatisfy { $0 >= 0x30 && $0 <= 0x39 || $0 == UInt8(ascii: ".") }
        return isGeneralizedTime ? .toolText(time) : .ledgerText(time)
    }

    /// The Seals section of verify and reconcile reports.
    public var section: ReportSection {
        let rows: [[ReportCell]] = outcomes.map { o in
            [.integer(Int64(o.record.number)), .integer(Int64(o.record.treeSize)), .ledgerText(Instant.iso8601(ms: o.record.asOfMs)),
             .ledgerText(Instant.iso8601(us: o.record.sealedAtUs)), .ledgerText(o.record.rootHex), .ledgerText(o.holds ? "holds" : "BROKEN"),
             .integer(Int64(o.proof.count))] + (tsaCAFile == nil ? [] : [SealVerification.trustedTimeCell(o.trustedTime)])
        }
        var figures: [(label: String, value: String)] = [
            ("Seals checked", String(outcomes.count)), ("Events in the store now", String(currentSize)),
            ("Result", findings.isEmpty ? "every seal holds: sealed history is unchanged and the store extends it" : findings.contains { $0.code == .sealBroken } ? "SEAL_BROKEN: see the findings" : "SEAL_TIMESTAMP_INVALID: see the findings"),
        ]
        if let tsaCAFile {
            figures.append(("Trusted time", "each seal's RFC 3161 token (FILE.seal-N.tsr) verified against \(tsaCAFile); the TSA's time is in trusted_time"))
        }
        return ReportSection(id: "seals", title: "Seals", figures: figures,
                             tables: [ReportTable(csvName: nil, xmlRow: "sealCheck", title: "Each seal against the store (RFC 6962 root and consistency proof; proofs in seal-proof.json)",
                                                  columns: ["seal", "tree_size", "as_of", "sealed_at", "root_sha256", "result", "proof_hashes"] + (tsaCAFile == nil ? [] : ["trusted_time"]), rows: rows)])
    }
}
