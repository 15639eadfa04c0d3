import Crypto
import Foundation
import LedgerAuditCore
import LedgerAuditEvidence
import LedgerAuditReports
import LedgerAuditTestSupport
import Testing

@Suite("seals (RFC 6962) and BagIt evidence packs", .removesTemporaryFolders)
struct EvidenceTests {
    /// RFC 6962 §2.1 written out plainly, as the oracle for the tool's cached tree.
    func mth(_ l: MerkleLeaves, _ lo: Int, _ hi: Int) -> [UInt8] {
        let n = hi - lo
        if n == 0 { return Merkle.emptyRoot }
        if n == 1 { return l.leaf(lo) }
        var k = 1
        while k << 1 < n { k <<= 1 }
        return Merkle.nodeHash(mth(l, lo, lo + k), mth(l, lo + k, hi))
    }

    /// RFC 6962 §2.1.2 PROOF(m, D[n]), plainly.
    func proof(_ l: MerkleLeaves, _ m: Int, _ lo: Int, _ hi: Int, _ complete: Bool) -> [[UInt8]] {
        let n = hi - lo
        if m == n { return complete ? [] : [mth(l, lo, hi)] }
        var k = 1
        while k << 1 < n { k <<= 1 }
        if m <= k { return proof(l, m, lo, lo + k, complete) + [mth(l, lo + k, hi)] }
        return proof(l, m - k, lo + k, hi, false) + [mth(l, lo, lo + k)]
    }

    func leaves(_ n: Int, salt: String = "") -> MerkleLeaves {
        var l = MerkleLeaves()
        for i in 0..<n { l.append(Array("event \(i)\(salt)".utf8).withUnsafeBytes { Merkle.leafHash($0) }) }
        return l
    }

    @Test("RFC 6962 hashing: the empty tree, one leaf, and the streaming root agree with the recursive one")
    func roots() {
        #expect(Hex.encode(Merkle.emptyRoot) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        // MTH({d0}) = SHA-256(0x00 || d0): for d0 = "" that is SHA-256 of the single byte 0x00.
        #expect(Hex.encode([UInt8]().withUnsafeBytes { Merkle.leafHash($0) }) == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
        for n in 0...70 {
            let l = leaves(n)
            var acc = MerkleAccumulator()
            for i in 0..<n { acc.append(l.leaf(i)) }
            #expect(acc.root == mth(l, 0, n), "n = \(n)")
            #expect(MerkleTree(l).root(size: n) == mth(l, 0, n))
        }
        // Three leaves: H(1 || H(1 || a || b) || c).
        let l = leaves(3)
        #expect(MerkleTree(l).root(size: 3) == Merkle.nodeHash(Merkle.nodeHash(l.leaf(0), l.leaf(1)), l.leaf(2)))
    }

    @Test("consistency proofs verify for every m < n ≤ 33, and fail for a changed prefix or a wrong root")
    func consistency() {
        let l = leaves(33)
        for n in 1...33 {
            let tree = MerkleTree(leaves(n))
            #expect(tree.root(size: n) == mth(l, 0, n))
            for m in 1..<n {
                // The level cache gives the same roots and proofs as the plain recursion.
                let p = tree.consistencyProof(m, n)
                #expect(tree.root(size: m) == mth(l, 0, m))
                #expect(p == proof(l, m, 0, n, true))
                #expect(Merkle.verifyConsistency(first: m, second: n, firstRoot: mth(l, 0, m), secondRoot: mth(l, 0, n), proof: p), "m \(m) n \(n)")
                #expect(!Merkle.verifyConsistency(first: m, second: n, firstRoot: mth(leaves(m, salt: "x"), 0, m), secondRoot: mth(l, 0, n), proof: p))
                #expect(!Merkle.verifyConsistency(first: m, second: n, firstRoot: mth(l, 0, m), secondRoot: mth(l, 0, n - 1), proof: p))
            }
        }
    }

