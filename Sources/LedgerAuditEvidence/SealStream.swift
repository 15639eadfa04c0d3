import Foundation
import LedgerAuditCore

/// `verify --seals` as the events stream by, in memory of O(seals × log n) hashes instead of
/// 48 bytes an event. The sealed sizes are known before the run, so:
/// - at each sealed size m the stack of completed subtrees (the frontier) is kept: it gives the
///   root of the first m events and the left half of every consistency proof from m;
/// - the right half of a proof from m to the final size n is made of the right siblings of the
///   subtrees holding leaf m − 1 (at most one a level), kept as they complete, and of the final
///   frontier;
/// - the leaves file is read in step with the stream, one entry an event and nothing kept, only
///   to name the first event that differs when a seal is broken.
/// The proofs and verdicts equal `SealVerification.check` over the whole tree (tested).
public struct SealStream {
    struct Block: Hashable {
        var start: Int
        var size: Int
    }

    let records: [SealRecord]
    let sealsPath: String
    /// Distinct sealed sizes, ascending, and the next one the stream will reach.
    let sizes: [Int]
    var nextSize = 0
    /// The current tree's completed subtrees.
    var tree = MerkleAccumulator()
    public var count: Int { tree.count }
    /// Subtrees a proof may need, and those kept (frontiers, siblings, the final frontier).
    var wanted: Set<Block> = []
    var known: [Block: [UInt8]] = [:]

    /// The leaves file, read in step; its own frontier roots at the sealed sizes.
    var stored: LeavesReader?
    var storedStack = MerkleAccumulator()
    var storedRoots: [Int: [UInt8]] = [:]
    var nextStoredSize = 0
    var storedIdAtEnd: EventID?
    /// The first position where the store and the leaves file differ.
    var difference: (position: Int, sealedId: EventID, currentId: EventID)?
    var sealedIdLater = false

    public init(records: [SealRecord], sealsPath: String) {
        self.records = records
        self.sealsPath = sealsPath
        sizes = Array(Set(records.map(\.treeSize).filter { $0 > 0 })).sorted()
        for m in sizes {
            // The subtree holding leaf m − 1 at each level; when it is a left child, its right sibling.
            var level = 0
            while (1 << level) <= Limits.sealTreeSizeMax {
                let start = ((m - 1) >> level) << level
                if (start >> level) & 1 == 0 { wanted.insert(Block(start: start + (1 << level), size: 1 << level)) }
                level += 1
            }
        }
        if let largest = sizes.last { stored = LeavesReader(path: SealFile.leavesPath(sealsPath), entries: largest) }
    }

    public mutating func append(leafHash: [UInt8], eventId: EventID) {
        let position = count
        tree.append(leafHash) { subtree in
            let block = Block(start: subtree.start, size: subtree.size)
            if wanted.contains(block) { known[block] = subtree.hash }
        }
        if nextSize < sizes.count, count == sizes[nextSize] {
            keepFrontier()
            nextSize += 1
        }
        if stored != nil, let entry = stored!.next() {
            storedStep(entry)
            if difference == nil, entry.leaf != leafHash { difference = (position, entry.id, eventId) }
        }
        if let d = difference, position > d.position, eventId == d.sealedId { sealedIdLater = true }
    }

    mutating func keepFrontier() {
        for subtree in tree.stack { known[Block(start: subtree.start, size: subtree.size)] = subtree.hash }
    }

    mutating func storedStep(_ entry: (id: EventID, leaf: [UInt8])) {
        storedStack.append(entry.leaf)
        if nextStoredSize < sizes.count, storedStack.count == sizes[nextStoredSize] {
            storedRoots[storedStack.count] = storedStack.root
            nextStoredSize += 1
        }
    }

    /// RFC 6962 MTH(D[lo:hi]) from the kept subtrees; nil if one is missing (never expected).
    func root(_ lo: Int, _ hi: Int) -> [UInt8]? {
        let n = hi - lo
        if n == 0 { return Merkle.emptyRoot }
        if let h = known[Block(start: lo, size: n)] { return h }
        guard n > 1 else { return nil }
        let k = Merkle.split(n)
        guard let left = root(lo, lo + k), let right = root(lo + k, hi) else { return nil }
        return Merkle.nodeHash(left, right)
    }

    func subproof(_ m: Int, _ lo: Int, _ hi: Int, _ complete: Bool) -> [[UInt8]]? {
        let n = hi - lo
        if m == n { return complete ? [] : root(lo, hi).map { [$0] } }
        let k = Merkle.split(n)
        if m <= k {
            guard let p = subproof(m, lo, lo + k, complete), let r = root(lo + k, hi) else { return nil }
            return p + [r]
        }
        guard let p = subproof(m - k, lo + k, hi, false), let l = root(lo, lo + k) else { return nil }
        return p + [l]
    }

