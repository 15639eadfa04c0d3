import Foundation
import LedgerAuditEvidence
import LedgerAuditTestSupport
import Testing

/// Seals against a real PostgreSQL store rewritten behind the rules' back, and evidence packs
/// checked by verify-pack and by the Library of Congress's bagit.py.
@Suite("seals and evidence packs against PostgreSQL", .serialized, .removesTemporaryFolders)
struct SealAndEvidenceTests {
    let sealAsOf = "2026-05-10T00:00:00Z"

    /// The sample in a fresh database, sealed as of 10 May; returns the database and the seal file.
    func sealedSample(_ label: String) throws -> (ScratchDatabase, String) {
        let db = try ScratchDatabase(label)
        try db.load(folder: TestPaths.sample)
        let seals = TestPaths.temporaryDirectory("seals") + "/seals.jsonl"
        let r = try runTool(["seal", "--source", db.conninfo, "--as-of", sealAsOf, "--seals", seals, "--out", seals + "-report"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("seal 1 appended"))
        return (db, seals)
    }

    /// The id of the event at a 1-based position in global order.
    func eventAt(_ db: ScratchDatabase, _ position: Int) throws -> String {
        try db.scalar("SELECT event_id FROM event_store ORDER BY hlc_physical, hlc_logical, event_id OFFSET \(position - 1) LIMIT 1")
    }

    func verifySeals(_ db: ScratchDatabase, _ seals: String) throws -> (status: Int32, findings: String, out: String) {
        let out = TestPaths.temporaryDirectory("verify-seals")  // the caller reads it; under the run's TMPDIR
        let r = try runTool(["verify", "--source", db.conninfo, "--seals", seals, "--skip", "append-only", "--out", out, "-q"])
        return (r.status, TestPaths.read(out + "/findings.csv").split(separator: "\n").filter { $0.hasPrefix("SEAL_BROKEN") }.joined(separator: "\n"), out)
    }

    @Test("an untouched store, and one with events appended after the seal, keep every seal; the proof is written")
    func appendIsNoFinding() throws {
        let (db, seals) = try sealedSample("seal_ok")
        var v = try verifySeals(db, seals)
        #expect(v.status == 0 && v.findings.isEmpty, "\(v.findings)")
        // A new event after the sealed instant: history grows, nothing sealed changed.
        try db.exec("INSERT INTO event_store SELECT gen_random_uuid(), 'NOTIFICATION_SENT', aggregate_id, stream_version + 1000, NULL, correlation_id, 1790000000000, 0, vector_clock, '{}', metadata, NULL, now() FROM event_store ORDER BY hlc_physical DESC LIMIT 1")
        v = try verifySeals(db, seals)
        #expect(v.findings.isEmpty, "\(v.findings)")
        let proof = TestPaths.read(v.out + "/seal-proof.json")
        #expect(proof.contains("\"holds\": true") || proof.contains("\"holds\":true"))
        #expect(TestPaths.read(v.out + "/verify.html").contains("every seal holds"))
        // reconcile checks the seals too.
        let rec = TestPaths.temporaryDirectory("reconcile-seals")
        defer { try? FileManager.default.removeItem(atPath: rec) }
        let r0 = try runTool(["reconcile", "--source", db.conninfo, "--seals", seals, "--skip", "append-only", "--out", rec, "-q"])
        #expect(r0.status == 1)  // the sample's projection drift
        #expect(TestPaths.read(rec + "/seal-proof.json").contains("\"tree_size\""))
        #expect(!TestPaths.read(rec + "/findings.csv").contains("SEAL_BROKEN"))
        // A second seal extends the first; the chain is checked.
        let r = try runTool(["seal", "--source", db.conninfo, "--seals", seals, "--out", seals + "-report", "-q"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(TestPaths.read(seals).split(separator: "\n").count == 2)
        #expect(try verifySeals(db, seals).findings.isEmpty)
    }

    @Test("delete, update, insert-before and reorder, done as the table owner past the rules, are each SEAL_BROKEN at the right event",
          arguments: ["delete", "update", "insert", "reorder"])
    func tampering(kind: String) throws {
        let (db, seals) = try sealedSample("seal_\(kind)")
        let target = try eventAt(db, 100)
        let expected: String
        try db.exec("ALTER TABLE event_store DISABLE RULE no_update; ALTER TABLE event_store DISABLE RULE no_delete")
        switch kind {
        case "delete":
            try db.exec("DELETE FROM event_store WHERE event_id = '\(target)'")
            expected = "sealed event \(target) at position 100 in global order was removed"
        case "update":
            try db.exec("UPDATE event_store SET metadata = metadata || '{\"edited\": true}' WHERE event_id = '\(target)'")
            expected = "sealed event \(target) at position 100 in global order was changed"
        case "insert":
            let before = try db.scalar("SELECT hlc_physical FROM event_store WHERE event_id = '\(target)'")
            let inserted = "00000000-0000-4000-8000-00000000beef"
            try db.exec("INSERT INTO event_store SELECT '\(inserted)', event_type, gen_random_uuid(), 1, NULL, correlation_id, \(before), -1, vector_clock, payload, metadata, user_id, recorded_at FROM event_store WHERE event_id = '\(target)'")
            expected = "event \(inserted) was inserted at position 100 in global order, before the sealed position"
        default:
            let later = try db.scalar("SELECT hlc_physical FROM event_store ORDER BY hlc_physical, hlc_logical, event_id OFFSET 200 LIMIT 1")
            try db.exec("UPDATE event_store SET hlc_physical = \(later) WHERE event_id = '\(target)'")
            expected = "sealed event \(target) at position 100 in global order has moved"
        }
        let v = try verifySeals(db, seals)
        #expect(v.status == 1)
        #expect(v.findings.contains(expected), "\(v.findings)")
        #expect(v.findings.hasPrefix("SEAL_BROKEN,critical,"))
        // Sealing again over a broken history is refused.
        #expect(try runTool(["seal", "--source", db.conninfo, "--seals", seals, "--out", seals + "-report", "-q"]).status == 1)
    }

    @Test("TRUNCATE and a reload without one event: SEAL_BROKEN; an edited seal file breaks the chain")
    func truncateAndChain() throws {
        let (db, seals) = try sealedSample("seal_truncate")
        let target = try eventAt(db, 7)
        try db.exec("CREATE TABLE copy AS SELECT * FROM event_store WHERE event_id <> '\(target)'; TRUNCATE event_store; INSERT INTO event_store SELECT * FROM copy")
        #expect(try verifySeals(db, seals).findings.contains("sealed event \(target) at position 7 in global order was removed"))
        let text = TestPaths.read(seals).replacingOccurrences(of: "\"tree_size\":", with: "\"tree_size\":1")
        try Data(text.utf8).write(to: URL(fileURLWithPath: seals))
        #expect(try verifySeals(db, seals).status == 1)
    }

    @Test("signed seals: a seal file rewritten to fit a rewritten store is caught with the sealer's public key")
    func signedSeals() throws {
        let db = try ScratchDatabase("seal_signed")
        try db.load(folder: TestPaths.sample)
        let folder = TestPaths.temporaryDirectory("signed-seals")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(try runTool(["keygen", "--out", folder + "/sealer"]).status == 0)
        let seals = folder + "/seals.jsonl"
        #expect(try runTool(["seal", "--source", db.conninfo, "--as-of", sealAsOf, "--seals", seals, "--out", seals + "-report", "--sign-key", folder + "/sealer", "-q"]).status == 0)
        #expect(TestPaths.read(seals).contains("\"signature\":\""))
        var v = try runTool(["verify", "--source", db.conninfo, "--seals", seals, "--seals-public-key", folder + "/sealer.pub", "--skip", "append-only", "--out", folder + "/v1", "-q"])
        #expect(v.status == 0, "\(v.stderr)")
        // Someone rewrites an event and re-seals into a new file to cover it up.
        let target = try eventAt(db, 50)
        try db.exec("ALTER TABLE event_store DISABLE RULE no_update; UPDATE event_store SET payload = payload || '{\"amount\": 1}' WHERE event_id = '\(target)'")
        try FileManager.default.removeItem(atPath: seals)
        try FileManager.default.removeItem(atPath: SealFile.leavesPath(seals))
        #expect(try runTool(["seal", "--source", db.conninfo, "--as-of", sealAsOf, "--seals", seals, "--out", seals + "-report", "-q"]).status == 0)
        v = try runTool(["verify", "--source", db.conninfo, "--seals", seals, "--seals-public-key", folder + "/sealer.pub", "--skip", "append-only", "--out", folder + "/v2", "-q"])
        #expect(v.status == 1)
        #expect(TestPaths.read(folder + "/v2/findings.csv").contains("seal 1 is not signed"))
    }

    @Test("evidence: a signed, zipped pack from one snapshot that verify-pack and bagit.py accept, and that catches alterations")
    func evidencePack() throws {
        let (db, seals) = try sealedSample("evidence")
        let folder = TestPaths.temporaryDirectory("evidence")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let key = folder + "/signing"
        #expect(try runTool(["keygen", "--out", key]).status == 0)
        #expect(try runTool(["keygen", "--out", key]).status == 2)  // never overwrites
        let pack = folder + "/pack"
        let user = try db.scalar("SELECT aggregate_id FROM event_store WHERE event_type = 'FUNDS_DEPOSITED' ORDER BY event_id LIMIT 1")
        let r = try runTool(["evidence", "--source", db.conninfo, "--as-of", "2026-05-20T00:00:00Z", "--out", pack, "--seals", seals,
                             "--sign-key", key, "--zip", "--account", "user:\(user):*"])
        // The sample's projection drift and the seed schema's open TRUNCATE are findings: exit 1, pack written.
        #expect(r.status == 1, "\(r.stderr)")
        for file in ["bagit.txt", "bag-info.txt", "manifest-sha512.txt", "tagmanifest-sha512.txt", Bag.signatureFile,
                     "data/balances/balances.csv", "data/balances/trial_balance.csv", "data/balances/journal.csv", "data/verify/findings.csv",
                     "data/verify/limbo.csv", "data/reconcile/reconciliation.csv", "data/statements/statement.csv", "data/events.jsonl",
                     "data/catalog.yml", "data/run.json", "data/seals/seals.jsonl", "data/seals/consistency-proof.json"] {
            #expect(FileManager.default.fileExists(atPath: pack + "/" + file), "\(file)")
        }
        // The seals were checked in reconcile's pass over the whole store.
        #expect(TestPaths.read(pack + "/data/reconcile/reconcile.html").contains("every seal holds"))
        let info = TestPaths.read(pack + "/bag-info.txt")
        #expect(info.contains("Source-Organization: ") && info.contains("Payload-Oxum: ") && info.contains("Ledger-Audit-As-Of: 2026-05-20T00:00:00"))
        #expect(info.contains("Ledger-Audit-Signing-Key-Fingerprint: SHA256:"))
        #expect(!info.contains("password"))
        let extractLines = TestPaths.read(pack + "/data/events.jsonl").split(separator: "\n").count
        #expect(extractLines == Int(try db.scalar("SELECT count(*) FROM event_store WHERE hlc_physical <= 1779235200000")))

        // The projection is reconciled against the whole snapshot, as the nightly job does, not as of T.
        let nightly = TestPaths.temporaryDirectory("evidence-reconcile")
        defer { try? FileManager.default.removeItem(atPath: nightly) }
        _ = try runTool(["reconcile", "--source", db.conninfo, "--out", nightly, "--format", "csv", "-q"])
        #expect(TestPaths.read(pack + "/data/reconcile/reconciliation.csv") == TestPaths.read(nightly + "/reconciliation.csv"))
        #expect(try runTool(["verify-pack", pack, "--public-key", key + ".pub"]).status == 0)
        #expect(try runTool(["verify-pack", pack + ".zip", "--public-key", key + ".pub"]).status == 0)
        let bagit = try runProgram("bagit.py", ["--validate", pack])
        #expect(bagit.status == 0, "bagit.py: \(bagit.stderr)")

        // One alteration: named, exit 1; bagit.py agrees.
        var text = TestPaths.read(pack + "/data/balances/balances.csv")
        text = text.replacingOccurrences(of: ",USD,", with: ",EUR,", options: [], range: text.range(of: ",USD,"))
        try Data(text.utf8).write(to: URL(fileURLWithPath: pack + "/data/balances/balances.csv"))
        let altered = try runTool(["verify-pack", pack, "--public-key", key + ".pub"])
        #expect(altered.status == 1)
        #expect(altered.stdout.contains("altered: data/balances/balances.csv"))
        #expect(try runProgram("bagit.py", ["--validate", pack]).status != 0)
        #expect(try runTool(["evidence", "--source", db.conninfo, "--as-of", "2026-05-20T00:00:00Z", "--out", pack]).status == 2)  // never over a pack

        // A file swapped for a link to a device that never ends: named at once, nothing read
        // (verify-pack read /dev/zero until its time limit before).
        try FileManager.default.removeItem(atPath: pack + "/data/catalog.yml")
        try FileManager.default.createSymbolicLink(atPath: pack + "/data/catalog.yml", withDestinationPath: "/dev/zero")
        let linked = try runTool(["verify-pack", pack, "--public-key", key + ".pub"], timeLimitSeconds: 60)
        #expect(linked.status == 1 && !linked.timedOut, "\(linked.stderr)")
        #expect(linked.stdout.contains("altered: data/catalog.yml is a symbolic link, not a file (not followed)"))
    }
}

extension SealAndEvidenceTests {
    @Test("evidence: events written during the run reach none of the pack's reports: every report reads one snapshot")
    func oneSnapshot() throws {
        let db = try ScratchDatabase("evidence_snapshot")
        try db.load(folder: TestPaths.sample)
        let before = Int(try db.scalar("SELECT count(*) FROM event_store"))!
        let pack = TestPaths.temporaryDirectory("evidence-snapshot") + "/pack"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TestPaths.binary)
        // As of a far instant, so that events written now are in scope unless the snapshot hides them.
        p.arguments = ["evidence", "--source", db.conninfo, "--as-of", "2030-01-01T00:00:00Z", "--out", pack, "-q"]
        try p.run()
        let streaming = db.waitUntilStreaming(p)
        var written = 0
        while p.isRunning {
            try db.exec("""
                INSERT INTO event_store SELECT gen_random_uuid(), 'FUNDS_DEPOSITED', u, 1000000 + \(written), NULL, gen_random_uuid(),
                  (extract(epoch FROM now()) * 1000)::bigint, 0, '{}', '{"amount": 100}', '{}', u, now() FROM gen_random_uuid() AS u
                """)
            written += 1
        }
        p.waitUntilExit()
        #expect(streaming && written > 0, "no write happened during the run")
        func inScope(_ folder: String) throws -> Int {
            let run = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: pack + "/data/" + folder + "/run.json"))) as! [String: Any]
            return Int("\(run["eventsInScope"] ?? "")") ?? -1
        }
        #expect(try inScope("balances") == before)
        #expect(try inScope("verify") == before)
        #expect(try inScope("reconcile") == before)
        #expect(TestPaths.read(pack + "/data/events.jsonl").split(separator: "\n").count == before)
        #expect(TestPaths.read(pack + "/data/run.json").contains("\"one_snapshot\":true"))
        #expect(Int(try db.scalar("SELECT count(*) FROM event_store"))! == before + written)
    }
}

/// Runs a program found on PATH (bagit.py is installed by .ci/run).
func runProgram(_ name: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = [name] + arguments
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}
