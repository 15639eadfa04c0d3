import Foundation
import LedgerAuditCore
import LedgerAuditEvidence
import LedgerAuditTestSupport
import Testing

/// `verify --seals` streams: the verdicts, consistency proofs and SEAL_BROKEN messages of the
/// streaming check equal those of the whole-tree check, for every pair of sealed and current
/// sizes up to 70 and for each way a sealed history can be broken.
@Suite("seals checked as the events stream by, in O(seals × log n) memory", .removesTemporaryFolders)
struct SealStreamTests {
    func leaf(_ i: Int, salt: String = "") -> [UInt8] {
        Array("event \(i)\(salt)".utf8).withUnsafeBytes { Merkle.leafHash($0) }
    }

    func id(_ i: Int) -> EventID { EventID(high: 0xE0, low: UInt64(i)) }

    /// A seal file's records over the first leaves of `sealed`, and its leaves file.
    func seal(_ sealed: [(EventID, [UInt8])], sizes: [Int], in folder: ScratchFolder) -> (records: [SealRecord], path: String) {
        let path = folder.path + "/seals.jsonl"
        var leaves = MerkleLeaves()
        for (_, l) in sealed { leaves.append(l) }
        let records = sizes.enumerated().map { n, m in
            SealRecord(number: n + 1, treeSize: m, rootHex: Hex.encode(leaves.root(size: m)), asOfMs: 1_777_593_600_000, lastEventId: nil,
                       sealedAtUs: 1_777_593_600_000_000, previousSealSHA256: nil, leavesSHA256: "", toolVersion: "test")
        }
        let bytes = SealFile.leavesBytes(ids: sealed.map(\.0), leaves: leaves, count: sizes.max() ?? 0)
        _ = FileManager.default.createFile(atPath: SealFile.leavesPath(path), contents: Data(bytes))
        return (records, path)
    }

    func both(_ records: [SealRecord], _ path: String, current: [(EventID, [UInt8])]) -> (SealVerification, SealVerification) {
        let collector = SealLeafCollector()
        var stream = SealStream(records: records, sealsPath: path)
        for (i, l) in current {
            collector.append(leafHash: l, eventId: i)
            stream.append(leafHash: l, eventId: i)
        }
        let whole = SealVerification.check(records: records, chainProblems: [], sealsPath: path, current: collector)
        return (whole, stream.finish(chainProblems: [], sealKey: nil, tsaCAFile: nil))
    }

    func expectSame(_ a: SealVerification, _ b: SealVerification, _ label: String) {
        #expect(a.currentRootHex == b.currentRootHex, "\(label)")
        #expect(a.outcomes.map(\.holds) == b.outcomes.map(\.holds), "\(label)")
        #expect(a.outcomes.map(\.proof) == b.outcomes.map(\.proof), "\(label)")
        #expect(a.findings.map(\.message) == b.findings.map(\.message), "\(label)")
        #expect(a.findings.map(\.eventId) == b.findings.map(\.eventId), "\(label)")
    }

    @Test("every sealed size m against every current size n ≥ m up to 70: the same roots, proofs and verdicts")
    func proofsEqualTheWholeTree() {
        let folder = ScratchFolder("seal-stream")
        let events = (0..<70).map { (id($0), leaf($0)) }
        for m in 1...70 {
            let (records, path) = seal(events, sizes: [m / 2, m].filter { $0 > 0 }, in: folder)
            for n in m...70 {
                let (whole, streamed) = both(records, path, current: Array(events.prefix(n)))
                expectSame(whole, streamed, "m=\(m) n=\(n)")
                #expect(streamed.outcomes.allSatisfy { $0.holds }, "m=\(m) n=\(n)")
            }
        }
    }

    @Test("a changed, removed, inserted or moved event, a shorter store and an altered leaves file: the same SEAL_BROKEN as the whole-tree check")
    func brokenSealsNameTheSameEvent() throws {
        let folder = ScratchFolder("seal-stream-broken")
        let events = (0..<40).map { (id($0), leaf($0)) }
        let (records, path) = seal(events, sizes: [10, 25], in: folder)
        var changed = events; changed[17].1 = leaf(17, salt: "edited")
        var removed = events; removed.remove(at: 12)
        var inserted = events; inserted.insert((id(900), leaf(900)), at: 5)
        var moved = events; moved.swapAt(20, 21)
        let cases: [(String, [(EventID, [UInt8])])] = [("changed", changed), ("removed", removed), ("inserted", inserted), ("moved", moved), ("shorter", Array(events.prefix(18)))]
        for (label, current) in cases {
            let (whole, streamed) = both(records, path, current: current)
            expectSame(whole, streamed, label)
            #expect(streamed.findings.count == 1, "\(label)")
            #expect(streamed.findings.first?.message.contains(label == "shorter" ? "removed" : label) == true, "\(label): \(streamed.findings.first?.message ?? "")")
        }
        // The leaves file altered: the seal is broken and the event cannot be named, by both.
        var bytes = try #require(FileManager.default.contents(atPath: SealFile.leavesPath(path)))
        bytes[16 * 48 + 20] ^= 1
        _ = FileManager.default.createFile(atPath: SealFile.leavesPath(path), contents: bytes)
        let (whole, streamed) = both(records, path, current: changed)
        expectSame(whole, streamed, "altered leaves file")
        #expect(streamed.findings.first?.message.contains("cannot be named") == true)
    }

    @Test("a TSA's time whose 14 digits pass Luhn is shown as the token states it; the same digits as ledger text are masked")
    func trustedTimeIsNotACardNumber() throws {
        let luhnValid = "20261203103415Z"
        #expect(CardMask.luhnValid(luhnValid.utf8.prefix(14).map { $0 - 0x30 }))
        #expect(ReportCell.ledgerText(luhnValid).displayText != luhnValid)
        let folder = ScratchFolder("seal-stream-tsa")
        let (records, path) = seal((0..<3).map { (id($0), leaf($0)) }, sizes: [3], in: folder)
        var stream = SealStream(records: records, sealsPath: path)
        var v = stream.finish(chainProblems: [], sealKey: nil, tsaCAFile: nil)
        v.tsaCAFile = "ca.pem"
        v.outcomes[0].trustedTime = luhnValid
        let cell = try #require(v.section.tables.first?.rows.first?.last)
        #expect(cell.displayText == luhnValid)
        v.outcomes[0].trustedTime = "4111 1111 1111 1111"  // not a time: masked as any other text
        #expect(try #require(v.section.tables.first?.rows.first?.last).displayText != "4111 1111 1111 1111")
    }
}