    /// The end of the stream: every seal's verdict, proofs and findings, as `SealVerification.check` gives them.
    public mutating func finish(chainProblems: [String], sealKey: PublicKey?, tsaCAFile: String?) -> SealVerification {
        let n = count
        keepFrontier()
        // The leaves file past the store's end: its roots at the sealed sizes, and the first sealed id missing.
        if stored != nil {
            var first = true
            while let entry = stored!.next() {
                if first { storedIdAtEnd = entry.id; first = false }
                storedStep(entry)
            }
        }
        let currentRoot = root(0, n) ?? Merkle.emptyRoot
        var v = SealVerification(currentSize: n, currentRootHex: Hex.encode(currentRoot), tsaCAFile: tsaCAFile)
        v.findings = SealVerification.fileFindings(records: records, chainProblems: chainProblems, sealsPath: sealsPath, sealKey: sealKey)
        SealVerification.judge(records, into: &v, sealsPath: sealsPath, currentRoot: currentRoot,
                               prefixRoot: { root(0, $0) }, proof: { m in m > 0 && m < n ? subproof(m, 0, n, true) ?? [] : [] },
                               locate: { locate($0, sealedRoot: $1, currentSize: n) })
        return v
    }

    /// Names the first sealed position whose event differs, when the leaves file is intact
    /// (its entries rebuild the sealed root); the same messages as `SealVerification.locate`.
    func locate(_ record: SealRecord, sealedRoot: [UInt8], currentSize n: Int) -> Finding {
        let m = record.treeSize
        let head = SealVerification.head(record)
        let evidence: [(String, String)] = [("seal file", sealsPath), ("sealed root", record.rootHex), ("sealed size", String(m)), ("current size", String(n))]
        guard m > 0, storedRoots[m] == sealedRoot else {
            return Finding(code: .sealBroken, message: "\(head): the store's first \(m) events no longer hash to the sealed root. The leaves file is missing or altered, so the first differing event cannot be named", evidence: evidence)
        }
        if let d = difference, d.position < m {
            let position = "position \(d.position + 1) in global order"
            if d.sealedId == d.currentId {
                return Finding(code: .sealBroken, eventId: d.sealedId, message: "\(head): sealed event \(d.sealedId) at \(position) was changed (its canonical encoding differs)", evidence: evidence)
            }
            if !sealedIdLater {
                return Finding(code: .sealBroken, eventId: d.sealedId, message: "\(head): sealed event \(d.sealedId) at \(position) was removed", evidence: evidence)
            }
            if !LeavesReader.contains(d.currentId, path: SealFile.leavesPath(sealsPath), entries: m) {
                return Finding(code: .sealBroken, eventId: d.currentId, message: "\(head): event \(d.currentId) was inserted at \(position), before the sealed position \(m)", evidence: evidence)
            }
            return Finding(code: .sealBroken, eventId: d.sealedId, message: "\(head): sealed event \(d.sealedId) at \(position) has moved (the events were reordered or its time changed); \(d.currentId) is there now", evidence: evidence)
        }
        if n < m, let sealedId = storedIdAtEnd {
            return Finding(code: .sealBroken, eventId: sealedId, message: "\(head): the store now holds only \(n) events; sealed event \(sealedId) at position \(n + 1) and those after it were removed", evidence: evidence)
        }
        return Finding(code: .sealBroken, message: "\(head): the first \(m) events no longer hash to the sealed root", evidence: evidence)
    }
}

/// The leaves file read forward, one 48-byte entry at a time (id, leaf hash), through a buffer.
struct LeavesReader {
    let file: UnsafeMutablePointer<FILE>?
    let entries: Int
    var read = 0
    var buffer = [UInt8](repeating: 0, count: SealFile.leafEntrySize)

    init?(path: String, entries: Int) {
        guard let f = fopen(path, "rb") else { return nil }
        file = f
        self.entries = entries
    }

    mutating func next() -> (id: EventID, leaf: [UInt8])? {
        guard read < entries, let file else { return nil }
        let got = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, SealFile.leafEntrySize, file) }
        guard got == SealFile.leafEntrySize else { close(); return nil }
        read += 1
        let entry = SealFile.entry(buffer[...])
        if read == entries { close() }
        return entry
    }

    mutating func close() {
        if let file { fclose(file) }
        self = LeavesReader(closedAfter: read, entries: entries)
    }

    private init(closedAfter read: Int, entries: Int) {
        file = nil
        self.entries = entries
        self.read = read
    }

    /// Whether one of the first `entries` entries carries `id` (a scan, only to word a finding).
    static func contains(_ id: EventID, path: String, entries: Int) -> Bool {
        guard var reader = LeavesReader(path: path, entries: entries) else { return false }
        while let entry = reader.next() { if entry.id == id { reader.close(); return true } }
        return false
    }
}