    func makePack(signed key: SigningKey?) throws -> String {
        let bag = TestPaths.temporaryDirectory("bag")
        try FileManager.default.createDirectory(atPath: bag + "/data/reports", withIntermediateDirectories: true)
        try Data("account,currency\nuser:a,USD\n".utf8).write(to: URL(fileURLWithPath: bag + "/data/reports/balances.csv"))
        try Data("{}\n".utf8).write(to: URL(fileURLWithPath: bag + "/data/run.json"))
        try Bag.finish(bag, info: [("Source-Organization", "Example"), ("Ledger-Audit-As-Of", "2026-05-03T14:23:00Z")], signingKey: key)
        return bag
    }

    @Test("a pack verifies; a changed byte, a removed file, an added file, a changed bag-info line and a wrong key are each named")
    func packAlterations() throws {
        let key = SigningKey(), other = SigningKey()
        let clean = try makePack(signed: key)
        #expect(Bag.verify(clean, publicKey: key.publicKey) == [])
        #expect(Bag.verify(clean, publicKey: nil) == [])
        #expect(TestPaths.read(clean + "/bag-info.txt").contains("Payload-Oxum: 31.2\n"))

        var bag = try makePack(signed: key)
        try Data("account,currency\nuser:b,USD\n".utf8).write(to: URL(fileURLWithPath: bag + "/data/reports/balances.csv"))
        #expect(Bag.verify(bag, publicKey: key.publicKey) == ["altered: data/reports/balances.csv (its SHA-512 differs from manifest-sha512.txt)"])

        bag = try makePack(signed: key)
        try FileManager.default.removeItem(atPath: bag + "/data/run.json")
        #expect(Bag.verify(bag, publicKey: key.publicKey) == ["missing: data/run.json (listed in manifest-sha512.txt)", "Payload-Oxum: bag-info.txt says 31.2, data/ holds 28.1"])

        bag = try makePack(signed: key)
        try Data("x".utf8).write(to: URL(fileURLWithPath: bag + "/data/added.txt"))
        #expect(Bag.verify(bag, publicKey: key.publicKey) == ["extra: data/added.txt (not in manifest-sha512.txt)", "Payload-Oxum: bag-info.txt says 31.2, data/ holds 32.3"])

        bag = try makePack(signed: key)
        let info = TestPaths.read(bag + "/bag-info.txt").replacingOccurrences(of: "Source-Organization: Example", with: "Source-Organization: Someone Else")
        try Data(info.utf8).write(to: URL(fileURLWithPath: bag + "/bag-info.txt"))
        #expect(Bag.verify(bag, publicKey: key.publicKey) == ["altered: bag-info.txt (its SHA-512 differs from tagmanifest-sha512.txt)"])
        // Re-hashing the tag manifest to hide it breaks the signature instead.
        let tags = try ["bagit.txt", "bag-info.txt", "manifest-sha512.txt", Bag.publicKeyFile].map { try Bag.sha512Hex(bag + "/" + $0) + "  " + $0 + "\n" }.joined()
        try Data(tags.utf8).write(to: URL(fileURLWithPath: bag + "/tagmanifest-sha512.txt"))
        #expect(Bag.verify(bag, publicKey: key.publicKey).first?.hasPrefix("signature: tagmanifest-sha512.txt.sig does not verify") == true)

        #expect(Bag.verify(clean, publicKey: other.publicKey).first?.hasPrefix("signature: the bag was signed by key \(key.publicKey.fingerprint), not by the key given") == true)
        // A manifest that points outside the bag is named, never followed.
        bag = try makePack(signed: nil)
        let manifest = TestPaths.read(bag + "/manifest-sha512.txt") + String(repeating: "0", count: 128) + "  data/../../etc/passwd\n"
        try Data(manifest.utf8).write(to: URL(fileURLWithPath: bag + "/manifest-sha512.txt"))
        #expect(Bag.verify(bag, publicKey: nil).contains("altered: manifest-sha512.txt lists data/../../etc/passwd, outside data/"))
        let unsigned = try makePack(signed: nil)
        #expect(Bag.verify(unsigned, publicKey: nil) == [])
        #expect(Bag.verify(unsigned, publicKey: key.publicKey).first?.hasPrefix("signature: the bag is not signed") == true)
    }

