import Foundation
import LedgerAuditEvidence
import LedgerAuditTestSupport
import Testing

/// The evidence pack's BagIt profile and its one page to open.
@Suite("evidence packs: BagIt profile and index.html", .removesTemporaryFolders)
struct EvidenceProfileTests {
    static func pack(_ folder: String) throws -> String {
        let pack = folder + "/pack"
        let r = try runTool(["evidence", "--source", TestPaths.sample + "/events.jsonl", "--as-of", "2026-05-22T00:00:00Z", "--out", pack, "-q"])
        #expect(r.status == 0 || r.status == 1, "\(r.stderr)")
        return pack
    }

    @Test("the profile the tool carries is the shipped profiles/ file; a pack declares it and bagit-profile validates the pack against it")
    func profile() throws {
        let shipped = TestPaths.read(TestPaths.packageRoot + "/profiles/ledger-audit-evidence-pack-v1.json")
        #expect(EvidenceProfile.json + "\n" == shipped)
        let folder = TestPaths.temporaryDirectory("profile")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let pack = try Self.pack(folder)
        #expect(TestPaths.read(pack + "/bag-info.txt").contains("BagIt-Profile-Identifier: \(EvidenceProfile.identifier)\n"))
        #expect(TestPaths.read(pack + "/bagit-profile.json") == shipped)
        let (status, text) = try runProgram(["bagit_profile.py", "--no-logfile", "--file", TestPaths.packageRoot + "/profiles/ledger-audit-evidence-pack-v1.json", EvidenceProfile.identifier, pack], in: folder)
        #expect(status == 0 && text.contains("Validates against"), "bagit_profile.py (pip install bagit-profile; .ci/run does): \(text)")

        // verify-pack enforces the profile: a tag file the profile does not allow is named.
        FileManager.default.createFile(atPath: pack + "/notes.txt", contents: Data("x\n".utf8))
        let v = try runTool(["verify-pack", pack])
        #expect(v.status != 0 && v.stdout.contains("profile: tag file notes.txt"), "\(v.stdout)")
    }

    @Test("index.html: every report with its summary and findings, population, digest, signature, time; every link resolves inside the pack")
    func index() throws {
        let folder = TestPaths.temporaryDirectory("index")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let pack = try Self.pack(folder)
        let html = TestPaths.read(pack + "/index.html")
        #expect(TestPaths.read(pack + "/tagmanifest-sha512.txt").contains("  index.html\n"))
        let run = TestPaths.read(pack + "/data/balances/run.json")
        let digest = try #require(run.range(of: #""eventsDigestSHA256":"[0-9a-f]{64}""#, options: .regularExpression))
        #expect(html.contains(String(run[digest].dropFirst(22).dropLast())))
        for needle in ["<td>balances</td>", "<td>verify</td>", "3039 events read", "not signed", "no trusted timestamp", "GL_Detail_20260501_20260522.csv"] {
            #expect(html.contains(needle), "\(needle)")
        }
        #expect(!html.contains("<script") && !html.contains("incomplete-"))
        var hrefs = 0
        var rest = Substring(html)
        while let r = rest.range(of: "href=\"") {
            let tail = rest[r.upperBound...]
            guard let end = tail.firstIndex(of: "\"") else { break }
            let target = String(tail[..<end])
            #expect(!target.hasPrefix("/") && !target.contains("://"), "\(target)")
            #expect(FileManager.default.fileExists(atPath: pack + "/" + target), "\(target)")
            hrefs += 1
            rest = tail[end...]
        }
        #expect(hrefs > 10)
    }
}
