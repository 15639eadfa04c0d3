import LedgerAuditCore
import LedgerAuditEvidence

/// A seal file to check, read before the run (its chain is checked as it is read).
public struct SealInput: Sendable {
    public var path: String
    public var records: [SealRecord]
    public var chainProblems: [String]
    /// With `--seals-public-key`: every seal must carry this key's valid signature.
    public var publicKey: PublicKey?
    /// With `--tsa-ca`: every seal must carry an RFC 3161 token that verifies against this CA file.
    public var tsaCAFile: String?

    public init(path: String, records: [SealRecord], chainProblems: [String], publicKey: PublicKey?, tsaCAFile: String? = nil) {
        self.path = path
        self.records = records
        self.chainProblems = chainProblems
        self.publicKey = publicKey
        self.tsaCAFile = tsaCAFile
    }
}

/// `SEAL_BROKEN`: every earlier seal's root is recomputed over the store as read now, and the
/// current tree must extend it (RFC 6962 consistency proof). Seals cover the whole store, so the
/// engine runs this check over every event of the snapshot whatever the report's as-of.
/// Streams (`SealStream`): O(seals × log n) hashes, whatever the number of events.
public final class SealCheck: Check {
    public static let name = "seals"
    public static let summary = "events covered by earlier seals are unchanged and the store extends them (with --seals)"
    public static let codes: [FindingCode] = [.sealBroken, .sealTimestampInvalid]
    public static var readsCanonicalEncoding: Bool { true }
    public static func isRequested(_ context: CheckContext) -> Bool { context.seals != nil }

    let input: SealInput?
    var stream: SealStream?

    public init(context: CheckContext) {
        input = context.seals
        stream = context.seals.map { SealStream(records: $0.records, sealsPath: $0.path) }
    }

    public func canonical(_ bytes: UnsafeRawBufferPointer, event: EventRecord) {
        stream?.append(leafHash: Merkle.leafHash(bytes), eventId: event.eventId)
    }

    public func finish(_ end: CheckEnd, findings: inout FindingLog) -> CheckReport {
        guard let input, var stream else { return CheckReport() }
        let v = stream.finish(chainProblems: input.chainProblems, sealKey: input.publicKey, tsaCAFile: input.tsaCAFile)
        for f in v.findings { findings.append(f) }
        let note = "\(v.outcomes.count) seals from \(input.path) against \(v.currentSize) events; "
            + (input.publicKey == nil ? "signatures not checked (no --seals-public-key)" : "each signed by the given key")
            + (input.tsaCAFile == nil ? "" : "; RFC 3161 tokens verified against \(input.tsaCAFile!)")
        return CheckReport(note: note, sections: [v.section], files: [ReportFile(name: "seal-proof.json", text: v.proofJSON)])
    }
}