    @Test("a bag holding a symbolic link or a pipe is named as altered and nothing in it is read: a link to /dev/zero, or a pipe with no writer, would never end")
    func packWithLinkOrPipe() throws {
        var bag = try makePack(signed: nil)
        try FileManager.default.removeItem(atPath: bag + "/data/run.json")
        try FileManager.default.createSymbolicLink(atPath: bag + "/data/run.json", withDestinationPath: "/dev/zero")
        #expect(mkfifo(bag + "/data/reports/extra.csv", 0o600) == 0)
        let note = "nothing else in the bag was read: a pack from evidence holds only files and folders"
        #expect(Bag.verify(bag, publicKey: nil) == ["altered: data/reports/extra.csv is a pipe, not a file (not read)",
                                                    "altered: data/run.json is a symbolic link, not a file (not followed)", note])
        bag = try makePack(signed: nil)
        try FileManager.default.removeItem(atPath: bag + "/bag-info.txt")
        try FileManager.default.createSymbolicLink(atPath: bag + "/bag-info.txt", withDestinationPath: "data/run.json")
        #expect(Bag.verify(bag, publicKey: nil) == ["altered: bag-info.txt is a symbolic link, not a file (not followed)", note])
        #expect(Bag.irregularEntries(try makePack(signed: nil)) == [])
    }

    @Test("a signed seal record verifies as read; an edited line, another key or no signature does not")
    func signedSeal() throws {
        let key = SigningKey(), other = SigningKey()
        var record = SealRecord(number: 1, treeSize: 3, rootHex: String(repeating: "ab", count: 32), asOfMs: 1_777_593_600_000, lastEventId: nil,
                                sealedAtUs: 1_777_593_600_000_000, previousSealSHA256: nil, leavesSHA256: "00", toolVersion: "t")
        try record.sign(with: key)
        let path = TestPaths.temporaryDirectory("sealsig") + "/seals.jsonl"
        try SealFile.append(record, to: path)
        var read = try SealFile.read(path).records[0]
        #expect(read.isSigned(by: key.publicKey))
        #expect(!read.isSigned(by: other.publicKey))
        read.rawLine = read.rawLine!.replacingOccurrences(of: "\"tree_size\":3", with: "\"tree_size\":4")
        #expect(!read.isSigned(by: key.publicKey))
        var unsigned = record
        unsigned.signature = nil
        unsigned.rawLine = unsigned.line
        #expect(!unsigned.isSigned(by: key.publicKey))
    }

    @Test("key files round-trip; the fingerprint is the SHA-256 of the raw public key")
    func keys() throws {
        let key = SigningKey()
        let again = try SigningKey(fileText: key.fileText)
        #expect(again.publicKey.fingerprint == key.publicKey.fingerprint)
        let pub = try PublicKey(fileText: key.publicKey.fileText)
        let signature = try key.sign(Array("tag manifest".utf8))
        #expect(pub.verify(signature, over: Array("tag manifest".utf8)))
        #expect(!pub.verify(signature, over: Array("tag manifesT".utf8)))
        #expect(key.publicKey.fingerprint.hasPrefix("SHA256:") && key.publicKey.fingerprint.count == 71)
        #expect(throws: (any Error).self) { try PublicKey(fileText: "ssh-ed25519 AAAA") }
    }

    @Test("the population extract masks card numbers and stays valid JSON, strings and numbers alike")
    func populationMasking() throws {
        var b = LedgerBuilder()
        let e = b.add("FUNDS_DEPOSITED", aggregate: "alice", payload: #"{"amount": 100, "card": "4111 1111 1111 1111", "pan": 4111111111111111}"#)
        let line = EventJSONLine.encode(e)
        #expect(!line.contains("4111 1111 1111 1111") && !line.contains("4111111111111111"))
        #expect(line.contains("1111"))
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        #expect((object?["payload"] as? [String: Any])?["amount"] as? Int == 100)
    }

    @Test("the population extract masks a card number spelled with escapes or held in a key, and keeps text with none byte for byte")
    func populationMaskingEscapesAndKeys() throws {
        var b = LedgerBuilder()
        let spelled = "4111111111111111".unicodeScalars.map { String(format: "\\u%04x", $0.value) }.joined()
        let escaped = b.add("FUNDS_DEPOSITED", aggregate: "alice", payload: #"{"amount": 100, "pan": ""# + spelled + #""}"#)
        let keyed = b.add("FUNDS_DEPOSITED", aggregate: "alice", payload: #"{"amount": 100, "4111111111111111": "card"}"#)
        let plain = b.add("FUNDS_DEPOSITED", aggregate: "alice", payload: #"{"note": "\u0041 b", "amount": 100}"#)
        for e in [escaped, keyed] {
            let line = EventJSONLine.encode(e)
            let payload = try #require((try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["payload"] as? [String: Any])
            let decoded = try #require(String(data: try JSONSerialization.data(withJSONObject: payload), encoding: .utf8))
            #expect(!decoded.contains("4111111111111111") && !line.contains(spelled))
            #expect(decoded.contains("************1111"))
        }
        #expect(EventJSONLine.encode(plain).contains(#"{"note": "\u0041 b", "amount": 100}"#))
    }

    @Test("masked keys never merge two members: distinct card numbers with the same last four take ~2, ~3 past any key the object holds; the same key twice stays one")
    func populationMaskedKeysStayDistinct() throws {
        var b = LedgerBuilder()
        let e = b.add("FUNDS_DEPOSITED", aggregate: "alice", payload: #"{"amount": 100, "4111111111111111": "a", "************1111~2": "kept", "5555555500001111": "b", "4000000000061111": "c", "************1111": "d"}"#)
        let line = EventJSONLine.encode(e)
        let payload = try #require((try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["payload"] as? [String: Any])
        #expect(payload.count == 6)
        #expect(payload["************1111"] as? String == "d")
        #expect(payload["************1111~2"] as? String == "kept")
        let masked = Set(["a", "b", "c"].compactMap { v in payload.first { $0.value as? String == v }?.key })
        #expect(masked == ["************1111~3", "************1111~4", "************1111~5"])
        #expect(!line.contains("4111111111111111") && !line.contains("5555555500001111"))

        #expect(EventJSONLine.maskedKeys(["4111111111111111", "x", "4111111111111111"]) == ["************1111", "x", "************1111"])
        // Thousands of distinct card numbers masking alike (a hostile document): each takes the
        // next suffix, all distinct.
        let many = (0..<20_000).map { "4" + String(format: "%07d", $0) + "00001111" }.filter { CardMask.luhnValid($0.utf8.map { $0 - 0x30 }) }
        let keys = EventJSONLine.maskedKeys(many)
        #expect(many.count > 1_000 && Set(keys).count == many.count && keys.allSatisfy { $0.hasPrefix("************1111") })
    }

    @Test("a file's SHA-512 through the system's libcrypto equals swift-crypto's, at every size around the read chunk; a missing file is an error")
    func fileSHA512AgreesWithSwiftCrypto() throws {
        let folder = TestPaths.temporaryDirectory("sha512")
        var rng = SystemRandomNumberGenerator()
        for size in [0, 1, 127, 128, 129, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 17] {
            let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let path = folder + "/f\(size)"
            #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
            let expected = SHA512.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
            #expect(try Bag.sha512Hex(path) == expected, "\(size) bytes")
        }
        #expect(throws: (any Error).self) { try Bag.sha512Hex(folder + "/none") }
    }

    @Test("a file's SHA-512 fed as it is written (header, lines, pieces larger than a flush, the last bytes at commit) equals swift-crypto's over the committed file, under the name it was committed to")
    func digestWhileWriting() throws {
        let folder = TestPaths.temporaryDirectory("sha512w")
        var rng = SystemRandomNumberGenerator()
        for pieces in [[0], [5], [70_000, 3], [1, 65_535, 1, 200_000, 17, 0, 65_536]] {
            let file = try AtomicFile(path: folder + "/streamed.csv")
            let digest = try #require(SHA512Stream())
            try file.write("header\n")
            file.contentDigest = digest
            var all = Array("header\n".utf8)
            for size in pieces {
                let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) }
                all += bytes
                try file.append { $0 += bytes }
            }
            let renamed = folder + "/named_\(pieces.count).csv"
            try file.commit(renamingTo: renamed)
            #expect(file.committedPath == renamed)
            #expect(Array(FileManager.default.contents(atPath: renamed) ?? Data()) == all)
            #expect(digest.finalHex() == SHA512.hash(data: all).map { String(format: "%02x", $0) }.joined(), "\(pieces)")
        }
    }
}

